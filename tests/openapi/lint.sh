#!/usr/bin/env bash
# lint.sh: redocly's lint of docs/openapi.json under docs/redocly.yaml.
# Usage: lint.sh CACHE_DIR (where @redocly/cli is installed by npm, once).
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=${1:?usage: lint.sh CACHE_DIR}
bin=$cache/node_modules/.bin/redocly
if [ ! -x "$bin" ]; then
	mkdir -p "$cache"
	npm install --prefix "$cache" --no-audit --no-fund --loglevel=error @redocly/cli@latest
fi
"$bin" lint --config docs/redocly.yaml docs/openapi.json

#!/usr/bin/env bash
# fuzz.sh: runs the libFuzzer harnesses built in BUILD/fuzz.
#   fuzz.sh run BUILD SECONDS NAME...    `make fuzz`: each harness for SECONDS on
#                                        BUILD/fuzz/corpus/NAME plus the seeds
#   fuzz.sh check BUILD SECONDS NAME...  `make fuzz-check`: replays the kept
#                                        crashes and the seeds, then a short run
# A crash leaves its input in BUILD/fuzz/crashes/NAME/; once fixed, it is
# kept in tests/fuzz/regress/NAME/ so that every `make check` replays it.
set -uo pipefail
mode=$1 build=$2 seconds=$3
shift 3
top=$(cd "$(dirname "$0")/../.." && pwd)
fz=$build/fuzz
# a report on stderr, the first one fails: whatever the caller set for the workers
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
shopt -s nullglob

failed=0
for name in "$@"; do
	bin=$fz/fuzz_$name
	seeds=$top/tests/fuzz/corpus/$name
	crashes=$fz/crashes/$name
	mkdir -p "$crashes"
	opts=(-timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=0
	    -artifact_prefix="$crashes/")
	[ -f "$top/tests/fuzz/$name.dict" ] && opts+=(-dict="$top/tests/fuzz/$name.dict")
	kept=("$top/tests/fuzz/regress/$name"/* "$seeds"/*)
	if [ ${#kept[@]} -gt 0 ] && ! "$bin" "${opts[@]}" "${kept[@]}" >"$fz/$name.replay.log" 2>&1; then
		echo "fuzz $name: a kept input fails (regress/ or corpus/):"
		tail -n 40 "$fz/$name.replay.log"
		failed=$((failed + 1))
		continue
	fi
	if [ "$mode" = check ]; then
		corpus=$fz/check-corpus/$name
		rm -rf "$corpus"
	else
		corpus=$fz/corpus/$name
	fi
	mkdir -p "$corpus"
	if "$bin" "${opts[@]}" -max_total_time="$seconds" "$corpus" "$seeds" \
	    >"$fz/$name.log" 2>&1; then
		echo "fuzz $name: ${#kept[@]} kept inputs pass;" \
		    "$(grep -ao 'Done [0-9]* runs in [0-9]* second' "$fz/$name.log" | tail -n 1)s"
	else
		echo "fuzz $name: FAILED; the input is in $crashes/:"
		tail -n 40 "$fz/$name.log"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]

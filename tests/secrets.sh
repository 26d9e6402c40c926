#!/usr/bin/env bash
# secrets.sh: no plaintext token in any file a test run left behind.
#
#   tests/secrets.sh scan TOKENS PATH...
#	Looks through every regular file under each PATH (binary files too:
#	PostgreSQL's tables and WAL, logs, test output) for
#	  - each token listed in TOKENS (one a line, as the tests record them in
#	    CALENDENCE_TOKEN_LOG), by its 32 random characters, so that a token
#	    stored without its prefix is found too, and
#	  - anything shaped like a token (cal_hub_|biz_|pub_|ses_ and 38 base62
#	    characters), listed or not.
#	TOKENS itself is skipped; nothing else is: the tests' own output is
#	held to the same rule (a test may show a token only in the message of
#	an assertion that failed, and then the run fails anyway). Prints the
#	name of each file that holds one
#	(never the token) and fails; prints how many tokens and files it looked
#	at and succeeds when there are none. Fails too when TOKENS is empty:
#	a run that recorded no token proves nothing.
#   tests/secrets.sh selftest
#	Plants tokens in scratch files and checks that scan finds each of them
#	and names the right files, and that a clean directory passes.
set -uo pipefail

shape='cal_(hub|biz|pub|ses)_[0-9A-Za-z]{38}'

# scan TOKENS PATH...
scan() {
	local tokens=$1 tmp pats files hits n nf
	shift
	[ -s "$tokens" ] || { echo "secrets: no token recorded in $tokens"; return 1; }
	tmp=$(mktemp -d) || return 1
	pats=$tmp/patterns
	files=$tmp/files
	# the random part of each token: characters 9 to 40
	grep -aE "^$shape\$" "$tokens" | cut -c9-40 | sort -u >"$pats"
	n=$(wc -l <"$pats")
	[ "$n" -gt 0 ] || { echo "secrets: $tokens lists no well-formed token"; rm -rf "$tmp"; return 1; }
	find "$@" -type f ! -samefile "$tokens" -print0 2>/dev/null >"$files"
	nf=$(tr -cd '\0' <"$files" | wc -c)
	# -s: PostgreSQL may remove a temporary file while we read
	hits=$( {
		xargs -0 -r grep -laF -f "$pats" -s -- <"$files"
		xargs -0 -r grep -laE "$shape" -s -- <"$files"
	} | sort -u)
	rm -rf "$tmp"
	if [ -n "$hits" ]; then
		echo "secrets: a token was found in these files (of $nf, looking for $n tokens):"
		sed 's/^/    /' <<<"$hits"
		return 1
	fi
	echo "secrets: none of $n tokens, and nothing shaped like a token, in $nf files"
}

# selftest: scan finds what was planted, and only there
selftest() {
	local d rc=0 out tok body other
	d=$(mktemp -d) || return 1
	tok=cal_biz_Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4dEf7hIj
	other=cal_ses_Zz9yXw8vUt7sRq6pOn5mLk4jIh3gFe2dCb1aZz
	body=${tok:8:32}
	mkdir -p "$d/run/pg/pg_wal" "$d/run/logs"
	printf '%s\n%s\n' "$tok" "$other" >"$d/run/tokens.txt"
	# clean: display forms and hashes only
	printf 'GET /api/v1/services 200 key=%s ip=127.0.0.1\n' "${tok:0:8}${tok: -4}" \
		>"$d/run/logs/worker.log"
	head -c 4096 /dev/zero >"$d/run/pg/pg_wal/000000010000000000000001"
	out=$(scan "$d/run/tokens.txt" "$d/run" 2>&1) || { echo "clean tree refused: $out"; rc=1; }
	# a listed token in the middle of binary data, without its prefix
	{ head -c 1000 /dev/zero; printf 'x%sx' "$body"; head -c 1000 /dev/zero; } \
		>>"$d/run/pg/pg_wal/000000010000000000000001"
	# a whole token in a log line
	printf 'Authorization: Bearer %s\n' "$other" >"$d/run/logs/lighttpd-error.log"
	# a token-shaped string that was never recorded
	printf 'leak cal_pub_%s\n' "$(printf 'Q%.0s' $(seq 38))" >"$d/run/stray.out"
	if out=$(scan "$d/run/tokens.txt" "$d/run" 2>&1); then
		echo "planted tokens not found: $out"; rc=1
	fi
	for f in pg/pg_wal/000000010000000000000001 logs/lighttpd-error.log stray.out; do
		grep -qF "$d/run/$f" <<<"$out" || { echo "not named: $f"; rc=1; }
	done
	grep -qF "$d/run/logs/worker.log" <<<"$out" && { echo "a clean file named"; rc=1; }
	grep -qF "$d/run/tokens.txt" <<<"$out" && { echo "the token list itself named"; rc=1; }
	grep -qF -e "$body" -e "$other" <<<"$out" && { echo "the report shows a token"; rc=1; }
	# nothing recorded: no proof
	: >"$d/empty"
	scan "$d/empty" "$d/run/logs/worker.log" >/dev/null 2>&1 && { echo "empty list accepted"; rc=1; }
	rm -rf "$d"
	[ "$rc" -eq 0 ] && echo "secrets: selftest passed"
	return "$rc"
}

case ${1:-} in
scan)	shift; [ $# -ge 2 ] || { echo "usage: secrets.sh scan TOKENS PATH..." >&2; exit 2; }
	scan "$@" ;;
selftest) selftest ;;
*)	echo "usage: secrets.sh scan TOKENS PATH... | selftest" >&2; exit 2 ;;
esac

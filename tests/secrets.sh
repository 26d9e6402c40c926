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
#	Webhook signing secrets (SPEC 11: whsec_ and 32 base62 characters, all
#	random) count as tokens here: listed ones are looked for by their 32
#	random characters, and anything of their shape is found too.
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

shape='cal_(hub|biz|pub|ses)_[0-9A-Za-z]{38}|whsec_[0-9A-Za-z]{32}'

# scan TOKENS PATH...
scan() {
	local tokens=$1 tmp pats files hits n nf
	shift
	[ -s "$tokens" ] || { echo "secrets: no token recorded in $tokens"; return 1; }
	tmp=$(mktemp -d) || return 1
	pats=$tmp/patterns
	files=$tmp/files
	# the random part of each: characters 9 to 40 of a token (after cal_xxx_,
	# before the checksum), 7 to 38 of a webhook secret (after whsec_)
	grep -aE "^($shape)\$" "$tokens" |
		sed -E 's/^cal_[a-z]{3}_(.{32}).*$/\1/; s/^whsec_(.{32})$/\1/' | sort -u >"$pats"
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
	local d rc=0 out tok body other wh whbody
	d=$(mktemp -d) || return 1
	tok=cal_biz_Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4dEf7hIj
	other=cal_ses_Zz9yXw8vUt7sRq6pOn5mLk4jIh3gFe2dCb1aZz
	wh=whsec_Kp4tRw7yZa2cEf5hJm8nQs3vXb6dGk9L
	body=${tok:8:32}
	whbody=${wh:6:32}
	mkdir -p "$d/run/pg/pg_wal" "$d/run/pg/base/16384" "$d/run/logs" "$d/run/webhooks"
	printf '%s\n%s\n%s\n' "$tok" "$other" "$wh" >"$d/run/tokens.txt"
	# clean: display forms and hashes only
	printf 'GET /api/v1/services 200 key=%s ip=127.0.0.1\n' "${tok:0:8}${tok: -4}" \
		>"$d/run/logs/worker.log"
	head -c 4096 /dev/zero >"$d/run/pg/pg_wal/000000010000000000000001"
	head -c 8192 /dev/zero >"$d/run/pg/base/16384/24601"
	printf 'delivery 1 webhook 2 attempt 1: 200 in 3 ms, secret whsec_[redacted]\n' \
		>"$d/run/webhooks/sender.log"
	out=$(scan "$d/run/tokens.txt" "$d/run" 2>&1) || { echo "clean tree refused: $out"; rc=1; }
	# a listed token in the middle of binary data, without its prefix
	{ head -c 1000 /dev/zero; printf 'x%sx' "$body"; head -c 1000 /dev/zero; } \
		>>"$d/run/pg/pg_wal/000000010000000000000001"
	# a whole token in a log line
	printf 'Authorization: Bearer %s\n' "$other" >"$d/run/logs/lighttpd-error.log"
	# a token-shaped string that was never recorded
	printf 'leak cal_pub_%s\n' "$(printf 'Q%.0s' $(seq 38))" >"$d/run/stray.out"
	# a recorded webhook secret's random part in a table's file, without whsec_
	{ head -c 500 /dev/zero; printf '%s' "$whbody"; head -c 500 /dev/zero; } \
		>>"$d/run/pg/base/16384/24601"
	# a secret-shaped string that was never recorded, in a sender's log
	printf 'signing with whsec_%s\n' "$(printf 'W%.0s' $(seq 32))" >"$d/run/webhooks/stray.log"
	if out=$(scan "$d/run/tokens.txt" "$d/run" 2>&1); then
		echo "planted tokens not found: $out"; rc=1
	fi
	for f in pg/pg_wal/000000010000000000000001 logs/lighttpd-error.log stray.out \
	    pg/base/16384/24601 webhooks/stray.log; do
		grep -qF "$d/run/$f" <<<"$out" || { echo "not named: $f"; rc=1; }
	done
	grep -qF "$d/run/logs/worker.log" <<<"$out" && { echo "a clean file named"; rc=1; }
	grep -qF "$d/run/webhooks/sender.log" <<<"$out" && { echo "a clean log named"; rc=1; }
	grep -qF "$d/run/tokens.txt" <<<"$out" && { echo "the token list itself named"; rc=1; }
	grep -qF -e "$body" -e "$other" -e "$whbody" <<<"$out" && { echo "the report shows a token"; rc=1; }
	# a list of webhook secrets alone is a list too: the secret is found
	printf '%s\n' "$wh" >"$d/whonly"
	if out=$(scan "$d/whonly" "$d/run/pg/base" 2>&1) ||
	    ! grep -qF "$d/run/pg/base/16384/24601" <<<"$out"; then
		echo "a listed webhook secret not found: $out"; rc=1
	fi
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

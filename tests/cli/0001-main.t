#!/usr/bin/env bash
# The dispatcher: help, version, unknown commands and options, exit statuses.
. "$(dirname "$0")/lib.sh"

run vs --version
is "$rc" 0 "--version exits 0"
like "$out" '^venuescan [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"

run vs --help
is "$rc" 0 "--help exits 0"
like "$out" 'keygen' "--help lists keygen"
like "$out" 'venue make' "--help lists venue make"
like "$out" 'scan' "--help lists scan"

run vs
is "$rc" 2 "no command exits 2"

run vs frobnicate
is_error 2 "unknown command 'frobnicate'.*--help" "unknown command: one line, exit 2"

run vs --frob
is_error 2 "unknown option '--frob'" "unknown top-level option: one line, exit 2"

run vs s
is_error 2 "unknown command 's'" "no prefix matching"

run vs venue
is "$rc" 2 "a group word alone exits 2"
like "$err" 'venue make' "a group word alone lists its subcommands"

run vs venue --help
is "$rc" 0 "venue --help exits 0"

# Every command: --help exits 0 and prints a usage line; an unknown flag exits 2 naming it.
for c in "keygen" "venue make" "venue photo" "scan"; do
	# shellcheck disable=SC2086
	run vs $c --help
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: venuescan $c" "$c --help starts with its usage line"
	# shellcheck disable=SC2086
	run vs $c --no-such-flag
	is_error 2 "unknown option '--no-such-flag'.*venuescan $c --help" "$c: unknown flag named, exit 2"
done

# A full standard output is an error, not a silent success.
if [ -w /dev/full ]; then
	vs --help >/dev/full 2>"$TMP/err"; rc=$?
	is "$rc" 2 "--help into a full disk exits 2"
	vs detect "$FIXTURES/datasets/tiny" --format jsonl >/dev/full 2>"$TMP/err"; rc=$?
	is "$rc $(grep -c . "$TMP/err")" "2 1" "detect into a full disk: exit 2 and one error line"
fi
done_testing

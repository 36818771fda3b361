# TAP helpers for venuescan's command-line tests.  Source it, then call plan N (or
# done_testing at the end).  The Makefile sets VENUESCAN (the binary under test),
# FIXTURES, TOP and BUILD_DIR.
#
#   run CMD...            run CMD, keeping $out (stdout), $err (stderr), $rc (status)
#   is GOT WANT NAME      ok when the two strings are equal
#   ok COND_STATUS NAME   ok when the status given is 0 (e.g.  ok $? "...")
#   like TEXT REGEX NAME  ok when TEXT matches the extended regular expression
#   golden NAME TEXT      compare TEXT with tests/cli/golden/NAME (UPDATE_GOLDEN=1 rewrites)
set -u
: "${VENUESCAN:?set VENUESCAN to the binary under test}"
: "${FIXTURES:=$(cd "$(dirname "$0")/../../fixtures" && pwd)}"
: "${TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
vs() { "$VENUESCAN" "$@"; }

_tap_n=0
_tap_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vs-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

plan() { echo "1..$1"; }

# Skip the whole script, unless it runs under `make check` (VS_CHECK=1), where everything
# it needs is installed and built: there a skip would hide a regression, so it fails.
skip_all() { # reason
	if [ "${VS_CHECK:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - $1 (make check provides it: this must not be skipped)"
		exit 1
	fi
	echo "1..0 # SKIP $1"
	exit 0
}

# The same for a part of a script: under make check, a failed test instead of a note.
skip_part() { # reason
	if [ "${VS_CHECK:-0}" = 1 ]; then
		_tap_result 1 "$1 (make check provides it: this must not be skipped)"
	else
		echo "# skipping: $1"
	fi
}
done_testing() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }

_tap_result() { # status name [diagnostics]
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
	return 0
}

run() {
	local o e
	o=$(mktemp "$TMP/out.XXXXXX"); e=$(mktemp "$TMP/err.XXXXXX")
	"$@" >"$o" 2>"$e"
	rc=$?
	out=$(cat "$o"); err=$(cat "$e")
	rm -f "$o" "$e"
}

is() {
	if [ "$1" = "$2" ]; then _tap_result 0 "$3"
	else _tap_result 1 "$3" "got:  '$1'
want: '$2'"; fi
}

ok() { _tap_result "$1" "$2" "${3:-}"; }

like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"
	else _tap_result 1 "$3" "text:  '$1'
regex: '$2'"; fi
}

unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then _tap_result 1 "$3" "text:  '$1'
should not match: '$2'"
	else _tap_result 0 "$3"; fi
}

# Exit status and a one-line error: the usual shape of a bad-input test.
is_error() { # expected-status stderr-regex name
	local lines
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$rc" -eq "$1" ] && [ "$lines" -eq 1 ] && printf '%s' "$err" | grep -Eq -- "$2"; then
		_tap_result 0 "$3"
	else
		_tap_result 1 "$3" "status $rc (want $1), stderr ($lines lines): $err"
	fi
}

golden() { # name text
	local f="$TOP/tests/cli/golden/$1"
	if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
		mkdir -p "$(dirname "$f")"; printf '%s\n' "$2" >"$f"
		_tap_result 0 "golden $1 (rewritten)"
	elif [ -f "$f" ] && [ "$(cat "$f")" = "$2" ]; then
		_tap_result 0 "golden $1"
	else
		_tap_result 1 "golden $1" "$(printf '%s\n' "$2" | diff "$f" - 2>&1 | head -20)"
	fi
}

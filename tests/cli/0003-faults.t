#!/usr/bin/env bash
# Fault injection (STYLE practice 8): in the sanitizer build, VS_FAULT_ALLOC=N makes the Nth
# allocation fail and VS_FAULT_WRITE=N the Nth output commit.  Every such failure must end
# in exit 2, one line on stderr, and no output — not even a temporary — left behind.
. "$(dirname "$0")/lib.sh"

VS_FAULT_ALLOC=1 vs keygen --issuer probe --out "$TMP/probe" >/dev/null 2>&1
[ $? -eq 2 ] || skip_all "this build has no fault injection"

vs keygen --issuer henan --out "$TMP/keys" >/dev/null
vs venue make --name '郑州车站西南出口' --area Henan/Zhengzhou/Erqi --lat 34.7447 --lon 113.6566 \
	--key "$TMP/keys/henan.key" --out "$TMP/poster.png" --at 1654948800 >/dev/null
head -n 6 "$FIXTURES/venues/venues.csv" > "$TMP/venues.csv"

# Each command writes into an empty folder $TMP/o; after a failure it must still be empty.
commands=(
	"keygen --issuer k --out $TMP/o"
	"venue make --name X --area A/B/C --lat 1 --lon 2 --key $TMP/keys/henan.key --out $TMP/o/x.png --at 1654948800"
	"venue make --batch $TMP/venues.csv --key $TMP/keys/henan.key --out-dir $TMP/o/batch --at 1654948800"
	"venue photo $TMP/poster.png $TMP/o/photo.png --level 3"
)

for c in "${commands[@]}"; do
	name=${c%% --*}
	# Count how far the allocation sweep must go: stop at the first N that succeeds.
	failures=0 bad=""
	for n in $(seq 1 400); do
		rm -rf "$TMP/o"; mkdir -p "$TMP/o"
		# shellcheck disable=SC2086
		VS_FAULT_ALLOC=$n vs $c >/dev/null 2>"$TMP/err"; rc=$?
		[ "$rc" -eq 0 ] && break
		failures=$((failures + 1))
		lines=$(grep -c . "$TMP/err")
		left=$(find "$TMP/o" -mindepth 1 | head -3)
		if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || [ -n "$left" ]; then
			bad="N=$n: status $rc, $lines stderr lines, left: $left; $(head -3 "$TMP/err")"
			break
		fi
	done
	is "$bad" "" "$name: each of $failures failed allocations ends in exit 2, one line, nothing left"
	ok "$([ "$failures" -gt 0 ]; echo $?)" "$name: the allocation sweep reached at least one failure"

	rm -rf "$TMP/o"; mkdir -p "$TMP/o"
	# shellcheck disable=SC2086
	VS_FAULT_WRITE=1 vs $c >/dev/null 2>"$TMP/err"; rc=$?
	is "$rc $(grep -c . "$TMP/err") $(find "$TMP/o" -mindepth 1 | wc -l)" "2 1 0" \
		"$name: a failed output write ends in exit 2, one line, nothing left"
done

# A signal mid-run removes the staging folder too (the handler's allocation-free removal).
# The binary itself runs in the background (a backgrounded shell function would be a
# subshell, and the signal would miss the program); SIGINT is not tried, since a
# non-interactive shell starts background jobs with it ignored.
for sig in TERM HUP; do
	rm -rf "$TMP/o"; mkdir -p "$TMP/o"
	"$VENUESCAN" simulate --scenario "$FIXTURES/scenarios/zhengzhou-2022-06.ini" --persons 150000 \
		--out "$TMP/o/ds" --quiet &
	pid=$!
	for _ in $(seq 100); do [ -n "$(ls -A "$TMP/o")" ] && break; sleep 0.05; done
	sleep 0.3
	kill -$sig $pid; wait $pid; rc=$?
	is "$rc $(find "$TMP/o" -mindepth 1 | wc -l)" "$((128 + $(kill -l $sig))) 0" \
		"SIG$sig during simulate: killed by it, and no staging folder left"
done
done_testing

#!/usr/bin/env bash
# venuescan scan: every status, exit codes, bad inputs (one stderr line each), several
# codes in one image, --at and expiry, input order with workers, bytes that are not UTF-8,
# and (in fault-injection builds) a decoder that hangs or crashes on one image.
# Bad samples: fixtures/bad/scan-{empty,not-image,truncated}.png, scan-truncated.pgm (a
# header promising 16 M pixels and no data), scan-no-code.png (a blank 64x48 PNG).
. "$(dirname "$0")/lib.sh"

BAD=$FIXTURES/bad
RW=$FIXTURES/realworld
cd "$TMP" || exit 2

# --- help and usage ----------------------------------------------------------------------
run vs scan --help
is "$rc" 0 "--help exits 0"
for flag in --trust --at --jobs --timeout; do
	like "$out" "^  $flag [A-Z]" "--help lists $flag with its value"
done
like "$out" "exit status: 0" "--help gives the exit statuses"

run vs scan
is_error 2 "scan: no image given" "no image: usage error"
run vs scan --jobs 0 x.png
is_error 2 "'--jobs'" "--jobs 0 is refused"
run vs scan --timeout soon x.png
is_error 2 "'--timeout'" "--timeout must be a number"
run vs scan --at yesterday x.png
is_error 2 "'--at'.*yesterday" "--at must be a time"
run vs scan --trust nothere.pub x.png
is_error 2 "nothere.pub" "a missing --trust file names it"

# --- codes -----------------------------------------------------------------------------
AT=2022-06-11T20:00:00+08:00
ID=aefc12d2-3c1c-56b1-b29c-2a52f2f02db7
vs keygen --issuer henan-hc --out keys >/dev/null 2>&1
vs keygen --issuer henan-hc --out impostor >/dev/null 2>&1
station() { # out [extra flags]
	local o=$1; shift
	vs venue make --name 郑州车站西南出口 --area Henan/Zhengzhou/Erqi --lat 34.7447 \
		--lon 113.6566 --id $ID --key keys/henan-hc.key --at $AT --out "$o" "$@" >/dev/null
}
station st.png
station rotating.png --valid-for 300
station st.pgm
ok $([ -s st.png ] && [ -s rotating.png ] && [ -s st.pgm ] && echo 0 || echo 1) "posters made"

run vs scan --trust keys/henan-hc.pub st.png
is "$rc" 0 "a trusted station code exits 0"
is "$err" "" "nothing on stderr"
is "$(printf '%s' "$out" | grep -c .)" 1 "one line for one code"
is "$(printf '%s' "$out" | jq -r '[.file,.valid,.status,.claims.name,.claims.area,.claims.id]|@tsv')" \
	"st.png	true	ok	郑州车站西南出口	Henan/Zhengzhou/Erqi	$ID" "ok: file, valid, status and claims"
is "$(printf '%s' "$out" | jq -r 'keys_unsorted|join(",")')" "file,payload,valid,status,claims" \
	"keys in contract order"
like "$(printf '%s' "$out" | jq -r .payload)" '^VSC1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "payload is the VSC1 text"

run vs scan --trust keys/henan-hc.pub st.pgm
is "$rc/$(printf '%s' "$out" | jq -r .status)" "0/ok" "PGM posters scan too"

run vs scan st.png
is "$rc/$(printf '%s' "$out" | jq -r '[.status,.valid]|@tsv')" "1/unknown_issuer	false" \
	"no --trust: unknown_issuer, exit 1"
run vs scan --trust impostor/henan-hc.pub st.png
is "$rc/$(printf '%s' "$out" | jq -r .status)" "1/bad_signature" "another key for the issuer: bad_signature, exit 1"
run vs scan --trust impostor/henan-hc.pub --trust keys/henan-hc.pub st.png
is "$rc" 2 "two keys for one issuer: exit 2"

run vs scan --trust keys/henan-hc.pub --at 2022-06-11T20:04:00+08:00 rotating.png
is "$rc/$(printf '%s' "$out" | jq -r '[.status,.claims.exp]|@tsv')" "0/ok	1654949100" \
	"rotating code before exp: ok"
run vs scan --trust keys/henan-hc.pub --at 1654949101 rotating.png
is "$rc/$(printf '%s' "$out" | jq -r .status)" "1/expired" "rotating code after exp (unix --at): expired"
run vs scan --trust keys/henan-hc.pub rotating.png
is "$rc/$(printf '%s' "$out" | jq -r .status)" "1/expired" "without --at, now: expired"
run vs scan --trust keys/henan-hc.pub --at 2022-06-30T00:00:00+08:00 st.png
is "$rc/$(printf '%s' "$out" | jq -r .status)" "0/ok" "a code without exp never expires"

qrencode -8 -o malformed.png 'VSC1.eyJub3QiOiJjbGFpbXMifQ.AAAA'
run vs scan --trust keys/henan-hc.pub malformed.png
is "$rc/$(printf '%s' "$out" | jq -r '[.status,(.claims|tojson)]|@tsv')" "1/malformed	null" "malformed VSC1: claims null, exit 1"

qrencode -8 -o nz.png "$(cat "$FIXTURES/foreign/nzcovidtracer.txt")"
run vs scan nz.png
is "$rc/$(printf '%s' "$out" | jq -r '[.status,.format,(.fields|type)]|@tsv')" "1/foreign	nzcovidtracer	object" \
	"NZ check-in code: foreign, format and fields"
is "$(printf '%s' "$out" | jq -r .payload)" "$(cat "$FIXTURES/foreign/nzcovidtracer.txt")" "foreign payload is the raw text"
qrencode -8 -o zh.png '郑州 health code: 绿码'
run vs scan zh.png
is "$(printf '%s' "$out" | jq -r '[.status,.payload,has("format")]|@tsv')" "foreign	郑州 health code: 绿码	false" \
	"unknown text: foreign, UTF-8 intact, no format"
printf '\xff\xfe\x00 GBK \xd6\xa3\xd6\xdd' >raw.bin
qrencode -8 -r raw.bin -o raw.png
run vs scan raw.png
printf '%s' "$out" | jq -e . >/dev/null 2>&1
ok $? "a payload that is not UTF-8 still gives valid JSON"
is "$(printf '%s' "$out" | jq -r .payload_base64)" "$(base64 <raw.bin)" "payload_base64 holds the exact bytes"

# --- several codes and several images ----------------------------------------------------
run vs scan "$RW/multi-2x2.png"
is "$rc/$(printf '%s' "$out" | grep -c .)" "1/4" "four codes in one image: four lines, none valid: exit 1"
run vs scan --trust "$RW/realworld-test.pub" "$RW/multi-signed.png"
is "$rc/$(printf '%s' "$out" | jq -r .status | sort | tr '\n' ' ')" "0/foreign ok " \
	"one valid code among others is enough: exit 0"

run vs scan --trust keys/henan-hc.pub st.png "$BAD/scan-no-code.png"
is_error 1 "'[^']*scan-no-code.png': no QR code found" "an image without a code: one stderr line, exit 1"
is "$(printf '%s' "$out" | jq -r .file)" "st.png" "and nothing on stdout for it"

run vs scan --trust keys/henan-hc.pub st.png nz.png
is "$rc" 1 "one image without a valid code makes it exit 1"

# --- bad inputs: one stderr line naming the file, exit 2 ---------------------------------
for f in missing.png "$BAD/scan-empty.png" "$BAD/scan-not-image.png" "$BAD/scan-truncated.png" \
	"$BAD/scan-truncated.pgm"; do
	run vs scan --trust keys/henan-hc.pub st.png "$f" st.png
	is_error 2 "'$f'" "$(basename "$f"): one line naming it, exit 2"
	is "$(printf '%s' "$out" | grep -c .)" 2 "$(basename "$f"): the readable images still print"
done
run vs scan --trust keys/henan-hc.pub "$BAD/scan-no-code.png" missing.png
is "$rc" 2 "unreadable input takes precedence over no code"

# --- order and workers ----------------------------------------------------------------
set -- st.png nz.png zh.png st.pgm raw.png rotating.png malformed.png st.png nz.png zh.png
run vs scan --jobs 2 "$@"
is "$(printf '%s' "$out" | jq -r .file | tr '\n' ' ')" "$* " "--jobs 2 prints in input order"
j2=$out
run vs scan --jobs 1 "$@"
is "$out" "$j2" "--jobs 1 prints the same"
run vs scan --jobs 8 "$@"
is "$out" "$j2" "--jobs 8 prints the same"

# --- a decoder that hangs or crashes (VS_FAULT_INJECTION builds only) ---------------------
cp st.png hang.png
cp st.png crash.png
VS_FAULT_SCAN=crash:crash.png vs scan --jobs 2 crash.png >/dev/null 2>&1
if [ $? -ne 2 ]; then
	skip_part "not a fault-injection build: the hung and crashed decoder tests"
else
	run env VS_FAULT_SCAN=hang:hang.png "$VENUESCAN" scan --trust keys/henan-hc.pub --timeout 0.5 \
		st.png hang.png st.pgm
	is_error 2 "'hang.png': decoding took longer than 0.5 s" "a hung decoder: killed, one line, exit 2"
	is "$(printf '%s' "$out" | jq -r .file | tr '\n' ' ')" "st.png st.pgm " "the other images are scanned"
	run env VS_FAULT_SCAN=crash:crash.png "$VENUESCAN" scan --trust keys/henan-hc.pub st.png crash.png \
		st.pgm crash.png st.png
	is "$rc" 2 "a crashing decoder: exit 2"
	is "$(printf '%s\n' "$err" | grep -c "'crash.png': decoder process died")" 2 \
		"each crash is one line naming the file"
	is "$(printf '%s' "$out" | jq -r .file | tr '\n' ' ')" "st.png st.pgm st.png " \
		"workers are replaced and the rest is scanned in order"
fi

# --- allocation failures (VS_FAULT_INJECTION builds only) ---------------------------------
bad="" n=1
while [ $n -le 300 ]; do
	VS_FAULT_ALLOC=$n "$VENUESCAN" scan --jobs 1 --trust keys/henan-hc.pub st.png >"$TMP/o" 2>"$TMP/e"
	r=$?
	[ $r -eq 0 ] && break
	lines=$(grep -c . "$TMP/e")
	if [ $r -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q 'out of memory' "$TMP/e" || [ -s "$TMP/o" ]; then
		bad="$bad N=$n: status $r, $lines stderr lines;"
	fi
	n=$((n + 1))
done
if [ $n -eq 1 ]; then
	skip_part "not a fault-injection build: the allocation sweep"
else
	is "$bad" "" "each of $((n - 1)) failed allocations ends in exit 2, one line, no output"
	ok $([ $n -le 300 ] && echo 0 || echo 1) "the sweep reached a run with no failure"
fi
done_testing

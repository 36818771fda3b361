#!/usr/bin/env bash
# venue photo: level 0 is an exact copy, a seed fixes the output, mild levels still scan,
# bad images and flags are one line and exit 2 with nothing written.
. "$(dirname "$0")/lib.sh"

# QR only: unfiltered, zbarimg now and then also "finds" a 1-D barcode (I2/5) inside a poster.
zbar() { zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$1" 2>/dev/null; }

run vs keygen --issuer henan --out "$TMP/keys"
run vs venue make --name '郑州车站西南出口' --area Henan/Zhengzhou/Erqi --lat 34.7447 --lon 113.6566 \
	--key "$TMP/keys/henan.key" --out "$TMP/poster.png" --at 2022-06-11T20:00:00+08:00
is "$rc" 0 "a poster to photograph"
payload=$(printf '%s\n' "$out" | jq -r .payload)

run vs venue photo "$TMP/poster.png" "$TMP/copy.pgm" --level 0
is "$rc" 0 "level 0"
run vs venue photo "$TMP/copy.pgm" "$TMP/copy.png" --level 0
cmp -s "$TMP/poster.png" "$TMP/copy.png"
ok $? "level 0 through PGM and back gives the same PNG bytes"

run vs venue photo "$TMP/poster.png" "$TMP/default.png"
is "$rc" 0 "default level (2) and seed (1)"
is "$out" "" "prints nothing"
run vs venue photo "$TMP/poster.png" "$TMP/l2s1.png" --level 2 --seed 1
cmp -s "$TMP/default.png" "$TMP/l2s1.png"
ok $? "the defaults are --level 2 --seed 1"
run vs venue photo "$TMP/poster.png" "$TMP/l2s2.png" --level 2 --seed 2
cmp -s "$TMP/l2s1.png" "$TMP/l2s2.png"
ok "$([ $? -ne 0 ]; echo $?)" "another seed, another photo"
is "$(zbar "$TMP/l2s1.png")" "$payload" "a level-2 photo still reads back exactly"
run vs venue photo "$TMP/poster.png" "$TMP/l1.pgm" --level 1 --seed 99
is "$(zbar "$TMP/l1.pgm")" "$payload" "a level-1 PGM photo still reads back"
run vs venue photo "$TMP/poster.png" "$TMP/l5.png" --level 5 --seed 18446744073709551615
is "$rc" 0 "level 5 with the largest seed"

for lv in 6 -1 x; do
	run vs venue photo "$TMP/poster.png" "$TMP/bad.png" --level "$lv"
	is_error 2 "'--level'" "--level $lv refused"
done
run vs venue photo "$TMP/poster.png" "$TMP/bad.png" --seed -3
is_error 2 "'--seed'" "negative seed refused"
run vs venue photo "$TMP/poster.png"
is_error 2 "needs an input and an output image" "one argument"
run vs venue photo "$TMP/poster.png" "$TMP/bad.jpg"
is_error 2 "bad.jpg.*\.png or \.pgm" "unknown output type"
ok "$([ ! -e "$TMP/bad.jpg" ]; echo $?)" "unknown output type: nothing written"

for f in truncated.png not-an-image.png empty.png huge-dims.png huge-dims.pgm bad-pgm-header.pgm truncated.pgm; do
	run vs venue photo "$FIXTURES/bad/$f" "$TMP/bad.png"
	is_error 2 "'[^']*$f': " "bad image $f: one line naming it"
	ok "$([ ! -e "$TMP/bad.png" ]; echo $?)" "bad image $f: nothing written"
done
run vs venue photo "$TMP/no-such.png" "$TMP/bad.png"
is_error 2 "no-such.png" "missing input"
is "$(find "$TMP" -name '*.tmp.*' | wc -l)" 0 "no temporary files left behind"

done_testing

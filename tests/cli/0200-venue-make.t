#!/usr/bin/env bash
# venue make: one code to PNG, SVG and PGM, read back exactly by zbarimg and verified by
# scan; every bad flag and bad key is one line and exit 2 with nothing written; batches
# from a venues.csv, all or nothing, the same on every run.
. "$(dirname "$0")/lib.sh"

# QR only: unfiltered, zbarimg now and then also "finds" a 1-D barcode (I2/5) inside a poster.
zbar() { zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$1" 2>/dev/null; }
json() { printf '%s\n' "$1" | jq -r "$2"; }
leftovers() { find "$1" -name '*.tmp.*' | wc -l; }

ID=6f0f4c52-2b6e-4a4e-9d3c-6a1d2f3b9e01
AT=2022-06-11T20:00:00+08:00
run vs keygen --issuer henan --out "$TMP/keys"
is "$rc" 0 "keygen for the tests"
KEY=$TMP/keys/henan.key
PUB=$TMP/keys/henan.pub
station=(--name '郑州车站西南出口' --area Henan/Zhengzhou/Erqi --lat 34.7447 --lon 113.6566)

# --- one code ---------------------------------------------------------------------------
run vs venue make "${station[@]}" --id "$ID" --key "$KEY" --out "$TMP/station.png" --at "$AT"
is "$rc" 0 "make a PNG poster"
is "$(printf '%s\n' "$out" | wc -l)" 1 "one JSON line"
is "$(json "$out" .file)" "$TMP/station.png" "JSON names the file"
is "$(json "$out" .venue_id)" "$ID" "JSON names the venue id"
payload=$(json "$out" .payload)
like "$payload" '^VSC1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "payload is VSC1 base64url"
is "$(zbar "$TMP/station.png")" "$payload" "zbarimg reads back the exact payload"
run vs scan --trust "$PUB" "$TMP/station.png"
is "$(json "$out" .status)" ok "scan verifies it"
is "$(json "$out" .claims.name)" '郑州车站西南出口' "the Chinese name survives"
is "$(json "$out" .claims.iat)" 1654948800 "iat is --at"
is "$(json "$out" '.claims | keys_unsorted | join(",")')" "id,name,area,lat,lon,iss,iat" "claims in contract order, no exp"

run vs venue make "${station[@]}" --id "$ID" --key "$KEY" --out "$TMP/again.png" --at "$AT"
is "$(json "$out" .payload)" "$payload" "same venue, key and time: same payload"
cmp -s "$TMP/station.png" "$TMP/again.png"
ok $? "and the same PNG bytes"

run vs venue make "${station[@]}" --key "$KEY" --out "$TMP/station.svg" --scale 3 --margin 2 --level H
is "$rc" 0 "make an SVG poster"
like "$(json "$out" .venue_id)" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "a random lowercase v4 UUID without --id"
svg=$(cat "$TMP/station.svg")
like "$svg" '<svg [^>]*viewBox="0 0 [0-9]+ [0-9]+"' "SVG has a viewBox"
like "$svg" 'shape-rendering="crispEdges"' "SVG edges are crisp"
like "$svg" '<rect [^>]*fill="#ffffff"' "SVG has a white background"
is "$(grep -c '<path' "$TMP/station.svg")" 1 "SVG draws the modules as one path"

run vs venue make "${station[@]}" --id "${ID^^}" --key "$KEY" --out "$TMP/station.pgm" --valid-for 60 --at "$AT"
is "$rc" 0 "make a PGM poster with --valid-for"
is "$(json "$out" .venue_id)" "$ID" "an upper-case --id is written lower-case"
pgm_payload=$(json "$out" .payload)
is "$(zbar "$TMP/station.pgm")" "$pgm_payload" "zbarimg reads back the PGM"
run vs scan --trust "$PUB" --at 2022-06-11T20:00:30+08:00 "$TMP/station.pgm"
is "$(json "$out" .claims.exp)" 1654948860 "exp is iat + --valid-for"
is "$(json "$out" .status)" ok "scanned within its minute: ok"

# --- bad flags: one line, exit 2, nothing written --------------------------------------
bad() { # name regex args...
	local name=$1 re=$2
	shift 2
	rm -f "$TMP/bad.png"
	run vs venue make "$@"
	is_error 2 "$re" "$name"
	ok "$([ ! -e "$TMP/bad.png" ]; echo $?)" "$name: no output"
}
base=(--key "$KEY" --out "$TMP/bad.png")
bad "latitude out of range" "'--lat'.*'91'" --name x --area A/B/C --lat 91 --lon 1 "${base[@]}"
bad "longitude not a number" "'--lon'.*'east'" --name x --area A/B/C --lat 1 --lon east "${base[@]}"
bad "bad area" "'--area'" --name x --area 'Henan//Erqi' --lat 1 --lon 1 "${base[@]}"
bad "empty name" "'--name'" --name '' --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "name not UTF-8" "'--name'" --name $'\xff\xfe' --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "bad uuid" "'--id'.*'not-a-uuid'" --id not-a-uuid --name x --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "bad level" "'--level'" --level X --name x --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "bad scale" "'--scale'" --scale 0 --name x --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "bad valid-for" "'--valid-for'" --valid-for -5 --name x --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "bad time" "'--at'.*ISO 8601" --at yesterday --name x --area A/B/C --lat 1 --lon 1 "${base[@]}"
bad "missing --lat" "needs --lat" --name x --area A/B/C --lon 1 "${base[@]}"
bad "missing --key" "needs --key" --name x --area A/B/C --lat 1 --lon 1 --out "$TMP/bad.png"
bad "stray argument" "unexpected argument 'extra'" --name x --area A/B/C --lat 1 --lon 1 "${base[@]}" extra
bad "--batch with --name" "'--name' does not go with --batch" --batch x.csv --name x --key "$KEY" --out-dir "$TMP/d"
bad "--format without --batch" "'--format' needs --batch" --format png --name x --area A/B/C --lat 1 --lon 1 "${base[@]}"
run vs venue make --name x --area A/B/C --lat 1 --lon 1 --key "$KEY" --out "$TMP/bad.jpg"
is_error 2 "'--out'.*bad.jpg.*\.png, \.svg or \.pgm" "unknown output extension"
ok "$([ ! -e "$TMP/bad.jpg" ]; echo $?)" "unknown extension: no output"

# --- bad keys --------------------------------------------------------------------------
for k in key-short.key key-badheader.key key-pub-as-secret.key key-empty.key; do
	cp "$FIXTURES/bad/$k" "$TMP/$k" && chmod 600 "$TMP/$k"
	bad "bad key $k" "$k" --name x --area A/B/C --lat 1 --lon 1 --key "$TMP/$k" --out "$TMP/bad.png"
done
bad "missing key file" "no-such.key" --name x --area A/B/C --lat 1 --lon 1 --key "$TMP/no-such.key" --out "$TMP/bad.png"
bad "public key given as --key" "henan.pub" --name x --area A/B/C --lat 1 --lon 1 --key "$PUB" --out "$TMP/bad.png"

run vs venue make --name x --area A/B/C --lat 1 --lon 1 --key "$KEY" --out "$TMP/no/such/dir/x.png"
is_error 2 "x.png" "unwritable output: one line, exit 2"
is "$(leftovers "$TMP")" 0 "no temporary files left behind"

# With a fault-injection build, the write's commit fails: still nothing left behind.
VS_FAULT_WRITE=1 vs venue make --name x --area A/B/C --lat 1 --lon 1 --key "$KEY" --out "$TMP/fault.png" >/dev/null 2>&1
if [ $? -ne 0 ]; then
	ok "$([ ! -e "$TMP/fault.png" ] && [ "$(leftovers "$TMP")" = 0 ]; echo $?)" "failed commit leaves nothing"
fi

# --- batches ---------------------------------------------------------------------------
small=$TMP/venues-small.csv
head -n 21 "$FIXTURES/venues/venues.csv" >"$small"
run vs venue make --batch "$small" --key "$KEY" --out-dir "$TMP/posters" --at "$AT"
is "$rc" 0 "batch of 20"
is "$(printf '%s\n' "$out" | wc -l)" 20 "one JSON line per venue"
is "$(ls "$TMP/posters" | wc -l)" 20 "one poster per venue"
is "$(printf '%s\n' "$out" | jq -r .venue_id | paste -sd,)" "$(tail -n +2 "$small" | cut -d, -f1 | paste -sd,)" "JSON lines in row order"
mismatch=0
while IFS= read -r line; do
	f=$(json "$line" .file) p=$(json "$line" .payload) id=$(json "$line" .venue_id)
	[ "$f" = "$TMP/posters/$id.png" ] && [ "$(zbar "$f")" = "$p" ] || mismatch=$((mismatch + 1))
done <<<"$out"
is "$mismatch" 0 "each poster is <venue_id>.png and reads back its payload"
run vs venue make --batch "$small" --key "$KEY" --out-dir "$TMP/posters2" --at "$AT"
diff -r "$TMP/posters" "$TMP/posters2" >/dev/null
ok $? "two batch runs write identical files (threads do not change output)"

mkdir -p "$TMP/existing" && echo keep >"$TMP/existing/notes.txt"
run vs venue make --batch "$small" --key "$KEY" --out-dir "$TMP/existing" --format svg --at "$AT"
is "$rc" 0 "batch into an existing folder"
is "$(ls "$TMP/existing" | grep -c '\.svg$')" 20 "20 SVG posters added"
is "$(cat "$TMP/existing/notes.txt")" keep "other files in the folder kept"
is "$(leftovers "$TMP")" 0 "no staging folder left"

# A venue whose code is too long to sign (row 12): the batch fails and writes nothing.
toolong=$TMP/venues-toolong.csv
{ head -n 12 "$small"; printf '3b0f4c52-2b6e-4a4e-9d3c-6a1d2f3b9e01,%s,Henan/Zhengzhou/Erqi,34.7,113.6\n' "$(printf '%01500d' 0)"; tail -n +13 "$small"; } >"$toolong"
run vs venue make --batch "$toolong" --key "$KEY" --out-dir "$TMP/failed" --at "$AT"
is_error 2 "venues-toolong.csv.*3b0f4c52-2b6e-4a4e-9d3c-6a1d2f3b9e01.*longer than" "too-long venue: one line naming file and venue"
is "$out" "" "nothing printed on stdout"
ok "$([ ! -e "$TMP/failed" ]; echo $?)" "out-dir not created"
before=$(ls "$TMP/existing" | wc -l)
run vs venue make --batch "$toolong" --key "$KEY" --out-dir "$TMP/existing" --format pgm --at "$AT"
is "$rc" 2 "failing batch into an existing folder exits 2"
is "$(ls "$TMP/existing" | wc -l)" "$before" "existing folder unchanged"
is "$(leftovers "$TMP")" 0 "no staging folder left after a failure"

run vs venue make --batch "$FIXTURES/bad/venues-bad-lat.csv" --key "$KEY" --out-dir "$TMP/badcsv"
is_error 2 "venues-bad-lat.csv:[0-9]+: field 'lat'" "bad venues.csv: file:line: field"
run vs venue make --batch "$small" --key "$KEY" --out-dir "$TMP/d" --format gif
is_error 2 "'--format'.*'gif'" "bad --format"
run vs venue make --batch "$small" --key "$KEY" --out-dir "$TMP/existing/notes.txt"
is_error 2 "notes.txt.*not a folder" "out-dir is a file"

# 200 posters from the fixture venues, every one read back by zbarimg.
head -n 201 "$FIXTURES/venues/venues.csv" >"$TMP/venues-200.csv"
run vs venue make --batch "$TMP/venues-200.csv" --key "$KEY" --out-dir "$TMP/p200" --at "$AT"
is "$rc" 0 "batch of 200"
printf '%s\n' "$out" | jq -r '.payload' | sort >"$TMP/want"
for f in "$TMP"/p200/*.png; do zbar "$f"; echo; done | grep . | sort >"$TMP/got"
is "$(wc -l <"$TMP/got")" 200 "zbarimg reads 200 codes"
cmp -s "$TMP/want" "$TMP/got"
ok $? "and each is exactly a payload printed"

done_testing

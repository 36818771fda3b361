#!/usr/bin/env bash
# Round trip through independent tools: keygen makes a key, venue make signs the station
# code, zbarimg reads the payload back from the PNG, scan verifies it with the Chinese name
# intact; the payload with one claim changed (old signature kept) and re-encoded by
# qrencode is bad_signature; without the right key it is unknown_issuer; and 200 posters
# of a venues.csv batch all read back, with zbarimg and with scan.
. "$(dirname "$0")/lib.sh"

for p in zbarimg qrencode basenc jq; do
	command -v $p >/dev/null || skip_all "$p not installed"
done
cd "$TMP" || exit 2
# QR only: with every symbology on, zbarimg now and then also "finds" a linear barcode
# inside a QR code.
zbar() { zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$@" 2>/dev/null; }

run vs keygen --issuer henan-hc --out keys
is "$rc" 0 "keygen makes the issuer key"
vs keygen --issuer shanghai-hc --out keys >/dev/null 2>&1

run vs venue make --name 郑州车站西南出口 --area Henan/Zhengzhou/Erqi --lat 34.7447 --lon 113.6566 \
	--key keys/henan-hc.key --out station.png
is "$rc" 0 "venue make signs the station code"
made=$(printf '%s' "$out" | jq -r .payload)

payload=$(zbar station.png)
like "$payload" '^VSC1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "zbarimg reads a VSC1 payload from the PNG"
is "$payload" "$made" "zbarimg reads exactly what venue make signed"

run vs scan --trust keys/henan-hc.pub station.png
is "$rc" 0 "scan --trust: exit 0"
is "$(printf '%s' "$out" | jq -r '[.status,.valid,.payload == "'"$payload"'"]|@tsv')" "ok	true	true" \
	"scan says ok for the same payload"
is "$(printf '%s' "$out" | jq -r .claims.name)" "郑州车站西南出口" "the Chinese name is intact"
is "$(printf '%s' "$out" | jq -r '[.claims.area,.claims.lat,.claims.lon,.claims.iss]|@tsv')" \
	"Henan/Zhengzhou/Erqi	34.7447	113.6566	henan-hc" "area, position and issuer are intact"

# One claim changed, the old signature kept, re-encoded by qrencode.
b64=${payload#VSC1.}
sig=${b64#*.}
b64=${b64%%.*}
pad=$(printf '%*s' $(((4 - ${#b64} % 4) % 4)) '' | tr ' ' '=')
claims=$(printf '%s%s' "$b64" "$pad" | basenc --base64url -d)
like "$claims" '"name":"郑州车站西南出口"' "the claims decode with basenc"
forged_claims=${claims/郑州车站西南出口/上海虹桥站}
forged="VSC1.$(printf '%s' "$forged_claims" | basenc --base64url -w0 | tr -d '=').$sig"
qrencode -8 -o forged.png "$forged"
is "$(zbar forged.png)" "$forged" "qrencode wrote the forged payload"
run vs scan --trust keys/henan-hc.pub forged.png
is "$rc" 1 "forged code: exit 1"
is "$(printf '%s' "$out" | jq -r '[.status,.valid,.claims.name]|@tsv')" "bad_signature	false	上海虹桥站" \
	"a changed claim under the old signature: bad_signature"

run vs scan station.png
is "$rc/$(printf '%s' "$out" | jq -r .status)" "1/unknown_issuer" "without --trust: unknown_issuer"
run vs scan --trust keys/shanghai-hc.pub station.png
is "$rc/$(printf '%s' "$out" | jq -r .status)" "1/unknown_issuer" "trusting another issuer: unknown_issuer"

# 200 posters from venue make --batch.
head -n 201 "$FIXTURES/venues/venues.csv" >venues200.csv
run vs venue make --batch venues200.csv --key keys/henan-hc.key --out-dir posters
is "$rc" 0 "venue make --batch makes 200 posters"
printf '%s\n' "$out" | jq -r .payload | sort >made.txt
is "$(grep -c . made.txt)" 200 "200 payloads signed"
zbar posters/*.png | sort >zbar.txt
is "$(grep -c . zbar.txt)" 200 "zbarimg reads 200 codes"
cmp -s made.txt zbar.txt
ok $? "zbarimg reads every poster's payload exactly"
run vs scan --trust keys/henan-hc.pub posters/*.png
is "$rc" 0 "scan of the 200 posters exits 0"
is "$(printf '%s\n' "$out" | jq -r .status | sort | uniq -c | sed 's/^ *//')" "200 ok" "scan: 200 ok"
printf '%s\n' "$out" | jq -r .payload | sort >scan.txt
cmp -s made.txt scan.txt
ok $? "scan reads every poster's payload exactly"
is "$(printf '%s\n' "$out" | jq -r .file | tr '\n' ' ')" "$(printf '%s ' posters/*.png)" \
	"scan reports the posters in the order given"
ids=$(printf '%s\n' "$out" | jq -r '.file | sub(".*/"; "") | sub("\\.png$"; "")' | sort)
is "$ids" "$(tail -n +2 venues200.csv | cut -d, -f1 | sort)" "each poster's claims id is its venue_id file name"
is "$(printf '%s\n' "$out" | jq -r 'select((.file | sub(".*/"; "") | sub("\\.png$"; "")) != .claims.id) | .file')" "" \
	"each poster holds its own venue's code"
done_testing

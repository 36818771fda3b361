#!/usr/bin/env bash
# venuescan demo: the case end to end, written whole; the page shows what the data says.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1

run vs demo --out "$TMP/demo" --persons 12000 --seed 3
is "$rc" 0 "demo exits 0"
like "$out" 'scan: ok\)' "the poster scans ok"
like "$out" 'forwarded photo of it.*\(scan: ok\)' "the forwarded photo scans ok too"
for f in index.html report.html findings.jsonl station.png station-forwarded.png \
	keys/henan.key keys/henan.pub dataset/events.csv dataset/manifest.json manifest.json; do
	ok "$([ -s "$TMP/demo/$f" ]; echo $?)" "demo wrote $f"
done
is "$(stat -c %a "$TMP/demo/keys/henan.key")" 600 "the secret key is mode 0600"

page=$(cat "$TMP/demo/index.html")
like "$page" 'data:image/png;base64,iVBOR' "the page embeds the posters as PNG"
like "$page" 'Turned red <span class="badge red">' "the page shows the person who turned red"
like "$page" 'Stayed green <span class="badge green">' "... and the housemate who stayed green"
like "$page" '<code>depositor=1</code>' "the verdict names depositor=1"
unlike "$page" 'age_band=[^<]*</code></td>' "no age band in the flagged table"
like "$page" 'Tested and not flagged: .*age_band' "age_band is listed as tested and not flagged"

# The flagged values on the page are those in findings.jsonl.
want=$(jq -r 'select(.kind=="association" and .flagged) | "\(.attribute)=\(.value)"' "$TMP/demo/findings.jsonl" | sort | tr '\n' ' ')
got=$(grep -o '<tr><td><code>[^<]*</code></td><td>[0-9]* of' "$TMP/demo/index.html" | sed 's/<tr><td><code>//; s/<.*//' | sort | tr '\n' ' ')
is "$got" "$want" "the page's flagged values are the detector's"

# Again into the same folder: replaced; into a folder that is not a demo: refused, untouched.
run vs demo --out "$TMP/demo" --persons 12000 --seed 3
is "$rc" 0 "an earlier demo folder is replaced"
mkdir -p "$TMP/mine" && echo precious > "$TMP/mine/notes.txt"
run vs demo --out "$TMP/mine" --persons 12000
is_error 2 "not an earlier venuescan output" "a folder that is not a demo is not replaced"
is "$(cat "$TMP/mine/notes.txt")" precious "... and is left as it was"

run vs demo --out "$TMP/x" --scenario "$TMP/none.ini"
is_error 2 "none.ini" "a missing scenario: one line naming it, exit 2"
ok "$([ ! -e "$TMP/x" ]; echo $?)" "... and no output folder"
done_testing

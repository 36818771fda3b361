#!/usr/bin/env bash
# serve: every route and status, operator tokens and roles, limits, timeouts, SIGTERM,
# restart with state kept, and kill -9 under load losing nothing acknowledged.
# Servers listen on 127.0.0.1 only, on a port the kernel picks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

D=$TMP/d
mkdir -p "$D"
vs keygen --issuer Henan --out "$D/keys" >/dev/null
vs keygen --issuer Other --out "$D/other" >/dev/null
ZZ='"Zhengzhou station SW exit"'
vs venue make --name "Zhengzhou station SW exit" --area Henan/Zhengzhou/Erqi --lat 34.7447 \
	--lon 113.6566 --id aefc12d2-3c1c-56b1-b29c-2a52f2f02db7 --key "$D/keys/Henan.key" \
	--at 2022-06-01T00:00:00+08:00 --out "$D/zz.png" >"$D/zz.json"
P=$(jq -r .payload "$D/zz.json")
vs venue make --name X --area Henan/Zhengzhou/Erqi --lat 34.7 --lon 113.6 --key "$D/other/Other.key" \
	--out "$D/o.png" >"$D/o.json"
P_UNKNOWN=$(jq -r .payload "$D/o.json")
vs venue make --name R --area Henan/Zhengzhou/Erqi --lat 34.7 --lon 113.6 --key "$D/keys/Henan.key" \
	--valid-for 60 --at 2022-06-11T19:00:00+08:00 --out "$D/r.png" >"$D/r.json"
P_ROTATING=$(jq -r .payload "$D/r.json")
# flip one character of the signature
last=${P: -2:1}; [ "$last" = A ] && rep=B || rep=A
P_BADSIG="${P:0:${#P}-2}$rep${P: -1}"
printf 'area,level,start,end\nHenan/Zhengzhou,high,2022-06-11T00:00:00+08:00,2022-06-14T12:00:00+08:00\n' >"$D/areas.csv"
DB=$D/s.db
TS=2022-06-11T20:15:00+08:00

# ---- tokens ------------------------------------------------------------------------------
run vs token add --db "$DB" --operator alice --role assign
is "$rc" 0 "token add exits 0"
like "$out" '^vst_[A-Za-z0-9_-]{43}$' "token add prints one token"
TOK_ASSIGN=$out
run vs token add --db "$DB" --operator bob --role read
TOK_READ=$out
run vs token add --db "$DB" --operator eve --role admin
is_error 2 "'--role': 'admin' is not assign or read" "token add: unknown role, exit 2"
run vs token add --db "$DB" --role read
is_error 2 "--operator NAME is required" "token add: operator required"
is "$(sqlite3 "$DB" "SELECT count(*) FROM tokens")" 2 "two tokens stored"
if grep -q -a -- "$TOK_ASSIGN" "$DB"* 2>/dev/null; then ok 1 "the token text is not stored"
else ok 0 "the token text is not stored"; fi
is "$(sqlite3 "$DB" "SELECT length(hash) FROM tokens WHERE operator='alice'")" 32 "only a 32-byte hash is stored"

# ---- start -------------------------------------------------------------------------------
start_serve "$DB" --trust "$D/keys/Henan.pub" --areas "$D/areas.csv"
like "$URL" '^http://127\.0\.0\.1:[0-9]+$' "serve prints the bound loopback address"

http GET /healthz
is "$code" 200 "GET /healthz 200"
is "$(jq -r .status <<<"$body")" ok "healthz body"
http POST /healthz '{}'
is "$code" 405 "POST /healthz 405"

# ---- scans -------------------------------------------------------------------------------
http POST /v1/scan "$(scan_body deng "$P" 34.7447 113.6566 "$TS")"
is "$code" 200 "scan at the venue during a high-risk window: 200"
is "$(jq -r '.color + " " + .reason + " " + .venue_id' <<<"$body")" \
	"red high_risk aefc12d2-3c1c-56b1-b29c-2a52f2f02db7" "scan answer: red by rule high_risk, venue id"
is "$(jq -r .authority <<<"$body")" venuescan "scan answer names the authority"
http POST /v1/scan "$(scan_body wife "$P" 38.0428 114.5149 "$TS")"
is "$(jq -r .color <<<"$body")" green "a scan from Shijiazhuang (a forwarded photo) is not presence: green"
http POST /v1/scan "$(scan_body early "$P" 34.7447 113.6566 2022-06-10T20:00:00+08:00)"
is "$(jq -r .color <<<"$body")" green "a scan before the high-risk window: green"

for pair in "unknown_issuer:$P_UNKNOWN" "bad_signature:$P_BADSIG" "malformed:VSC1.bm90IGpzb24.AAAA" \
	    "foreign:https://example.org/checkin" "expired:$P_ROTATING"; do
	st=${pair%%:*}; pl=${pair#*:}
	http POST /v1/scan "$(scan_body x "$pl" 34.7447 113.6566 "$TS")"
	is "$code $(jq -r .error <<<"$body")" "422 $st" "payload $st: 422 naming the status"
done
http POST /v1/scan "$(scan_body x "$P_ROTATING" 34.7447 113.6566 2022-06-11T19:00:30+08:00)"
is "$code" 200 "a rotating code scanned before it expires: 200"

bad() { # BODY FIELD-REGEX NAME
	http POST /v1/scan "$1"
	is "$code" 400 "$3: 400"
	like "$(jq -r '.error + ": " + .detail' <<<"$body")" "$2" "$3: error names it"
}
bad '{"person_id":"a",' 'malformed JSON' "truncated JSON"
bad '[1,2]' 'not a JSON object' "not an object"
bad "$(scan_body a "$P" '"34.7"' 113.6 "$TS")" "field 'lat': not a number" "lat as a string"
bad "{\"person_id\":\"a\",\"payload\":\"$P\",\"lat\":34,\"lon\":113,\"ts\":\"$TS\",\"color\":\"red\"}" \
	"unknown field 'color'" "unknown field"
bad "{\"person_id\":\"a\",\"payload\":\"$P\",\"lat\":34,\"lon\":113}" "field 'ts': missing" "missing ts"
bad "$(scan_body a "$P" 34.7 113.6 2022-13-01T00:00:00Z)" "field 'ts': not an ISO 8601 time" "bad ts"
bad "$(scan_body a "$P" 134.7 113.6 "$TS")" "field 'lat': not in" "lat out of range"
bad "$(scan_body '' "$P" 34.7 113.6 "$TS")" "field 'person_id'" "empty person id"
bad "{\"person_id\":7,\"payload\":\"$P\",\"lat\":34,\"lon\":113,\"ts\":\"$TS\"}" \
	"field 'person_id': not a string" "person id as a number"

head -c 20000 /dev/zero | tr '\0' 'a' >"$TMP/big"
code=$(curl -s -o "$TMP/http.body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$TMP/big" "$URL/v1/scan"); body=$(cat "$TMP/http.body")
is "$code $(jq -r .error <<<"$body")" "413 too large" "a body over the limit: 413"
code=$(head -c 20000 /dev/zero | tr '\0' 'a' | curl -s -o "$TMP/http.body" -w '%{http_code}' \
	-H 'Transfer-Encoding: chunked' --data-binary @- "$URL/v1/scan")
is "$code" 413 "a chunked body over the limit: 413"
http GET /v1/scan
is "$code $(jq -r .error <<<"$body")" "405 method not allowed" "GET /v1/scan: 405"
http GET /v2/nothing
is "$code $(jq -r .error <<<"$body")" "404 not found" "unknown route: 404 with a JSON error"

# ---- codes -------------------------------------------------------------------------------
http GET /v1/code/deng
is "$code" 200 "GET /v1/code/deng 200"
is "$(jq -r '.color + " " + .reason + " " + .since' <<<"$body")" "red high_risk $TS" \
	"code: colour, reason and since"
http GET /v1/code/nobody
is "$code $(jq -r .error <<<"$body")" "404 not found" "unknown person: 404"
http POST /v1/code/deng '{}'
is "$code" 405 "POST /v1/code: 405"

# ---- manual assignment -------------------------------------------------------------------
A='{"person_id":"wife","color":"red","reason":"正在实施集中或居家医学隔离观察的入境人员","justification":"order 2022-17 from the provincial office","ts":"2022-06-11T21:00:00+08:00"}'
http POST /v1/assign "$A"
is "$code $(jq -r .error <<<"$body")" "401 unauthorized" "assign without a token: 401"
http POST /v1/assign "$A" "Authorization: Bearer vst_nonesuch"
is "$code" 401 "assign with an unknown token: 401"
http POST /v1/assign "$A" "Authorization: Basic YWxpY2U6eA=="
is "$code" 401 "assign with another scheme: 401"
http POST /v1/assign "$A" "Authorization: Bearer $TOK_READ"
is "$code $(jq -r .error <<<"$body")" "403 forbidden" "assign with a read token: 403"
like "$(jq -r .detail <<<"$body")" "operator 'bob' has role 'read'" "403 names the operator and role"
http POST /v1/assign '{"person_id":"wife","color":"red","reason":"x"}' "Authorization: Bearer $TOK_ASSIGN"
is "$code" 400 "assign without a justification: 400"
like "$(jq -r .detail <<<"$body")" "field 'justification'" "400 names the justification"
http POST /v1/assign '{"person_id":"wife","color":"red","reason":"x","justification":"   "}' \
	"Authorization: Bearer $TOK_ASSIGN"
is "$code" 400 "assign with a blank justification: 400"
http POST /v1/assign '{"person_id":"wife","color":"purple","reason":"x","justification":"y"}' \
	"Authorization: Bearer $TOK_ASSIGN"
like "$code $(jq -r .detail <<<"$body")" "400 field 'color'" "assign with a bad colour: 400 naming it"
http POST /v1/assign "$A" "Authorization: Bearer $TOK_ASSIGN"
is "$code" 200 "assign with an assign token and a justification: 200"
is "$(jq -r .color <<<"$body")" red "assign answer: red"
http GET /v1/code/wife
is "$(jq -r '.color + " " + .authority' <<<"$body")" "red alice" "the assigned colour is shown, by the operator"
http POST /v1/scan "$(scan_body wife "$P" 38.0428 114.5149 2022-06-11T22:00:00+08:00)"
is "$(jq -r .color <<<"$body")" red "a manual red outlasts the rules' green"

# ---- audit and metrics -------------------------------------------------------------------
http GET /v1/audit
is "$code" 200 "GET /v1/audit 200"
n=$(printf '%s\n' "$body" | grep -c .)
last=$(printf '%s\n' "$body" | tail -n 1)
is "$(jq -r '.person_id + " " + .operator + " " + .justification + " " + .new' <<<"$last")" \
	"wife alice order 2022-17 from the provincial office red" "the manual assignment is in the log"
is "$(printf '%s\n' "$body" | jq -r .seq | tr '\n' ' ')" "$(seq -s ' ' 1 "$n") " "seqs 1..N in order"
like "$(jq -r .hash <<<"$last")" '^[0-9a-f]{64}$' "entries carry their hash"
http GET '/v1/audit?from=2'
is "$(printf '%s\n' "$body" | grep -c .)" "$((n - 1))" "from=2 skips the first entry"
http GET '/v1/audit?from=abc'
is "$code" 400 "from=abc: 400"
http GET /metrics
is "$code" 200 "GET /metrics 200"
like "$body" 'venuescan_http_requests_total\{route="/v1/scan",status="422"\} 5' "metrics: requests by route and status"
like "$body" 'venuescan_scan_latency_seconds_bucket\{le="\+Inf"\} [0-9]+' "metrics: scan latency histogram"
like "$body" "venuescan_audit_entries $n" "metrics: audit length"

# ---- slow clients time out ---------------------------------------------------------------
stop_serve
is "$SERVE_RC" 0 "SIGTERM: serve exits 0"
start_serve "$DB" --trust "$D/keys/Henan.pub" --timeout 1
http GET /v1/code/wife
is "$(jq -r .color <<<"$body")" red "after a restart the state is kept"
port=${URL##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"person' >&3
timeout 20 cat <&3 >/dev/null; trc=$?
exec 3<&-
isnt_124=$([ "$trc" -ne 124 ] && echo 0 || echo 1)
ok "$isnt_124" "a client that stalls mid-body is disconnected (--timeout 1)"
http GET /healthz
is "$code" 200 "the server still answers after dropping a slow client"
stop_serve

# ---- kill -9 under load: nothing acknowledged is lost ------------------------------------
DB2=$D/load.db
start_serve "$DB2" --trust "$D/keys/Henan.pub" --areas "$D/areas.csv"
post_loop() { # PREFIX OUT: post scans, record each acknowledged one
	local i c
	for i in $(seq 400); do
		c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
			--data-binary "$(scan_body "$1-$i" "$P" 34.7447 113.6566 "$TS")" "$URL/v1/scan")
		[ "$c" = 200 ] && echo "$1-$i" >>"$2"
		[ "$c" = 000 ] && break
	done
	return 0
}
: >"$D/acked"
for k in a b c d; do post_loop "$k" "$D/acked" & done
for _ in $(seq 600); do [ "$(wc -l <"$D/acked")" -ge 40 ] && break; sleep 0.05; done
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null
wait
acked=$(wc -l <"$D/acked")
ok "$([ "$acked" -ge 40 ] && echo 0 || echo 1)" "scans were acknowledged before kill -9 ($acked)"
lost=$( { echo "CREATE TEMP TABLE acked(id TEXT);"; sed "s/.*/INSERT INTO acked VALUES('&');/" "$D/acked";
	  echo "SELECT count(*) FROM acked WHERE id NOT IN (SELECT person_id FROM scans);"; } | sqlite3 "$DB2")
is "$lost" 0 "every acknowledged scan is in the database after kill -9"
run vs audit verify --db "$DB2"
is "$rc" 0 "the audit chain is intact after kill -9"
start_serve "$DB2" --trust "$D/keys/Henan.pub"
like "$URL" '^http://' "the service restarts after kill -9 (chain verified)"
http GET "/v1/code/$(head -n 1 "$D/acked")"
is "$code $(jq -r .color <<<"$body")" "200 red" "an acknowledged scan's code survived"
stop_serve
is "$SERVE_RC" 0 "SIGTERM after restart: exit 0"

# ---- SIGTERM under load: drains, exits 0, and what was acknowledged is stored ------------
DB3=$D/drain.db
start_serve "$DB3" --trust "$D/keys/Henan.pub" --areas "$D/areas.csv"
: >"$D/acked3"
for k in e f g; do post_loop "$k" "$D/acked3" & done
for _ in $(seq 600); do [ "$(wc -l <"$D/acked3")" -ge 30 ] && break; sleep 0.05; done
stop_serve
wait
is "$SERVE_RC" 0 "SIGTERM under load: serve drains and exits 0"
lost=$( { echo "CREATE TEMP TABLE acked(id TEXT);"; sed "s/.*/INSERT INTO acked VALUES('&');/" "$D/acked3";
	  echo "SELECT count(*) FROM acked WHERE id NOT IN (SELECT person_id FROM scans);"; } | sqlite3 "$DB3")
is "$lost" 0 "SIGTERM under load: every acknowledged scan is stored"
run vs audit verify --db "$DB3"
is "$rc" 0 "SIGTERM under load: the chain is intact"

# ---- bad configuration --------------------------------------------------------------------
run vs serve --db "$D/x.db" --listen 127.0.0.1
is_error 2 "not ADDRESS:PORT" "serve: listen address without a port"
run vs serve --db "$D/x.db" --listen localhost:0
is_error 2 "not a numeric IP address" "serve: listen address not numeric"
run vs serve --db "$D/x.db" --listen 127.0.0.1:0 --trust "$FIXTURES/bad/key-short.pub"
is "$rc" 2 "serve: a bad trusted key exits 2"
run vs serve --listen 127.0.0.1:0
is_error 2 "--db FILE is required" "serve: --db required"
printf 'area,level,start,end\nHenan,severe,2022-06-11T00:00:00Z,2022-06-12T00:00:00Z\n' >"$D/bad-areas.csv"
run vs serve --db "$D/x.db" --listen 127.0.0.1:0 --areas "$D/bad-areas.csv"
is_error 2 "bad-areas.csv:2: field 'level'" "serve: a bad areas.csv names file, line and field"
echo "not a database" >"$D/junk.db"
run vs serve --db "$D/junk.db" --listen 127.0.0.1:0
is_error 2 "junk.db" "serve: a file that is not a database exits 2"
# A start that fails on bad input leaves no database it created behind.
run vs serve --db "$TMP/fresh.db" --areas "$FIXTURES/bad/areas-bad-level.csv"
is_error 2 "areas-bad-level.csv:2: field 'level'" "bad --areas: one line naming file, line, field"
is "$(ls "$TMP"/fresh.db* 2>/dev/null | wc -l)" 0 "... and no new database left"
run vs serve --db "$TMP/fresh.db" --listen bogus
is_error 2 "listen address 'bogus'" "bad --listen: one line"
is "$(ls "$TMP"/fresh.db* 2>/dev/null | wc -l)" 0 "... and no new database left"
done_testing

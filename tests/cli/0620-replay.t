#!/usr/bin/env bash
# replay: drives serve with a dataset's scans, counts errors by kind, reports latency from
# send or intended send times, checks answers against the published rules (exit 1 on a
# disagreement, with an example), and rejects bad input.  Loopback only, bounded counts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

D=$TMP/d
mkdir -p "$D"
"$TOP/scripts/make-scan-dataset" "$D/ds" 100 600 3
start_serve "$D/a.db" --trust "$D/ds/keys/Henan.pub" --areas "$D/ds/areas.csv"
like "$URL" '^http://127\.0\.0\.1:' "serve started"

run vs replay "$D/ds" --target "$URL" --concurrency 8
is "$rc" 0 "replay against the reference service exits 0"
like "$out" 'sent 600 scans in [0-9.]+ s: [0-9]+ scans/s' "text: scans/s"
like "$out" 'answers: 600 ok, 0 errors' "text: every scan answered"
like "$out" 'latency from send time \(ms\): p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  p99\.9 [0-9.]+  max [0-9.]+' \
	"text: latency percentiles"
like "$out" 'checked against the published rules: 600 answers, 0 disagree' "text: every answer checked"
reds=$(sqlite3 "$D/a.db" "SELECT count(*) FROM scans WHERE color = 'red'")
ok "$([ "$reds" -gt 0 ] && echo 0 || echo 1)" "the session has red answers to check ($reds)"
stop_serve

# The same scans at a fixed rate, as JSON: latency from the intended send times.
start_serve "$D/b.db" --trust "$D/ds/keys/Henan.pub" --areas "$D/ds/areas.csv"
run vs replay "$D/ds" --target "$URL" --concurrency 4 --rate 3000 --format json
is "$rc" 0 "replay --rate --format json exits 0"
is "$(jq -r '[.sent, .ok, .errors, .checked, .disagree, .latency_from] | map(tostring) | join(" ")' <<<"$out")" \
	"600 600 0 600 0 intended" "json: counts and latency from intended send times"
is "$(jq -r '.latency_ms | [.p50, .p90, .p99, .p99_9, .max] | map(type) | unique | join(",")' <<<"$out")" \
	number "json: latency percentiles are numbers"
ok "$(jq -e '.latency_ms.p50 <= .latency_ms.p99 and .latency_ms.p99 <= .latency_ms.max' <<<"$out" >/dev/null; echo $?)" \
	"json: p50 <= p99 <= max"

stop_serve
start_serve "$D/b2.db" --trust "$D/ds/keys/Henan.pub" --areas "$D/ds/areas.csv"
run vs replay "$D/ds" --target "$URL" --concurrency 8 --threads 3 --format json
is "$rc" 0 "replay --threads 3 exits 0"
is "$(jq -r '[.sent, .ok, .checked, .disagree] | map(tostring) | join(" ")' <<<"$out")" "600 600 600 0" \
	"--threads 3: persons split between threads, every scan sent once and checked"
is "$(sqlite3 "$D/b2.db" "SELECT count(*) FROM scans")" 600 "--threads 3: the service stored 600 scans"

# An operator's red disagrees with the rules: exit 1 with an example.
TOK=$(vs token add --db "$D/c.db" --operator op --role assign)
stop_serve
start_serve "$D/c.db" --trust "$D/ds/keys/Henan.pub" --areas "$D/ds/areas.csv"
victim=$(awk -F, 'NR == 2 { print $2 }' "$D/ds/events.csv")
http POST /v1/assign "{\"person_id\":\"$victim\",\"color\":\"red\",\"reason\":\"inbound\",\"justification\":\"test\",\"ts\":\"2022-06-01T00:00:00+08:00\"}" \
	"Authorization: Bearer $TOK"
is "$code" 200 "an operator colours $victim red"
run vs replay "$D/ds" --target "$URL" --format json
is "$rc" 1 "replay exits 1 when answers disagree with the rules"
ok "$(jq -e '.disagree > 0' <<<"$out" >/dev/null; echo $?)" "json: disagreements counted"
like "$(jq -r '.examples[0]' <<<"$out")" "person '$victim' .* the service said red .*the published rules give green" \
	"json: an example names the person and both colours"
stop_serve

# A service that does not trust the issuer: every scan is a 422, counted by kind.
start_serve "$D/d.db"
run vs replay "$D/ds" --target "$URL" --requests 50
is "$rc" 0 "replay with errors but no disagreement exits 0"
like "$out" 'answers: 0 ok, 50 errors' "50 requests, 50 errors"
like "$out" 'http 422 unknown_issuer +50' "errors by kind"
run vs replay --get /healthz --target "$URL" --requests 300 --concurrency 4 --format json
is "$(jq -r '.ok' <<<"$out")" 300 "--get /healthz: 300 answers"
run vs replay "$D/ds" --target "$URL" --rate 200 --duration 0.2 --format json
sent=$(jq -r .sent <<<"$out")
ok "$([ "$sent" -lt 600 ] && echo 0 || echo 1)" "--duration stops sending early ($sent of 600)"
port=${URL##*:}
stop_serve
run vs replay "$D/ds" --target "http://127.0.0.1:$port" --requests 5
is "$rc" 2 "nothing listening: exit 2"
like "$err" "no request was answered" "nothing listening: said so"
like "$out" 'transport: ' "transport errors counted by kind"

# ---- bad input ------------------------------------------------------------------------
run vs replay "$D/nowhere" --target http://127.0.0.1:9
is "$rc" 2 "a missing dataset exits 2"
run vs replay "$D/ds" --target ftp://127.0.0.1:9
is_error 2 "not an http:// or https:// URL" "a non-HTTP target exits 2"
run vs replay "$D/ds" --target http://127.0.0.1:9 --format xml
is_error 2 "'--format': 'xml' is not text or json" "unknown format exits 2"
run vs replay "$D/ds"
is_error 2 "--target URL is required" "--target is required"
run vs replay "$D/ds" --target http://127.0.0.1:9 --keys "$D/nokeys"
is_error 2 "nokeys" "a missing keys folder exits 2 naming it"
cp -r "$D/ds" "$D/bad"
printf '2022-06-10T00:00:00+08:00,p000001,scan,00000000-0000-4000-8000-000000000000,,34.7,113.6,,,\n' >>"$D/bad/events.csv"
run vs replay "$D/bad" --target http://127.0.0.1:9
is_error 2 "events.csv:602: field 'venue_id': venue '00000000-0000-4000-8000-000000000000' is not in venues.csv" \
	"a scan of an unknown venue names file, line and field"
cp -r "$D/ds" "$D/bad2"
printf '2022-13-10T00:00:00+08:00,p000001,scan,aefc12d2-3c1c-56b1-b29c-2a52f2f02db7,,34.7,113.6,,,\n' >>"$D/bad2/events.csv"
run vs replay "$D/bad2" --target http://127.0.0.1:9
is_error 2 "events.csv:602: field 'ts'" "a bad time names file, line and field"
done_testing

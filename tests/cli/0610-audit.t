#!/usr/bin/env bash
# audit verify and audit export: an intact chain verifies; an entry edited, deleted,
# reordered or cut from the end in SQLite (sqlite3 shell) is found and named by its seq;
# the service refuses to start on a broken chain; export writes dataset v1 on which detect
# flags the group an operator coloured red by hand.  Servers listen on 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve-lib.sh"

D=$TMP/d
mkdir -p "$D"
# A session with no high-risk area: every red is an operator's, given to depositors.
"$TOP/scripts/make-scan-dataset" "$D/ds" 200 1500 7
printf 'area,level,start,end\n' >"$D/ds/areas.csv"
DB=$D/s.db
TOK=$(vs token add --db "$DB" --operator zz-office --role assign)
start_serve "$DB" --trust "$D/ds/keys/Henan.pub" --areas "$D/ds/areas.csv"
like "$URL" '^http://127\.0\.0\.1:' "serve started"
run vs replay "$D/ds" --target "$URL" --concurrency 8
is "$rc" 0 "replay of the session: every answer agrees with the rules"
n=0
for p in $(awk -F, '$4 == "depositor=yes" { print $1 }' "$D/ds/persons.csv"); do
	http POST /v1/assign "{\"person_id\":\"$p\",\"color\":\"red\",\"reason\":\"有高风险地区旅居史\",\"justification\":\"list from the task force\",\"ts\":\"2022-06-12T10:00:00+08:00\"}" \
		"Authorization: Bearer $TOK"
	[ "$code" = 200 ] && n=$((n + 1))
done
is "$n" 40 "an operator assigned red to the 40 depositors"
stop_serve
is "$SERVE_RC" 0 "serve stopped"

# ---- verify ------------------------------------------------------------------------------
run vs audit verify --db "$DB"
is "$rc" 0 "audit verify: intact chain exits 0"
like "$out" '^intact: 40 entries, head 40:[0-9a-f]{64}$' "audit verify prints the head"
HEAD=${out##* }

ok "$([ ! -s "$DB-wal" ] && echo 0 || echo 1)" "a stopped service leaves its writes in the database file, not the WAL"
copy_db() { rm -f "$D/t.db"*; sqlite3 "$DB" "VACUUM INTO '$D/t.db'"; }
tamper() { # NAME SQL EXPECTED-SEQ
	copy_db
	sqlite3 "$D/t.db" "$2"
	run vs audit verify --db "$D/t.db"
	is "$rc" 1 "$1: audit verify exits 1"
	like "$out" "^broken: seq $3: " "$1: the first bad seq is $3"
}
tamper "edited reason" "UPDATE audit SET reason = 'positive test' WHERE seq = 7" 7
tamper "edited colour" "UPDATE audit SET new_color = 'yellow' WHERE seq = 12" 12
tamper "edited operator" "UPDATE audit SET operator = 'nobody' WHERE seq = 1" 1
tamper "edited time" "UPDATE audit SET ts = ts + 3600 WHERE seq = 20" 20
tamper "emptied justification" "UPDATE audit SET justification = '' WHERE seq = 5" 5
tamper "deleted entry" "DELETE FROM audit WHERE seq = 9" 9
tamper "reordered entries" \
	"UPDATE audit SET seq = -1 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = -1" 3
tamper "cut tail" "DELETE FROM audit WHERE seq > 37" 38
tamper "entry appended without the head" \
	"INSERT INTO audit SELECT 41, ts, ts_offset, recorded_at, person_id, old_color, new_color, reason, authority, operator, justification, rule, hash FROM audit WHERE seq = 40" 41
tamper "hash recomputed by hand for one entry" \
	"UPDATE audit SET reason = 'x', hash = zeroblob(32) WHERE seq = 15" 15
tamper "head deleted" "DELETE FROM audit_head" 41

# A tail cut together with a head row forged to match is caught by a published checkpoint.
copy_db
sqlite3 "$D/t.db" "DELETE FROM audit WHERE seq > 30; UPDATE audit_head SET seq = 30, hash = (SELECT hash FROM audit WHERE seq = 30)"
run vs audit verify --db "$D/t.db"
is "$rc" 0 "a cut tail with a forged head passes without a checkpoint (documented limit)"
run vs audit verify --db "$D/t.db" --checkpoint "$HEAD"
is "$rc" 1 "... and fails against the published checkpoint"
like "$out" '^broken: seq 31: missing' "the checkpoint names the first missing seq"
run vs audit verify --db "$DB" --checkpoint "$HEAD"
is "$rc" 0 "the intact log passes its own checkpoint"
run vs audit verify --db "$DB" --checkpoint 40:zz
is_error 2 "checkpoint '40:zz': not SEQ:HASH" "a malformed checkpoint exits 2"

# The service will not start on a broken chain.
copy_db
sqlite3 "$D/t.db" "UPDATE audit SET justification = 'routine' WHERE seq = 2"
run timeout 60 "$VENUESCAN" serve --db "$D/t.db" --listen 127.0.0.1:0
is_error 2 "audit log seq 2: .*refusing to serve" "serve refuses to start on a broken chain"
is "$out" "" "... and never says it is listening"

run vs audit verify --db "$D/none.db"
is "$rc" 2 "audit verify of a missing file exits 2"
echo "hello" >"$D/junk.db"
run vs audit verify --db "$D/junk.db"
is_error 2 "junk.db" "audit verify of a non-database exits 2 naming it"
run vs audit verify
is_error 2 "--db FILE is required" "audit verify needs --db"

# ---- export ------------------------------------------------------------------------------
run vs audit export --db "$DB" --out "$D/exp" --persons "$D/ds/persons.csv"
is "$rc" 0 "audit export exits 0"
for f in persons.csv venues.csv areas.csv events.csv manifest.json; do
	ok "$([ -s "$D/exp/$f" ] && echo 0 || echo 1)" "export wrote $f"
done
is "$(grep -c ',code,' "$D/exp/events.csv")" 40 "one code event per audit entry"
is "$(grep -c ',scan,' "$D/exp/events.csv")" 1500 "one scan event per stored scan"
is "$(jq -r '.files["events.csv"].rows' "$D/exp/manifest.json")" 1540 "manifest counts the events"
is "$(sha256sum <"$D/exp/events.csv" | cut -d' ' -f1)" "$(jq -r '.files["events.csv"].sha256' "$D/exp/manifest.json")" \
	"manifest holds the events' SHA-256"
is "$(grep -c 'depositor=yes' "$D/exp/persons.csv")" 40 "registry attributes are exported"
run vs audit export --db "$DB" --out "$D/exp2" --persons "$D/ds/persons.csv"
is "$(cat "$D/exp/events.csv")" "$(cat "$D/exp2/events.csv")" "export is deterministic"

copy_db
sqlite3 "$D/t.db" "DELETE FROM audit WHERE seq = 2"
run vs audit export --db "$D/t.db" --out "$D/bad-exp"
is_error 2 "audit log seq 2: missing.*nothing exported" "export of a broken chain exits 2"
ok "$([ ! -e "$D/bad-exp" ] && echo 0 || echo 1)" "... and writes nothing"
printf 'person_id,household_id,home_area,attrs\np1,h,NotAnArea/,x\n' >"$D/bad-persons.csv"
run vs audit export --db "$DB" --out "$D/bad-exp" --persons "$D/bad-persons.csv"
is_error 2 "bad-persons.csv:2" "a bad registry names file and line"
ok "$([ ! -e "$D/bad-exp" ] && echo 0 || echo 1)" "... and writes nothing"

# ---- detect on the export ----------------------------------------------------------------
run vs detect "$D/exp" --format jsonl
is "$rc" 1 "detect flags something in the exported session"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind == "association" and .flagged) | .attribute + "=" + .value')" \
	"depositor=yes" "detect flags exactly the group coloured red by hand"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind == "summary") | .unexplained')" 40 \
	"every manual red is unexplained by the published rules"
done_testing

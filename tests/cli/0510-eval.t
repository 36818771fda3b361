#!/usr/bin/env bash
# venuescan eval: scores against labels.csv as text and JSON, and its input errors.
. "$(dirname "$0")/lib.sh"
D="$FIXTURES/datasets"

run vs eval --help
is "$rc" 0 "--help exits 0"
like "$out" '^usage: venuescan eval DIR' "--help starts with its usage line"
for flag in --format --rules --alpha --remote-km; do
	like "$out" "  $flag " "--help lists $flag"
done
run vs eval --no-such-flag "$D/tiny"
is_error 2 "unknown option '--no-such-flag'.*venuescan eval --help" "unknown flag: exit 2"
run vs eval
is_error 2 "no dataset folder given" "no folder: exit 2"
run vs eval --format xml "$D/tiny"
is_error 2 "unknown format 'xml'" "bad --format: exit 2"

run vs eval --format json "$D/tiny"
is "$rc" 0 "tiny: exit 0"
is "$(printf '%s' "$out" | jq -c '[.changes, .tp, .fp, .fn, .tn, .precision, .recall]')" \
	"[6,5,0,0,1,1,1]" "tiny: confusion table, precision and recall"
is "$(printf '%s' "$out" | jq -r '.misuse_rules[] | select(.rule=="depositor_station_code") | .value')" \
	"depositor=yes" "tiny: the depositors' rule used depositor=yes"
run vs eval "$D/tiny"
like "$out" 'precision 1\.0000  recall 1\.0000' "text: precision and recall"

run vs eval --format json "$D/stepwise"
is "$(printf '%s' "$out" | jq -c '[.precision, .recall, .attributes.tp, .attributes.fp, .attributes.fn]')" \
	"[1,1,2,0,0]" "stepwise: both flagged values are the misuse rules' values"

# No labels, bad labels.
run vs eval "$D/ucb"
is_error 2 "labels.csv" "no labels.csv: exit 2"
mkdir -p "$TMP/bad"
cp "$D/tiny/persons.csv" "$D/tiny/events.csv" "$TMP/bad/"
printf 'ts,person_id,cause\n2022-06-11T18:11:00+08:00,p007,stolen\n' >"$TMP/bad/labels.csv"
run vs eval "$TMP/bad"
is_error 2 "labels.csv:2: field 'cause': not published:RULE or misuse:RULE" "bad cause: exit 2"
printf 'ts,person_id,cause\n2022-06-11T18:11:00+08:00,p999,misuse:x\n' >"$TMP/bad/labels.csv"
run vs eval "$TMP/bad"
is_error 2 "labels.csv:2: field 'person_id': unknown person 'p999'" "unknown person: exit 2"
printf 'ts,person_id,cause\nyesterday,p007,misuse:x\n' >"$TMP/bad/labels.csv"
run vs eval "$TMP/bad"
is_error 2 "labels.csv:2: field 'ts': not an ISO 8601 time" "bad time: exit 2"
done_testing

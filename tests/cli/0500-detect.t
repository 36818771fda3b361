#!/usr/bin/env bash
# venuescan detect: exit statuses, the JSON-lines contract (checked with jq), each
# finding on its fixture dataset, the sorting path, --out, and every bad dataset.
. "$(dirname "$0")/lib.sh"
D="$FIXTURES/datasets"

run vs detect --help
is "$rc" 0 "--help exits 0"
like "$out" '^usage: venuescan detect DIR' "--help starts with its usage line"
for flag in --format --rules --alpha --remote-km --out; do
	like "$out" "  $flag " "--help lists $flag"
done

run vs detect --no-such-flag "$D/tiny"
is_error 2 "unknown option '--no-such-flag'.*venuescan detect --help" "unknown flag: one line, exit 2"
run vs detect
is_error 2 "no dataset folder given" "no folder: exit 2"
run vs detect "$D/tiny" "$D/ucb"
is_error 2 "one dataset folder only" "two folders: exit 2"
run vs detect --format yaml "$D/tiny"
is_error 2 "unknown format 'yaml'" "bad --format: exit 2"
run vs detect --alpha 0 "$D/tiny"
is_error 2 "'--alpha'" "--alpha 0: exit 2"
run vs detect --remote-km -3 "$D/tiny"
is_error 2 "'--remote-km'" "negative --remote-km: exit 2"
printf 'rule x green on contact within 1d\nrelease after 1d\n' >"$TMP/bad.rules"
run vs detect --rules "$TMP/bad.rules" "$D/tiny"
is_error 2 "bad.rules:1: rule colour 'green'" "bad rules file: exit 2 naming file and line"
run vs detect "$TMP/nonexistent"
is_error 2 "persons.csv" "missing folder: exit 2"

# UCBAdmissions: R's mantelhaen.test numbers, nothing flagged, exit 0.
run vs detect --format jsonl "$D/ucb"
is "$rc" 0 "ucb: nothing flagged, exit 0"
male=$(printf '%s\n' "$out" | jq -c 'select(.kind=="association" and .value=="male")
	| [.mh_chi2, .p_value, .mh_odds_ratio, .ci_low, .ci_high, .strata, .flagged]
	| [(.[0:5][] | . * 10000 | round), .[5], .[6]]')
is "$male" "[14269,2323,9047,7719,10603,6,false]" "ucb: X2, p, OR and CI as R's mantelhaen.test"
is "$(printf '%s\n' "$out" | tail -1 | jq -r '.kind + " " + (.flagged|tostring)')" \
	"summary false" "ucb: the summary comes last, not flagged"

# Simpson's paradox: a crude excess explained by where people were: nothing flagged.
run vs detect --format jsonl "$D/simpson"
is "$rc" 0 "simpson: exit 0"
is "$(printf '%s\n' "$out" | jq -s '[.[] | select(.kind=="association" and .flagged)] | length')" \
	0 "simpson: no attribute value flagged"

# Stepwise: depositors, then the project; no age band, no sex.
run vs detect --format jsonl "$D/stepwise"
is "$rc" 1 "stepwise: exit 1"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind=="summary") | .flagged_values | join(",")')" \
	"depositor=yes,project=rongchuang" "stepwise: depositor then project flagged"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind=="association" and .value=="rongchuang")
	| .conditioned_on | join(",")')" "depositor=yes" "stepwise: project tested within depositors"
is "$(printf '%s\n' "$out" | jq -s '[.[] | select(.kind=="association" and .flagged and
	(.attribute=="age_band" or .attribute=="sex"))] | length')" 0 "stepwise: no age band, no sex"

run vs detect --format jsonl "$D/banks"
is "$(printf '%s\n' "$out" | jq -r 'select(.kind=="summary") | .flagged_values | sort | join(",")')" \
	"bank=a,bank=b,bank=c,bank=d" "banks: the four targeted values of one attribute flagged"

run vs detect --format jsonl "$D/household"
is "$(printf '%s\n' "$out" | jq -s '[.[] | select(.kind=="household_discordance"
	and .colors==["red","green"])] | length')" 40 "household: 40 discordant pairs"
run vs detect --format jsonl "$D/remote"
is "$rc" 1 "remote: exit 1"
is "$(printf '%s\n' "$out" | jq -s '[.[] | select(.kind=="remote_scan" and .distance_km > 300)]
	| length')" 29 "remote: 29 forwarded-photo scans"
run vs detect --format jsonl --remote-km 400 "$D/remote"
is "$rc" 0 "remote: --remote-km 400 sees none, exit 0"
run vs detect --format jsonl "$D/burst"
is "$(printf '%s\n' "$out" | jq -c 'select(.kind=="burst") | [.direction, .changes]')" \
	'["to_green",300]' "burst: one burst to green of 300"
run vs detect --format jsonl "$D/action"
is "$(printf '%s\n' "$out" | jq -c 'select(.kind=="action_triggered") | [.action, .color, .count]')" \
	'["booked_return_ticket","green",100]' "action: ticket-triggered greens"

# The tiny case: golden output; the shuffled copy gives the same lines.
run vs detect --format jsonl "$D/tiny"
is "$rc" 1 "tiny: exit 1"
golden detect-tiny.jsonl "$out"
tiny=$out
run vs detect --format jsonl "$D/tiny-unsorted"
is "$(printf '%s\n' "$out" | sed 's/"time_ordered":false,"persons_out_of_order":[0-9]*/"time_ordered":true,"persons_out_of_order":0/')" "$tiny" \
	"rows shuffled and columns reversed: same findings"
run vs detect --format jsonl "$D/tiny"
is "$out" "$tiny" "byte-identical across runs"

run vs detect "$D/tiny"
like "$out" 'Verdict: FLAGGED' "text: a verdict"
like "$out" 'household h001: p001 red, p002 green' "text: the same-house pair"

run vs detect --format html --out "$TMP/r.html" "$D/tiny"
is "$rc" 1 "--out: exit status still the verdict"
is "$out" "" "--out: nothing on standard output"
like "$(head -c 15 "$TMP/r.html")" '<!DOCTYPE html>' "--out: the HTML page"
if grep -Eq '<script|https?://|<link' "$TMP/r.html"; then ok 1 "html is self-contained"; else ok 0 "html is self-contained"; fi

# Bad datasets: one line naming file, line and field; exit 2; no output.
check_bad() { # dir regex
	run vs detect --format jsonl --out "$TMP/never.jsonl" "$FIXTURES/bad/$1"
	is_error 2 "$2" "bad dataset $1"
	[ -e "$TMP/never.jsonl" ]; ok $((! $?)) "bad dataset $1: no output file"
	run vs detect --format jsonl "$FIXTURES/bad/$1"
	is "$out" "" "bad dataset $1: nothing on standard output"
}
check_bad detect-bad-ts "events.csv:3: field 'ts': not an ISO 8601 time"
check_bad detect-unknown-kind "events.csv:2: field 'kind': unknown kind 'teleport'"
check_bad detect-unknown-person "events.csv:2: field 'person_id': unknown person 'p9'"
check_bad detect-bad-color "events.csv:2: field 'value': not a colour 'purple'"
check_bad detect-bad-attrs "persons.csv:2: field 'attrs'"
check_bad detect-bad-quote "events.csv:2: field 'reason'"
check_bad detect-no-events "events.csv"
check_bad detect-no-persons "persons.csv"
check_bad detect-missing-column "events.csv:1: missing column 'kind'"

# The simulator's scenarios (SPEC §2, issue 4's acceptance): honest gives nothing; the
# Zhengzhou case gives exactly the misuse rules' attribute values, the same-house pairs,
# the forwarded-photo scans, the noon release burst and the ticket-triggered greens.
run vs simulate --scenario "$TOP/fixtures/scenarios/honest.ini" --out "$TMP/honest" --quiet
is "$rc" 0 "simulate honest.ini"
{
	run vs detect --format jsonl "$TMP/honest"
	is "$rc" 0 "honest.ini: nothing flagged, exit 0"
	is "$(printf '%s\n' "$out" | jq -c 'select(.kind=="summary") | [.unexplained, .flagged_values]')" \
		'[0,[]]' "honest.ini: no unexplained change, no value flagged"
}
run vs simulate --scenario "$TOP/fixtures/scenarios/zhengzhou-2022-06.ini" --out "$TMP/zz" --quiet
is "$rc" 0 "simulate zhengzhou-2022-06.ini"
{
	run vs detect --format jsonl "$TMP/zz"
	is "$rc" 1 "zhengzhou: exit 1"
	zz=$out
	run vs eval --format json "$TMP/zz"
	ev=$out
	is "$(printf '%s' "$ev" | jq -c '[.attributes.tp >= 2, .attributes.fp, .attributes.fn]')" '[true,0,0]' \
		"zhengzhou: the values flagged are exactly those the misuse rules used"
	is "$(printf '%s' "$ev" | jq '.precision >= 0.95 and .recall >= 0.95')" true \
		"zhengzhou: precision and recall >= 0.95"
	is "$(printf '%s\n' "$zz" | jq -s '[.[] | select(.kind=="association" and .flagged and
		(.attribute=="age_band" or .attribute=="sex"))] | length')" 0 "zhengzhou: no age band, no sex"
	is "$(printf '%s\n' "$zz" | jq -s '[.[] | select(.kind=="household_discordance")] | length > 0')" \
		true "zhengzhou: same-house pairs"
	is "$(printf '%s\n' "$zz" | jq -s '[.[] | select(.kind=="remote_scan" and .distance_km > 100)] | length > 100')" \
		true "zhengzhou: forwarded-photo scans"
	is "$(printf '%s\n' "$zz" | jq -s '[.[] | select(.kind=="burst" and .direction=="to_green" and
		.start < "2022-06-14T12:00:00+08:00" and .end > "2022-06-14T12:00:00+08:00")] | length')" \
		1 "zhengzhou: the 14 June noon release burst"
	is "$(printf '%s\n' "$zz" | jq -s '[.[] | select(.kind=="action_triggered" and
		.action=="booked_return_ticket" and .color=="green")] | length')" 1 "zhengzhou: ticket-triggered greens"
}

# Fault injection (sanitizer builds): every allocation failure, and a failed commit of
# --out, ends in exit 2, one line on stderr and no output file.
VS_FAULT_ALLOC=1 vs detect "$D/tiny" >/dev/null 2>&1
if [ $? -eq 2 ]; then
	bad="" tried=0
	for n in $(seq 1 400); do
		rm -f "$TMP/f.html"
		VS_FAULT_ALLOC=$n vs detect --format html --out "$TMP/f.html" "$D/tiny" >/dev/null 2>"$TMP/err"
		rc=$?
		[ "$rc" -eq 1 ] && break
		tried=$((tried + 1))
		if [ "$rc" -ne 2 ] || [ "$(grep -c . "$TMP/err")" -ne 1 ] ||
		   ls -A "$TMP" | grep -q 'f\.html'; then
			bad="N=$n: status $rc, $(head -2 "$TMP/err")"
			break
		fi
	done
	is "$bad" "" "each of the first $tried allocations failing: exit 2, one line, no output"
	is "$rc" 1 "the allocation sweep reached a successful run"
	VS_FAULT_WRITE=1 vs detect --format jsonl --out "$TMP/w.jsonl" "$D/tiny" >/dev/null 2>"$TMP/err"
	is "$?" 2 "a failed commit of --out: exit 2"
	[ -e "$TMP/w.jsonl" ]; ok $((! $?)) "a failed commit of --out: no file"
fi

if [ -w /dev/full ]; then
	vs detect --format jsonl "$D/tiny" >/dev/full 2>"$TMP/err"; rc=$?
	is "$rc" 2 "a full disk is an error, exit 2"
fi
# SPEC §7's keys come first, right after "kind" and in the contract's order, for every kind
# (extra keys may follow them).
run vs detect "$FIXTURES/datasets/tiny" --format jsonl
contract='association attribute value persons_with persons_without rate_with rate_without strata mh_odds_ratio ci_low ci_high mh_chi2 p_value q_value conditioned_on flagged
unexplained_code person_id ts color reason authority flagged
household_discordance household_id persons ts colors
remote_scan distance_km
burst start end direction changes expected
action_triggered action color count median_delay_s'
for z in "$FIXTURES/datasets/tiny" "$FIXTURES/datasets/household" "$FIXTURES/datasets/remote" \
	"$FIXTURES/datasets/burst" "$FIXTURES/datasets/action"; do
	vs detect "$z" --format jsonl >>"$TMP/all.jsonl" 2>/dev/null
done
while read -r kind keys; do
	want=$(printf '%s' "$keys" | tr ' ' '\n')
	seen=$(jq -r --arg k "$kind" 'select(.kind == $k) | [keys_unsorted[]] | .[1:] | join(" ")' "$TMP/all.jsonl" | sort -u)
	if [ -z "$seen" ]; then
		ok 1 "jsonl '$kind': the fixtures produce at least one"
		continue
	fi
	bad=""
	while read -r line; do
		got=$(printf '%s' "$line" | tr ' ' '\n' | head -n "$(printf '%s\n' "$want" | wc -l)")
		[ "$got" = "$want" ] || bad="$line"
	done <<<"$seen"
	if [ "$kind" = remote_scan ]; then # only distance_km is named by the contract
		bad=""; printf '%s' "$seen" | grep -qw distance_km || bad=missing
	fi
	is "$bad" "" "jsonl '$kind': the contract's keys, in the contract's order"
done <<<"$contract"
done_testing
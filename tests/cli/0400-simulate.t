#!/usr/bin/env bash
# simulate: the reference scenario's facts checked from its own files (SPEC §2), byte-
# identical reruns for any thread count, another seed differing, the manifest, SQLite,
# and bad scenarios (one file:line error, exit 2, no output folder).
. "$(dirname "$0")/lib.sh"

SCN="$FIXTURES/scenarios"
STATION=aefc12d2-3c1c-56b1-b29c-2a52f2f02db7 # 郑州车站西南出口, row 1 of venues.csv

run vs simulate --help
is "$rc" 0 "--help exits 0"
like "$out" '^usage: venuescan simulate' "--help starts with its usage line"
run vs simulate --no-such-flag
is_error 2 "unknown option '--no-such-flag'" "unknown flag: one line, exit 2"
run vs simulate --out "$TMP/x"
is_error 2 "needs --scenario" "missing --scenario: exit 2"
run vs simulate --scenario "$SCN/honest.ini"
is_error 2 "needs --out" "missing --out: exit 2"
run vs simulate --scenario "$SCN/honest.ini" --out "$TMP/x" --threads 0
is_error 2 "--threads" "--threads 0 refused"

# ---- the reference scenario -----------------------------------------------------------
D="$TMP/zz"
run vs simulate --scenario "$SCN/zhengzhou-2022-06.ini" --out "$D"
is "$rc" 0 "reference scenario simulates"
is "$err" "" "quiet on stderr when it is not a terminal"
like "$out" "30000 persons" "default size: 30,000 persons"
for f in persons.csv venues.csv areas.csv events.csv labels.csv manifest.json; do
	[ -s "$D/$f" ]; ok $? "$f written"
done
is "$(head -1 "$D/events.csv")" "ts,person_id,kind,venue_id,area,lat,lon,value,reason,authority" \
	"events.csv header (SPEC §5)"
is "$(head -1 "$D/persons.csv")" "person_id,household_id,home_area,attrs" "persons.csv header"
is "$(head -1 "$D/labels.csv")" "ts,person_id,cause" "labels.csv header"
is "$(head -1 "$D/areas.csv")" "area,level,start,end" "areas.csv header"
is "$(awk -F, 'NR>1 && $3!~/^(locate|scan|code|test|contact|entry|action)$/' "$D/events.csv" | wc -l)" 0 \
	"only dataset v1 kinds"
is "$(awk -F, 'NR>1 && $1!~/^2022-06-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\+08:00$/' "$D/events.csv" | wc -l)" 0 \
	"timestamps are ISO 8601 with +08:00"

# The 1,317: distinct depositors labelled red by the station rule, split by where the
# device was when they scanned the station code (SPEC §2: 446 in Zhengzhou, 871 remote).
counts=$(awk -F, -v V="$STATION" '
	FNR == 1 { f++; next }
	f == 1 { attrs[$1] = $4; next }
	f == 2 && $3 == "misuse:station_scan" { red[$2] = 1; if (first == "" || $1 < first) first = $1; next }
	f == 3 && $3 == "scan" && $4 == V && $8 == "red" && ($2 in red) && !($2 in seen) {
		seen[$2] = 1
		if ($5 ~ /^Henan\/Zhengzhou\//) local++
		else {
			remote++
			# device distance from the venue (34.7447, 113.6566), equirectangular km
			dx = ($7 - 113.6566) * 111.32 * cos(34.74 * 3.14159265 / 180); dy = ($6 - 34.7447) * 110.57
			d = sqrt(dx * dx + dy * dy); if (min == "" || d < min) min = d
		}
	}
	END {
		nd = 0; for (p in red) if (attrs[p] ~ /(^|;)depositor=1(;|$)/) nd++
		printf "%d %d %d %d %s %d\n", length(red), local, remote, nd, first, min
	}' "$D/persons.csv" "$D/labels.csv" "$D/events.csv")
set -- $counts
is "$1" 1317 "exactly 1,317 persons turned red by the station rule"
is "$2" 446 "446 of them scanned the station code in Zhengzhou"
is "$3" 871 "871 scanned a forwarded photo from elsewhere"
is "$4" 1317 "all 1,317 are depositors"
like "$5" '^2022-06-11T(1[89]|2[0-3]):' "the first on the evening of 11 June ($5)"
[ "$6" -gt 50 ]; ok $? "remote scanners' devices are far from the station (nearest $6 km)"
like "$(awk -F, -v V="$STATION" '$3=="scan" && $4==V && $5!~/^Henan/ {print $5}' "$D/events.csv" | sort -u | tr '\n' ' ')" \
	'Hebei/Shijiazhuang.*Shandong/Linyi.*Shanghai.*Sichuan' "photos scanned from Shijiazhuang, Linyi, Shanghai, Sichuan"

# Reasons the facts contradict, pushed by Henan or Zhengzhou; other provinces mirror.
is "$(awk -F, 'NR>1 && $3=="code" && $8=="red" && $9 ~ /入境|高风险|河南省将/ && ($10=="Henan" || $10=="Henan/Zhengzhou")' "$D/events.csv" | wc -l | awk '$1>=1317{print "ok"}')" ok \
	"misuse reds show entry or high-risk reasons, pushed by Henan or Henan/Zhengzhou"
mirrors=$(awk -F, 'NR>1 && $3=="code" && $8=="red" && $9=="异常信息由河南省推送" {print $10}' "$D/events.csv" | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
like "$mirrors" 'Hebei.*Shandong.*Shanghai.*Sichuan' "other provinces mirror the red (异常信息由河南省推送): $mirrors"
unlike "$mirrors" 'Henan' "Henan does not mirror itself"

# Same house, different colour: a co-resident scans the same code and stays green.
disc=$(awk -F, -v V="$STATION" '
	FNR == 1 { f++; next }
	f == 1 { hh[$1] = $2; next }
	f == 2 && $3 == "misuse:station_scan" { redhh[hh[$2]] = 1; red[$2] = 1; next }
	f == 3 && $3 == "scan" && $4 == V && $8 == "green" && !($2 in red) && (hh[$2] in redhh) { n[hh[$2]] = 1 }
	END { print length(n) }' "$D/persons.csv" "$D/labels.csv" "$D/events.csv")
[ "$disc" -ge 10 ] && [ "$disc" -lt 100 ]; ok $? "tens of same-house-different-colour households ($disc)"

# 12 June: petitioning owners turn red, pushed by Zhengzhou.
is "$(awk -F, '$3=="misuse:petition_red"' "$D/labels.csv" | wc -l)" 90 "90 owners turned red after petitioning"
is "$(awk -F, '$3=="misuse:petition_red" && $1!~/^2022-06-12T/' "$D/labels.csv" | wc -l)" 0 "all on 12 June"
owners_ok=$(awk -F, 'FNR==1{f++;next} f==1{a[$1]=$4;next} $3=="misuse:petition_red" && a[$2]!~/owner=rongchuang_zhongyuan_daguan/{bad++} END{print bad+0}' "$D/persons.csv" "$D/labels.csv")
is "$owners_ok" 0 "every one an owner of 融创中原大观"
is "$(awk -F, '$3=="action" && $8=="petition"' "$D/events.csv" | wc -l)" 90 "each petitioned first"

# 13 June: green minutes after a booked return ticket, red again after one more night.
flip=$(awk -F, '
	FNR == 1 { f++; next }
	f == 1 && $3 == "action" && $8 == "booked_return_ticket" { t[$2] = $1; next }
	f == 2 && $3 == "misuse:return_ticket" { n[$2]++; if (n[$2] == 1) g[$2] = $1; else r[$2] = $1 }
	END {
		for (p in t) {
			if (substr(t[p], 1, 10) != "2022-06-13") bad++
			# green within 30 minutes of the ticket, the same day
			if (!(p in g) || substr(g[p], 1, 10) != substr(t[p], 1, 10)) { bad++; continue }
			d = (substr(g[p], 12, 2) * 60 + substr(g[p], 15, 2)) - (substr(t[p], 12, 2) * 60 + substr(t[p], 15, 2))
			if (d < 0 || d > 30) bad++
			if (!(p in r) || substr(r[p], 1, 10) != "2022-06-14") bad++
		}
		print length(t), bad + 0
	}' "$D/events.csv" "$D/labels.csv")
is "$flip" "60 0" "60 depositors flip on 13 June: green after the ticket, red again on the 14th"

# 14 June around noon: most codes turn green at once.  A release returns the code to what
# the published rules give: green (misuse:mass_release) or, for someone they make yellow or
# red then, that colour, labelled by the published rule (or nothing when already red).
# The first label after a person's misuse red, flips and mirrors aside, is the release.
released=$(awk -F, '
	$3=="misuse:station_scan" || $3=="misuse:petition_red" { if (!($2 in red)) red[$2] = 1; next }
	$3=="misuse:mirror" || $3=="misuse:return_ticket" || $3=="misuse:guarantee" { next }
	($2 in red) && red[$2] == 1 { red[$2] = 2; if ($3=="misuse:mass_release") m++; else if ($3 ~ /^published:/) p++ }
	END { print length(red), m + p, m + 0 }' "$D/labels.csv")
set -- $released
is "$1" 1407 "1,407 persons turned red by misuse (1,317 depositors + 90 owners)"
[ "$2" -ge 1380 ] && [ "$2" -le 1407 ]; ok $? "each released, or kept red by the published rules ($2 of $1)"
burst=$(awk -F, '$3=="misuse:mass_release" { n++; if ($1 >= "2022-06-14T11:30" && $1 < "2022-06-14T13:30") b++ } END { print n, b }' "$D/labels.csv")
set -- $burst
[ "$1" -ge 1300 ]; ok $? "most released to green by misuse:mass_release ($1)"
[ "$2" -ge $(($1 * 85 / 100)) ]; ok $? "most ($2 of $1) released 14 June 11:30-13:30"
rel_colour=$(paste -d, <(awk -F, '$3=="code"' "$D/events.csv") <(tail -n +2 "$D/labels.csv") |
	awk -F, '$NF=="misuse:mass_release" && $8!="green"' | wc -l)
is "$rel_colour" 0 "misuse:mass_release only ever sets green"
first_green=$(awk -F, '$3=="misuse:mass_release"{print $1}' "$D/labels.csv" | sort | head -1)
like "$first_green" '^2022-06-14T11:' "no mass release before 14 June late morning ($first_green)"

# The honest background: hundreds of published changes, all labelled with published rules.
pub=$(awk -F, '$3 ~ /^published:/' "$D/labels.csv" | wc -l)
[ "$pub" -ge 200 ]; ok $? "hundreds of code changes from the published rules ($pub)"
for r in entry high_risk medium_risk release; do
	[ "$(awk -F, -v c="published:$r" '$3==c' "$D/labels.csv" | wc -l)" -gt 0 ]; ok $? "published:$r occurs"
done
is "$(awk -F, 'NR>1 && $3=="entry"' "$D/events.csv" | wc -l | awk '$1>=100{print "ok"}')" ok "entries from abroad"
is "$(awk -F, 'NR>1 && $3=="code"' "$D/events.csv" | wc -l)" "$(($(wc -l <"$D/labels.csv") - 1))" \
	"one label per code event"
is "$(awk -F, 'NR>1 && $1=="Shanghai/Shanghai/Xuhui" && $2=="high"' "$D/areas.csv" | wc -l)" 1 \
	"areas.csv holds the genuine outbreak's high-risk area"
# Sex is not targeted: depositors are half women, as everyone.
sexes=$(awk -F, 'NR>1 && $4~/depositor=1/ { if ($4~/sex=f/) f++; n++ } END { printf "%d", 100*f/n }' "$D/persons.csv")
[ "$sexes" -ge 45 ] && [ "$sexes" -le 55 ]; ok $? "depositors are ${sexes}% women"
ages=$(awk -F, 'NR>1 && $4~/depositor=1/ && $4~/age_band=(0-14|15-29)/' "$D/persons.csv" | wc -l)
is "$ages" 0 "depositors are adults"

# manifest.json: counts and digests of the files beside it, no wall-clock time.
m="$D/manifest.json"
is "$(jq -r '.generator + " " + .scenario + " " + (.seed|tostring) + " " + (.persons|tostring)' "$m")" \
	"venuescan simulate zhengzhou-2022-06 20220611 30000" "manifest: generator, scenario, seed, persons"
for f in persons.csv events.csv labels.csv venues.csv areas.csv; do
	is "$(jq -r --arg f "$f" '.files[$f].rows' "$m")" "$(($(wc -l <"$D/$f") - 1))" "manifest rows of $f"
	is "$(jq -r --arg f "$f" '.files[$f].sha256' "$m")" "$(sha256sum "$D/$f" | cut -d' ' -f1)" "manifest sha256 of $f"
done
is "$(jq -r 'keys_unsorted | join(" ")' "$m")" "format format_version generator version seed scenario persons days start files" \
	"manifest keys: no wall-clock time"
unlike "$(cat "$m")" "$(date -u +%Y-%m-%d)|$(date +%Y-%m-%d)" "today's date appears nowhere in the manifest"

# ---- reproducibility ------------------------------------------------------------------
run vs simulate --scenario "$SCN/zhengzhou-2022-06.ini" --out "$TMP/zz1" --threads 1
is "$rc" 0 "same seed, one thread"
same=0
for f in persons.csv venues.csv areas.csv events.csv labels.csv manifest.json; do
	cmp -s "$D/$f" "$TMP/zz1/$f" || same=1
done
ok $same "same scenario and seed: byte-identical files with 1 and 2 threads"
VS_SIM_THREADS=3 "$VENUESCAN" simulate --scenario "$SCN/scale.ini" --persons 4000 --out "$TMP/s3" >/dev/null 2>&1
"$VENUESCAN" simulate --scenario "$SCN/scale.ini" --persons 4000 --out "$TMP/s2" >/dev/null 2>&1
cmp -s "$TMP/s2/events.csv" "$TMP/s3/events.csv"; ok $? "VS_SIM_THREADS=3 gives the same events as 2 threads"
run vs simulate --scenario "$SCN/scale.ini" --persons 4000 --seed 99 --out "$TMP/s99"
cmp -s "$TMP/s2/events.csv" "$TMP/s99/events.csv"; is "$?" 1 "another seed gives other events"
cmp -s "$TMP/s2/persons.csv" "$TMP/s99/persons.csv"; is "$?" 1 "another seed gives other persons"
is "$(awk -F, '$3=="misuse:office_scan"' "$TMP/s99/labels.csv" | wc -l)" 40 "scale: the 40 targeted persons at any seed"

# A progress line on a terminal (script(1) gives the command one), none otherwise.
if command -v script >/dev/null; then
	script -qc "'$VENUESCAN' simulate --scenario '$SCN/scale.ini' --persons 2000 --out '$TMP/tty'" /dev/null >"$TMP/tty.out" 2>&1
	like "$(tr '\r' '\n' <"$TMP/tty.out")" 'simulate: day 14/14, 2000 persons, [0-9]+ events/s, ETA 0 s' \
		"progress line (day, persons, events/s, ETA) on a terminal"
	script -qc "'$VENUESCAN' simulate --quiet --scenario '$SCN/scale.ini' --persons 2000 --out '$TMP/tty'" /dev/null >"$TMP/tty.out" 2>&1
	unlike "$(cat "$TMP/tty.out")" 'simulate: day' "--quiet: no progress line"
fi

# ---- SQLite ---------------------------------------------------------------------------
run vs simulate --scenario "$SCN/scale.ini" --persons 2000 --out "$TMP/q" --sqlite "$TMP/q.db"
is "$rc" 0 "--sqlite writes"
is "$(sqlite3 "$TMP/q.db" 'SELECT count(*) FROM events')" "$(jq '.files["events.csv"].rows' "$TMP/q/manifest.json")" \
	"SQLite events table holds every event"
is "$(sqlite3 "$TMP/q.db" "SELECT count(*) FROM labels WHERE cause LIKE 'misuse:%'")" \
	"$(grep -c ',misuse:' "$TMP/q/labels.csv")" "SQLite labels table"
like "$(sqlite3 "$TMP/q.db" "SELECT name FROM sqlite_master WHERE type='index'" | tr '\n' ' ')" \
	'events_person.*events_ts' "indexes on person and time"

# Killed while the SQLite file is being written: its temporary goes with the process.
mkdir "$TMP/kill"
"$VENUESCAN" simulate --scenario "$SCN/scale.ini" --persons 60000 --out "$TMP/kill/ds" \
	--sqlite "$TMP/kill/k.db" 2>/dev/null &
pid=$!
seen=0
for _ in $(seq 1 1200); do
	if compgen -G "$TMP/kill/k.db*" >/dev/null; then seen=1; break; fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
[ "$seen" = 1 ]; ok $? "killed while the SQLite temporary was being written"
is "$(cd "$TMP/kill" && ls k.db* 2>/dev/null)" "" "killed mid-write: no SQLite file or temporary left"

# ---- bad scenarios and outputs --------------------------------------------------------
for f in "$FIXTURES"/bad/scenario-*.ini; do
	name=$(basename "$f")
	run vs simulate --scenario "$f" --out "$TMP/bad-out"
	is_error 2 "$name:[0-9]+: " "$name: one file:line error, exit 2"
	[ ! -e "$TMP/bad-out" ]; ok $? "$name: no output folder"
done
ls -a "$TMP" | grep -q '^\.bad-out'; is "$?" 1 "no staging folder left behind"
mkdir -p "$TMP/notadataset" && echo keep >"$TMP/notadataset/file.txt"
run vs simulate --scenario "$SCN/scale.ini" --persons 2000 --out "$TMP/notadataset"
is "$rc" 2 "refuses to replace a folder that is not a dataset"
is "$(cat "$TMP/notadataset/file.txt")" keep "and leaves it as it was"
# Injected failures (sanitizer builds define VS_FAULT_INJECTION): nothing left behind.
VS_FAULT_WRITE=1 "$VENUESCAN" simulate --scenario "$SCN/scale.ini" --persons 2000 --out "$TMP/fault" --quiet >/dev/null 2>&1
if [ $? -ne 0 ]; then
	for fault in VS_FAULT_WRITE=1 VS_FAULT_WRITE=2 VS_FAULT_ALLOC=50 VS_FAULT_ALLOC=5000; do
		run env "$fault" "$VENUESCAN" simulate --scenario "$SCN/scale.ini" --persons 2000 --out "$TMP/fault" --quiet
		is_error 2 "injected fault|out of memory" "$fault: one error line, exit 2"
		[ -z "$(ls -a "$TMP" | grep fault)" ]; ok $? "$fault: no output or staging folder left"
	done
fi
run vs simulate --scenario "$TMP/nonesuch.ini" --out "$TMP/bad-out"
is_error 2 "nonesuch.ini" "a missing scenario: exit 2"
done_testing

/*
 * Unit tests for the simulator (sim.c): household sizes against China's 2020 census, and
 * whole runs of a small scenario — byte-identical files for 1, 2 and 3 threads, another
 * seed differing, one label per code event, events in (day, person, time) order, exact
 * misuse counts; and whole datasets of the three scenarios replayed through the published
 * rules (each person's events in time order, every label naming the rule that caused it).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "venuescan/csv.h"
#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/scenario.h"
#include "venuescan/sim.h"
#include "venuescan/rng.h"
#include "venuescan/time.h"
#include "sim_int.h"


static void test_household_sizes_match_census(void **state)
{
	static const double census[8] = { 0.2539, 0.2968, 0.2099, 0.1317, 0.0619, 0.0283,
					  0.0120, 0.0055 };
	uint64_t count[9] = { 0 }, persons = 0;
	const uint64_t n = 400000;
	(void)state;

	for (uint64_t h = 0; h < n; h++) {
		unsigned k = vs_sim_household_size(2020, h);
		assert_true(k >= 1 && k <= 8);
		count[k]++;
		persons += k;
	}
	for (unsigned k = 1; k <= 8; k++) {
		double share = (double)count[k] / (double)n;
		if (share < census[k - 1] - 0.003 || share > census[k - 1] + 0.003)
			fail_msg("size %u: share %.4f, census %.4f", k, share, census[k - 1]);
	}
	/* 7 and more: 1.75% */
	assert_true((double)(count[7] + count[8]) / (double)n > 0.0155 &&
		    (double)(count[7] + count[8]) / (double)n < 0.0195);
	/* mean about 2.62 (2.61 with 7+ split as 7 and 8) */
	assert_true((double)persons / (double)n > 2.60 && (double)persons / (double)n < 2.63);
	/* the draw is a function of (seed, household) */
	assert_int_equal(vs_sim_household_size(5, 77), vs_sim_household_size(5, 77));
}

static struct vs_scenario *scale_scenario(void)
{
	char path[4096];
	struct vs_scenario *s = NULL;
	const char *f = getenv("FIXTURES");

	snprintf(path, sizeof(path), "%s/scenarios/scale.ini", f ? f : "fixtures");
	if (vs_scenario_load(path, &s))
		fail_msg("%s", vs_error_message());
	return s;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	struct vs_buf b = VS_BUF_INIT;
	char *path = vs_xasprintf("%s/%s", dir, name);

	if (vs_file_read_all(path, 1u << 30, &b))
		fail_msg("%s", vs_error_message());
	free(path);
	return vs_buf_detach(&b, len);
}

static int same_file(const char *a, const char *b, const char *name)
{
	size_t la, lb;
	char *x = slurp(a, name, &la), *y = slurp(b, name, &lb);
	int same = la == lb && !memcmp(x, y, la);

	free(x);
	free(y);
	return same;
}

static void run(const struct vs_scenario *s, unsigned threads, uint64_t seed, const char *out,
		struct vs_sim_stats *st)
{
	struct vs_sim_options o = { 0 };

	o.threads = threads;
	o.persons = 3000;
	o.seed = seed;
	o.has_seed = 1;
	if (vs_simulate(s, &o, out, st))
		fail_msg("%s", vs_error_message());
}

static void test_threads_give_identical_files(void **state)
{
	static const char *const files[] = { "persons.csv", "venues.csv", "areas.csv",
					     "events.csv", "labels.csv", "manifest.json" };
	struct vs_scenario *s = scale_scenario();
	struct vs_sim_stats st[4];
	char dirs[4][4200];
	(void)state;

	for (unsigned t = 1; t <= 3; t++) {
		snprintf(dirs[t], sizeof(dirs[t]), "%s/t%u", tmpdir, t);
		run(s, t, 11, dirs[t], &st[t]);
	}
	snprintf(dirs[0], sizeof(dirs[0]), "%s/seed12", tmpdir);
	run(s, 2, 12, dirs[0], &st[0]);
	assert_int_equal(st[1].persons, 3000);
	assert_true(st[1].events > 3000);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!same_file(dirs[1], dirs[2], files[i]) || !same_file(dirs[1], dirs[3], files[i]))
			fail_msg("%s differs between thread counts", files[i]);
	}
	assert_false(same_file(dirs[1], dirs[0], "events.csv"));
	assert_false(same_file(dirs[1], dirs[0], "persons.csv"));
	assert_true(same_file(dirs[1], dirs[0], "venues.csv"));
	vs_scenario_free(s);
}

/* The dataset's own structure: labels, order, exact misuse counts, household ids. */
static void test_dataset_structure(void **state)
{
	char dir[4200];
	size_t len;
	char *events, *labels, *persons, *line, *save = NULL;
	uint64_t codes = 0, nlabels = 0, misuse = 0, lines = 0;
	char last_day[11] = "";
	(void)state;

	snprintf(dir, sizeof(dir), "%s/t1", tmpdir);
	events = slurp(dir, "events.csv", &len);
	labels = slurp(dir, "labels.csv", &len);
	persons = slurp(dir, "persons.csv", &len);

	/* events: the day never goes back; within a day, a person's events are in time order */
	{
		char last_person[37] = "", last_ts[32] = "";
		for (line = strtok_r(events, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (lines++ == 0) {
				assert_string_equal(line, "ts,person_id,kind,venue_id,area,lat,lon,value,"
							  "reason,authority");
				continue;
			}
			assert_true(strlen(line) > 70 && line[25] == ',' && line[62] == ',');
			assert_memory_equal(line + 19, "+08:00", 6);
			if (strncmp(line, last_day, 10) < 0)
				fail_msg("line %lu: day goes back: %.40s", (unsigned long)lines, line);
			if (strncmp(line, last_day, 10)) {
				memcpy(last_day, line, 10);
				last_person[0] = 0;
			}
			if (!strncmp(line + 26, last_person, 36) && strncmp(line, last_ts, 25) < 0)
				fail_msg("line %lu: a person's time goes back", (unsigned long)lines);
			memcpy(last_person, line + 26, 36);
			last_person[36] = 0;
			memcpy(last_ts, line, 25);
			last_ts[25] = 0;
			codes += !strncmp(line + 63, "code,", 5);
		}
	}
	save = NULL;
	for (line = strtok_r(labels, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (nlabels++ == 0) {
			assert_string_equal(line, "ts,person_id,cause");
			continue;
		}
		assert_true(!strncmp(line + 63, "published:", 10) || !strncmp(line + 63, "misuse:", 7));
		misuse += !strcmp(line + 63, "misuse:office_scan");
	}
	assert_int_equal(codes, nlabels - 1);
	assert_int_equal(misuse, 40); /* in_person 28 + photo 12, exactly */

	/* persons: 3000 rows, every one with a household id; 40 petitioners */
	{
		uint64_t rows = 0, petitioners = 0;
		save = NULL;
		for (line = strtok_r(persons, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (rows++ == 0)
				continue;
			assert_true(line[36] == ',' && line[73] == ',');
			petitioners += strstr(line, "petitioner=1") != NULL;
		}
		assert_int_equal(rows - 1, 3000);
		assert_int_equal(petitioners, 40);
	}
	free(events);
	free(labels);
	free(persons);
}

/*
 * Whole dataset of a scenario at a small size, read back with the dataset readers and
 * replayed through the published rules:
 * - every person's events are in time order over the whole file (docs/SCENARIOS.md);
 * - a change labelled published:RULE sets RULE's colour, and that is the colour the
 *   person's own facts give then; published:release sets green and the facts give green;
 * - a change labelled by a release or mirror misuse rule is a red, or a green the facts
 *   give too (a return to anything else is the published rules' doing, labelled so);
 * - every row of persons.csv, events.csv and labels.csv is byte for byte what the dataset
 *   module's writers make of it read back: the simulator has no writer of its own;
 * - the manifest's sizes and digests (taken while writing) are the files' own.
 */
static void check_scenario(const char *file, uint64_t persons)
{
	char path[4400], dir[4200];
	const char *f = getenv("FIXTURES");
	struct vs_scenario *s = NULL;
	struct vs_sim_options o = { 0 };
	struct vs_person_table pt = VS_PERSON_TABLE_INIT;
	struct vs_risk_map *risk = vs_risk_map_new();
	struct vs_event_reader *er = NULL;
	struct vs_csv_reader *lr = NULL;
	struct vs_event ev;
	FILE *raw_events, *raw_labels, *mem;
	char *line = NULL, *text = NULL;
	size_t line_cap = 0, text_len = 0;
	int64_t *last, *st;
	size_t nr;
	uint64_t codes = 0, checked_release = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/scenarios/%s", f ? f : "fixtures", file);
	if (vs_scenario_load(path, &s))
		fail_msg("%s", vs_error_message());
	snprintf(dir, sizeof(dir), "%s/whole-%s", tmpdir, file);
	o.persons = persons;
	o.threads = 2;
	if (vs_simulate(s, &o, dir, NULL))
		fail_msg("%s", vs_error_message());
	nr = vs_rules_count(s->rules);
	{
		static const char *const names[] = { "persons.csv", "venues.csv", "areas.csv",
						     "events.csv", "labels.csv" };
		size_t mlen;
		char *manifest = slurp(dir, "manifest.json", &mlen), want_keys[300];
		for (size_t i = 0; i < 5; i++) {
			char hex[65], want[200];
			struct stat sb;
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			assert_int_equal(vs_file_sha256(path, hex), 0);
			assert_int_equal(stat(path, &sb), 0);
			snprintf(want, sizeof(want), "\"bytes\": %lld, \"sha256\": \"%s\"",
				 (long long)sb.st_size, hex);
			if (!strstr(manifest, want))
				fail_msg("%s: manifest.json lacks %s", file, want);
		}
		snprintf(want_keys, sizeof(want_keys), ",\n  \"scenario\": \"%s\",\n  \"persons\": "
			 "%" PRIu64 ",\n  \"days\": %u,\n  \"start\": \"", s->name, persons,
			 s->days);
		if (!strstr(manifest, want_keys))
			fail_msg("%s: manifest.json lacks %s", file, want_keys);
		free(manifest);
	}
	snprintf(path, sizeof(path), "%s/persons.csv", dir);
	if (vs_persons_read(path, &pt))
		fail_msg("%s", vs_error_message());
	snprintf(path, sizeof(path), "%s/areas.csv", dir);
	if (vs_areas_read(path, risk, 1))
		fail_msg("%s", vs_error_message());
	last = vs_xcalloc(pt.n, sizeof(*last));
	st = vs_xmalloc(pt.n * nr * sizeof(*st));
	for (size_t i = 0; i < pt.n; i++) {
		last[i] = INT64_MIN;
		vs_rules_state_init(s->rules, st + i * nr);
	}
	snprintf(path, sizeof(path), "%s/persons.csv", dir);
	assert_non_null(raw_events = fopen(path, "r"));
	assert_true(getline(&line, &line_cap, raw_events) > 0); /* header */
	for (size_t i = 0; i < pt.n; i++) {
		assert_non_null(mem = open_memstream(&text, &text_len));
		assert_int_equal(vs_person_write(mem, &pt, i), 0);
		fclose(mem);
		assert_true(getline(&line, &line_cap, raw_events) > 0);
		if (strcmp(line, text))
			fail_msg("%s: persons.csv row %zu is not vs_person_write's:\n%s%s", file, i + 2,
				 line, text);
		free(text);
		text = NULL;
	}
	fclose(raw_events);
	snprintf(path, sizeof(path), "%s/labels.csv", dir);
	if (vs_csv_open(&lr, path))
		fail_msg("%s", vs_error_message());
	assert_non_null(raw_labels = fopen(path, "r"));
	assert_true(getline(&line, &line_cap, raw_labels) > 0);
	snprintf(path, sizeof(path), "%s/events.csv", dir);
	if (vs_events_open(&er, path, &pt))
		fail_msg("%s", vs_error_message());
	assert_non_null(raw_events = fopen(path, "r"));
	assert_true(getline(&line, &line_cap, raw_events) > 0);
	while ((rc = vs_events_next(er, &ev)) == 1) {
		int64_t *ps = st + (size_t)ev.person * nr;
		assert_non_null(mem = open_memstream(&text, &text_len));
		assert_int_equal(vs_event_write(mem, &ev), 0);
		fclose(mem);
		assert_true(getline(&line, &line_cap, raw_events) > 0);
		if (strcmp(line, text))
			fail_msg("%s: events.csv:%lu is not vs_event_write's:\n%s%s", file, ev.line,
				 line, text);
		{
			char ts[VS_TIME_TEXT_MAX];
			vs_time_format(ev.ts, ev.offset_min, ts);
			if (strncmp(line, ts, strlen(ts)) || line[strlen(ts)] != ',')
				fail_msg("%s: events.csv:%lu: time is not '%s'", file, ev.line, ts);
		}
		free(text);
		text = NULL;
		if (ev.ts < last[ev.person])
			fail_msg("%s: events.csv:%lu: person '%s' goes back in time", file, ev.line,
				 ev.person_id);
		last[ev.person] = ev.ts;
		switch (ev.kind) {
		case VS_EVENT_LOCATE:
		case VS_EVENT_SCAN:
			if (*ev.area)
				vs_rules_observe(s->rules, ps, VS_FACT_PRESENCE,
						 vs_risk_level_name(vs_risk_map_level(risk, ev.area,
										      ev.ts)),
						 ev.ts);
			break;
		case VS_EVENT_TEST:
			vs_rules_observe(s->rules, ps, VS_FACT_TEST, ev.value, ev.ts);
			break;
		case VS_EVENT_CONTACT:
			vs_rules_observe(s->rules, ps, VS_FACT_CONTACT, NULL, ev.ts);
			break;
		case VS_EVENT_ENTRY:
			vs_rules_observe(s->rules, ps, VS_FACT_ENTRY, NULL, ev.ts);
			break;
		case VS_EVENT_ACTION:
			vs_rules_observe(s->rules, ps, VS_FACT_ACTION, ev.value, ev.ts);
			break;
		case VS_EVENT_CODE: {
			const char *cause;
			enum vs_color pub = vs_rules_color_at(s->rules, ps, ev.ts, NULL);
			if (vs_csv_next(lr) != 1)
				fail_msg("%s: fewer labels than code events", file);
			cause = vs_csv_field(lr, 2);
			codes++;
			assert_non_null(mem = open_memstream(&text, &text_len));
			assert_int_equal(vs_label_write(mem, ev.ts, ev.offset_min, ev.person_id,
							cause), 0);
			fclose(mem);
			assert_true(getline(&line, &line_cap, raw_labels) > 0);
			if (strcmp(line, text))
				fail_msg("%s: labels.csv: '%s' is not vs_label_write's '%s'", file,
					 line, text);
			free(text);
			text = NULL;
			if (!strcmp(cause, "published:release")) {
				if (ev.color != VS_GREEN || pub != VS_GREEN)
					fail_msg("%s: events.csv:%lu: %s to %s, rules give %s", file,
						 ev.line, cause, ev.value, vs_color_name(pub));
			} else if (!strncmp(cause, "published:", 10)) {
				int r = vs_rules_find(s->rules, cause + 10);
				if (r < 0 || vs_rules_color(s->rules, (size_t)r) != ev.color ||
				    pub != ev.color)
					fail_msg("%s: events.csv:%lu: %s to %s, rules give %s", file,
						 ev.line, cause, ev.value, vs_color_name(pub));
			} else {
				long m = vs_scenario_misuse(s, cause + 7);
				assert_true(!strncmp(cause, "misuse:", 7) && m >= 0);
				if ((s->misuse[m].type == VS_MISUSE_RELEASE ||
				     s->misuse[m].type == VS_MISUSE_MIRROR) && ev.color != VS_RED) {
					checked_release++;
					if (ev.color != VS_GREEN || pub != VS_GREEN)
						fail_msg("%s: events.csv:%lu: %s to %s, but the "
							 "published rules give %s then", file, ev.line,
							 cause, ev.value, vs_color_name(pub));
				}
			}
			break;
		}
		}
	}
	if (rc < 0)
		fail_msg("%s", vs_error_message());
	assert_int_equal(vs_csv_next(lr), 0);
	assert_true(codes > 0);
	if (!strcmp(file, "zhengzhou-2022-06.ini"))
		assert_true(checked_release > 1000);
	vs_events_close(er);
	vs_csv_close(lr);
	fclose(raw_events);
	fclose(raw_labels);
	free(line);
	free(last);
	free(st);
	vs_risk_map_free(risk);
	vs_person_table_release(&pt);
	vs_scenario_free(s);
}

static void test_whole_datasets_in_order_and_labelled_truthfully(void **state)
{
	(void)state;
	check_scenario("zhengzhou-2022-06.ini", 8000);
	check_scenario("honest.ini", 5000);
	check_scenario("scale.ini", 3000);
}

/*
 * The simulator's coordinates come from vs_event_write, which formats them without printf:
 * its text must be printf's "%.6f" for any value (ties near a half, signs, -0).
 */
static void test_event_writer_coordinates_are_printf_s(void **state)
{
	static const double special[] = { 0.0, -0.0, -0.0000001, 0.0000005, 0.0000015,
					  -0.0000025, 1.0000005, 34.7447, 113.6566, -90, 90,
					  -180, 180, 179.9999995, -179.9999995, 12.3456785 };
	struct vs_rng r;
	(void)state;

	vs_rng_init(&r, 7, 7, 7, 7);
	for (size_t i = 0; i < 200000; i++) {
		struct vs_event ev = { 0 };
		char *text = NULL, want[80];
		size_t len = 0;
		FILE *mem;
		if (i < sizeof(special) / sizeof(special[0])) {
			ev.lat = special[i] < -90 || special[i] > 90 ? 0 : special[i];
			ev.lon = special[i];
		} else {
			ev.lat = vs_rng_uniform(&r) * 180 - 90;
			ev.lon = (double)vs_rng_below(&r, 360000000) / 1e6 - 180 +
				 (double)vs_rng_below(&r, 3) * 5e-7;
			if (ev.lon > 180)
				ev.lon = 180;
		}
		ev.ts = 1654949700;
		ev.offset_min = 480;
		ev.kind = VS_EVENT_LOCATE;
		ev.person_id = "p";
		ev.area = "Henan";
		ev.has_pos = 1;
		assert_non_null(mem = open_memstream(&text, &len));
		assert_int_equal(vs_event_write(mem, &ev), 0);
		fclose(mem);
		snprintf(want, sizeof(want), ",Henan,%.6f,%.6f,", ev.lat, ev.lon);
		if (!strstr(text, want))
			fail_msg("coordinates %.17g %.17g written as '%s', printf: '%s'", ev.lat,
				 ev.lon, text, want);
		free(text);
	}
}

static void test_bad_sizes_leave_nothing(void **state)
{
	struct vs_scenario *s = scale_scenario();
	struct vs_sim_options o = { 0 };
	char dir[4200];
	(void)state;

	snprintf(dir, sizeof(dir), "%s/toosmall", tmpdir);
	o.persons = 20; /* fewer than the petitioners' households */
	assert_int_equal(vs_simulate(s, &o, dir, NULL), VS_EFORMAT);
	assert_non_null(strstr(vs_error_message(), "scale.ini:"));
	assert_int_equal(access(dir, F_OK), -1);
	vs_scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_household_sizes_match_census),
		cmocka_unit_test(test_threads_give_identical_files),
		cmocka_unit_test(test_dataset_structure),
		cmocka_unit_test(test_whole_datasets_in_order_and_labelled_truthfully),
		cmocka_unit_test(test_event_writer_coordinates_are_printf_s),
		cmocka_unit_test(test_bad_sizes_leave_nothing),
	};
	return cmocka_run_group_tests_name("sim", tests, setup, teardown);
}

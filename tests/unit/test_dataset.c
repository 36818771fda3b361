/*
 * Unit tests for dataset.c: the tiny fixture dataset read in full, every corrupt sample in
 * fixtures/bad/ with its exact message, writers round-tripping through the readers, and
 * manifest.json reproducing the fixture's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/rules.h"
#include "venuescan/time.h"

static char tmpdir[] = "/tmp/vs-test-dataset.XXXXXX";

static const char *fixture(const char *rel)
{
	static char path[4][4096];
	static int next;
	const char *dir = getenv("FIXTURES");
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir && *dir ? dir : "fixtures", rel);
	return p;
}

static int64_t ts(const char *s)
{
	int64_t t;

	assert_int_equal(vs_time_parse(s, &t, NULL), 0);
	return t;
}

static void read_tiny_persons(struct vs_person_table *t)
{
	if (vs_persons_read(fixture("datasets/tiny/persons.csv"), t))
		fail_msg("%s", vs_error_message());
}

static void test_tiny_persons(void **state)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	long i;
	(void)state;

	read_tiny_persons(&t);
	assert_int_equal(t.n, 8);
	i = vs_person_table_find(&t, "p001");
	assert_int_equal(i, 0);
	assert_string_equal(t.items[i].household_id, "h001");
	assert_string_equal(t.items[i].home_area, "Hebei/Shijiazhuang/Changan");
	assert_int_equal(t.items[i].nattrs, 2);
	assert_string_equal(vs_person_attr(&t, (size_t)i, "depositor"), "yes");
	assert_string_equal(vs_person_attr(&t, (size_t)i, "age_band"), "40_59");
	assert_null(vs_person_attr(&t, (size_t)i, "homebuyer"));
	i = vs_person_table_find(&t, "p006");
	assert_int_equal(i, 5);
	assert_int_equal(t.items[i].nattrs, 0);
	i = vs_person_table_find(&t, "p007");
	assert_string_equal(t.items[i].household_id, "");
	assert_int_equal(vs_person_table_find(&t, "p999"), -1);
	assert_int_equal(vs_person_table_find(&t, ""), -1);
	vs_person_table_release(&t);
	assert_int_equal(t.n, 0);
}

static void test_tiny_events(void **state)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	struct vs_event_reader *r;
	struct vs_event ev;
	int kinds[VS_EVENT_KINDS] = { 0 }, rc, n = 0, reds = 0;
	(void)state;

	read_tiny_persons(&t);
	if (vs_events_open(&r, fixture("datasets/tiny/events.csv"), &t))
		fail_msg("%s", vs_error_message());
	while ((rc = vs_events_next(r, &ev)) == 1) {
		n++;
		kinds[ev.kind]++;
		assert_int_equal(ev.line, (unsigned long)n + 1);
		assert_true(ev.person < t.n);
		assert_string_equal(t.items[ev.person].id, ev.person_id);
		if (ev.kind == VS_EVENT_CODE && ev.color == VS_RED)
			reds++;
		if (n == 3) { /* the one row written in UTC */
			assert_int_equal(ev.kind, VS_EVENT_TEST);
			assert_int_equal(ev.offset_min, 0);
			assert_int_equal(ev.ts, ts("2022-06-10T10:00:00+08:00"));
			assert_string_equal(ev.value, "positive");
		}
		if (n == 10) { /* Mr Deng scans the station code at home in Shijiazhuang */
			assert_int_equal(ev.kind, VS_EVENT_SCAN);
			assert_string_equal(ev.person_id, "p001");
			assert_string_equal(ev.venue_id, "aefc12d2-3c1c-56b1-b29c-2a52f2f02db7");
			assert_string_equal(ev.area, "Hebei/Shijiazhuang/Changan");
			assert_true(ev.has_pos && ev.lat == 38.0401 && ev.lon == 114.5402);
			assert_true(ev.has_color && ev.color == VS_RED);
			assert_int_equal(ev.ts, ts("2022-06-11T20:15:00+08:00"));
			assert_int_equal(ev.offset_min, 480);
		}
		if (n == 15) { /* a scan whose place-code colour was not recorded */
			assert_int_equal(ev.kind, VS_EVENT_SCAN);
			assert_false(ev.has_color);
			assert_string_equal(ev.value, "");
		}
		if (n == 18) {
			assert_string_equal(ev.reason, "红码, 请配合");
			assert_string_equal(ev.authority, "Henan/Zhengzhou");
			assert_false(ev.has_pos);
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 24);
	assert_int_equal(reds, 6);
	for (int k = 0; k < VS_EVENT_KINDS; k++)
		assert_true(kinds[k] > 0);
	vs_events_close(r);

	/* Without a person table, persons are not checked or interned. */
	assert_int_equal(vs_events_open(&r, fixture("datasets/tiny/events.csv"), NULL), 0);
	assert_int_equal(vs_events_next(r, &ev), 1);
	assert_int_equal(ev.person, VS_PERSON_NONE);
	vs_events_close(r);
	vs_person_table_release(&t);
}

static void test_tiny_areas_and_venues(void **state)
{
	struct vs_risk_map *m = vs_risk_map_new();
	struct vs_venue_list v = VS_VENUE_LIST_INIT;
	char path[256];
	(void)state;

	if (vs_areas_read(fixture("datasets/tiny/areas.csv"), m, 0))
		fail_msg("%s", vs_error_message());
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Erqi",
					   ts("2022-06-02T00:00:00+08:00")),
			 VS_RISK_MEDIUM);
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Erqi",
					   ts("2022-06-05T00:00:00+08:00")),
			 VS_RISK_LOW);
	assert_int_equal(vs_risk_map_level(m, "Shanghai/Shanghai/Pudong",
					   ts("2022-05-25T00:00:00+08:00")),
			 VS_RISK_MEDIUM);
	/* A missing optional areas.csv is no areas at all; a required one is an error. */
	snprintf(path, sizeof(path), "%s/absent.csv", tmpdir);
	assert_int_equal(vs_areas_read(path, m, 1), 0);
	assert_int_equal(vs_areas_read(path, m, 0), VS_ENOTFOUND);
	assert_true(vs_dataset_optional_absent(path));
	/* So is a zero-byte one; a header-only one is present and empty. */
	snprintf(path, sizeof(path), "%s/zero.csv", tmpdir);
	assert_int_equal(vs_file_write_atomic(path, "", 0, 0644), 0);
	assert_true(vs_dataset_optional_absent(path));
	assert_int_equal(vs_areas_read(path, m, 1), 0);
	assert_int_equal(vs_areas_read(path, m, 0), VS_EFORMAT);
	snprintf(path, sizeof(path), "%s/header.csv", tmpdir);
	assert_int_equal(vs_file_write_atomic(path, "area,level,start,end\n", 21, 0644), 0);
	assert_false(vs_dataset_optional_absent(path));
	assert_int_equal(vs_areas_read(path, m, 0), 0);
	vs_risk_map_free(m);

	if (vs_venues_read(fixture("datasets/tiny/venues.csv"), &v))
		fail_msg("%s", vs_error_message());
	assert_int_equal(v.n, 4);
	vs_venue_list_release(&v);
}

static void expect_bad_events(const char *name, const struct vs_person_table *t,
			      const char *want_after_path)
{
	struct vs_event_reader *r;
	struct vs_event ev;
	char rel[128], want[8192];
	const char *path;
	int rc;

	snprintf(rel, sizeof(rel), "bad/%s", name);
	path = fixture(rel);
	snprintf(want, sizeof(want), "%s%s", path, want_after_path);
	rc = vs_events_open(&r, path, t);
	if (!rc) {
		while ((rc = vs_events_next(r, &ev)) == 1)
			;
		vs_events_close(r);
	}
	if (rc != VS_EFORMAT)
		fail_msg("%s: rc %d, message %s", name, rc, vs_error_message());
	assert_string_equal(vs_error_message(), want);
}

static void test_bad_events(void **state)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	(void)state;

	read_tiny_persons(&t);
	expect_bad_events("events-unknown-kind.csv", &t, ":3: field 'kind': unknown kind 'visit'");
	expect_bad_events("events-bad-ts.csv", &t,
			  ":3: field 'ts': not an ISO 8601 time '2022-13-01T20:15:00+08:00'");
	expect_bad_events("events-missing-offset.csv", &t,
			  ":3: field 'ts': not an ISO 8601 time '2022-06-11T20:15:00'");
	expect_bad_events("events-bad-color.csv", &t,
			  ":3: field 'value': not a colour 'purple' (green, yellow or red)");
	expect_bad_events("events-unknown-person.csv", &t,
			  ":3: field 'person_id': unknown person 'p999'");
	expect_bad_events("events-bad-lat.csv", &t,
			  ":3: field 'lat': out of range [-90, 90] '138.0401'");
	expect_bad_events("events-lat-without-lon.csv", &t,
			  ":3: field 'lon': required when 'lat' is given");
	expect_bad_events("events-scan-no-venue.csv", &t,
			  ":3: field 'venue_id': required for a 'scan' event");
	expect_bad_events("events-bad-test.csv", &t,
			  ":3: field 'value': not a test result 'maybe' (negative or positive)");
	expect_bad_events("events-bad-action.csv", &t,
			  ":3: field 'value': not an action token [a-z0-9_]+ 'Petition!'");
	expect_bad_events("events-wrong-fields.csv", &t, ":3: expected 10 fields, found 9");
	expect_bad_events("events-missing-column.csv", &t, ":1: missing column 'authority'");
	vs_person_table_release(&t);
}

static void expect_bad_persons(const char *name, const char *want_after_path)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	char rel[128], want[8192];
	const char *path;

	snprintf(rel, sizeof(rel), "bad/%s", name);
	path = fixture(rel);
	snprintf(want, sizeof(want), "%s%s", path, want_after_path);
	assert_int_equal(vs_persons_read(path, &t), VS_EFORMAT);
	assert_string_equal(vs_error_message(), want);
	assert_int_equal(t.n, 0);
	assert_null(t.items);
}

static void test_bad_persons_and_areas(void **state)
{
	struct vs_risk_map *m = vs_risk_map_new();
	char want[8192];
	(void)state;

	expect_bad_persons("persons-dup-id.csv", ":3: field 'person_id': duplicate person 'p001'");
	expect_bad_persons("persons-bad-attr-key.csv",
			   ":2: field 'attrs': attribute key 'Depositor' is not [a-z0-9_]+");
	expect_bad_persons("persons-dup-attr.csv",
			   ":2: field 'attrs': duplicate attribute 'depositor'");
	expect_bad_persons("persons-attr-no-value.csv",
			   ":2: field 'attrs': attribute 'depositor' is not key=value");
	expect_bad_persons("persons-bad-area.csv",
			   ":2: field 'home_area': not an area path '/Hebei/Shijiazhuang'");

	assert_int_equal(vs_areas_read(fixture("bad/areas-bad-level.csv"), m, 1), VS_EFORMAT);
	snprintf(want, sizeof(want),
		 "%s:2: field 'level': not a risk level 'severe' (low, medium or high)",
		 fixture("bad/areas-bad-level.csv"));
	assert_string_equal(vs_error_message(), want);
	assert_int_equal(vs_areas_read(fixture("bad/areas-end-before-start.csv"), m, 1),
			 VS_EFORMAT);
	snprintf(want, sizeof(want),
		 "%s:2: field 'end': not after start '2022-06-05T00:00:00+08:00'",
		 fixture("bad/areas-end-before-start.csv"));
	assert_string_equal(vs_error_message(), want);
	vs_risk_map_free(m);
}

static void test_attrs_edge_cases(void **state)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	(void)state;

	assert_int_equal(vs_person_table_add(&t, "a", "h", "Henan", "k=v=w;x_1=2"), 0);
	assert_string_equal(vs_person_attr(&t, 0, "k"), "v=w");
	assert_int_equal(vs_person_table_add(&t, "b", NULL, "Henan", NULL), 0);
	assert_string_equal(t.items[1].household_id, "");
	assert_int_equal(vs_person_table_add(&t, "c", "", "Henan", "k=v;"), VS_EFORMAT);
	assert_string_equal(vs_error_message(),
			    "person 'c': field 'attrs': empty attribute in 'k=v;'");
	assert_int_equal(vs_person_table_add(&t, "c", "", "Henan", "k="), VS_EFORMAT);
	assert_string_equal(vs_error_message(),
			    "person 'c': field 'attrs': attribute 'k' has an empty value");
	assert_int_equal(vs_person_table_add(&t, "a", "", "Henan", ""), VS_EFORMAT);
	assert_string_equal(vs_error_message(),
			    "person 'a': field 'person_id': duplicate person 'a'");
	assert_int_equal(vs_person_table_add(&t, "", "", "Henan", ""), VS_EFORMAT);
	/* Failed adds leave nothing behind. */
	assert_int_equal(t.n, 2);
	assert_int_equal(t.nattrs, 2);
	vs_person_table_release(&t);
}

/* Many persons: the id index grows and every id still maps to its row. */
static void test_many_persons(void **state)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	char id[32];
	(void)state;

	for (int i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "person-%d", i);
		assert_int_equal(vs_person_table_add(&t, id, "", "Henan/Zhengzhou",
						     "depositor=yes"),
				 0);
	}
	for (int i = 0; i < 100000; i += 7) {
		snprintf(id, sizeof(id), "person-%d", i);
		assert_int_equal(vs_person_table_find(&t, id), i);
	}
	vs_person_table_release(&t);
}

/* Read the tiny dataset and write it back: the writers give the same bytes, except lat/lon
 * written with six decimals. */
static void test_write_round_trip(void **state)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	struct vs_event_reader *r;
	struct vs_event ev;
	char path[256];
	struct vs_buf got = VS_BUF_INIT, want = VS_BUF_INIT;
	FILE *f;
	int rc;
	(void)state;

	read_tiny_persons(&t);
	snprintf(path, sizeof(path), "%s/persons.csv", tmpdir);
	f = fopen(path, "w");
	assert_int_equal(vs_persons_write_header(f), 0);
	for (size_t i = 0; i < t.n; i++)
		assert_int_equal(vs_person_write(f, &t, i), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(vs_file_read_all(path, 1 << 20, &got), 0);
	assert_int_equal(vs_file_read_all(fixture("datasets/tiny/persons.csv"), 1 << 20, &want), 0);
	assert_string_equal(got.data, want.data);

	snprintf(path, sizeof(path), "%s/events.csv", tmpdir);
	f = fopen(path, "w");
	assert_int_equal(vs_events_write_header(f), 0);
	assert_int_equal(vs_events_open(&r, fixture("datasets/tiny/events.csv"), &t), 0);
	while ((rc = vs_events_next(r, &ev)) == 1)
		assert_int_equal(vs_event_write(f, &ev), 0);
	assert_int_equal(rc, 0);
	vs_events_close(r);
	assert_int_equal(fclose(f), 0);
	vs_buf_release(&got);
	assert_int_equal(vs_file_read_all(path, 1 << 20, &got), 0);
	assert_non_null(strstr(got.data, "\n2022-06-10T02:00:00+00:00,p008,test,,,,,positive,,\n"));
	assert_non_null(strstr(got.data, ",p001,scan,aefc12d2-3c1c-56b1-b29c-2a52f2f02db7,"
					 "Hebei/Shijiazhuang/Changan,38.040100,114.540200,"
					 "red,,\n"));
	assert_non_null(strstr(got.data, ",\"红码, 请配合\",Henan/Zhengzhou\n"));
	/* And what was written reads back. */
	assert_int_equal(vs_events_open(&r, path, &t), 0);
	while ((rc = vs_events_next(r, &ev)) == 1)
		;
	assert_int_equal(rc, 0);
	vs_events_close(r);

	vs_buf_release(&got);
	vs_buf_release(&want);
	vs_person_table_release(&t);
}

static void test_writers_refuse_bad_rows(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vs_event ev = { 0 };
	(void)state;

	ev.ts = 1654949700;
	ev.offset_min = 480;
	ev.person_id = "p001";
	ev.kind = VS_EVENT_CODE;
	ev.reason = "x";
	assert_int_equal(vs_event_write(f, &ev), VS_EINVAL); /* no colour */
	assert_string_equal(vs_error_message(),
			    "event of person 'p001': field 'value': "
			    "not a colour '' (green, yellow or red)");
	ev.has_color = 1;
	ev.color = VS_YELLOW;
	assert_int_equal(vs_event_write(f, &ev), 0);
	ev.kind = VS_EVENT_SCAN;
	assert_int_equal(vs_event_write(f, &ev), VS_EINVAL); /* no venue */
	ev.venue_id = "not-a-uuid";
	assert_int_equal(vs_event_write(f, &ev), VS_EINVAL);
	ev.kind = VS_EVENT_LOCATE;
	ev.venue_id = NULL;
	assert_int_equal(vs_event_write(f, &ev), VS_EINVAL); /* no area */
	ev.area = "Henan/Zhengzhou/Erqi";
	ev.has_pos = 1;
	ev.lat = 91;
	assert_int_equal(vs_event_write(f, &ev), VS_EINVAL);
	ev.lat = 34.7447;
	ev.lon = 113.6566;
	assert_int_equal(vs_event_write(f, &ev), 0);
	assert_int_equal(vs_label_write(f, 1654949700, 480, "p001", "misuse:"), VS_EINVAL);
	assert_int_equal(vs_label_write(f, 1654949700, 480, "p001", "misuse:depositor"), 0);
	assert_int_equal(vs_area_level_write(f, "Henan", VS_RISK_HIGH, 10, 10, 0), VS_EINVAL);
	assert_int_equal(vs_area_level_write(f, "Henan", VS_RISK_HIGH, 0, 86400, 0), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "2022-06-11T20:15:00+08:00,p001,code,,,,,yellow,x,\n"
				  "2022-06-11T20:15:00+08:00,p001,locate,,Henan/Zhengzhou/Erqi,"
				  "34.744700,113.656600,,x,\n"
				  "2022-06-11T20:15:00+08:00,p001,misuse:depositor\n"
				  "Henan,high,1970-01-01T00:00:00+00:00,"
				  "1970-01-02T00:00:00+00:00\n");
	free(text);
}

/* The fixture's manifest is what vs_manifest_write makes of the fixture's files. */
static void test_manifest(void **state)
{
	static const char *const files[] = { "persons.csv", "venues.csv", "areas.csv",
					     "events.csv", "labels.csv" };
	const struct vs_manifest_file list[] = { { "persons.csv", 8 }, { "venues.csv", 4 },
						 { "areas.csv", 2 }, { "events.csv", 24 },
						 { "labels.csv", 11 } };
	struct vs_buf got = VS_BUF_INIT, want = VS_BUF_INIT;
	char path[256], hex[65];
	(void)state;

	for (size_t i = 0; i < 5; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "datasets/tiny/%s", files[i]);
		vs_buf_release(&got);
		assert_int_equal(vs_file_read_all(fixture(rel), 1 << 20, &got), 0);
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		assert_int_equal(vs_file_write_atomic(path, got.data, got.len, 0644), 0);
	}
	assert_int_equal(vs_manifest_write(tmpdir, "hand-written (fixtures/datasets/README.md)",
					   "0.1.0", 0, list, 5),
			 0);
	snprintf(path, sizeof(path), "%s/manifest.json", tmpdir);
	vs_buf_release(&got);
	assert_int_equal(vs_file_read_all(path, 1 << 20, &got), 0);
	assert_int_equal(vs_file_read_all(fixture("datasets/tiny/manifest.json"), 1 << 20, &want),
			 0);
	assert_string_equal(got.data, want.data);

	/* SHA-256 of the empty file, as everyone knows it. */
	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	assert_int_equal(vs_file_write_atomic(path, "", 0, 0644), 0);
	assert_int_equal(vs_file_sha256(path, hex), 0);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* A file listed but missing fails the manifest. */
	const struct vs_manifest_file missing[] = { { "nope.csv", 0 } };
	assert_int_equal(vs_manifest_write(tmpdir, "g", "v", 1, missing, 1), VS_ENOTFOUND);
	vs_buf_release(&got);
	vs_buf_release(&want);
}

static void test_kind_names(void **state)
{
	enum vs_event_kind k;
	(void)state;

	for (int i = 0; i < VS_EVENT_KINDS; i++) {
		const char *name = vs_event_kind_name((enum vs_event_kind)i);

		assert_int_equal(vs_event_kind_parse(name, &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(vs_event_kind_name((enum vs_event_kind)99), "?");
	assert_int_equal(vs_event_kind_parse("Scan", &k), VS_EFORMAT);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiny_persons),
		cmocka_unit_test(test_tiny_events),
		cmocka_unit_test(test_tiny_areas_and_venues),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_bad_persons_and_areas),
		cmocka_unit_test(test_attrs_edge_cases),
		cmocka_unit_test(test_many_persons),
		cmocka_unit_test(test_write_round_trip),
		cmocka_unit_test(test_writers_refuse_bad_rows),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_kind_names),
	};
	return cmocka_run_group_tests_name("dataset", tests, setup, teardown);
}

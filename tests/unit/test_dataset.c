/*
 * Unit tests for dataset.c: the tiny fixture dataset read in full, every corrupt sample in
 * fixtures/bad/ with its exact message, writers round-tripping through the readers, and
 * manifest.json reproducing the fixture's bytes; and the event reader's fast paths and
 * second thread against the general checks on generated rows, bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "venuescan/codec.h"
#include "venuescan/csv.h"
#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/rules.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"


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


/* ---- the event reader's fast paths against the general checks ------------------------ */

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A time text: mostly the writers' layout, with every calendar edge, some other forms. */
static void gen_time(char *out, size_t size)
{
	static const char *const offs[] = { "+08:00", "Z", "-00:00", "+18:00", "-18:00", "+18:01",
					    "+14:45", "-03:30", "+05:60", "+0800", "" };
	int y = pick(8) ? 2020 + (int)pick(6) : (int)pick(10000);
	int mon = pick(10) ? 1 + (int)pick(12) : (int)pick(14);
	int day = pick(4) ? 1 + (int)pick(28) : 28 + (int)pick(5);
	int h = pick(20) ? (int)pick(24) : 24, mi = pick(20) ? (int)pick(60) : 60;
	int sec = pick(20) ? (int)pick(60) : 60;
	const char *off = offs[pick(6) ? 0 : pick(sizeof(offs) / sizeof(*offs))];

	if (mon == 2 && pick(2))
		day = 29;
	switch (pick(40)) {
	case 0:
		snprintf(out, size, "%04d-%02d-%02dT%02d:%02d%s", y, mon, day, h, mi, off);
		break;
	case 1:
		snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%u%s", y, mon, day, h, mi, sec,
			 pick(1000), off);
		break;
	case 2:
		snprintf(out, size, "%04d-%02d-%02dt%02d:%02d:%02d%s", y, mon, day, h, mi, sec, off);
		break;
	case 3:
		snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%sx", y, mon, day, h, mi, sec, off);
		break;
	default:
		snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%s", y, mon, day, h, mi, sec, off);
	}
}

/* A number text: plain decimals of 1 to 18 digits, signs, leading zeros, other forms. */
static void gen_number(char *out, size_t size, int int_digits)
{
	static const char *const odd[] = { "1e-3", "-1E2", ".5", "5.", "+3.25", "-0", "-0.0", "0",
					   "90", "-90", "180", "90.000000000000001", "1.2.3", "-",
					   "nan", "inf", " 1", "0x10", "1e400", "1e-400", "--1",
					   "89.99999999999999999", "00000000000000034.5" };
	int n = 1 + (int)pick(18), dot = pick(8) ? (int)pick((unsigned)n) : -1;
	size_t k = 0;

	if (!pick(20)) {
		snprintf(out, size, "%s", odd[pick(sizeof(odd) / sizeof(*odd))]);
		return;
	}
	if (pick(2))
		out[k++] = '-';
	for (int i = 0; i < n && k + 2 < size; i++) {
		if (i == dot && i > 0)
			out[k++] = '.';
		out[k++] = (char)(i < int_digits || i == 0 ? '0' + pick(10) : '0' + pick(10));
	}
	out[k] = '\0';
	/* most values in range: cut the integer part to int_digits */
	if (dot > int_digits && pick(4)) {
		char *d = strchr(out, '.');
		size_t lead = (size_t)(out[0] == '-'), keep = (size_t)int_digits;
		if (d && (size_t)(d - out) - lead > keep)
			memmove(out + lead + keep, d, strlen(d) + 1);
	}
}

static void gen_uuid(char *out)
{
	static const char hex[] = "0123456789abcdefABCDEF";

	for (int i = 0; i < 36; i++)
		out[i] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[pick(22)];
	out[36] = '\0';
	if (!pick(50))
		out[pick(36)] = "g-Z 0\x10\x19\x01:/@`GF"[pick(13)];
}

static const char *const gen_areas[] = { "Henan/Zhengzhou/Erqi", "Henan", "河南/郑州/二七",
					 "Henan/Zheng zhou", "Henan/Zhengzhou/Erqi/X", "Henan/",
					 " Henan", "Henan /Kaifeng", "A/B/C" };

struct expect {
	int valid;
	int64_t ts;
	int off;
	int has_pos;
	double lat, lon;
};

/* One generated event row; returns its expectation from the general functions alone. */
static struct expect gen_row(FILE *out, unsigned long i)
{
	static const char *const kinds[] = { "locate", "scan", "code", "test", "contact", "entry",
					     "action" };
	char t[96], lat[48], lon[48], venue[40] = "", area[64] = "";
	const char *kind = kinds[pick(7)], *value = "", *row[10];
	char pid[32];
	struct expect e = { 1, 0, 0, 0, 0, 0 };
	gen_time(t, sizeof(t));
	if (vs_time_parse(t, &e.ts, &e.off))
		e.valid = 0;
	lat[0] = lon[0] = '\0';
	if (pick(5)) {
		gen_number(lat, sizeof(lat), 2);
		gen_number(lon, sizeof(lon), 3);
		e.has_pos = 1;
		if (vs_number_parse(lat, -90, 90, &e.lat) || vs_number_parse(lon, -180, 180, &e.lon))
			e.valid = 0;
	}
	if (!strcmp(kind, "scan") || !pick(10)) {
		gen_uuid(venue);
		if (!vs_uuid_valid(venue))
			e.valid = 0;
	}
	if (!strcmp(kind, "locate") || pick(2)) {
		snprintf(area, sizeof(area), "%s", gen_areas[pick(9)]);
		if (!vs_area_valid(area))
			e.valid = 0;
	}
	if (!strcmp(kind, "code") || (!strcmp(kind, "scan") && pick(2)))
		value = (const char *[]){ "green", "yellow", "red", "Red" }[pick(4)];
	else if (!strcmp(kind, "test"))
		value = pick(2) ? "positive" : "negative";
	else if (!strcmp(kind, "action"))
		value = pick(20) ? "petition" : "Petition!";
	if (!strcmp(value, "Red") || !strcmp(value, "Petition!"))
		e.valid = 0;
	snprintf(pid, sizeof(pid), "p%lu", i % 1000);
	row[0] = t;
	row[1] = pid;
	row[2] = kind;
	row[3] = venue;
	row[4] = area;
	row[5] = lat;
	row[6] = lon;
	row[7] = value;
	row[8] = pick(10) ? "" : "有高风险地区旅居史, \"quoted\"";
	row[9] = pick(3) ? "" : "Henan";
	assert_int_equal(vs_csv_write_row(out, row, 10), 0);
	return e;
}

static void read_and_compare(const char *path, const struct expect *want, size_t n)
{
	struct vs_event_reader *r;
	struct vs_event ev;
	size_t i = 0;
	int rc;

	if (vs_events_open(&r, path, NULL))
		fail_msg("%s", vs_error_message());
	while ((rc = vs_events_next(r, &ev)) == 1) {
		assert_true(i < n);
		assert_int_equal(ev.line, i + 2);
		assert_true(ev.ts == want[i].ts);
		assert_int_equal(ev.offset_min, want[i].off);
		assert_int_equal(ev.has_pos, want[i].has_pos);
		if (want[i].has_pos) {
			/* the same bits as strtod, -0.0 included */
			assert_memory_equal(&ev.lat, &want[i].lat, sizeof(double));
			assert_memory_equal(&ev.lon, &want[i].lon, sizeof(double));
		}
		i++;
	}
	if (rc < 0)
		fail_msg("%s", vs_error_message());
	assert_int_equal(i, n);
	vs_events_close(r);
}

/* Write rows until n valid (or, with valid 0, n invalid) ones are in path. */
static size_t gen_file(const char *path, int valid, size_t n, struct expect *want)
{
	FILE *out = fopen(path, "w");
	size_t k = 0;

	assert_non_null(out);
	assert_int_equal(vs_events_write_header(out), 0);
	for (unsigned long i = 0; k < n; i++) {
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		struct expect e;

		assert_non_null(mem);
		e = gen_row(mem, i);
		assert_int_equal(fclose(mem), 0);
		if (e.valid == valid) {
			assert_int_equal(fwrite(text, 1, len, out), len);
			if (want)
				want[k] = e;
			k++;
		}
		free(text);
	}
	assert_int_equal(fclose(out), 0);
	return k;
}

/*
 * Rows of generated times, numbers, venue ids and areas that the general functions
 * (vs_time_parse, vs_number_parse, vs_uuid_valid, vs_area_valid) accept: the reader must
 * give the same values, bit for bit, on two threads and on one.  VS_TEST_EVENT_ROWS sets
 * the count (default 100000; it was run with millions when the fast paths were written).
 */
static void test_fast_paths_agree(void **state)
{
	const char *env = getenv("VS_TEST_EVENT_ROWS");
	size_t n = env ? strtoul(env, NULL, 10) : 100000;
	struct expect *want = vs_xcalloc(n, sizeof(*want));
	char path[256];
	(void)state;

	snprintf(path, sizeof(path), "%s/gen-valid.csv", tmpdir);
	gen_file(path, 1, n, want);
	read_and_compare(path, want, n);
	setenv("VS_EVENTS_THREAD", "0", 1);
	read_and_compare(path, want, n);
	unsetenv("VS_EVENTS_THREAD");
	free(want);
}

/*
 * Generated rows that break a rule, each after one good row: the error is the general
 * check's, "FILE:3: field 'F': ...", on both paths, whichever fast path met the row first.
 */
static void test_fast_paths_refuse(void **state)
{
	char path[256], bad[256], msg[2][1024];
	(void)state;

	snprintf(path, sizeof(path), "%s/gen-invalid.csv", tmpdir);
	snprintf(bad, sizeof(bad), "%s/one-bad.csv", tmpdir);
	gen_file(path, 0, 400, NULL);
	for (int mode = 0; mode < 2; mode++) {
		FILE *in = fopen(path, "r");
		char line[4096], header[512];

		assert_non_null(in);
		assert_non_null(fgets(header, sizeof(header), in));
		if (mode)
			setenv("VS_EVENTS_THREAD", "0", 1);
		for (int k = 0; k < 400; k++) {
			struct vs_event_reader *r;
			struct vs_event ev;
			FILE *out;
			int rc;

			/* rows may span lines (quoted reasons hold no line breaks here) */
			assert_non_null(fgets(line, sizeof(line), in));
			out = fopen(bad, "w");
			fprintf(out, "%s2022-07-01T00:00:00+08:00,p1,contact,,,,,,,\n%s", header, line);
			assert_int_equal(fclose(out), 0);
			assert_int_equal(vs_events_open(&r, bad, NULL), 0);
			assert_int_equal(vs_events_next(r, &ev), 1);
			rc = vs_events_next(r, &ev);
			assert_int_equal(rc, VS_EFORMAT);
			snprintf(msg[mode], sizeof(msg[0]), "%s", vs_error_message());
			vs_events_close(r);
			if (strncmp(msg[mode] + strlen(bad), ":3: field '", 11))
				fail_msg("%s", msg[mode]);
			/* the same row read on the caller's thread gives the same message */
			if (mode == 0) {
				setenv("VS_EVENTS_THREAD", "0", 1);
				assert_int_equal(vs_events_open(&r, bad, NULL), 0);
				assert_int_equal(vs_events_next(r, &ev), 1);
				assert_int_equal(vs_events_next(r, &ev), VS_EFORMAT);
				assert_string_equal(vs_error_message(), msg[0]);
				vs_events_close(r);
				unsetenv("VS_EVENTS_THREAD");
			}
		}
		unsetenv("VS_EVENTS_THREAD");
		fclose(in);
	}
}

/*
 * An error far into a file read on two threads: every event before it is delivered, in
 * order, then the error naming the first bad line, again on every later call.
 */
static void test_error_after_many_batches(void **state)
{
	char path[256], want[512];
	(void)state;

	snprintf(path, sizeof(path), "%s/late-error.csv", tmpdir);
	for (int mode = 0; mode < 2; mode++) {
		FILE *out = fopen(path, "w");
		struct vs_event_reader *r;
		struct vs_event ev;
		unsigned long n = 0;

		assert_int_equal(vs_events_write_header(out), 0);
		for (int i = 0; i < 50000; i++)
			fprintf(out, "2022-07-01T00:00:%02d+08:00,p%d,contact,,,,,,,\n", i % 60, i);
		fprintf(out, "2022-07-01T00:00:00+08:00,p1,visit,,,,,,,\n");
		for (int i = 0; i < 20000; i++)
			fprintf(out, "2022-07-01T00:00:00+08:00,p1,contact,,,,,,,\n");
		assert_int_equal(fclose(out), 0);
		if (mode)
			setenv("VS_EVENTS_THREAD", "0", 1);
		assert_int_equal(vs_events_open(&r, path, NULL), 0);
		while (vs_events_next(r, &ev) == 1) {
			assert_int_equal(ev.line, n + 2);
			n++;
		}
		assert_int_equal(n, 50000);
		snprintf(want, sizeof(want), "%s:50002: field 'kind': unknown kind 'visit'", path);
		assert_string_equal(vs_error_message(), want);
		if (!mode) {
			assert_int_equal(vs_events_next(r, &ev), VS_EFORMAT);
			assert_string_equal(vs_error_message(), want);
		}
		vs_events_close(r);
		unsetenv("VS_EVENTS_THREAD");
	}
}

/* The general checks, each as "is this field text valid". */
static int valid_uuid(const char *s)
{
	return vs_uuid_valid(s);
}

static int valid_area(const char *s)
{
	return vs_area_valid(s);
}

static int valid_time(const char *s)
{
	int64_t t;

	return vs_time_parse(s, &t, NULL) == 0;
}

static int valid_lat(const char *s)
{
	double v;

	return vs_number_parse(s, -90, 90, &v) == 0;
}

/*
 * Every byte value at places of a venue id, an area, a time and a latitude (ends, dashes,
 * slashes, digits, the offset): the reader accepts exactly what the general check
 * accepts (and UTF-8), and the value it gives is the general function's.  (The fast
 * paths are the same code on either thread: the default, two threads, is used.)
 */
static void test_every_byte_at_key_places(void **state)
{
	static const struct {
		int col;
		const char *kind, *base;
		int places[6];
		int (*valid)(const char *);
	} cases[] = {
		{ 3, "scan", "0123abcd-ABCD-4ef0-9a8B-0123456789af", { 0, 8, 9, 30, 35, -1 },
		  valid_uuid },
		{ 4, "locate", "Henan/Zhengzhou/Erqi", { 0, 4, 5, 6, 19, -1 }, valid_area },
		{ 0, "contact", "2024-02-29T23:59:59+18:00", { 0, 6, 9, 10, 19, 24 }, valid_time },
		{ 5, "contact", "-89.99999", { 0, 1, 3, 8, -1, -1 }, valid_lat },
		{ 5, "contact", "1.12345678", { 0, 1, 2, 5, 9, -1 }, valid_lat },
		{ 5, "contact", "0.123456789012", { 1, 2, 9, 10, 13, -1 }, valid_lat },
	};
	char path[256];
	(void)state;

	snprintf(path, sizeof(path), "%s/bytes.csv", tmpdir);
	{
		for (size_t k = 0; k < sizeof(cases) / sizeof(*cases); k++) {
			for (int pl = 0; pl < 6 && cases[k].places[pl] >= 0; pl++) {
				for (int c = 1; c < 256; c++) {
					char text[64];
					const char *row[10] = { "2022-07-01T00:00:00+08:00", "p1",
								cases[k].kind, "", "", "", "", "",
								"", "" };
					struct vs_event_reader *r;
					struct vs_event ev;
					FILE *out = fopen(path, "w");
					int rc, ok;

					snprintf(text, sizeof(text), "%s", cases[k].base);
					text[cases[k].places[pl]] = (char)c;
					row[cases[k].col] = text;
					if (!strcmp(cases[k].kind, "scan"))
						row[3] = row[3][0] ? row[3] : text;
					if (cases[k].col == 5)
						row[6] = "113.5";
					ok = cases[k].valid(text) && vs_utf8_valid(text, strlen(text));
					assert_int_equal(vs_events_write_header(out), 0);
					assert_int_equal(vs_csv_write_row(out, row, 10), 0);
					assert_int_equal(fclose(out), 0);
					assert_int_equal(vs_events_open(&r, path, NULL), 0);
					rc = vs_events_next(r, &ev);
					if (ok && rc != 1)
						fail_msg("'%s' refused: %s", text, vs_error_message());
					if (!ok && rc != VS_EFORMAT)
						fail_msg("byte 0x%02x at %d accepted in '%s'", c,
							 cases[k].places[pl], text);
					if (ok && cases[k].col == 0) {
						int64_t t;
						int off;
						assert_int_equal(vs_time_parse(text, &t, &off), 0);
						assert_true(ev.ts == t);
						assert_int_equal(ev.offset_min, off);
					}
					if (ok && cases[k].col == 5) {
						double v;
						assert_int_equal(vs_number_parse(text, -90, 90, &v), 0);
						assert_memory_equal(&ev.lat, &v, sizeof(v));
					}
					vs_events_close(r);
				}
			}
		}
	}
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
		cmocka_unit_test(test_fast_paths_agree),
		cmocka_unit_test(test_fast_paths_refuse),
		cmocka_unit_test(test_error_after_many_batches),
		cmocka_unit_test(test_every_byte_at_key_places),
	};
	return cmocka_run_group_tests_name("dataset", tests, setup, teardown);
}

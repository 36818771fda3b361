/*
 * Unit tests for venues.c: the fixture venue list, each corrupt sample in fixtures/bad/
 * with its exact message, and the validators (UUID, area, number, distance).
 * FIXTURES (set by the Makefile) points at fixtures/; "fixtures" is the default.
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

#include "venuescan/error.h"
#include "venuescan/venues.h"

static const char *fixture(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "fixtures", rel);
	return path;
}

static void test_fixture_list(void **state)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	size_t banks = 0, zhengzhou = 0;
	int found_compound = 0;
	(void)state;

	if (vs_venues_read(fixture("venues/venues.csv"), &list))
		fail_msg("%s", vs_error_message());
	assert_true(list.n >= 400);
	assert_string_equal(list.items[0].name, "郑州车站西南出口");
	assert_string_equal(list.items[0].area, "Henan/Zhengzhou/Erqi");
	assert_true(list.items[0].lat == 34.7447);
	assert_true(list.items[0].lon == 113.6566);
	for (size_t i = 0; i < list.n; i++) {
		const struct vs_venue *v = &list.items[i];

		assert_true(vs_uuid_valid(v->id));
		assert_true(vs_area_valid(v->area));
		if (strstr(v->name, "村镇银行"))
			banks++;
		if (!strncmp(v->area, "Henan/Zhengzhou/", 16))
			zhengzhou++;
		if (!strcmp(v->name, "融创中原大观"))
			found_compound = 1;
		/* Every venue is in China, well away from the edges of the ranges. */
		assert_true(v->lat > 18 && v->lat < 54 && v->lon > 73 && v->lon < 135);
	}
	assert_true(banks >= 4);
	assert_true(zhengzhou >= 100);
	assert_true(found_compound);
	vs_venue_list_release(&list);
	assert_null(list.items);
	assert_int_equal(list.n, 0);
}

static void expect_bad(const char *rel, int code, const char *want_after_path)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	char want[8192];
	const char *path = fixture(rel);

	snprintf(want, sizeof(want), "%s%s", path, want_after_path);
	assert_int_equal(vs_venues_read(path, &list), code);
	assert_string_equal(vs_error_message(), want);
	assert_null(list.items);
	assert_int_equal(list.n, 0);
}

static void test_bad_fixtures(void **state)
{
	(void)state;

	expect_bad("bad/venues-wrong-fields.csv", VS_EFORMAT, ":3: expected 5 fields, found 4");
	expect_bad("bad/venues-bad-lat.csv", VS_EFORMAT, ":3: field 'lat': not a number 'abc'");
	expect_bad("bad/venues-bad-utf8.csv", VS_EFORMAT, ":3: field 'name': invalid UTF-8");
	expect_bad("bad/venues-dup-id.csv", VS_EFORMAT,
		   ":4: field 'venue_id': duplicate id 'aefc12d2-3c1c-56b1-b29c-2a52f2f02db7' "
		   "(first on line 2)");
	expect_bad("bad/venues-bad-uuid.csv", VS_EFORMAT,
		   ":3: field 'venue_id': not a UUID 'a6c72b4a-0535-55d3-8d30-dd3612e717d'");
	expect_bad("bad/venues-bad-quote.csv", VS_EFORMAT,
		   ":2: field 'name': unexpected character after a closing quote");
	expect_bad("bad/venues-no-header.csv", VS_EFORMAT, ":1: empty file, expected a header row");
}


static const char *write_tmp(const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/venues.csv", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void expect_tmp_bad(const char *row, const char *want_after_path)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	char text[1024], want[2048];
	const char *path;

	snprintf(text, sizeof(text), "venue_id,name,area,lat,lon\n%s\n", row);
	path = write_tmp(text);
	snprintf(want, sizeof(want), "%s%s", path, want_after_path);
	assert_int_equal(vs_venues_read(path, &list), VS_EFORMAT);
	assert_string_equal(vs_error_message(), want);
}

static void test_field_checks(void **state)
{
	const char *id = "aefc12d2-3c1c-56b1-b29c-2a52f2f02db7";
	char row[512];
	(void)state;

	snprintf(row, sizeof(row), "%s,,Henan/Zhengzhou/Erqi,34.7,113.6", id);
	expect_tmp_bad(row, ":2: field 'name': empty");
	snprintf(row, sizeof(row), "%s,x,Henan//Erqi,34.7,113.6", id);
	expect_tmp_bad(row, ":2: field 'area': not an area path 'Henan//Erqi'");
	snprintf(row, sizeof(row), "%s,x,Henan/Zhengzhou/Erqi,95,113.6", id);
	expect_tmp_bad(row, ":2: field 'lat': out of range [-90, 90] '95'");
	snprintf(row, sizeof(row), "%s,x,Henan/Zhengzhou/Erqi,34.7,-180.5", id);
	expect_tmp_bad(row, ":2: field 'lon': out of range [-180, 180] '-180.5'");
	snprintf(row, sizeof(row), "%s,x,Henan/Zhengzhou/Erqi,nan,113.6", id);
	expect_tmp_bad(row, ":2: field 'lat': not a number 'nan'");
	snprintf(row, sizeof(row), "%s,x,Henan/Zhengzhou/Erqi,34.7,", id);
	expect_tmp_bad(row, ":2: field 'lon': not a number ''");

	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	const char *path = write_tmp("venue_id,name,area\n");
	char want[512];

	snprintf(want, sizeof(want), "%s:1: missing column 'lat'", path);
	assert_int_equal(vs_venues_read(path, &list), VS_EFORMAT);
	assert_string_equal(vs_error_message(), want);
}

static void test_column_order_and_case(void **state)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	const char *path = write_tmp("lon,lat,extra,name,area,venue_id\n"
				     "113.6566,34.7447,,\"站, 西南\",Henan,"
				     "AEFC12D2-3C1C-56B1-B29C-2A52F2F02DB7\n");
	(void)state;

	if (vs_venues_read(path, &list))
		fail_msg("%s", vs_error_message());
	assert_int_equal(list.n, 1);
	assert_string_equal(list.items[0].id, "aefc12d2-3c1c-56b1-b29c-2a52f2f02db7");
	assert_string_equal(list.items[0].name, "站, 西南");
	assert_string_equal(list.items[0].area, "Henan");
	vs_venue_list_release(&list);
}

/* Enough rows to make the duplicate check's table grow several times. */
static void test_many_venues(void **state)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	char path[256];
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "%s/many.csv", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("venue_id,name,area,lat,lon\n", f);
	for (int i = 0; i < 5000; i++)
		fprintf(f, "00000000-0000-4000-8000-%012d,v%d,A/B/C,1,2\n", i, i);
	fprintf(f, "00000000-0000-4000-8000-%012d,again,A/B/C,1,2\n", 1234);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(vs_venues_read(path, &list), VS_EFORMAT);
	assert_non_null(strstr(vs_error_message(),
			       ":5002: field 'venue_id': duplicate id "
			       "'00000000-0000-4000-8000-000000001234' (first on line 1236)"));
}

static void test_validators(void **state)
{
	double v;
	(void)state;

	assert_true(vs_uuid_valid("aefc12d2-3c1c-56b1-b29c-2a52f2f02db7"));
	assert_true(vs_uuid_valid("AEFC12D2-3C1C-56B1-B29C-2A52F2F02DB7"));
	assert_false(vs_uuid_valid("aefc12d2-3c1c-56b1-b29c-2a52f2f02db"));
	assert_false(vs_uuid_valid("aefc12d2-3c1c-56b1-b29c-2a52f2f02db77"));
	assert_false(vs_uuid_valid("aefc12d23c1c-56b1-b29c-2a52f2f02db7-"));
	assert_false(vs_uuid_valid("gefc12d2-3c1c-56b1-b29c-2a52f2f02db7"));
	assert_false(vs_uuid_valid(""));

	assert_true(vs_area_valid("Henan"));
	assert_true(vs_area_valid("Henan/Zhengzhou"));
	assert_true(vs_area_valid("Henan/Zhengzhou/Erqi"));
	assert_true(vs_area_valid("河南/郑州/二七"));
	assert_true(vs_area_valid("Hebei/Shijiazhuang/Chang an"));
	assert_false(vs_area_valid(""));
	assert_false(vs_area_valid("/Henan"));
	assert_false(vs_area_valid("Henan/"));
	assert_false(vs_area_valid("Henan//Erqi"));
	assert_false(vs_area_valid("A/B/C/D"));
	assert_false(vs_area_valid(" Henan"));
	assert_false(vs_area_valid("Henan/Zhengzhou /Erqi"));
	assert_false(vs_area_valid("Henan\t/Zhengzhou"));
	assert_false(vs_area_valid("Hen\nan"));

	assert_int_equal(vs_number_parse("34.7447", -90, 90, &v), 0);
	assert_true(v == 34.7447);
	assert_int_equal(vs_number_parse("-1e-3", -90, 90, &v), 0);
	assert_true(v == -0.001);
	assert_int_equal(vs_number_parse("90", -90, 90, &v), 0);
	assert_int_equal(vs_number_parse(".5", -90, 90, &v), 0);
	static const char *const bad[] = { "", " 1", "1 ", "0x10", "inf", "nan", "1e999",
					   "1,5", "+", ".", "e5", "1e", "--1", "34.7a" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		v = 7;
		if (vs_number_parse(bad[i], -1e300, 1e300, &v) != VS_EFORMAT)
			fail_msg("'%s' accepted", bad[i]);
		snprintf(want, sizeof(want), "not a number '%s'", bad[i]);
		assert_string_equal(vs_error_message(), want);
		assert_true(v == 7);
	}
}

static void test_distance(void **state)
{
	/* Zhengzhou station to Shijiazhuang station: about 360 km (great circle). */
	double d = vs_distance_km(34.7447, 113.6566, 37.9963, 114.4859);
	(void)state;

	assert_true(d > 355 && d < 370);
	assert_true(vs_distance_km(34.7447, 113.6566, 34.7447, 113.6566) == 0);
	/* A quarter meridian: pi/2 * R. */
	d = vs_distance_km(0, 0, 90, 0);
	assert_true(d > 10007.5 && d < 10007.6);
	/* Antipodes do not produce NaN. */
	d = vs_distance_km(0, 0, 0, 180);
	assert_true(d > 20015 && d < 20016);
	/* Symmetric. */
	assert_true(vs_distance_km(31.2, 121.5, 30.6, 104.0) ==
		    vs_distance_km(30.6, 104.0, 31.2, 121.5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_list),
		cmocka_unit_test(test_bad_fixtures),
		cmocka_unit_test(test_field_checks),
		cmocka_unit_test(test_column_order_and_case),
		cmocka_unit_test(test_many_venues),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_distance),
	};
	return cmocka_run_group_tests_name("venues", tests, setup, teardown);
}

/* Unit tests for time.c: ISO 8601 parsing and formatting, calendar edges, bad texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/error.h"
#include "venuescan/time.h"

static int64_t parse_ok(const char *s, int *off)
{
	int64_t t = 0;
	int rc = vs_time_parse(s, &t, off);

	if (rc)
		fail_msg("'%s': %s", s, vs_error_message());
	return t;
}

static void test_parse_reference_times(void **state)
{
	int off = 99;
	(void)state;

	/* The evening the station code started turning people red (SPEC §2). */
	assert_int_equal(parse_ok("2022-06-11T20:15:00+08:00", &off), 1654949700);
	assert_int_equal(off, 480);
	assert_int_equal(parse_ok("2022-06-11T12:15:00Z", &off), 1654949700);
	assert_int_equal(off, 0);
	assert_int_equal(parse_ok("2022-06-11T12:15:00+00:00", NULL), 1654949700);
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z", NULL), 0);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z", NULL), -1);
	assert_int_equal(parse_ok("2000-01-01T00:00:00Z", NULL), 946684800);
	assert_int_equal(parse_ok("2038-01-19T03:14:08Z", NULL), 2147483648LL);
	assert_int_equal(parse_ok("0000-01-01T00:00:00Z", NULL), -62167219200LL);
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z", NULL), 253402300799LL);
}

static void test_parse_optional_parts(void **state)
{
	int off;
	(void)state;

	assert_int_equal(parse_ok("2022-06-11T20:15+08:00", NULL), 1654949700);
	assert_int_equal(parse_ok("2022-06-11T20:15:00.999+08:00", NULL), 1654949700);
	assert_int_equal(parse_ok("2022-06-11T20:15:00,5+08:00", NULL), 1654949700);
	assert_int_equal(parse_ok("2022-06-11T20:15:00.123456789Z", NULL), 1654949700 + 8 * 3600);
	assert_int_equal(parse_ok("2022-06-11T07:45:00-04:30", &off), 1654949700);
	assert_int_equal(off, -270);
	assert_int_equal(parse_ok("2022-06-12T06:15:00+18:00", &off), 1654949700);
	assert_int_equal(off, 1080);
}

static void test_leap_years(void **state)
{
	(void)state;

	assert_int_equal(parse_ok("2024-02-29T00:00:00Z", NULL), 1709164800);
	assert_int_equal(parse_ok("2000-02-29T00:00:00Z", NULL), 951782400);
	assert_int_equal(parse_ok("2020-03-01T00:00:00Z", NULL) -
				 parse_ok("2020-02-28T00:00:00Z", NULL),
			 2 * 86400);
	assert_int_equal(parse_ok("2022-03-01T00:00:00Z", NULL) -
				 parse_ok("2022-02-28T00:00:00Z", NULL),
			 86400);
	assert_int_equal(parse_ok("2023-01-01T00:00:00Z", NULL) -
				 parse_ok("2022-01-01T00:00:00Z", NULL),
			 365 * 86400);
	assert_int_equal(parse_ok("2025-01-01T00:00:00Z", NULL) -
				 parse_ok("2024-01-01T00:00:00Z", NULL),
			 366 * 86400);
}

static void test_bad_texts(void **state)
{
	static const char *const bad[] = {
		"",
		"2022-13-01T00:00:00Z",       /* month 13 */
		"2022-00-10T00:00:00Z",       /* month 0 */
		"2022-06-00T00:00:00Z",       /* day 0 */
		"2022-06-31T00:00:00Z",       /* June has 30 days */
		"2022-02-29T00:00:00Z",       /* not a leap year */
		"1900-02-29T00:00:00Z",       /* century, not a leap year */
		"2022-06-11T24:00:00+08:00",  /* hour 24 */
		"2022-06-11T20:60:00+08:00",  /* minute 60 */
		"2022-06-11T20:15:60+08:00",  /* leap second */
		"2022-06-11T20:15:00",        /* missing offset */
		"2022-06-11",                 /* date only */
		"2022-06-11T20:15:00+08:00x", /* trailing junk */
		"2022-06-11T20:15:00+08:00 ", /* trailing space */
		" 2022-06-11T20:15:00+08:00", /* leading space */
		"2022-06-11 20:15:00+08:00",  /* space for T */
		"2022-06-11t20:15:00+08:00",  /* lowercase t */
		"2022-06-11T20:15:00+0800",   /* basic-form offset */
		"2022-06-11T20:15:00+08",     /* hour-only offset */
		"2022-06-11T20:15:00+18:01",  /* offset too large */
		"2022-06-11T20:15:00+08:60",  /* offset minutes */
		"2022-06-11T20:15:00.+08:00", /* empty fraction */
		"2022-06-11T20:15:00.1234567890Z", /* fraction too long */
		"22-06-11T20:15:00+08:00",    /* two-digit year */
		"2022-6-11T20:15:00+08:00",   /* one-digit month */
		"+2022-06-11T20:15:00+08:00", /* signed year */
		"1654949700",                 /* unix seconds are not ISO */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 12345;
		char want[128];

		if (vs_time_parse(bad[i], &t, NULL) != VS_EFORMAT)
			fail_msg("'%s' was accepted", bad[i]);
		snprintf(want, sizeof(want), "not an ISO 8601 time '%s'", bad[i]);
		assert_string_equal(vs_error_message(), want);
		assert_int_equal(t, 12345);
	}
}

static void test_parse_any(void **state)
{
	int64_t t;
	(void)state;

	assert_int_equal(vs_time_parse_any("1654949700", &t), 0);
	assert_int_equal(t, 1654949700);
	assert_int_equal(vs_time_parse_any("-1", &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(vs_time_parse_any("2022-06-11T20:15:00+08:00", &t), 0);
	assert_int_equal(t, 1654949700);
	assert_int_equal(vs_time_parse_any("165494970x", &t), VS_EFORMAT);
	assert_string_equal(vs_error_message(),
			    "not an ISO 8601 time or unix seconds '165494970x'");
	assert_int_equal(vs_time_parse_any("", &t), VS_EFORMAT);
	assert_int_equal(vs_time_parse_any("-", &t), VS_EFORMAT);
	assert_int_equal(vs_time_parse_any("+5", &t), VS_EFORMAT);
	assert_int_equal(vs_time_parse_any("99999999999999999999999", &t), VS_EFORMAT);
	assert_int_equal(vs_time_parse_any("253402300800", &t), VS_EFORMAT);
}

static void test_format(void **state)
{
	char out[VS_TIME_TEXT_MAX];
	(void)state;

	vs_time_format(1654949700, 480, out);
	assert_string_equal(out, "2022-06-11T20:15:00+08:00");
	vs_time_format(1654949700, 0, out);
	assert_string_equal(out, "2022-06-11T12:15:00+00:00");
	vs_time_format(1654949700, -270, out);
	assert_string_equal(out, "2022-06-11T07:45:00-04:30");
	vs_time_format(-1, 0, out);
	assert_string_equal(out, "1969-12-31T23:59:59+00:00");
	vs_time_format(951782400, 0, out);
	assert_string_equal(out, "2000-02-29T00:00:00+00:00");
	vs_time_format(INT64_MAX, 480, out);
	assert_string_equal(out, "9999-12-31T23:59:59+08:00");
	vs_time_format(INT64_MIN, 0, out);
	assert_string_equal(out, "0000-01-01T00:00:00+00:00");
}

/* Every minute-aligned time of a few years round-trips through format and parse. */
static void test_round_trip(void **state)
{
	static const int offsets[] = { 480, 0, -300, 345, -720, 840 };
	(void)state;

	for (int64_t t = -3 * 86400 * 366LL; t < 60 * 86400 * 366LL; t += 86400 * 7 + 3671) {
		for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
			char text[VS_TIME_TEXT_MAX];
			int off;

			vs_time_format(t, offsets[i], text);
			assert_int_equal(parse_ok(text, &off), t);
			assert_int_equal(off, offsets[i]);
		}
	}
}

static void test_now_honours_source_date_epoch(void **state)
{
	(void)state;

	setenv("SOURCE_DATE_EPOCH", "1654949700", 1);
	assert_int_equal(vs_time_now(), 1654949700);
	unsetenv("SOURCE_DATE_EPOCH");
	assert_true(vs_time_now() > 1654949700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reference_times),
		cmocka_unit_test(test_parse_optional_parts),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_bad_texts),
		cmocka_unit_test(test_parse_any),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_now_honours_source_date_epoch),
	};
	return cmocka_run_group_tests_name("time", tests, NULL, NULL);
}

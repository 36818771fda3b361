/*
 * Unit tests for the scenario parser (scenario.c): the three shipped scenarios load with
 * the values they state, and every kind of error — each sample in fixtures/bad/scenario-*
 * and a few inline texts — is refused with "FILE:LINE: ..." naming the right line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/error.h"
#include "venuescan/scenario.h"
#include "venuescan/time.h"

static const char *fixtures(void)
{
	const char *f = getenv("FIXTURES");
	return f ? f : "fixtures";
}

static struct vs_scenario *load(const char *rel)
{
	char path[4096];
	struct vs_scenario *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", fixtures(), rel);
	if (vs_scenario_load(path, &s))
		fprintf(stderr, "%s\n", vs_error_message());
	return s;
}

static void test_reference_scenario(void **state)
{
	struct vs_scenario *s = load("scenarios/zhengzhou-2022-06.ini");
	int64_t t;
	long m;
	(void)state;

	assert_non_null(s);
	assert_string_equal(s->name, "zhengzhou-2022-06");
	assert_int_equal(vs_time_parse("2022-06-01T00:00:00+08:00", &t, NULL), 0);
	assert_true(s->start == t);
	assert_int_equal(s->days, 20);
	assert_int_equal(s->offset_min, 480);
	assert_int_equal(s->venues.n, 510);
	assert_int_equal(s->ngroups, 2);
	assert_int_equal(s->groups[0].count, 2400);
	m = vs_scenario_misuse(s, "station_scan");
	assert_true(m >= 0);
	assert_int_equal(s->misuse[m].type, VS_MISUSE_SCAN);
	assert_int_equal(s->misuse[m].in_person, 446);
	assert_int_equal(s->misuse[m].photo, 871);
	assert_string_equal(s->venues.items[s->misuse[m].venue].name, "郑州车站西南出口");
	assert_string_equal(s->misuse[m].who, "depositor=1");
	assert_int_equal(s->misuse[m].nauthorities, 2);
	assert_int_equal(vs_time_parse("2022-06-11T18:30:00+08:00", &t, NULL), 0);
	assert_true(s->misuse[m].window.lo == t);
	assert_true(s->misuse[m].delay.lo == 300 && s->misuse[m].delay.hi == 4 * 3600);
	m = vs_scenario_misuse(s, "return_ticket");
	assert_int_equal(s->misuse[m].type, VS_MISUSE_FLIP);
	assert_int_equal(s->misuse[m].among, vs_scenario_misuse(s, "station_scan"));
	m = vs_scenario_misuse(s, "mass_release");
	assert_int_equal(s->misuse[m].nof, 2);
	assert_true(s->misuse[m].share > 0.89 && s->misuse[m].share < 0.91);
	assert_int_equal(s->nzones, 3);
	assert_true(vs_scenario_area(s, "Shanghai/Shanghai/Xuhui") >= 0);
	assert_int_equal(vs_scenario_area(s, "Mars/Olympus/Mons"), -1);
	vs_scenario_free(s);

	s = load("scenarios/honest.ini");
	assert_non_null(s);
	assert_int_equal(s->nmisuse, 0);
	vs_scenario_free(s);
	s = load("scenarios/scale.ini");
	assert_non_null(s);
	assert_int_equal(s->days, 14);
	vs_scenario_free(s);
}

/* Every bad sample: exit path, the file named, the line, and what is wrong. */
static void test_bad_samples(void **state)
{
	static const struct {
		const char *file;
		unsigned line;
		const char *what;
	} cases[] = {
		{ "area-without-venues", 10, "area 'Beijing/Beijing/Chaoyang' has no venues" },
		{ "bad-days", 4, "key 'days': not a whole number 'ten'" },
		{ "bad-probability", 22, "key 'tests': not a probability" },
		{ "bad-time", 26, "not a time like" },
		{ "bad-type", 22, "'teleport' is not scan, action, flip, mirror or release" },
		{ "bad-weight", 14, "weight of 'f' is not a positive number '0'" },
		{ "bad-zone", 22, "level 'severe' is not low, medium or high" },
		{ "duplicate-key", 5, "key 'days' given twice" },
		{ "first-section", 1, "the first section must be [scenario]" },
		{ "flip-too-many", 32, "count 11 is more than 'station_scan' turns red in person (10)" },
		{ "impossible-count", 21, "in_person + photo + before = 55 is more than group" },
		{ "missing-keys", 1, "section [scenario] needs start, days, venues and rules" },
		{ "no-equals", 22, "want 'key = value'" },
		{ "unknown-attribute", 24, "attribute 'banker=1' is not a fixed attribute" },
		{ "unknown-group", 23, "unknown group 'savers'" },
		{ "unknown-key", 5, "unknown key 'colour' in [scenario]" },
		{ "unknown-misuse", 34, "unknown misuse rule 'nonesuch'" },
		{ "unknown-rule", 22, "unknown rule 'vaccinated' in [reasons]" },
		{ "unknown-section", 21, "unknown section [weather]" },
		{ "unknown-venue", 25, "unknown venue '不存在的场所'" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[4096], prefix[4200];
		struct vs_scenario *s = (struct vs_scenario *)1;
		snprintf(path, sizeof(path), "%s/bad/scenario-%s.ini", fixtures(), cases[i].file);
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, cases[i].line);
		assert_int_equal(vs_scenario_load(path, &s), VS_EFORMAT);
		assert_null(s);
		if (strncmp(vs_error_message(), prefix, strlen(prefix)) ||
		    !strstr(vs_error_message(), cases[i].what))
			fail_msg("%s: got '%s'", cases[i].file, vs_error_message());
	}
}

static void expect_error(const char *text, unsigned line, const char *what)
{
	char path[4096], prefix[4200];
	struct vs_scenario *s = NULL;

	snprintf(path, sizeof(path), "%s/bad/inline.ini", fixtures());
	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	assert_int_equal(vs_scenario_parse(text, strlen(text), path, &s), VS_EFORMAT);
	assert_null(s);
	if (strncmp(vs_error_message(), prefix, strlen(prefix)) || !strstr(vs_error_message(), what))
		fail_msg("want '%s...%s', got '%s'", prefix, what, vs_error_message());
}

#define HEAD "[scenario]\nstart = 2022-06-01\ndays = 2\nvenues = ../venues/venues.csv\n" \
	     "rules = ../rules/henan-2021.rules\n"

static void test_inline_errors(void **state)
{
	(void)state;
	expect_error("", 1, "no [scenario] section");
	expect_error(HEAD, 5, "section [homes] with at least one area is required");
	expect_error(HEAD "[homes\n", 6, "section header without ']'");
	expect_error(HEAD "[group]\n", 6, "needs a name");
	expect_error(HEAD "[homes]\nHenan/Zhengzhou/Erqi =\n", 7, "empty value");
	expect_error(HEAD "days = 3\n", 6, "given twice");
	expect_error(HEAD "[scenario]\n", 6, "[scenario] given twice");
	expect_error(HEAD "[homes]\nHenan//Erqi = 1\n", 7, "not an area path");
	expect_error(HEAD "[group g]\ncount = 3\nhomes = Henan/Zhengzhou/Erqi:1\n", 6,
		     "needs count, attrs and homes");
	expect_error(HEAD "[daily]\nscans = 0:1 x:2\n", 7, "count 'x' is not a whole number");
	expect_error(HEAD "[daily]\ntrip_days = 0:1\n", 7, "'0' is not a whole number 1-30");
	expect_error(HEAD "[outbreak]\nspread = 2\n", 7, "unknown key 'spread' in [outbreak]");
	expect_error(HEAD "[attribute sex]\nvalues = f:1 f:2\n", 7, "label 'f' given twice");
	expect_error(HEAD "[attribute sex]\n", 6, "[attribute sex] needs values");
	expect_error(HEAD "[misuse m]\n", 6, "[misuse m] needs a type");
	expect_error(HEAD "[misuse m]\ntype = mirror\n", 6, "needs of");
	expect_error(HEAD "[misuse m]\ndelay = 5m 6m 7m\n", 7, "want one or two durations");
	expect_error(HEAD "[misuse m]\ndelay = 2h 1h\n", 7, "range ends before it starts");
	expect_error(HEAD "[misuse m]\nstay = 12h\n", 7, "want whole days");
	expect_error(HEAD "[misuse m]\nwindow = 2022-06-02 2022-06-01\n", 7, "window ends before");
	expect_error(HEAD "[misuse m]\nauthority = Henan | Henan//Zhengzhou\n", 7, "not an area path");
	expect_error("[scenario]\nutc_offset = +8\n", 2, "not an offset like +08:00");
	expect_error("[scenario]\nname = Bad Name\n", 2, "not a name");
	expect_error("[scenario]\npersons = 0\n", 2, "must be at least 1");
	expect_error("x = 1\n", 1, "key outside a section");
}

static void test_missing_inputs(void **state)
{
	const char text[] = "[scenario]\nstart = 2022-06-01\ndays = 2\nvenues = nonesuch.csv\n"
			    "rules = ../rules/henan-2021.rules\n[homes]\n";
	char path[4096];
	struct vs_scenario *s = NULL;
	(void)state;

	snprintf(path, sizeof(path), "%s/bad/inline.ini", fixtures());
	assert_true(vs_scenario_parse(text, sizeof(text) - 1, path, &s) < 0);
	assert_null(s);
	assert_non_null(strstr(vs_error_message(), "nonesuch.csv"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_scenario),
		cmocka_unit_test(test_bad_samples),
		cmocka_unit_test(test_inline_errors),
		cmocka_unit_test(test_missing_inputs),
	};
	return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}

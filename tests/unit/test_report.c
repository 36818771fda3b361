/*
 * Unit tests for report.c: every JSON line parses (jansson) with the fields SPEC §7 names,
 * undefined numbers are null and no inf or nan is ever written, the summary comes last,
 * output is byte-identical across runs, HTML is self-contained and escapes what the data
 * says, and a failed write is an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "venuescan/detect.h"
#include "venuescan/error.h"
#include "venuescan/report.h"
#include "venuescan/rules.h"

static struct vs_rule_set *rules;
static char fixtures[4096];

static int setup(void **state)
{
	const char *fx = getenv("FIXTURES");
	char path[4200];

	(void)state;
	snprintf(fixtures, sizeof(fixtures), "%s", fx ? fx : "fixtures");
	snprintf(path, sizeof(path), "%s/rules/henan-2021.rules", fixtures);
	return vs_rules_load(path, &rules) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	vs_rules_free(rules);
	return 0;
}

static struct vs_findings *run_dir(const char *dir)
{
	struct vs_detect_options opt = { rules, "henan-2021", 0.01, 5.0 };
	struct vs_findings *f = NULL;

	if (vs_detect_run(dir, &opt, &f) != 0)
		fail_msg("%s", vs_error_message());
	return f;
}

static struct vs_findings *run(const char *name)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/datasets/%s", fixtures, name);
	return run_dir(dir);
}

/* Render into a malloc'd string. */
static char *render(const struct vs_findings *f, enum vs_report_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(vs_report_write(fp, f, fmt, "a <test> & \"title\""), 0);
	fclose(fp);
	return buf;
}

static void require_keys(json_t *o, const char *const *keys)
{
	for (; *keys; keys++)
		if (!json_object_get(o, *keys))
			fail_msg("kind %s lacks '%s'",
				 json_string_value(json_object_get(o, "kind")), *keys);
}

static void test_jsonl_contract(void **state)
{
	static const char *const assoc[] = { "attribute", "value", "persons_with",
		"persons_without", "rate_with", "rate_without", "strata", "mh_odds_ratio", "ci_low",
		"ci_high", "mh_chi2", "p_value", "q_value", "conditioned_on", "flagged", NULL };
	static const char *const code[] = { "person_id", "ts", "color", "reason", "authority",
		"flagged", NULL };
	static const char *const house[] = { "household_id", "persons", "ts", "colors", NULL };
	static const char *const remote[] = { "person_id", "ts", "venue_id", "distance_km", NULL };
	static const char *const mismatch[] = { "person_id", "ts", "reason", "claimed",
		"unsupported", NULL };
	struct vs_findings *f = run("tiny");
	char *out = render(f, VS_REPORT_JSONL), *line = out, *nl;
	size_t n = 0, kinds_seen = 0;
	int summary_last = 0, null_or = 0;

	(void)state;
	/* as values: "henan" is a fine word */
	assert_null(strstr(out, ":inf"));
	assert_null(strstr(out, ":-inf"));
	assert_null(strstr(out, ":nan"));
	assert_null(strstr(out, ":-nan"));
	assert_null(strstr(out, "Infinity"));
	assert_null(strstr(out, "NaN"));
	for (; (nl = strchr(line, '\n')); line = nl + 1, n++) {
		json_error_t err;
		json_t *o = json_loadb(line, (size_t)(nl - line), 0, &err);
		const char *kind;
		if (!o)
			fail_msg("line %zu: %s", n + 1, err.text);
		kind = json_string_value(json_object_get(o, "kind"));
		assert_non_null(kind);
		summary_last = !strcmp(kind, "summary");
		if (!strcmp(kind, "association")) {
			require_keys(o, assoc);
			if (json_is_null(json_object_get(o, "mh_odds_ratio")))
				null_or = 1;
			assert_true(json_is_array(json_object_get(o, "conditioned_on")));
			assert_true(json_is_boolean(json_object_get(o, "flagged")));
			kinds_seen |= 1;
		} else if (!strcmp(kind, "unexplained_code")) {
			require_keys(o, code);
			kinds_seen |= 2;
		} else if (!strcmp(kind, "household_discordance")) {
			require_keys(o, house);
			assert_int_equal(json_array_size(json_object_get(o, "persons")), 2);
			assert_int_equal(json_array_size(json_object_get(o, "colors")), 2);
			kinds_seen |= 4;
		} else if (!strcmp(kind, "remote_scan")) {
			require_keys(o, remote);
			assert_true(json_is_number(json_object_get(o, "distance_km")));
			kinds_seen |= 8;
		} else if (!strcmp(kind, "reason_mismatch")) {
			require_keys(o, mismatch);
			kinds_seen |= 16;
		} else if (!strcmp(kind, "summary")) {
			assert_true(json_is_true(json_object_get(o, "flagged")));
			assert_int_equal(json_integer_value(json_object_get(o, "persons")), 8);
		} else {
			fail_msg("unexpected kind %s", kind);
		}
		json_decref(o);
	}
	assert_int_equal(*line, '\0');
	assert_true(summary_last);
	assert_int_equal(kinds_seen, 31);
	assert_true(null_or); /* a value in one stratum only: no odds ratio */
	assert_int_equal(n, vs_findings_count(f) + 1);
	free(out);
	vs_findings_free(f);
}

static void test_burst_and_action_lines(void **state)
{
	struct vs_findings *f = run("burst");
	char *out = render(f, VS_REPORT_JSONL);

	(void)state;
	assert_non_null(strstr(out, "{\"kind\":\"burst\",\"start\":\"2022-06-14T12:"));
	assert_non_null(strstr(out, "\"direction\":\"to_green\",\"changes\":300,\"expected\":"));
	free(out);
	vs_findings_free(f);
	f = run("action");
	out = render(f, VS_REPORT_JSONL);
	assert_non_null(strstr(out, "{\"kind\":\"action_triggered\",\"action\":"
			       "\"booked_return_ticket\",\"color\":\"green\",\"count\":100,"));
	assert_non_null(strstr(out, "\"median_delay_s\":"));
	free(out);
	vs_findings_free(f);
}

static void test_byte_identical(void **state)
{
	for (int fmt = VS_REPORT_TEXT; fmt <= VS_REPORT_HTML; fmt++) {
		struct vs_findings *a = run("stepwise"), *b = run("stepwise");
		char *x = render(a, fmt), *y = render(b, fmt);
		(void)state;
		assert_string_equal(x, y);
		free(x);
		free(y);
		vs_findings_free(a);
		vs_findings_free(b);
	}
}

static void test_html_self_contained_and_escaped(void **state)
{
	char dir[] = "/tmp/vs-report-XXXXXX", path[64];
	struct vs_findings *f;
	char *html, *jsonl;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/persons.csv", dir);
	fp = fopen(path, "w");
	fputs("person_id,household_id,home_area,attrs\n\"<i>x\",,A/B/C,tag=<b>\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/events.csv", dir);
	fp = fopen(path, "w");
	fputs("ts,person_id,kind,venue_id,area,lat,lon,value,reason,authority\n"
	      "2022-06-11T20:16:00+08:00,<i>x,code,,,,,red,"
	      "\"<script>alert(1)</script>, \"\"quoted\"\"\",Henan & co\n", fp);
	fclose(fp);
	f = run_dir(dir);
	html = render(f, VS_REPORT_HTML);
	assert_true(!strncmp(html, "<!DOCTYPE html>", 15));
	assert_non_null(strstr(html, "</html>\n"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "<i>x"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;, &quot;quoted&quot;"));
	assert_non_null(strstr(html, "Henan &amp; co"));
	assert_non_null(strstr(html, "a &lt;test&gt; &amp; &quot;title&quot;"));
	jsonl = render(f, VS_REPORT_JSONL);
	assert_non_null(strstr(jsonl, "\"reason\":\"<script>alert(1)</script>, \\\"quoted\\\"\""));
	free(html);
	free(jsonl);
	vs_findings_free(f);
	snprintf(path, sizeof(path), "%s/persons.csv", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/events.csv", dir);
	unlink(path);
	rmdir(dir);
}

static void test_text(void **state)
{
	struct vs_findings *f = run("stepwise");
	char *t = render(f, VS_REPORT_TEXT);

	(void)state;
	assert_non_null(strstr(t, "FLAGGED depositor=yes"));
	assert_non_null(strstr(t, "FLAGGED project=rongchuang"));
	assert_null(strstr(t, "FLAGGED age_band"));
	assert_non_null(strstr(t, "Verdict: FLAGGED"));
	free(t);
	vs_findings_free(f);
	f = run("ucb");
	t = render(f, VS_REPORT_TEXT);
	assert_non_null(strstr(t, "no attribute value flagged"));
	assert_non_null(strstr(t, "Verdict: nothing flagged"));
	assert_non_null(strstr(t, "... and 1735 more"));
	free(t);
	vs_findings_free(f);
}

static void test_write_error(void **state)
{
	struct vs_findings *f = run("tiny");
	FILE *fp = fopen("/dev/full", "w");

	(void)state;
	if (!fp) {
		vs_findings_free(f);
		skip();
	}
	setvbuf(fp, NULL, _IONBF, 0);
	assert_int_equal(vs_report_write(fp, f, VS_REPORT_JSONL, "x"), VS_EIO);
	fclose(fp);
	vs_findings_free(f);
}

static void test_format_parse(void **state)
{
	enum vs_report_format fmt;

	(void)state;
	assert_int_equal(vs_report_format_parse("jsonl", &fmt), 0);
	assert_int_equal(fmt, VS_REPORT_JSONL);
	assert_int_equal(vs_report_format_parse("html", &fmt), 0);
	assert_int_equal(fmt, VS_REPORT_HTML);
	assert_int_equal(vs_report_format_parse("text", &fmt), 0);
	assert_int_equal(fmt, VS_REPORT_TEXT);
	assert_int_equal(vs_report_format_parse("json", &fmt), VS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonl_contract),
		cmocka_unit_test(test_burst_and_action_lines),
		cmocka_unit_test(test_byte_identical),
		cmocka_unit_test(test_html_self_contained_and_escaped),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_format_parse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

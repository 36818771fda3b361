/*
 * Unit tests for the rule engine (rules.c): the published rules of SPEC §6 as loaded from
 * fixtures/rules/henan-2021.rules, each rule's 14-day window edges, release, reason
 * claims, the risk map's prefix coverage, and the language's errors.
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
#include "venuescan/rules.h"

#define DAY INT64_C(86400)
#define T0 INT64_C(1654905600) /* 2022-06-11T00:00:00Z */

static int setup(void **state)
{
	const char *fixtures = getenv("FIXTURES");
	char path[4096];
	struct vs_rule_set *rs;

	snprintf(path, sizeof(path), "%s/rules/henan-2021.rules", fixtures ? fixtures : "fixtures");
	if (vs_rules_load(path, &rs) != 0) {
		fprintf(stderr, "%s\n", vs_error_message());
		return -1;
	}
	*state = rs;
	return 0;
}

static int teardown(void **state)
{
	vs_rules_free(*state);
	return 0;
}

static void test_loads_published_rules(void **state)
{
	struct vs_rule_set *rs = *state;

	assert_int_equal(vs_rules_count(rs), 5);
	assert_int_equal(vs_rules_color(rs, vs_rules_find(rs, "positive")), VS_RED);
	assert_int_equal(vs_rules_color(rs, vs_rules_find(rs, "medium_risk")), VS_YELLOW);
	assert_int_equal(vs_rules_window(rs, vs_rules_find(rs, "entry")), 14 * DAY);
	assert_int_equal(vs_rules_release(rs), 14 * DAY);
	assert_int_equal(vs_rules_find(rs, "nonesuch"), -1);
}

/* Each red rule: triggered at T0, explains a red change at T0 .. T0+14d-1s, not at +14d. */
static void check_window(struct vs_rule_set *rs, enum vs_fact_kind kind, const char *value,
			 const char *rule)
{
	int64_t st[VS_RULES_MAX];
	int r = vs_rules_find(rs, rule);

	vs_rules_state_init(rs, st);
	assert_int_equal(vs_rules_explain(rs, st, T0, VS_RED), -1);
	assert_true(vs_rules_observe(rs, st, kind, value, T0) & (UINT64_C(1) << r));
	assert_int_equal(vs_rules_explain(rs, st, T0, VS_RED), r);          /* same second */
	assert_int_equal(vs_rules_explain(rs, st, T0 + 14 * DAY - 1, VS_RED), r);
	assert_int_equal(vs_rules_explain(rs, st, T0 + 14 * DAY, VS_RED), -1); /* (t-14d, t] */
	assert_int_equal(vs_rules_explain(rs, st, T0 - 1, VS_RED), -1);     /* not before it */
	assert_int_equal(vs_rules_explain(rs, st, T0 + DAY, VS_YELLOW), -1); /* red explains red */
}

static void test_each_red_rule_and_its_window(void **state)
{
	struct vs_rule_set *rs = *state;

	check_window(rs, VS_FACT_TEST, "positive", "positive");
	check_window(rs, VS_FACT_CONTACT, NULL, "contact");
	check_window(rs, VS_FACT_ENTRY, NULL, "entry");
	check_window(rs, VS_FACT_PRESENCE, "high", "high_risk");
}

static void test_facts_that_explain_nothing(void **state)
{
	struct vs_rule_set *rs = *state;
	int64_t st[VS_RULES_MAX];

	vs_rules_state_init(rs, st);
	assert_int_equal(vs_rules_observe(rs, st, VS_FACT_TEST, "negative", T0), 0);
	assert_int_equal(vs_rules_observe(rs, st, VS_FACT_PRESENCE, "low", T0), 0);
	assert_int_equal(vs_rules_observe(rs, st, VS_FACT_ACTION, "petition", T0), 0);
	assert_int_equal(vs_rules_explain(rs, st, T0 + 60, VS_RED), -1);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + 60, NULL), VS_GREEN);
}

static void test_yellow_and_severity(void **state)
{
	struct vs_rule_set *rs = *state;
	int64_t st[VS_RULES_MAX];
	int rule;

	vs_rules_state_init(rs, st);
	vs_rules_observe(rs, st, VS_FACT_PRESENCE, "medium", T0);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + DAY, &rule), VS_YELLOW);
	assert_int_equal(rule, vs_rules_find(rs, "medium_risk"));
	assert_int_equal(vs_rules_explain(rs, st, T0 + DAY, VS_YELLOW), rule);
	assert_int_equal(vs_rules_explain(rs, st, T0 + DAY, VS_RED), -1);
	/* presence in a medium area does not make a high-risk stay */
	vs_rules_observe(rs, st, VS_FACT_ENTRY, NULL, T0 + 2 * DAY);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + 3 * DAY, &rule), VS_RED);
	assert_int_equal(rule, vs_rules_find(rs, "entry"));
}

static void test_release_after_14_days_without_trigger(void **state)
{
	struct vs_rule_set *rs = *state;
	int64_t st[VS_RULES_MAX];
	int rule;

	vs_rules_state_init(rs, st);
	vs_rules_observe(rs, st, VS_FACT_CONTACT, NULL, T0);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + 14 * DAY - 1, NULL), VS_RED);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + 14 * DAY, &rule), VS_GREEN);
	assert_int_equal(rule, -1);
	/* a new trigger on day 10 extends the red to day 24 */
	vs_rules_observe(rs, st, VS_FACT_CONTACT, NULL, T0 + 10 * DAY);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + 20 * DAY, NULL), VS_RED);
	assert_int_equal(vs_rules_color_at(rs, st, T0 + 24 * DAY, NULL), VS_GREEN);
}

static void test_reason_claims(void **state)
{
	struct vs_rule_set *rs = *state;
	uint64_t entry = UINT64_C(1) << vs_rules_find(rs, "entry");
	uint64_t high = UINT64_C(1) << vs_rules_find(rs, "high_risk");

	/* the two reasons the seeds quote */
	assert_int_equal(vs_rules_reason_claims(rs, "正在实施集中或居家医学隔离观察的入境人员"), entry);
	assert_int_equal(vs_rules_reason_claims(rs, "有高风险地区旅居史隔离未满14天的人员"), high);
	assert_int_equal(vs_rules_reason_claims(rs, "Inbound traveller, HIGH-RISK stay"), entry | high);
	assert_int_equal(vs_rules_reason_claims(rs, "赋码"), 0);
}

static void test_risk_map_prefix_coverage(void **state)
{
	struct vs_risk_map *m = vs_risk_map_new();
	(void)state;

	assert_int_equal(vs_risk_map_add(m, "Henan/Zhengzhou", VS_RISK_MEDIUM, T0, T0 + DAY), 0);
	assert_int_equal(vs_risk_map_add(m, "Henan/Zhengzhou/Erqi", VS_RISK_HIGH, T0 + 3600, T0 + 7200), 0);
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Jinshui", T0), VS_RISK_MEDIUM);
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Erqi", T0 + 3600), VS_RISK_HIGH);
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Erqi", T0 + 7200), VS_RISK_MEDIUM); /* [start,end) */
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Erqi", T0 + DAY), VS_RISK_LOW);
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhoux", T0), VS_RISK_LOW); /* not a prefix */
	assert_int_equal(vs_risk_map_level(m, "Henan", T0), VS_RISK_LOW);
	assert_true(vs_risk_map_changed(m, "Henan/Zhengzhou/Erqi", T0 + 3000, T0 + 4000));
	assert_false(vs_risk_map_changed(m, "Hebei/Shijiazhuang", T0, T0 + DAY));
	for (int i = 0; i < 1000; i++) { /* growth keeps lookups right */
		char a[64];
		snprintf(a, sizeof(a), "P%d/C/D", i);
		assert_int_equal(vs_risk_map_add(m, a, VS_RISK_HIGH, T0, T0 + 1), 0);
	}
	assert_int_equal(vs_risk_map_level(m, "P999/C/D", T0), VS_RISK_HIGH);
	assert_int_equal(vs_risk_map_level(m, "Henan/Zhengzhou/Erqi", T0 + 3600), VS_RISK_HIGH);
	assert_int_equal(vs_risk_map_add(m, "X", VS_RISK_HIGH, T0, T0), VS_EINVAL);
	vs_risk_map_free(m);
}

static void expect_parse_error(const char *text, const char *message)
{
	struct vs_rule_set *rs = NULL;

	assert_int_equal(vs_rules_parse(text, strlen(text), "t.rules", &rs), VS_EFORMAT);
	assert_null(rs);
	assert_string_equal(vs_error_message(), message);
}

static void test_language_errors(void **state)
{
	(void)state;
	expect_parse_error("rule a red on test=positive within 14d\nrelease after 14d\nfrob\n",
			   "t.rules:3: unknown statement 'frob' (rule, release, reason)");
	expect_parse_error("rule a green on entry within 14d\n",
			   "t.rules:1: rule colour 'green' is not red or yellow");
	expect_parse_error("rule a red on test within 14d\n",
			   "t.rules:1: 'test': test takes =positive or =negative");
	expect_parse_error("rule a red on entry within 14x\n",
			   "t.rules:1: not a duration '14x' (e.g. 14d, 36h, 90m)");
	expect_parse_error("rule a red on entry within 14d\nrule a red on contact within 1d\n",
			   "t.rules:2: rule 'a' is defined twice");
	expect_parse_error("reason a word\n",
			   "t.rules:1: reason for an undefined rule 'a' (define the rule first)");
	expect_parse_error("rule a red on entry within 14d\n",
			   "t.rules: no 'release after DURATION' statement");
	expect_parse_error("# nothing\nrelease after 14d\n", "t.rules: no rules defined");
	expect_parse_error("rule a red on entry within 14d\nrelease after 1d\nreason a \"open\n",
			   "t.rules:3: unterminated quote");
	expect_parse_error("rule A red on entry within 14d\n",
			   "t.rules:1: rule name 'A' is not [a-z0-9_]+ (at most 48)");
}

static void test_action_rules_for_other_rule_sets(void **state)
{
	const char text[] = "rule ticket yellow on action=booked_return_ticket within 2h\n"
			    "release after 2h\n";
	struct vs_rule_set *rs;
	int64_t st[VS_RULES_MAX];
	(void)state;

	assert_int_equal(vs_rules_parse(text, sizeof(text) - 1, "t.rules", &rs), 0);
	vs_rules_state_init(rs, st);
	assert_int_equal(vs_rules_observe(rs, st, VS_FACT_ACTION, "petition", T0), 0);
	assert_int_equal(vs_rules_observe(rs, st, VS_FACT_ACTION, "booked_return_ticket", T0), 1);
	assert_int_equal(vs_rules_explain(rs, st, T0 + 7199, VS_YELLOW), 0);
	assert_int_equal(vs_rules_explain(rs, st, T0 + 7200, VS_YELLOW), -1);
	vs_rules_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_published_rules),
		cmocka_unit_test(test_each_red_rule_and_its_window),
		cmocka_unit_test(test_facts_that_explain_nothing),
		cmocka_unit_test(test_yellow_and_severity),
		cmocka_unit_test(test_release_after_14_days_without_trigger),
		cmocka_unit_test(test_reason_claims),
		cmocka_unit_test(test_risk_map_prefix_coverage),
		cmocka_unit_test(test_language_errors),
		cmocka_unit_test(test_action_rules_for_other_rule_sets),
	};
	return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}

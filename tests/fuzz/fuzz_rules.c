/*
 * libFuzzer harness for the rules language (rules.h): parse arbitrary text and, when it
 * parses, ask the engine one question of each kind so the parsed tables are used too.
 * Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>

#include "venuescan/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_rule_set *rs = NULL;
	int64_t state[VS_RULES_MAX];
	size_t i, n;
	int rule;

	if (vs_rules_parse((const char *)data, size, "fuzz.rules", &rs) != 0)
		return 0;
	n = vs_rules_count(rs);
	if (n > VS_RULES_MAX)
		abort();
	vs_rules_state_init(rs, state);
	vs_rules_observe(rs, state, VS_FACT_TEST, "positive", 1000);
	vs_rules_observe(rs, state, VS_FACT_CONTACT, NULL, 1000);
	vs_rules_observe(rs, state, VS_FACT_PRESENCE, "high", 1000);
	vs_rules_observe(rs, state, VS_FACT_ACTION, "bank_protest", 1000);
	for (i = 0; i < n; i++)
		(void)vs_rules_find(rs, vs_rules_name(rs, i));
	(void)vs_rules_color_at(rs, state, 2000, &rule);
	(void)vs_rules_explain(rs, state, 2000, VS_RED);
	(void)vs_rules_reason_claims(rs, "positive test, close contact");
	vs_rules_free(rs);
	return 0;
}

/*
 * libFuzzer harness for the scenario language (scenario.h).  A scenario names a venues
 * file and a rules file relative to itself, so each input is parsed as if it were
 * FUZZ_FIXTURES/scenarios/fuzz.ini: the published ../venues/venues.csv and
 * ../rules/henan-2021.rules resolve.  Inputs whose venues or rules value is any other
 * path with a '/' in it (or "-", standard input) are skipped, so the fuzzer never reads
 * devices or files outside the fixtures.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/scenario.h"

#ifndef FUZZ_FIXTURES
#error "build with -DFUZZ_FIXTURES='\"/abs/path/to/fixtures\"'"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* 1 when the value (b, e) of a venues or rules key is one the harness lets through. */
static int allowed_value(const char *b, const char *e)
{
	static const char *const ok[] = { "../venues/venues.csv", "../rules/henan-2021.rules" };
	size_t i, n;

	while (b < e && is_space(*b))
		b++;
	while (e > b && is_space(e[-1]))
		e--;
	n = (size_t)(e - b);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (n == strlen(ok[i]) && !memcmp(b, ok[i], n))
			return 1;
	if (n == 1 && *b == '-')
		return 0;
	return !memchr(b, '/', n) && !(n == 2 && b[0] == '.' && b[1] == '.');
}

/* 1 when no line of text sets venues or rules to a path outside the fixtures. */
static int safe(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol, *eq, *k, *ke;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		eq = memchr(p, '=', (size_t)(eol - p));
		if (eq) {
			for (k = p; k < eq && is_space(*k); k++)
				;
			for (ke = eq; ke > k && is_space(ke[-1]); ke--)
				;
			if (((ke - k == 6 && !memcmp(k, "venues", 6)) ||
			     (ke - k == 5 && !memcmp(k, "rules", 5))) &&
			    !allowed_value(eq + 1, eol))
				return 0;
		}
		p = eol + 1;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_scenario *s = NULL;

	if (memchr(data, '\0', size) || !safe((const char *)data, size))
		return 0;
	if (vs_scenario_parse((const char *)data, size, FUZZ_FIXTURES "/scenarios/fuzz.ini",
			      &s) != 0)
		return 0;
	(void)vs_scenario_area(s, "Henan/Zhengzhou/Jinshui");
	(void)vs_scenario_misuse(s, "bank");
	vs_scenario_free(s);
	return 0;
}

/*
 * libFuzzer harness for ISO 8601 and unix-seconds parsing (time.h): the input, made a
 * NUL-terminated string, goes to both parsers, and each time that parses is formatted and
 * parsed again, which must give the same instant.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, text[VS_TIME_TEXT_MAX];
	int64_t t, t2;
	int off;

	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (vs_time_parse(s, &t, &off) == 0) {
		vs_time_format(t, off, text);
		if (vs_time_parse(text, &t2, NULL) != 0 || t2 != t)
			abort(); /* a parsed time must survive formatting */
	}
	(void)vs_time_parse_any(s, &t);
	free(s);
	return 0;
}

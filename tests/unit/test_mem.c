/* Unit tests for mem.c (vs_buf, JSON string escaping) and error.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"

static void test_buf_grows_and_stays_terminated(void **state)
{
	struct vs_buf b = VS_BUF_INIT;
	(void)state;

	for (int i = 0; i < 1000; i++)
		assert_int_equal(vs_buf_addf(&b, "%d,", i), 0);
	assert_int_equal(b.len, strlen(b.data));
	assert_memory_equal(b.data, "0,1,2,", 6);
	assert_string_equal(b.data + b.len - 4, "999,");
	vs_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_buf_max_is_enforced(void **state)
{
	struct vs_buf b;
	(void)state;

	vs_buf_init(&b, 8);
	assert_int_equal(vs_buf_adds(&b, "12345678"), 0);
	assert_int_equal(vs_buf_addc(&b, '9'), VS_ETOOBIG);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	vs_buf_release(&b);
}

static void test_json_string_escapes(void **state)
{
	struct vs_buf b = VS_BUF_INIT;
	const char in[] = "a\"b\\c\nd\x01\xe9\x83\x91\xe5\xb7\x9e";
	(void)state;

	assert_int_equal(vs_buf_add_json_string(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\nd\\u0001\xe9\x83\x91\xe5\xb7\x9e\"");
	vs_buf_release(&b);
}

static void test_error_message_and_prefix(void **state)
{
	(void)state;

	assert_int_equal(vs_error_set(VS_EFORMAT, "field '%s': bad", "ts"), VS_EFORMAT);
	vs_error_prefix("events.csv:%d", 12);
	assert_string_equal(vs_error_message(), "events.csv:12: field 'ts': bad");
	assert_string_equal(vs_strerror(VS_ENOMEM), "out of memory");
	assert_string_equal(vs_strerror(12345), "unknown error");
}

static void test_xasprintf(void **state)
{
	char *s = vs_xasprintf("%s/%d", "dir", 7);
	(void)state;

	assert_string_equal(s, "dir/7");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_stays_terminated),
		cmocka_unit_test(test_buf_max_is_enforced),
		cmocka_unit_test(test_json_string_escapes),
		cmocka_unit_test(test_error_message_and_prefix),
		cmocka_unit_test(test_xasprintf),
	};
	return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}

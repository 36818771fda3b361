/*
 * Unit tests for replay's latency histogram (replay.c): exact small values, the bound on
 * relative error of percentiles, maximum, merging, and the empty histogram.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "venuescan/replay.h"

static struct vs_hist h;

static void test_small_values_exact(void **state)
{
	(void)state;
	vs_hist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		vs_hist_record(&h, v);
	assert_int_equal(h.count, 100);
	assert_int_equal(vs_hist_percentile(&h, 50), 50);
	assert_int_equal(vs_hist_percentile(&h, 99), 99);
	assert_int_equal(vs_hist_percentile(&h, 100), 100);
	assert_int_equal(h.min, 1);
	assert_true(vs_hist_mean(&h) > 50.49 && vs_hist_mean(&h) < 50.51);
}

/* Uniform 1 us .. 10 ms: each percentile within 1/64 above the true value, never below. */
static void test_relative_error(void **state)
{
	static const double ps[] = { 1, 10, 50, 90, 99, 99.9 };

	(void)state;
	vs_hist_init(&h);
	for (uint64_t v = 1; v <= 10000; v++)
		vs_hist_record(&h, v * 1000);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double truth = ps[i] / 100 * 10000 * 1000;
		double got = (double)vs_hist_percentile(&h, ps[i]);
		assert_true(got >= truth);
		assert_true(got <= truth * (1 + 1.0 / 64) + 1000);
	}
	assert_int_equal(vs_hist_percentile(&h, 100), 10000000);
	assert_int_equal(h.max, 10000000);
}

static void test_huge_and_merge(void **state)
{
	struct vs_hist a, b;

	(void)state;
	vs_hist_init(&a);
	vs_hist_init(&b);
	vs_hist_record(&a, UINT64_MAX);
	vs_hist_record(&b, 5);
	vs_hist_record(&b, 7);
	vs_hist_merge(&a, &b);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.min, 5);
	assert_int_equal(a.max, UINT64_MAX);
	assert_int_equal(vs_hist_percentile(&a, 50), 7);
	assert_int_equal(vs_hist_percentile(&a, 100), UINT64_MAX);
	/* a value at the top of its bucket is reported as itself (capped at the max) */
	vs_hist_init(&a);
	vs_hist_record(&a, 1000000007);
	assert_int_equal(vs_hist_percentile(&a, 50), 1000000007);
}

static void test_empty(void **state)
{
	(void)state;
	vs_hist_init(&h);
	assert_int_equal(vs_hist_percentile(&h, 99), 0);
	assert_true(vs_hist_mean(&h) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_relative_error),
		cmocka_unit_test(test_huge_and_merge),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

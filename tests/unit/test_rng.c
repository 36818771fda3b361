/*
 * Unit tests for the counter-based generator (rng.c): the same key gives the same draws
 * in any order, every key word changes them, draws are reasonably uniform (chi-square on
 * bytes, bins of uniform and below), below() stays in range, weighted picks follow their
 * weights, and UUIDs carry the version-4 and variant bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/rng.h"

static void test_reproducible_and_order_free(void **state)
{
	struct vs_rng a, b;
	uint64_t first[100];
	(void)state;

	vs_rng_init(&a, 42, 7, 3, 9);
	for (int i = 0; i < 100; i++)
		first[i] = vs_rng_next(&a);
	vs_rng_init(&b, 42, 7, 3, 9);
	for (int i = 0; i < 100; i++)
		assert_true(vs_rng_next(&b) == first[i]);
	/* random access gives the same draws, in any order */
	for (int i = 99; i >= 0; i -= 7)
		assert_true(vs_rng_at(42, 7, 3, 9, (uint64_t)i) == first[i]);
	/* a pinned value: the generator must not change silently between versions */
	assert_true(vs_rng_mix(0) == UINT64_C(0xe220a8397b1dcdaf));
}

static void test_every_key_word_matters(void **state)
{
	uint64_t base = vs_rng_at(1, 2, 3, 4, 0);
	(void)state;

	assert_true(vs_rng_at(2, 2, 3, 4, 0) != base);
	assert_true(vs_rng_at(1, 3, 3, 4, 0) != base);
	assert_true(vs_rng_at(1, 2, 4, 4, 0) != base);
	assert_true(vs_rng_at(1, 2, 3, 5, 0) != base);
	assert_true(vs_rng_at(1, 2, 3, 4, 1) != base);
	/* day and purpose are not interchangeable */
	assert_true(vs_rng_at(1, 2, 4, 3, 0) != base);
}

/* Chi-square of 256 byte bins over many keys (adjacent persons, counter 0): the case a
 * weak counter-based generator fails.  255 degrees of freedom: mean 255, sd 22.6. */
static void test_bytes_uniform_across_keys(void **state)
{
	static uint64_t bins[256];
	const int n = 1 << 18;
	double chi = 0, expect = (double)n * 8 / 256;
	(void)state;

	memset(bins, 0, sizeof(bins));
	for (int p = 0; p < n; p++) {
		uint64_t x = vs_rng_at(5, (uint64_t)p, 1, 1, 0);
		for (int k = 0; k < 8; k++)
			bins[(x >> (8 * k)) & 0xff]++;
	}
	for (int i = 0; i < 256; i++)
		chi += ((double)bins[i] - expect) * ((double)bins[i] - expect) / expect;
	assert_true(chi > 150 && chi < 380);
}

static void test_uniform_and_below(void **state)
{
	struct vs_rng r;
	uint64_t bins[10] = { 0 };
	const int n = 200000;
	double chi = 0, sum = 0;
	(void)state;

	vs_rng_init(&r, 9, 0, 0, 0);
	for (int i = 0; i < n; i++) {
		double u = vs_rng_uniform(&r);
		assert_true(u >= 0 && u < 1);
		sum += u;
		bins[(int)(u * 10)]++;
	}
	for (int i = 0; i < 10; i++)
		chi += ((double)bins[i] - n / 10.0) * ((double)bins[i] - n / 10.0) / (n / 10.0);
	assert_true(chi < 30); /* 9 df: p < 0.001 at 27.9 */
	assert_true(sum / n > 0.497 && sum / n < 0.503);

	memset(bins, 0, sizeof(bins));
	for (int i = 0; i < n; i++) {
		uint64_t x = vs_rng_below(&r, 7);
		assert_true(x < 7);
		bins[x]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(bins[i] > n / 7 - 1000 && bins[i] < n / 7 + 1000);
	assert_int_equal(vs_rng_below(&r, 1), 0);
	assert_int_equal(vs_rng_below(&r, 0), 0);
	for (int i = 0; i < 1000; i++) {
		int64_t x = vs_rng_range(&r, -3, 3);
		assert_true(x >= -3 && x <= 3);
	}
	assert_int_equal(vs_rng_range(&r, 5, 5), 5);
	assert_false(vs_rng_chance(&r, 0));
	assert_true(vs_rng_chance(&r, 1));
}

static void test_weighted_pick(void **state)
{
	const double w[4] = { 1, 0, 3, 6 };
	const double cum[4] = { 1, 1, 4, 10 };
	uint64_t a[4] = { 0 }, b[4] = { 0 };
	struct vs_rng r;
	const int n = 100000;
	(void)state;

	vs_rng_init(&r, 3, 1, 1, 1);
	for (int i = 0; i < n; i++)
		a[vs_rng_pick(&r, w, NULL, 4)]++;
	vs_rng_init(&r, 3, 1, 1, 1);
	for (int i = 0; i < n; i++)
		b[vs_rng_pick(&r, NULL, cum, 4)]++;
	for (int i = 0; i < 4; i++)
		assert_true(a[i] == b[i]); /* linear scan and binary search agree draw for draw */
	assert_int_equal(a[1], 0);
	assert_true(a[0] > 9400 && a[0] < 10600);
	assert_true(a[2] > 29000 && a[2] < 31000);
	assert_true(a[3] > 59000 && a[3] < 61000);
}

static void test_uuid(void **state)
{
	struct vs_rng r, r2;
	char u[37], v[37];
	(void)state;

	vs_rng_init(&r, 1, 2, 0, 1);
	vs_rng_init(&r2, 1, 2, 0, 1);
	vs_rng_uuid(&r, u);
	vs_rng_uuid(&r2, v);
	assert_string_equal(u, v);
	assert_int_equal(strlen(u), 36);
	assert_int_equal(u[14], '4');
	assert_true(strchr("89ab", u[19]) != NULL);
	vs_rng_uuid(&r, v);
	assert_string_not_equal(u, v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reproducible_and_order_free),
		cmocka_unit_test(test_every_key_word_matters),
		cmocka_unit_test(test_bytes_uniform_across_keys),
		cmocka_unit_test(test_uniform_and_below),
		cmocka_unit_test(test_weighted_pick),
		cmocka_unit_test(test_uuid),
	};
	return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}

/*
 * Unit tests for stats.c.  Every expected number was printed by R, not by our code: the
 * comment above each one names the R call (R 4.2.2, Debian 12's r-base-core, run with
 * options(digits = 15)).  Data sets are the examples of R's help pages (?mantelhaen.test,
 * ?mcnemar.test, ?fisher.test, ?p.adjust), entered here cell by cell.  Relative tolerance
 * is 1e-9 where we follow R's arithmetic, 1e-8 where R solves for a root (Brent's method
 * with uniroot's tolerance, reproduced step by step; measured agreement is about 1e-13).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/stats.h"

#define EXACT 1e-9 /* same formula as R, only rounding differs */
#define ROOT 1e-8  /* R's uniroot root, reproduced by the same Brent iteration */

#define assert_close(actual, expected, rel) \
	check_close((actual), (expected), (rel), #actual, __FILE__, __LINE__)

static void fail_with(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_with(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_error("%s\n", msg);
	_fail(file, line);
}

static void check_close(double actual, double expected, double rel, const char *what,
			const char *file, int line)
{
	double err = fabs(actual - expected);

	if (isinf(expected) && actual == expected)
		return;
	if (!(err <= rel * fabs(expected)) && !(expected == 0 && actual == 0))
		fail_with(file, line, "%s = %.15g, R gives %.15g (relative error %.3g > %.1g)",
			  what, actual, expected, err / fabs(expected), rel);
}

/* UCBAdmissions[Admit, Gender, Dept]: a = admitted men, b = admitted women, c = rejected
 * men, d = rejected women, departments A to F. */
static const struct vs_table2x2 ucb[6] = {
	{ 512, 89, 313, 19 },	{ 353, 17, 207, 8 },	{ 120, 202, 205, 391 },
	{ 138, 131, 279, 244 }, { 53, 94, 138, 299 },	{ 22, 24, 351, 317 },
};

/* Rabbits from ?mantelhaen.test: array(c(0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0,
 * 2, 5, 0, 0), dim = c(2, 2, 5)); column-major, so each group of four is a, c, b, d. */
static const struct vs_table2x2 rabbits[5] = {
	{ 0, 6, 0, 5 }, { 3, 3, 0, 6 }, { 6, 0, 2, 4 }, { 5, 1, 6, 0 }, { 2, 0, 5, 0 },
};

static void test_mh_ucb_admissions(void **state)
{
	struct vs_mh_result r;
	(void)state;

	/* mantelhaen.test(UCBAdmissions): X-squared = 1.4269, df = 1, p-value = 0.2323,
	 * common odds ratio 0.9046968, 95 percent CI 0.7719074 1.0603298 */
	assert_int_equal(vs_mh_test(ucb, 6, NULL, &r), 0);
	assert_true(r.statistic_defined && r.odds_ratio_defined && r.ci_defined);
	assert_int_equal(r.strata, 6);
	assert_int_equal(r.dropped, 0);
	assert_close(r.statistic, 1.42694622858669, EXACT);
	assert_close(r.p_value, 0.232263462817048, EXACT);
	assert_close(r.odds_ratio, 0.904696828258623, EXACT);
	assert_close(r.ci_low, 0.77190736175935, EXACT);
	assert_close(r.ci_high, 1.06032976443666, EXACT);
	assert_true(r.delta < 0);
}

static void test_mh_ucb_one_sided(void **state)
{
	struct vs_test_options greater = { VS_ALT_GREATER, 0.95, true };
	struct vs_test_options less90 = { VS_ALT_LESS, 0.9, true };
	struct vs_mh_result r;
	(void)state;

	/* mantelhaen.test(UCBAdmissions, alternative = "greater") */
	assert_int_equal(vs_mh_test(ucb, 6, &greater, &r), 0);
	assert_close(r.p_value, 0.883868268591476, EXACT);
	assert_close(r.ci_low, 0.791860301598543, EXACT);
	assert_true(isinf(r.ci_high));
	/* mantelhaen.test(UCBAdmissions, alternative = "less", conf.level = 0.9) */
	assert_int_equal(vs_mh_test(ucb, 6, &less90, &r), 0);
	assert_close(r.p_value, 0.116131731408524, EXACT);
	assert_true(r.ci_low == 0);
	assert_close(r.ci_high, 1.00364269470065, EXACT);
}

static void test_mh_rabbits(void **state)
{
	struct vs_mh_result r;
	(void)state;

	/* mantelhaen.test(Rabbits): X-squared = 3.9286, df = 1, p-value = 0.04747,
	 * common odds ratio 7, 95 percent CI 1.026713 47.725133 */
	assert_int_equal(vs_mh_test(rabbits, 5, NULL, &r), 0);
	assert_close(r.statistic, 3.92857142857143, EXACT);
	assert_close(r.p_value, 0.0474722551429181, EXACT);
	assert_close(r.odds_ratio, 7, EXACT);
	assert_close(r.ci_low, 1.02671268846167, EXACT);
	assert_close(r.ci_high, 47.7251333802226, EXACT);
}

static void test_mh_streaming_equals_array(void **state)
{
	struct vs_mh mh;
	struct vs_mh_result whole, streamed;
	(void)state;

	/* strata may arrive in any order */
	vs_mh_init(&mh);
	for (int i = 5; i >= 0; i--)
		assert_int_equal(vs_mh_add(&mh, &ucb[i]), 0);
	assert_int_equal(vs_mh_result(&mh, NULL, &streamed), 0);
	assert_int_equal(vs_mh_test(ucb, 6, NULL, &whole), 0);
	assert_close(streamed.statistic, whole.statistic, 1e-12);
	assert_close(streamed.odds_ratio, whole.odds_ratio, 1e-12);
	assert_close(streamed.ci_high, whole.ci_high, 1e-12);
}

static void test_mh_many_strata(void **state)
{
	struct vs_table2x2 *strata = vs_xcalloc(20000, sizeof(*strata));
	struct vs_mh_result r;
	(void)state;

	/* i <- 0:19999; a <- (i*7) %% 13 + i %% 5; b <- (i*11) %% 17; c <- (i*3) %% 19 + 1;
	 * d <- (i*5) %% 23; x <- array(rbind(a, c, b, d), dim = c(2, 2, 20000));
	 * mantelhaen.test(x[, , apply(x, 3, sum) > 1])  (R refuses the one stratum of n 1) */
	for (uint64_t i = 0; i < 20000; i++) {
		strata[i].a = (i * 7) % 13 + i % 5;
		strata[i].b = (i * 11) % 17;
		strata[i].c = (i * 3) % 19 + 1;
		strata[i].d = (i * 5) % 23;
	}
	assert_int_equal(vs_mh_test(strata, 20000, NULL, &r), 0);
	assert_int_equal(r.strata, 19999);
	assert_int_equal(r.dropped, 1);
	assert_close(r.statistic, 393.158688786556, EXACT);
	assert_close(r.p_value, 1.69915854873705e-87, 1e-8);
	assert_close(r.odds_ratio, 1.09872475584586, EXACT);
	assert_close(r.ci_low, 1.08820076805278, EXACT);
	assert_close(r.ci_high, 1.10935052110713, EXACT);
	free(strata);
}

static void test_mh_single_and_dropped_strata(void **state)
{
	const struct vs_table2x2 with_small[] = {
		{ 10, 3, 5, 12 }, { 0, 0, 0, 1 }, { 0, 0, 0, 0 }, { 4, 8, 6, 2 }, { 1, 0, 0, 0 },
	};
	struct vs_mh_result r;
	(void)state;

	/* R stops on K = 1 ("each dimension in table must be >= 2"); reference: R's own
	 * mantelhaen.test code with that check removed, on array(c(10, 5, 3, 12), c(2, 2, 1)) */
	assert_int_equal(vs_mh_test(with_small, 1, NULL, &r), 0);
	assert_close(r.statistic, 4.72398190045249, EXACT);
	assert_close(r.p_value, 0.0297447873576229, EXACT);
	assert_close(r.odds_ratio, 8, EXACT);
	assert_close(r.ci_low, 1.52228295380014, EXACT);
	assert_close(r.ci_high, 42.0421182804644, EXACT);

	/* R stops on strata of n < 2; they add nothing, so the reference is R without them:
	 * mantelhaen.test(array(c(10, 5, 3, 12, 4, 6, 8, 2), c(2, 2, 2))) */
	assert_int_equal(vs_mh_test(with_small, 5, NULL, &r), 0);
	assert_int_equal(r.strata, 2);
	assert_int_equal(r.dropped, 3);
	assert_close(r.statistic, 0.315623657453816, EXACT);
	assert_close(r.p_value, 0.574249613170082, EXACT);
	assert_close(r.odds_ratio, 1.51724137931034, EXACT);
	assert_close(r.ci_low, 0.535825535511295, EXACT);
	assert_close(r.ci_high, 4.29621444020007, EXACT);
}

static void test_mh_no_correction_below_half(void **state)
{
	const struct vs_table2x2 even[] = { { 5, 5, 5, 5 }, { 3, 3, 3, 3 } };
	struct vs_mh_result r;
	(void)state;

	/* mantelhaen.test(array(c(5, 5, 5, 5, 3, 3, 3, 3), c(2, 2, 2))): delta 0, so no
	 * Yates half: X-squared = 0, p-value = 1, OR 1, CI 0.250097653259906 3.99843815791738 */
	assert_int_equal(vs_mh_test(even, 2, NULL, &r), 0);
	assert_true(r.statistic == 0);
	assert_close(r.p_value, 1, EXACT);
	assert_close(r.odds_ratio, 1, EXACT);
	assert_close(r.ci_low, 0.250097653259906, EXACT);
	assert_close(r.ci_high, 3.99843815791738, EXACT);
}

static void test_mh_undefined_results(void **state)
{
	const struct vs_table2x2 infinite[] = { { 4, 2, 0, 5 }, { 3, 1, 0, 6 } };
	const struct vs_table2x2 zero[] = { { 0, 5, 4, 2 }, { 0, 6, 3, 1 } };
	const struct vs_table2x2 zero_margin[] = { { 0, 5, 0, 2 }, { 0, 6, 0, 1 } };
	const struct vs_table2x2 one_cell[] = { { 7, 0, 0, 0 }, { 9, 0, 0, 0 } };
	struct vs_mh_result r;
	(void)state;

	/* mantelhaen.test(array(c(4, 0, 2, 5, 3, 0, 1, 6), c(2, 2, 2))):
	 * X-squared 7.75230627306273, p 0.00536439930012471, OR Inf, CI NaN NaN */
	assert_int_equal(vs_mh_test(infinite, 2, NULL, &r), 0);
	assert_true(r.statistic_defined);
	assert_close(r.statistic, 7.75230627306273, EXACT);
	assert_close(r.p_value, 0.00536439930012471, EXACT);
	assert_false(r.odds_ratio_defined);
	assert_false(r.ci_defined);
	assert_true(isinf(r.odds_ratio) && r.odds_ratio > 0);

	/* mantelhaen.test(array(c(0, 4, 5, 2, 0, 3, 6, 1), c(2, 2, 2))): same X-squared, OR 0 */
	assert_int_equal(vs_mh_test(zero, 2, NULL, &r), 0);
	assert_close(r.statistic, 7.75230627306273, EXACT);
	assert_false(r.odds_ratio_defined);
	assert_true(r.odds_ratio == 0);

	/* mantelhaen.test(array(c(0, 0, 5, 2, 0, 0, 6, 1), c(2, 2, 2))): all NaN */
	assert_int_equal(vs_mh_test(zero_margin, 2, NULL, &r), 0);
	assert_false(r.statistic_defined);
	assert_false(r.odds_ratio_defined);
	assert_true(isnan(r.statistic) && isnan(r.p_value) && isnan(r.odds_ratio));

	/* mantelhaen.test(array(c(7, 0, 0, 0, 9, 0, 0, 0), c(2, 2, 2))): all NaN */
	assert_int_equal(vs_mh_test(one_cell, 2, NULL, &r), 0);
	assert_false(r.statistic_defined);
	assert_false(r.odds_ratio_defined);
	assert_false(r.ci_defined);

	/* no strata at all */
	assert_int_equal(vs_mh_test(NULL, 0, NULL, &r), 0);
	assert_false(r.statistic_defined || r.odds_ratio_defined || r.ci_defined);
	assert_int_equal(r.strata, 0);
}

static void test_mh_rejects_bad_input(void **state)
{
	struct vs_test_options bad_level = { VS_ALT_TWO_SIDED, 1.0, true };
	struct vs_test_options bad_alt = { (enum vs_alternative)7, 0.95, true };
	const struct vs_table2x2 huge = { VS_STATS_COUNT_MAX, 1, 0, 0 };
	const struct vs_table2x2 wraps = { UINT64_MAX, UINT64_MAX, 2, 2 };
	struct vs_mh mh;
	struct vs_mh_result r;
	(void)state;

	assert_int_equal(vs_mh_test(ucb, 6, &bad_level, &r), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "confidence level"));
	assert_int_equal(vs_mh_test(ucb, 6, &bad_alt, &r), VS_EINVAL);
	vs_mh_init(&mh);
	assert_int_equal(vs_mh_add(&mh, &huge), VS_ETOOBIG);
	assert_int_equal(vs_mh_add(&mh, &wraps), VS_ETOOBIG);
	assert_int_equal(mh.strata + mh.dropped, 0);
}

static void test_mcnemar_performance(void **state)
{
	/* Performance from ?mcnemar.test: matrix(c(794, 86, 150, 570), nrow = 2) */
	const struct vs_table2x2 performance = { 794, 150, 86, 570 };
	struct vs_test_options plain = { VS_ALT_TWO_SIDED, 0.95, false };
	struct vs_mcnemar_result r;
	(void)state;

	/* mcnemar.test(Performance): McNemar's chi-squared = 16.818, df = 1,
	 * p-value = 4.115e-05 */
	assert_int_equal(vs_mcnemar_test(&performance, NULL, &r), 0);
	assert_true(r.statistic_defined);
	assert_close(r.statistic, 16.8177966101695, EXACT);
	assert_close(r.p_value, 4.11456228134594e-05, EXACT);
	/* mcnemar.test(Performance, correct = FALSE) */
	assert_int_equal(vs_mcnemar_test(&performance, &plain, &r), 0);
	assert_close(r.statistic, 17.3559322033898, EXACT);
	assert_close(r.p_value, 3.09929344104522e-05, EXACT);
}

static void test_mcnemar_edges(void **state)
{
	const struct vs_table2x2 equal = { 5, 3, 3, 7 }, none = { 5, 0, 0, 7 },
				 one = { 5, 1, 0, 7 };
	struct vs_mcnemar_result r;
	(void)state;

	/* mcnemar.test(matrix(c(5, 3, 3, 7), 2)): no correction when b == c: 0 */
	assert_int_equal(vs_mcnemar_test(&equal, NULL, &r), 0);
	assert_true(r.statistic_defined && r.statistic == 0);
	assert_close(r.p_value, 1, EXACT);
	/* mcnemar.test(matrix(c(5, 0, 0, 7), 2)): NaN, NaN */
	assert_int_equal(vs_mcnemar_test(&none, NULL, &r), 0);
	assert_false(r.statistic_defined);
	assert_true(isnan(r.statistic) && isnan(r.p_value));
	/* mcnemar.test(matrix(c(5, 0, 1, 7), 2)): 0, p 1 */
	assert_int_equal(vs_mcnemar_test(&one, NULL, &r), 0);
	assert_true(r.statistic == 0);
	assert_close(r.p_value, 1, EXACT);
}

static void test_fisher_tea_tasting(void **state)
{
	/* TeaTasting from ?fisher.test: matrix(c(3, 1, 1, 3), nrow = 2) */
	const struct vs_table2x2 tea = { 3, 1, 1, 3 };
	struct vs_test_options greater = { VS_ALT_GREATER, 0.95, true };
	struct vs_test_options less = { VS_ALT_LESS, 0.95, true };
	struct vs_fisher_result r;
	(void)state;

	/* fisher.test(TeaTasting): p-value = 0.4857, odds ratio 6.408309,
	 * 95 percent CI 0.2117329 621.9337505 */
	assert_int_equal(vs_fisher_test(&tea, NULL, NULL, &r), 0);
	assert_close(r.p_value, 0.485714285714286, EXACT);
	assert_true(r.odds_ratio_defined);
	assert_close(r.odds_ratio, 6.40830886700579, ROOT);
	assert_close(r.ci_low, 0.211732915305503, ROOT);
	assert_close(r.ci_high, 621.933750545417, ROOT);
	/* fisher.test(TeaTasting, alternative = "greater"): p-value = 0.2429,
	 * CI 0.3135693 Inf */
	assert_int_equal(vs_fisher_test(&tea, &greater, NULL, &r), 0);
	assert_close(r.p_value, 0.242857142857143, EXACT);
	assert_close(r.odds_ratio, 6.40830886700579, ROOT);
	assert_close(r.ci_low, 0.313569264110218, ROOT);
	assert_true(isinf(r.ci_high));
	/* fisher.test(TeaTasting, alternative = "less") */
	assert_int_equal(vs_fisher_test(&tea, &less, NULL, &r), 0);
	assert_close(r.p_value, 0.985714285714286, EXACT);
	assert_true(r.ci_low == 0);
	assert_close(r.ci_high, 306.246862520855, ROOT);
}

static void test_fisher_convictions(void **state)
{
	/* Convictions from ?fisher.test: matrix(c(2, 10, 15, 3), nrow = 2) */
	const struct vs_table2x2 convictions = { 2, 15, 10, 3 };
	struct vs_test_options less = { VS_ALT_LESS, 0.95, true };
	struct vs_test_options level99 = { VS_ALT_TWO_SIDED, 0.99, true };
	struct vs_fisher_work work = VS_FISHER_WORK_INIT;
	struct vs_fisher_result r;
	(void)state;

	/* fisher.test(Convictions): p-value = 0.0005367, odds ratio 0.04693661,
	 * 95 percent CI 0.003325764 0.363182271 */
	assert_int_equal(vs_fisher_test(&convictions, NULL, &work, &r), 0);
	assert_close(r.p_value, 0.000536724119143436, EXACT);
	assert_close(r.odds_ratio, 0.0469366088276989, ROOT);
	assert_close(r.ci_low, 0.00332576403385931, ROOT);
	assert_close(r.ci_high, 0.363182271474897, ROOT);
	/* fisher.test(Convictions, alternative = "less"): p-value = 0.0004652,
	 * CI 0 0.2849601 */
	assert_int_equal(vs_fisher_test(&convictions, &less, &work, &r), 0);
	assert_close(r.p_value, 0.000465180943362905, EXACT);
	assert_true(r.ci_low == 0);
	assert_close(r.ci_high, 0.28496013793557, ROOT);
	/* fisher.test(Convictions, conf.level = 0.99): CI 0.001386333 0.578851645 */
	assert_int_equal(vs_fisher_test(&convictions, &level99, &work, &r), 0);
	assert_close(r.ci_low, 0.0013863328715451, ROOT);
	assert_close(r.ci_high, 0.578851644594793, ROOT);
	vs_fisher_work_release(&work);
	assert_null(work.logd);
}

static void test_fisher_large_tables(void **state)
{
	const struct vs_table2x2 big = { 120, 60, 4000, 5000 };
	const struct vs_table2x2 job = { 1000, 300, 2000, 700 };
	const struct vs_table2x2 huge = { 20000, 25000, 30000, 35000 };
	struct vs_fisher_work work;
	struct vs_fisher_result r;
	(void)state;

	vs_fisher_work_init(&work);
	/* fisher.test(matrix(c(120, 4000, 60, 5000), 2)) */
	assert_int_equal(vs_fisher_test(&big, NULL, &work, &r), 0);
	assert_close(r.p_value, 3.37681856363703e-09, EXACT);
	assert_close(r.odds_ratio, 2.49976453043174, ROOT);
	assert_close(r.ci_low, 1.81338010736395, ROOT);
	assert_close(r.ci_high, 3.4773415218807, ROOT);
	/* fisher.test(matrix(c(1000, 2000, 300, 700), 2)) */
	assert_int_equal(vs_fisher_test(&job, NULL, &work, &r), 0);
	assert_close(r.p_value, 0.0514090061569426, EXACT);
	assert_close(r.odds_ratio, 1.16661422231671, ROOT);
	assert_close(r.ci_low, 0.996590137866394, ROOT);
	assert_close(r.ci_high, 1.36751198310987, ROOT);
	/* fisher.test(matrix(c(20000, 30000, 25000, 35000), 2)): 45001 possible tables */
	assert_int_equal(vs_fisher_test(&huge, NULL, &work, &r), 0);
	assert_close(r.p_value, 2.17266632439136e-08, EXACT);
	assert_close(r.odds_ratio, 0.933346384139774, ROOT);
	assert_close(r.ci_low, 0.910990808832323, ROOT);
	assert_close(r.ci_high, 0.956204176421245, ROOT);
	vs_fisher_work_release(&work);
}

static void test_fisher_edges(void **state)
{
	const struct vs_table2x2 zero_margin = { 0, 3, 0, 4 }, at_hi = { 5, 0, 0, 4 },
				 at_lo = { 0, 4, 5, 3 }, empty = { 0, 0, 0, 0 };
	struct vs_test_options less = { VS_ALT_LESS, 0.95, true };
	struct vs_fisher_result r;
	(void)state;

	/* fisher.test(matrix(c(0, 0, 3, 4), 2)): p-value = 1, odds ratio 0, CI 0 Inf */
	assert_int_equal(vs_fisher_test(&zero_margin, NULL, NULL, &r), 0);
	assert_close(r.p_value, 1, EXACT);
	assert_false(r.odds_ratio_defined);
	assert_true(r.odds_ratio == 0 && r.ci_low == 0 && isinf(r.ci_high));
	/* fisher.test(matrix(c(5, 0, 0, 4), 2)): p-value = 0.007937, odds ratio Inf,
	 * CI 1.750351 Inf */
	assert_int_equal(vs_fisher_test(&at_hi, NULL, NULL, &r), 0);
	assert_close(r.p_value, 0.00793650793650794, EXACT);
	assert_false(r.odds_ratio_defined);
	assert_true(isinf(r.odds_ratio));
	assert_close(r.ci_low, 1.750350751427, ROOT);
	assert_true(isinf(r.ci_high));
	/* fisher.test(matrix(c(0, 5, 4, 3), 2)): p-value = 0.08081, odds ratio 0,
	 * CI 0 1.746117 */
	assert_int_equal(vs_fisher_test(&at_lo, NULL, NULL, &r), 0);
	assert_close(r.p_value, 0.0808080808080808, EXACT);
	assert_true(r.odds_ratio == 0 && r.ci_low == 0);
	assert_close(r.ci_high, 1.74611727230996, ROOT);
	/* fisher.test(matrix(c(0, 5, 4, 3), 2), alternative = "less") */
	assert_int_equal(vs_fisher_test(&at_lo, &less, NULL, &r), 0);
	assert_close(r.p_value, 0.0707070707070707, EXACT);
	assert_close(r.ci_high, 1.2207599017727, ROOT);
	/* an empty table (R refuses it): one possible table, so p 1 and nothing estimable */
	assert_int_equal(vs_fisher_test(&empty, NULL, NULL, &r), 0);
	assert_close(r.p_value, 1, EXACT);
	assert_false(r.odds_ratio_defined);
}

/* set.seed(123); x <- rnorm(50, mean = c(rep(0, 25), rep(3, 25)));
 * p <- 2*pnorm(sort(-abs(x))), the vector of ?p.adjust's example, printed with %.17g */
static const double padjust_p[50] = {
	2.3540535079793408e-07, 2.1015902407242859e-05, 2.5768418740401113e-05,
	9.8147833236073584e-05, 0.00010526095883054314, 0.0001241480728928015,
	0.00013259880192358452, 0.00015685033125567761, 0.00022545573276267595,
	0.00037953803092710003, 0.00061149431534094181, 0.0016139537290707732,
	0.0033024296231373793,	0.0035383417761100746,	0.0052369965805745761,
	0.0068319089314331019,	0.0070592256589326078,	0.0088051286010114201,
	0.0094010398396727739,	0.01129798083228886,	0.021150168138838837,
	0.049227364030420349,	0.06053297750530709,	0.062622394673603865,
	0.073951528932168428,	0.082811032824038747,	0.086333312789586975,
	0.11906543306177111,	0.18907962539672907,	0.20584937780834683,
	0.22092137198443099,	0.28560004255989702,	0.30488948730835402,
	0.46606820025984125,	0.48308093523371298,	0.4921754604884912,
	0.53194528606277292,	0.5751550464079549,	0.57831946234574394,
	0.61858943409521261,	0.63636200475135141,	0.64485872428665469,
	0.65584143928443872,	0.68858840005799427,	0.71898636230424384,
	0.81795385305609414,	0.82744865669079792,	0.89712997590579502,
	0.91186795243409247,	0.94378902178378343,
};

/* p.adjust(p, "BH") of the vector above */
static const double padjust_bh[50] = {
	1.1770267539896705e-05, 0.0004294736456733519,	0.0004294736456733519,
	0.00094713429945417519, 0.00094713429945417519, 0.00094713429945417519,
	0.00094713429945417519, 0.00098031457034798513, 0.0012525318486815331,
	0.0018976901546355002,	0.0027795196151860994,	0.0067248072044615555,
	0.012636934914678839,	0.012636934914678839,	0.017456655268581922,
	0.020762428408625317,	0.020762428408625317,	0.024458690558365054,
	0.024739578525454671,	0.028244952080722151,	0.050357543187711518,
	0.11188037279640989,	0.13046332223667473,	0.13046332223667473,
	0.14790305786433686,	0.15925198620007452,	0.15987650516590179,
	0.21261684475316273,	0.32599935413229147,	0.34308229634724474,
	0.35632479352327578,	0.44625006649983912,	0.46195376864902127,
	0.6835770284562378,	0.6835770284562378,	0.6835770284562378,
	0.71884498116590934,	0.74143520813556918,	0.74143520813556918,
	0.76260632474934742,	0.76260632474934742,	0.76260632474934742,
	0.76260632474934742,	0.78248681824772082,	0.79887373589360433,
	0.88026452839446589,	0.88026452839446589,	0.93047750248376782,
	0.93047750248376782,	0.94378902178378343,
};

static void test_bh_padjust_example(void **state)
{
	double q[50], shuffled[50], qs[50];
	(void)state;

	assert_int_equal(vs_bh_adjust(padjust_p, 50, q), 0);
	for (int i = 0; i < 50; i++)
		assert_close(q[i], padjust_bh[i], 1e-12);

	/* order does not matter: each p keeps its own q (17 is coprime to 50) */
	for (int i = 0; i < 50; i++)
		shuffled[i] = padjust_p[(i * 17) % 50];
	assert_int_equal(vs_bh_adjust(shuffled, 50, qs), 0);
	for (int i = 0; i < 50; i++)
		assert_close(qs[i], padjust_bh[(i * 17) % 50], 1e-12);

	/* in place */
	memcpy(q, padjust_p, sizeof(q));
	assert_int_equal(vs_bh_adjust(q, 50, q), 0);
	for (int i = 0; i < 50; i++)
		assert_close(q[i], padjust_bh[i], 1e-12);
}

static void test_bh_nan_and_small(void **state)
{
	double p[8] = { 0.01, 0.04, 0.03, 0.005, 0.5, 0.04, NAN, 0.9 }, q[8];
	/* p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5, 0.04, NA, 0.9), "BH") */
	const double r[8] = { 0.035, 0.056, 0.056, 0.035, 0.58333333333333337, 0.056, NAN, 0.9 };
	double one = 0.2, one_q = -1;
	(void)state;

	assert_int_equal(vs_bh_adjust(p, 8, q), 0);
	for (int i = 0; i < 8; i++) {
		if (isnan(r[i]))
			assert_true(isnan(q[i]));
		else
			assert_close(q[i], r[i], 1e-12);
	}
	/* p.adjust(0.2, "BH") is 0.2; no values, nothing to do */
	assert_int_equal(vs_bh_adjust(&one, 1, &one_q), 0);
	assert_true(one_q == 0.2);
	assert_int_equal(vs_bh_adjust(NULL, 0, NULL), 0);
}

static void test_poisson_upper(void **state)
{
	double p;
	(void)state;

	/* ppois(9, 3, lower.tail = FALSE) */
	assert_int_equal(vs_poisson_upper_p(10, 3, &p), 0);
	assert_close(p, 0.0011024881301154794, 1e-12);
	/* ppois(0, 3, lower.tail = FALSE) */
	assert_int_equal(vs_poisson_upper_p(1, 3, &p), 0);
	assert_close(p, 0.95021293163213605, 1e-12);
	/* ppois(99, 20, lower.tail = FALSE) */
	assert_int_equal(vs_poisson_upper_p(100, 20, &p), 0);
	assert_close(p, 3.4888786696896532e-37, 1e-12);
	assert_int_equal(vs_poisson_upper_p(0, 3, &p), 0);
	assert_true(p == 1);
	assert_int_equal(vs_poisson_upper_p(4, 0, &p), 0);
	assert_true(p == 0);
	/* far beyond double range: 0, not an abort from GSL's error handler */
	assert_int_equal(vs_poisson_upper_p(1000, 1, &p), 0);
	assert_true(p >= 0 && p < 1e-300);
	assert_int_equal(vs_poisson_upper_p(1, -1, &p), VS_EINVAL);
	assert_int_equal(vs_poisson_upper_p(1, NAN, &p), VS_EINVAL);
	assert_int_equal(vs_poisson_upper_p(1, INFINITY, &p), VS_EINVAL);
}

static void test_median_mad(void **state)
{
	const double y[7] = { 1, 2, 3, 4, 100, 7, 2.5 }, even[4] = { 4, 1, 3, 2 };
	double scratch[7], med, mad, nan_in[2] = { 1, NAN };
	(void)state;

	/* median(c(1, 2, 3, 4, 100, 7, 2.5)) = 3; mad(...) = 1.4826 */
	assert_int_equal(vs_median_mad(y, 7, scratch, &med, &mad), 0);
	assert_close(med, 3, EXACT);
	assert_close(mad, 1.4826, EXACT);
	/* median(c(1, 2, 3, 4)) = 2.5; mad(c(1, 2, 3, 4)) = 1.4826 */
	assert_int_equal(vs_median_mad(even, 4, NULL, &med, &mad), 0);
	assert_close(med, 2.5, EXACT);
	assert_close(mad, 1.4826, EXACT);
	assert_int_equal(vs_median_mad(y, 0, NULL, &med, &mad), VS_EINVAL);
	assert_int_equal(vs_median_mad(nan_in, 2, NULL, &med, &mad), VS_EINVAL);
}

static void test_json_numbers(void **state)
{
	struct vs_buf b = VS_BUF_INIT;
	(void)state;

	assert_int_equal(vs_stats_add_json_number(&b, 0.904696828258623, true), 0);
	assert_int_equal(vs_buf_addc(&b, ','), 0);
	assert_int_equal(vs_stats_add_json_number(&b, INFINITY, true), 0);
	assert_int_equal(vs_buf_addc(&b, ','), 0);
	assert_int_equal(vs_stats_add_json_number(&b, NAN, true), 0);
	assert_int_equal(vs_buf_addc(&b, ','), 0);
	assert_int_equal(vs_stats_add_json_number(&b, 0, false), 0);
	assert_int_equal(vs_buf_addc(&b, ','), 0);
	assert_int_equal(vs_stats_add_json_number(&b, -0.0, true), 0);
	assert_int_equal(vs_buf_addc(&b, ','), 0);
	assert_int_equal(vs_stats_add_json_number(&b, 1.69915854873705e-87, true), 0);
	assert_string_equal(b.data, "0.9046968283,null,null,null,0,1.699158549e-87");
	vs_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mh_ucb_admissions),
		cmocka_unit_test(test_mh_ucb_one_sided),
		cmocka_unit_test(test_mh_rabbits),
		cmocka_unit_test(test_mh_streaming_equals_array),
		cmocka_unit_test(test_mh_many_strata),
		cmocka_unit_test(test_mh_single_and_dropped_strata),
		cmocka_unit_test(test_mh_no_correction_below_half),
		cmocka_unit_test(test_mh_undefined_results),
		cmocka_unit_test(test_mh_rejects_bad_input),
		cmocka_unit_test(test_mcnemar_performance),
		cmocka_unit_test(test_mcnemar_edges),
		cmocka_unit_test(test_fisher_tea_tasting),
		cmocka_unit_test(test_fisher_convictions),
		cmocka_unit_test(test_fisher_large_tables),
		cmocka_unit_test(test_fisher_edges),
		cmocka_unit_test(test_bh_padjust_example),
		cmocka_unit_test(test_bh_nan_and_small),
		cmocka_unit_test(test_poisson_upper),
		cmocka_unit_test(test_median_mad),
		cmocka_unit_test(test_json_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

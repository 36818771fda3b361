/*
 * Statistics for the detector's evidence, computed as R computes them so that an expert can
 * check every number with one R call: the Mantel-Haenszel test and common odds ratio of a
 * 2x2xK table (mantelhaen.test), McNemar's test (mcnemar.test), Fisher's exact test of a
 * 2x2 table with its conditional maximum-likelihood odds ratio (fisher.test), the
 * Benjamini-Hochberg adjustment (p.adjust(p, "BH")), a Poisson upper tail (ppois) and the
 * median and MAD (median, mad).  docs/STATISTICS.md gives each formula and the R calls the
 * unit tests were checked against.
 *
 * A result that does not exist (an odds ratio of 0 or infinity, a statistic with zero
 * variance) keeps its IEEE value (0, INFINITY or NAN) and has its *_defined flag cleared;
 * writers print such numbers, and any non-finite one, as JSON null
 * (vs_stats_add_json_number does this).  Nothing here allocates except where a function
 * says so; the caller owns every array it passes in.
 */
#ifndef VENUESCAN_STATS_H
#define VENUESCAN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_buf;

/*
 * One 2x2 table (one stratum), laid out as R's x[1,1], x[1,2], x[2,1], x[2,2].  For the
 * detector, row 1 is "has the attribute value", column 1 is "had the outcome", so the
 * odds ratio a*d / (b*c) is above 1 when the value goes with the outcome.
 */
struct vs_table2x2 {
	uint64_t a; /* row 1, column 1 */
	uint64_t b; /* row 1, column 2 */
	uint64_t c; /* row 2, column 1 */
	uint64_t d; /* row 2, column 2 */
};

/* The alternative hypothesis, as R's alternative = "two.sided", "less", "greater". */
enum vs_alternative {
	VS_ALT_TWO_SIDED,
	VS_ALT_LESS,   /* odds ratio below 1 */
	VS_ALT_GREATER /* odds ratio above 1 */
};

/*
 * Options shared by the tests; a NULL pointer means R's defaults, VS_TEST_OPTIONS_R.
 * conf_level must lie strictly between 0 and 1.  correct is the continuity correction of
 * mantelhaen.test and mcnemar.test; Fisher's test ignores it, McNemar ignores the rest.
 */
struct vs_test_options {
	enum vs_alternative alternative;
	double conf_level;
	bool correct;
};

#define VS_TEST_OPTIONS_R { VS_ALT_TWO_SIDED, 0.95, true }

/* Totals above 2^53 cannot be held exactly in a double; tables that large are refused. */
#define VS_STATS_COUNT_MAX (UINT64_C(1) << 53)

/* --- Mantel-Haenszel ------------------------------------------------------------------ */

/*
 * Running sums of a Mantel-Haenszel test: add the strata one at a time, in any order, then
 * ask for the result.  Fixed size and no allocation, so a detector can keep one per
 * attribute value and feed it while it walks the persons.  Fields are private to stats.c.
 */
struct vs_mh {
	double delta;    /* sum of a_k - E[a_k] */
	double variance; /* sum of Var(a_k) under the null */
	double r, s;     /* sums of a d / n and b c / n */
	double pr, ps_qr, qs; /* the Robins-Breslow-Greenland sums */
	size_t strata;   /* strata used (n_k >= 2) */
	size_t dropped;  /* strata with n_k < 2, which carry no information */
};

struct vs_mh_result {
	double statistic;   /* Mantel-Haenszel X-squared, df 1 */
	double p_value;
	double odds_ratio;  /* the Mantel-Haenszel common odds ratio */
	double log_or_se;   /* RBG standard error of log(odds_ratio) */
	double ci_low, ci_high; /* conf_level interval; a one-sided bound is 0 or INFINITY */
	double delta;       /* sum of a_k - E[a_k]: the sign says which way */
	size_t strata, dropped;
	bool statistic_defined;  /* false when no stratum has variance: statistic, p are NAN */
	bool odds_ratio_defined; /* false when the odds ratio is 0, INFINITY or 0/0 */
	bool ci_defined;         /* false when the odds ratio is undefined */
};

void vs_mh_init(struct vs_mh *mh);

/*
 * Add one stratum.  A stratum of fewer than 2 persons is counted in mh->dropped and
 * otherwise ignored (R refuses such tables; they add nothing to any sum).  Fails with
 * VS_ETOOBIG, leaving mh unchanged, when the stratum's total exceeds VS_STATS_COUNT_MAX.
 */
int vs_mh_add(struct vs_mh *mh, const struct vs_table2x2 *t);

/*
 * The test from the sums, as mantelhaen.test(x, alternative, correct, conf.level =,
 * exact = FALSE) on the 2x2xK array of the strata added.  opt may be NULL (R's defaults).
 * Fails with VS_EINVAL on bad options.  With no stratum added, nothing is defined.
 */
int vs_mh_result(const struct vs_mh *mh, const struct vs_test_options *opt,
		 struct vs_mh_result *res);

/* vs_mh_init, vs_mh_add for each of the k strata, vs_mh_result.  strata may be NULL if k is 0. */
int vs_mh_test(const struct vs_table2x2 *strata, size_t k, const struct vs_test_options *opt,
	       struct vs_mh_result *res);

/* --- McNemar -------------------------------------------------------------------------- */

struct vs_mcnemar_result {
	double statistic; /* McNemar's chi-squared, df 1 */
	double p_value;
	bool statistic_defined; /* false when b + c == 0 (R gives NaN) */
};

/*
 * McNemar's test of a paired 2x2 table t (b and c are the discordant pairs), as
 * mcnemar.test(x, correct = opt->correct).  Only opt->correct is used; NULL means TRUE.
 * Fails with VS_ETOOBIG when b + c exceeds VS_STATS_COUNT_MAX.
 */
int vs_mcnemar_test(const struct vs_table2x2 *t, const struct vs_test_options *opt,
		    struct vs_mcnemar_result *res);

/* --- Fisher --------------------------------------------------------------------------- */

/*
 * Scratch memory for Fisher's test: one double per value the top-left cell can take.  It
 * grows as needed and is reused, so a caller testing many tables allocates only when a
 * table needs more than any before.  vs_fisher_work_release frees it.  Not thread-safe:
 * one per thread.
 */
struct vs_fisher_work {
	double *logd;
	size_t alloc;
};

#define VS_FISHER_WORK_INIT { NULL, 0 }

void vs_fisher_work_init(struct vs_fisher_work *w);
void vs_fisher_work_release(struct vs_fisher_work *w);

struct vs_fisher_result {
	double p_value;
	double odds_ratio;  /* conditional MLE: 0 when a is at its minimum, INFINITY at its maximum */
	double ci_low, ci_high; /* conditional conf_level interval; may be 0 and INFINITY */
	bool odds_ratio_defined; /* false when odds_ratio is 0 or INFINITY */
};

/*
 * Fisher's exact test of the 2x2 table t, as fisher.test(x, alternative =, conf.level =):
 * the p-value (two-sided: the sum of the tables no more probable than t, with R's relative
 * tolerance 1e-7), the conditional maximum-likelihood odds ratio and its confidence
 * interval, found as R finds them (Brent's method with uniroot's tolerance, so results
 * agree with R's to its printed digits rather than to the exact root).  work may be NULL
 * (then scratch is allocated and freed in the call).  Time is proportional to the smallest
 * margin for each root-finding step.  Fails with VS_EINVAL on bad options, VS_ETOOBIG when the total
 * exceeds VS_STATS_COUNT_MAX.
 */
int vs_fisher_test(const struct vs_table2x2 *t, const struct vs_test_options *opt,
		   struct vs_fisher_work *work, struct vs_fisher_result *res);

/* --- multiple testing, bursts, robust scale -------------------------------------------- */

/*
 * Benjamini-Hochberg adjusted p-values, as p.adjust(p, "BH"): q[i] is the minimum over the
 * p-values at least as large as p[i] of n/rank * p, capped at 1, in the original order.
 * NaN entries stay NaN and are left out of n (R's NA).  With n <= 1 non-NaN values, q = p.
 * q may be p.  Allocates n index entries for the sort (this is not a per-table call).
 */
int vs_bh_adjust(const double *p, size_t n, double *q);

/*
 * P(X >= observed) for X ~ Poisson(expected), as ppois(observed - 1, expected,
 * lower.tail = FALSE).  Fails with VS_EINVAL unless expected is finite and >= 0.
 */
int vs_poisson_upper_p(uint64_t observed, double expected, double *p);

/*
 * The median of x[0..n) and its median absolute deviation scaled by 1.4826, as R's
 * median(x) and mad(x).  scratch holds n doubles (its contents are overwritten) or is NULL
 * to allocate them in the call.  Fails with VS_EINVAL when n is 0 or x holds a NaN.
 */
int vs_median_mad(const double *x, size_t n, double *scratch, double *median, double *mad);

/*
 * Append x to b as a JSON number with up to 10 significant digits, or as null when defined
 * is false or x is not finite, so that no "inf" or "nan" ever reaches a report.  Pass the
 * result's flag: an odds ratio of 0 is finite but undefined.  Fails as vs_buf_add does.
 */
int vs_stats_add_json_number(struct vs_buf *b, double x, bool defined);

#endif

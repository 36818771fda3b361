/*
 * The detector's statistics, written to give R's numbers: each function follows the
 * arithmetic of the R function it names (mantelhaen.test, mcnemar.test, fisher.test,
 * p.adjust, ppois, median, mad), including R's choices that a textbook would not make, such
 * as the Yates half applied only when |delta| >= 1/2 and uniroot's loose tolerance for
 * Fisher's conditional odds ratio.  Undefined results keep their IEEE value and clear a
 * flag; no division by zero is ever performed.  Tail probabilities come from erfc() and
 * GSL's normal and gamma distributions, which underflow to 0 instead of calling GSL's
 * error handler.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/stats.h"

/* R's uniroot(): tol = .Machine$double.eps^0.25, maxiter = 1000. */
#define UNIROOT_MAXIT 1000
/* fisher.test's relative tolerance for "no more probable than the observed table". */
#define FISHER_REL_ERR (1 + 1e-7)
/* mad()'s constant, 1 / qnorm(3/4) rounded as R rounds it. */
#define MAD_CONSTANT 1.4826

static const struct vs_test_options r_defaults = VS_TEST_OPTIONS_R;

static int check_options(const struct vs_test_options *opt)
{
	if (opt->alternative != VS_ALT_TWO_SIDED && opt->alternative != VS_ALT_LESS &&
	    opt->alternative != VS_ALT_GREATER)
		return vs_error_set(VS_EINVAL, "statistics: unknown alternative %d",
				    (int)opt->alternative);
	if (!(opt->conf_level > 0 && opt->conf_level < 1))
		return vs_error_set(VS_EINVAL,
				    "statistics: confidence level %g is not between 0 and 1",
				    opt->conf_level);
	return 0;
}

/* The total of t, or an error when it overflows or cannot be held exactly in a double. */
static int table_total(const struct vs_table2x2 *t, uint64_t *n)
{
	uint64_t max = VS_STATS_COUNT_MAX;

	if (t->a > max || t->b > max || t->c > max || t->d > max ||
	    t->a + t->b > max - t->c || t->a + t->b + t->c > max - t->d)
		return vs_error_set(VS_ETOOBIG, "statistics: table total above 2^53");
	*n = t->a + t->b + t->c + t->d;
	return 0;
}

/* P(chi-squared with 1 df > x), R's pchisq(x, 1, lower.tail = FALSE). */
static double chisq1_upper(double x)
{
	return erfc(sqrt(x / 2));
}

/* --- Mantel-Haenszel ------------------------------------------------------------------ */

void vs_mh_init(struct vs_mh *mh)
{
	memset(mh, 0, sizeof(*mh));
}

int vs_mh_add(struct vs_mh *mh, const struct vs_table2x2 *t)
{
	double a, b, c, d, n, row1, row2, col1, col2, ad, bc;
	uint64_t total;
	int rc = table_total(t, &total);

	if (rc)
		return rc;
	if (total < 2) {
		mh->dropped++;
		return 0;
	}
	a = (double)t->a;
	b = (double)t->b;
	c = (double)t->c;
	d = (double)t->d;
	n = (double)total;
	row1 = a + b;
	row2 = c + d;
	col1 = a + c;
	col2 = b + d;
	ad = a * d / n;
	bc = b * c / n;

	mh->delta += a - row1 * col1 / n;
	mh->variance += (row1 * col1 / n) * (row2 * col2 / n) / (n - 1);
	mh->r += ad;
	mh->s += bc;
	mh->pr += (a + d) * ad / n;
	mh->ps_qr += ((a + d) * bc + (b + c) * ad) / n;
	mh->qs += (b + c) * bc / n;
	mh->strata++;
	return 0;
}

int vs_mh_result(const struct vs_mh *mh, const struct vs_test_options *opt,
		 struct vs_mh_result *res)
{
	int rc;

	if (!opt)
		opt = &r_defaults;
	rc = check_options(opt);
	if (rc)
		return rc;

	memset(res, 0, sizeof(*res));
	res->delta = mh->delta;
	res->strata = mh->strata;
	res->dropped = mh->dropped;

	if (mh->variance > 0) {
		double dev = fabs(mh->delta), z;

		if (opt->correct && dev >= 0.5)
			dev -= 0.5;
		res->statistic = dev * dev / mh->variance;
		res->statistic_defined = true;
		z = sqrt(res->statistic);
		if (mh->delta < 0)
			z = -z;
		else if (mh->delta == 0)
			z = 0;
		switch (opt->alternative) {
		case VS_ALT_TWO_SIDED:
			res->p_value = chisq1_upper(res->statistic);
			break;
		case VS_ALT_LESS:
			res->p_value = gsl_cdf_ugaussian_P(z);
			break;
		case VS_ALT_GREATER:
			res->p_value = gsl_cdf_ugaussian_Q(z);
			break;
		}
	} else {
		res->statistic = NAN;
		res->p_value = NAN;
	}

	if (mh->r > 0 && mh->s > 0) {
		double r = mh->r, s = mh->s, q;

		res->odds_ratio = r / s;
		res->log_or_se = sqrt(mh->pr / (2 * r * r) + mh->ps_qr / (2 * r * s) +
				      mh->qs / (2 * s * s));
		res->odds_ratio_defined = true;
		res->ci_defined = true;
		switch (opt->alternative) {
		case VS_ALT_TWO_SIDED:
			q = gsl_cdf_ugaussian_Pinv((1 - opt->conf_level) / 2);
			res->ci_low = res->odds_ratio * exp(q * res->log_or_se);
			res->ci_high = res->odds_ratio * exp(-q * res->log_or_se);
			break;
		case VS_ALT_LESS:
			res->ci_low = 0;
			q = gsl_cdf_ugaussian_Pinv(opt->conf_level);
			res->ci_high = res->odds_ratio * exp(q * res->log_or_se);
			break;
		case VS_ALT_GREATER:
			q = gsl_cdf_ugaussian_Qinv(opt->conf_level);
			res->ci_low = res->odds_ratio * exp(q * res->log_or_se);
			res->ci_high = INFINITY;
			break;
		}
	} else {
		if (mh->r > 0)
			res->odds_ratio = INFINITY;
		else if (mh->s > 0)
			res->odds_ratio = 0;
		else
			res->odds_ratio = NAN;
		res->log_or_se = NAN;
		res->ci_low = NAN;
		res->ci_high = NAN;
	}
	return 0;
}

int vs_mh_test(const struct vs_table2x2 *strata, size_t k, const struct vs_test_options *opt,
	       struct vs_mh_result *res)
{
	struct vs_mh mh;
	size_t i;
	int rc;

	vs_mh_init(&mh);
	for (i = 0; i < k; i++) {
		rc = vs_mh_add(&mh, &strata[i]);
		if (rc) {
			vs_error_prefix("stratum %zu", i + 1);
			return rc;
		}
	}
	return vs_mh_result(&mh, opt, res);
}

/* --- McNemar -------------------------------------------------------------------------- */

int vs_mcnemar_test(const struct vs_table2x2 *t, const struct vs_test_options *opt,
		    struct vs_mcnemar_result *res)
{
	bool correct = opt ? opt->correct : true;
	double b, c, y;

	memset(res, 0, sizeof(*res));
	if (t->b > VS_STATS_COUNT_MAX || t->c > VS_STATS_COUNT_MAX - t->b)
		return vs_error_set(VS_ETOOBIG, "statistics: discordant pairs above 2^53");
	if (t->b + t->c == 0) {
		res->statistic = NAN;
		res->p_value = NAN;
		return 0;
	}
	b = (double)t->b;
	c = (double)t->c;
	y = fabs(b - c);
	if (correct && t->b != t->c)
		y -= 1;
	res->statistic = y * y / (b + c);
	res->p_value = chisq1_upper(res->statistic);
	res->statistic_defined = true;
	return 0;
}

/* --- Fisher --------------------------------------------------------------------------- */

void vs_fisher_work_init(struct vs_fisher_work *w)
{
	w->logd = NULL;
	w->alloc = 0;
}

void vs_fisher_work_release(struct vs_fisher_work *w)
{
	free(w->logd);
	vs_fisher_work_init(w);
}

/* lgamma() without its global sign variable, so that threads may test at once. */
static double log_gamma(double x)
{
	int sign;

	return lgamma_r(x, &sign);
}

/*
 * Fisher's noncentral hypergeometric distribution of the top-left cell given the margins:
 * support lo..hi, log density at odds ratio 1 up to a constant in logd[0..hi-lo], and the
 * observed value x.
 */
struct nchg {
	const double *logd;
	size_t size;
	double lo, hi, x;
};

enum nchg_quantity {
	NCHG_MEAN,  /* E[X] */
	NCHG_LOWER, /* P(X <= x) */
	NCHG_UPPER  /* P(X >= x) */
};

/* One of the quantities at odds ratio ncp (finite, > 0), as R's mnhyper and pnhyper. */
static double nchg_eval(const struct nchg *h, enum nchg_quantity what, double ncp)
{
	double lncp = log(ncp), max = -INFINITY, total = 0, part = 0;
	size_t i;

	for (i = 0; i < h->size; i++) {
		double v = h->logd[i] + lncp * (h->lo + (double)i);
		if (v > max)
			max = v;
	}
	for (i = 0; i < h->size; i++) {
		double s = h->lo + (double)i;
		double w = exp(h->logd[i] + lncp * s - max);

		total += w;
		switch (what) {
		case NCHG_MEAN:
			part += s * w;
			break;
		case NCHG_LOWER:
			if (s <= h->x)
				part += w;
			break;
		case NCHG_UPPER:
			if (s >= h->x)
				part += w;
			break;
		}
	}
	return part / total;
}

/* The quantity at odds ratio 0, where all the mass sits at lo. */
static double nchg_at_zero(const struct nchg *h, enum nchg_quantity what)
{
	switch (what) {
	case NCHG_MEAN:
		return h->lo;
	case NCHG_LOWER:
		return h->x >= h->lo;
	case NCHG_UPPER:
		return h->x <= h->lo;
	}
	return NAN;
}

/* f(t) = quantity(ncp) - target, with ncp = t or 1/t: the functions fisher.test solves. */
struct nchg_equation {
	const struct nchg *h;
	enum nchg_quantity what;
	bool inverse;
	double target;
};

static double nchg_equation_value(double t, const struct nchg_equation *e)
{
	double ncp = e->inverse ? 1 / t : t;

	if (ncp == 0)
		return nchg_at_zero(e->h, e->what) - e->target;
	return nchg_eval(e->h, e->what, ncp) - e->target;
}

/*
 * A root of e in [lo, hi] by Brent's method (bisection, secant and inverse quadratic
 * interpolation), with the step rules and tolerance of R's uniroot() so that the root is
 * the one R reports.  NAN if e has the same sign at both ends.
 */
static double brent_root(const struct nchg_equation *e, double lo, double hi)
{
	double tol = pow(DBL_EPSILON, 0.25);
	double a = lo, b = hi, c, fa, fb, fc;
	int iter;

	fa = nchg_equation_value(a, e);
	fb = nchg_equation_value(b, e);
	if (isnan(fa) || isnan(fb) || (fa > 0 && fb > 0) || (fa < 0 && fb < 0))
		return NAN;
	if (fa == 0)
		return a;
	if (fb == 0)
		return b;
	c = a;
	fc = fa;
	for (iter = 0; iter < UNIROOT_MAXIT; iter++) {
		double prev_step = b - a, tol_act, step;

		/* b is the best estimate, c the point on the other side of the root. */
		if (fabs(fc) < fabs(fb)) {
			a = b;
			b = c;
			c = a;
			fa = fb;
			fb = fc;
			fc = fa;
		}
		tol_act = 2 * DBL_EPSILON * fabs(b) + tol / 2;
		step = (c - b) / 2;
		if (fabs(step) <= tol_act || fb == 0)
			return b;

		if (fabs(prev_step) >= tol_act && fabs(fa) > fabs(fb)) {
			double cb = c - b, p, q, t1, t2;

			if (a == c) {
				/* two points: secant */
				t1 = fb / fa;
				p = cb * t1;
				q = 1 - t1;
			} else {
				/* three points: inverse quadratic interpolation */
				q = fa / fc;
				t1 = fb / fc;
				t2 = fb / fa;
				p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1));
				q = (q - 1) * (t1 - 1) * (t2 - 1);
			}
			if (p > 0)
				q = -q;
			else
				p = -p;
			/* accept the interpolation only if it stays well inside and shrinks fast */
			if (p < 0.75 * cb * q - fabs(tol_act * q) / 2 && p < fabs(prev_step * q / 2))
				step = p / q;
		}
		if (fabs(step) < tol_act)
			step = step > 0 ? tol_act : -tol_act;

		a = b;
		fa = fb;
		b += step;
		fb = nchg_equation_value(b, e);
		if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
			c = a;
			fc = fa;
		}
	}
	return b;
}

/*
 * The odds ratio at which quantity(ncp) = target, searched below 1 when the value at 1 is
 * above the target (the quantity grows with ncp) and above 1 otherwise, as fisher.test's
 * mle(), ncp.U() and ncp.L() do.  The mean and P(X >= x) grow with ncp, P(X <= x) falls.
 */
static double nchg_solve(const struct nchg *h, enum nchg_quantity what, double target)
{
	struct nchg_equation e = { h, what, false, target };
	double at_one = nchg_eval(h, what, 1);
	bool below_one = what == NCHG_LOWER ? at_one < target : at_one > target;

	if (at_one == target)
		return 1;
	if (below_one)
		return brent_root(&e, 0, 1);
	e.inverse = true;
	return 1 / brent_root(&e, DBL_EPSILON, 1);
}

int vs_fisher_test(const struct vs_table2x2 *t, const struct vs_test_options *opt,
		   struct vs_fisher_work *work, struct vs_fisher_result *res)
{
	struct vs_fisher_work local = VS_FISHER_WORK_INIT;
	struct nchg h;
	uint64_t total, m, n, k, lo, hi, i;
	double max = -INFINITY, alpha;
	int rc;

	if (!opt)
		opt = &r_defaults;
	rc = check_options(opt);
	if (rc)
		return rc;
	rc = table_total(t, &total);
	if (rc)
		return rc;
	if (!work)
		work = &local;

	/* fisher.test's names: m, n column totals, k the first row's, x the top-left cell */
	m = t->a + t->c;
	n = t->b + t->d;
	k = t->a + t->b;
	lo = k > n ? k - n : 0;
	hi = k < m ? k : m;
	h.size = (size_t)(hi - lo + 1);
	if (h.size > work->alloc) {
		work->logd = vs_xreallocarray(work->logd, h.size, sizeof(*work->logd));
		work->alloc = h.size;
	}
	for (i = 0; i < h.size; i++) {
		double s = (double)(lo + i);

		/* log of choose(m, s) * choose(n, k - s) without the terms common to all s */
		work->logd[i] = -(log_gamma(s + 1) + log_gamma((double)m - s + 1) +
				  log_gamma((double)k - s + 1) +
				  log_gamma((double)n - (double)k + s + 1));
		if (work->logd[i] > max)
			max = work->logd[i];
	}
	h.logd = work->logd;
	h.lo = (double)lo;
	h.hi = (double)hi;
	h.x = (double)t->a;

	memset(res, 0, sizeof(*res));
	switch (opt->alternative) {
	case VS_ALT_TWO_SIDED: {
		double observed = exp(work->logd[t->a - lo] - max) * FISHER_REL_ERR;
		double all = 0, as_extreme = 0;

		for (i = 0; i < h.size; i++) {
			double d = exp(work->logd[i] - max);

			all += d;
			if (d <= observed)
				as_extreme += d;
		}
		res->p_value = as_extreme / all;
		break;
	}
	case VS_ALT_LESS:
		res->p_value = nchg_eval(&h, NCHG_LOWER, 1);
		break;
	case VS_ALT_GREATER:
		res->p_value = nchg_eval(&h, NCHG_UPPER, 1);
		break;
	}

	if (t->a == lo)
		res->odds_ratio = 0;
	else if (t->a == hi)
		res->odds_ratio = INFINITY;
	else
		res->odds_ratio = nchg_solve(&h, NCHG_MEAN, h.x);
	res->odds_ratio_defined = isfinite(res->odds_ratio) && res->odds_ratio > 0;

	alpha = opt->alternative == VS_ALT_TWO_SIDED ? (1 - opt->conf_level) / 2
						     : 1 - opt->conf_level;
	res->ci_low = 0;
	res->ci_high = INFINITY;
	if (opt->alternative != VS_ALT_LESS && t->a != lo)
		res->ci_low = nchg_solve(&h, NCHG_UPPER, alpha);
	if (opt->alternative != VS_ALT_GREATER && t->a != hi)
		res->ci_high = nchg_solve(&h, NCHG_LOWER, alpha);

	vs_fisher_work_release(&local);
	return 0;
}

/* --- multiple testing, bursts, robust scale -------------------------------------------- */

struct ranked_p {
	double p;
	size_t index;
};

static int ranked_p_cmp(const void *x, const void *y)
{
	const struct ranked_p *a = x, *b = y;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

int vs_bh_adjust(const double *p, size_t n, double *q)
{
	struct ranked_p *ranked;
	size_t i, m = 0;
	double running = INFINITY;

	for (i = 0; i < n; i++)
		if (!isnan(p[i]))
			m++;
	if (m <= 1) {
		if (q != p && n)
			memmove(q, p, n * sizeof(*q));
		return 0;
	}
	ranked = vs_xreallocarray(NULL, m, sizeof(*ranked));
	for (i = 0, m = 0; i < n; i++) {
		if (isnan(p[i])) {
			q[i] = p[i];
			continue;
		}
		ranked[m].p = p[i];
		ranked[m].index = i;
		m++;
	}
	qsort(ranked, m, sizeof(*ranked), ranked_p_cmp);
	for (i = m; i > 0; i--) {
		double v = (double)m / (double)i * ranked[i - 1].p;

		if (v < running)
			running = v;
		q[ranked[i - 1].index] = running < 1 ? running : 1;
	}
	free(ranked);
	return 0;
}

int vs_poisson_upper_p(uint64_t observed, double expected, double *p)
{
	if (!(expected >= 0) || !isfinite(expected))
		return vs_error_set(VS_EINVAL, "statistics: Poisson mean %g is not finite and >= 0",
				    expected);
	if (observed == 0)
		*p = 1;
	else if (expected == 0)
		*p = 0;
	else /* P(X >= k) = P(Gamma(k, 1) <= mean) */
		*p = gsl_cdf_gamma_P(expected, (double)observed, 1.0);
	return 0;
}

static int double_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* The median of the n sorted values v. */
static double sorted_median(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int vs_median_mad(const double *x, size_t n, double *scratch, double *median, double *mad)
{
	double *v = scratch, med;
	size_t i;

	if (n == 0)
		return vs_error_set(VS_EINVAL, "statistics: median of no values");
	for (i = 0; i < n; i++)
		if (isnan(x[i]))
			return vs_error_set(VS_EINVAL, "statistics: value %zu is not a number", i + 1);
	if (!v)
		v = vs_xreallocarray(NULL, n, sizeof(*v));
	memcpy(v, x, n * sizeof(*v));
	qsort(v, n, sizeof(*v), double_cmp);
	med = sorted_median(v, n);
	for (i = 0; i < n; i++)
		v[i] = fabs(x[i] - med);
	qsort(v, n, sizeof(*v), double_cmp);
	*median = med;
	*mad = MAD_CONSTANT * sorted_median(v, n);
	if (v != scratch)
		free(v);
	return 0;
}

int vs_stats_add_json_number(struct vs_buf *b, double x, bool defined)
{
	if (!defined || !isfinite(x))
		return vs_buf_adds(b, "null");
	if (x == 0)
		return vs_buf_adds(b, "0");
	return vs_buf_addf(b, "%.10g", x);
}

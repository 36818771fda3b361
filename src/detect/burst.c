/*
 * Bursts (SPEC §7 finding 5): many code changes in one direction within an hour that the
 * published rules do not account for.  "To red" counts changes to red that no rule
 * explains; "to green" counts changes back to green that undo an unexplained change or
 * come while the rules still give a colour (so neither a release nor a change of risk
 * areas explains them).  Each hour is compared with a robust baseline over every hour of
 * the dataset: it is a burst when it holds at least BURST_MIN_CHANGES changes, more than
 * the median plus five MADs, and a Poisson upper tail below alpha / hours at the larger
 * of the median and the mean.  Consecutive burst hours are merged into one finding.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/mem.h"
#include "detect_int.h"

#define MAX_BINS (1u << 20)

struct bins {
	uint32_t *count;
	int64_t *first, *last;
	int offset_first_min;
};

static int scan_direction(struct vs_findings *f, const struct bins *b, size_t nbins,
			  bool to_red)
{
	double *x = vs_xcalloc(nbins, sizeof(*x));
	double median, mad, mean = 0, lambda;
	int rc;

	for (size_t i = 0; i < nbins; i++) {
		x[i] = b->count[i];
		mean += x[i];
	}
	mean /= (double)nbins;
	if ((rc = vs_median_mad(x, nbins, NULL, &median, &mad)) != 0)
		goto out;
	lambda = median > mean ? median : mean;
	if (lambda <= 0)
		goto out;
	for (size_t i = 0; i < nbins;) {
		size_t j = i;
		uint64_t sum = 0;
		double p;
		while (j < nbins) {
			double pj;
			if (b->count[j] < BURST_MIN_CHANGES || b->count[j] <= median + 5 * mad)
				break;
			if ((rc = vs_poisson_upper_p(b->count[j], lambda, &pj)) != 0)
				goto out;
			if (!(pj <= f->opt.alpha / (double)nbins))
				break;
			sum += b->count[j];
			j++;
		}
		if (j == i) {
			i++;
			continue;
		}
		if ((rc = vs_poisson_upper_p(sum, lambda * (double)(j - i), &p)) != 0)
			goto out;
		struct vs_finding *fx = vs_findings_add(f, VS_FIND_BURST);
		fx->ts = b->first[i];
		fx->offset_min = b->offset_first_min;
		fx->person_id = "";
		fx->u.burst.end = b->last[j - 1];
		fx->u.burst.end_offset_min = fx->offset_min;
		fx->u.burst.to_red = to_red;
		fx->u.burst.changes = sum;
		fx->u.burst.expected = lambda * (double)(j - i);
		fx->u.burst.p_value = p;
		i = j;
	}
out:
	free(x);
	return rc;
}

int vs_burst_run(struct vs_findings *f)
{
	struct bins red = { 0 }, green = { 0 };
	int64_t bin_s = BURST_BIN_S, start, span;
	size_t nbins;
	int rc = 0;

	if (f->ncodes == 0 || f->ts_min > f->ts_max)
		return 0;
	span = f->ts_max - f->ts_min;
	while ((uint64_t)(span / bin_s) + 1 > MAX_BINS)
		bin_s *= 2;
	start = f->ts_min - ((f->ts_min % bin_s) + bin_s) % bin_s;
	nbins = (size_t)((f->ts_max - start) / bin_s) + 1;
	red.count = vs_xcalloc(nbins, sizeof(*red.count));
	green.count = vs_xcalloc(nbins, sizeof(*green.count));
	red.first = vs_xcalloc(nbins, sizeof(int64_t));
	red.last = vs_xcalloc(nbins, sizeof(int64_t));
	green.first = vs_xcalloc(nbins, sizeof(int64_t));
	green.last = vs_xcalloc(nbins, sizeof(int64_t));
	for (size_t i = 0; i < f->ncodes; i++) {
		const struct code_rec *c = &f->codes[i];
		struct bins *b;
		size_t k = (size_t)((c->ts - start) / bin_s);
		if (c->color == VS_RED && c->unexplained)
			b = &red;
		else if (c->color == VS_GREEN && c->prev_color != VS_GREEN &&
			 (c->undoes || !c->rules_green))
			b = &green;
		else
			continue;
		if (!b->count[k] || c->ts < b->first[k])
			b->first[k] = c->ts;
		b->offset_first_min = c->offset_min; /* all times shown in one offset */
		if (!b->count[k] || c->ts > b->last[k])
			b->last[k] = c->ts;
		b->count[k]++;
	}
	if ((rc = scan_direction(f, &red, nbins, true)) == 0)
		rc = scan_direction(f, &green, nbins, false);
	f->bin_start = start;
	f->bin_s = bin_s;
	f->bins_red = red.count;
	f->bins_green = green.count;
	f->nbins = nbins;
	free(red.first);
	free(red.last);
	free(green.first);
	free(green.last);
	return rc;
}

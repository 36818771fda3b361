/*
 * Identity association (SPEC §7 finding 2): is an attribute value held by more of the
 * persons with an unexplained red or yellow change than where they were would lead one to
 * expect?  Each round tests every attribute value not yet decided with a Mantel-Haenszel
 * test over 2x2 tables (holds the value x had the outcome), one per stratum, adjusts the
 * p-values with Benjamini-Hochberg, and flags the strongest significant excess (smallest
 * p, then largest |log OR|, then name).  The next round stratifies by the original stratum
 * crossed with whether the person holds each flagged value, so a value whose excess only
 * follows a flagged one (an age band beside depositors) loses it, while another targeted
 * value of the same attribute (a second bank beside the first) keeps its own.  Each value's
 * result is that of the last round it was tested in (a flagged value: the round it was
 * flagged in).
 *
 * Counting is one pass over the persons per round: a hash from (value, stratum) to the
 * cell counts, then each value's strata in a fixed order, so sums and results do not
 * depend on hash layout.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "detect_int.h"

/* ---- one round ---------------------------------------------------------------------- */

struct cell {
	uint64_t key;  /* value << 32 | stratum */
	uint64_t m, a; /* holders, holders with the outcome */
};

struct value_result {
	struct vs_mh_result mh;
	uint64_t with, out_with;
	double q;
	size_t round, nconditioned;
	bool tested, flagged, decided;
};

static int cell_cmp(const void *x, const void *y)
{
	const struct cell *a = x, *b = y;

	return a->key < b->key ? -1 : a->key > b->key;
}

static uint32_t base_stratum(const struct vs_findings *f, const struct person *p)
{
	if (p->outcome && p->outcome_area != VS_NONE)
		return p->outcome_area;
	if (p->nvisits) {
		const struct area_visit *best = &p->visits[0];
		for (uint32_t i = 1; i < p->nvisits; i++)
			if (p->visits[i].count > best->count)
				best = &p->visits[i];
		return best->area;
	}
	if (p->home_area != VS_NONE)
		return p->home_area;
	return (uint32_t)f->areas.n; /* nowhere known: one stratum of its own */
}

/* Has person p listed value v before index i of its attrs (a repeated key=value)? */
static int repeated(const struct vs_findings *f, const struct person *p, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++)
		if (f->attr_values[p->attr_first + j] == f->attr_values[p->attr_first + i])
			return 1;
	return 0;
}

static double abs_log_or(const struct vs_mh_result *r)
{
	if (!(r->odds_ratio > 0))
		return INFINITY;
	return fabs(log(r->odds_ratio));
}

/* Test every undecided value within strata; returns the value to flag or VS_NONE. */
static int run_round(struct vs_findings *f, const uint32_t *stratum, size_t nstrata,
		     struct value_result *res, size_t round, uint32_t *best_out)
{
	size_t nvalues = f->values.n;
	uint64_t *n_k = vs_xcalloc(nstrata, sizeof(*n_k));
	uint64_t *o_k = vs_xcalloc(nstrata, sizeof(*o_k));
	struct cell *cells = NULL;
	size_t ncells = 0, acells = 0;
	struct vs_u64map map;
	double *p = NULL, *q = NULL;
	uint32_t *tested = NULL;
	size_t ntested = 0;
	uint32_t best = VS_NONE;
	int rc = 0;

	vs_u64map_init(&map, 1024);
	for (size_t i = 0; i < f->npersons; i++) {
		const struct person *pp = &f->persons[i];
		uint32_t k = stratum[i];
		n_k[k]++;
		o_k[k] += pp->outcome;
		for (uint32_t j = 0; j < pp->nattrs; j++) {
			uint32_t v = f->attr_values[pp->attr_first + j];
			int added;
			uint32_t c;
			if (res[v].decided || repeated(f, pp, j))
				continue;
			c = vs_u64map_add(&map, (uint64_t)v << 32 | k, &added);
			if (added) {
				VS_ALLOC_GROW(cells, ncells + 1, acells);
				cells[c] = (struct cell){ (uint64_t)v << 32 | k, 0, 0 };
				ncells++;
			}
			cells[c].m++;
			cells[c].a += pp->outcome;
		}
	}
	vs_u64map_release(&map);
	if (ncells)
		qsort(cells, ncells, sizeof(*cells), cell_cmp);
	p = vs_xcalloc(nvalues + 1, sizeof(*p));
	q = vs_xcalloc(nvalues + 1, sizeof(*q));
	tested = vs_xcalloc(nvalues + 1, sizeof(*tested));
	for (size_t c = 0; c < ncells;) {
		uint32_t v = (uint32_t)(cells[c].key >> 32);
		struct value_result *r = &res[v];
		struct vs_mh mh;
		vs_mh_init(&mh);
		r->with = r->out_with = 0;
		for (; c < ncells && (uint32_t)(cells[c].key >> 32) == v; c++) {
			uint32_t k = (uint32_t)cells[c].key;
			struct vs_table2x2 t;
			t.a = cells[c].a;
			t.b = cells[c].m - cells[c].a;
			t.c = o_k[k] - cells[c].a;
			t.d = n_k[k] - cells[c].m - t.c;
			r->with += cells[c].m;
			r->out_with += cells[c].a;
			if ((rc = vs_mh_add(&mh, &t)) != 0)
				goto out;
		}
		if ((rc = vs_mh_result(&mh, NULL, &r->mh)) != 0)
			goto out;
		r->tested = true;
		r->round = round;
		r->nconditioned = f->nflagged;
		p[ntested] = r->mh.statistic_defined ? r->mh.p_value : NAN;
		tested[ntested++] = v;
	}
	if (ntested && (rc = vs_bh_adjust(p, ntested, q)) != 0)
		goto out;
	for (size_t i = 0; i < ntested; i++) {
		struct value_result *r = &res[tested[i]];
		r->q = q[i];
		if (isnan(q[i]) || !(q[i] <= f->opt.alpha) || !(r->mh.delta > 0))
			continue;
		if (best == VS_NONE)
			best = tested[i];
		else {
			const struct value_result *b = &res[best];
			double lr = abs_log_or(&r->mh), lb = abs_log_or(&b->mh);
			if (r->mh.p_value < b->mh.p_value ||
			    (r->mh.p_value == b->mh.p_value &&
			     (lr > lb || (lr == lb && strcmp(vs_text(&f->values, tested[i]),
							      vs_text(&f->values, best)) < 0))))
				best = tested[i];
		}
	}
out:
	free(n_k);
	free(o_k);
	free(cells);
	free(p);
	free(q);
	free(tested);
	*best_out = best;
	return rc;
}

int vs_association_run(struct vs_findings *f)
{
	size_t nvalues = f->values.n;
	struct value_result *res = vs_xcalloc(nvalues + 1, sizeof(*res));
	uint32_t *stratum = vs_xcalloc(f->npersons + 1, sizeof(*stratum));
	size_t nstrata = f->areas.n + 1;
	uint64_t outcomes = 0;
	int rc = 0;

	f->value_flagged = vs_xcalloc(nvalues + 1, 1);
	f->flagged = vs_xcalloc(nvalues + 1, sizeof(*f->flagged));
	f->flagged_ids = vs_xcalloc(nvalues + 1, sizeof(*f->flagged_ids));
	for (size_t i = 0; i < f->npersons; i++) {
		stratum[i] = base_stratum(f, &f->persons[i]);
		outcomes += f->persons[i].outcome;
	}
	for (size_t round = 0; round < nvalues; round++) {
		uint32_t best;
		struct vs_u64map map;
		if ((rc = run_round(f, stratum, nstrata, res, round, &best)) != 0)
			goto out;
		if (best == VS_NONE)
			break;
		res[best].flagged = true;
		res[best].decided = true;
		f->value_flagged[best] = 1;
		f->flagged_ids[f->nflagged] = best;
		f->flagged[f->nflagged++] = vs_text(&f->values, best);
		/* new strata: old stratum x whether the person holds the flagged value */
		vs_u64map_init(&map, nstrata * 2);
		for (size_t i = 0; i < f->npersons; i++) {
			uint64_t holds =
				vs_person_value_of(f, (uint32_t)i, f->value_key[best]) == best;
			int added;
			stratum[i] = vs_u64map_add(&map, (uint64_t)stratum[i] << 1 | holds, &added);
		}
		nstrata = map.n;
		vs_u64map_release(&map);
	}
	for (size_t v = 0; v < nvalues; v++) {
		const struct value_result *r = &res[v];
		struct vs_finding *x;
		struct vs_association *a;
		const char *text = vs_text(&f->values, (uint32_t)v), *eq = strchr(text, '=');
		if (!r->tested)
			continue;
		x = vs_findings_add(f, VS_FIND_ASSOCIATION);
		x->person_id = "";
		a = &x->u.assoc;
		a->attribute = vs_text(&f->keys, f->value_key[v]);
		a->value = eq ? eq + 1 : "";
		a->persons_with = r->with;
		a->persons_without = f->npersons - r->with;
		a->outcomes_with = r->out_with;
		a->outcomes_without = outcomes - r->out_with;
		a->strata = r->mh.strata;
		a->mh = r->mh;
		a->q_value = r->q;
		a->conditioned_on = f->flagged;
		a->nconditioned = r->nconditioned;
		a->round = r->round;
		a->flagged = r->flagged;
	}
	f->summary.associations_flagged = f->nflagged;
out:
	free(res);
	free(stratum);
	return rc;
}

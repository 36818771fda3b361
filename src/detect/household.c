/*
 * Same house, different colour (SPEC §7 finding 3): when a person's code changes to red or
 * yellow and no published rule explains it, each housemate who was in exactly the same
 * areas over the 14 days before (day by day, from the conformance pass's per-area day
 * bitmaps) but held a different colour at that moment makes a discordant pair.  Over the
 * distinct discordant pairs, McNemar's test asks for every attribute value held by one
 * member of a pair and not the other whether the holder is the one with the worse colour
 * more often than the housemate without it.
 */
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "detect_int.h"

#define WINDOW_DAYS 14

struct pair {
	uint32_t worse, other;
};

static int64_t floor_day(int64_t ts)
{
	return ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
}

/* A code setting's place in its person's time order. */
struct code_key {
	uint32_t person, index;
	int64_t ts;
};

static int code_key_cmp(const void *x, const void *y)
{
	const struct code_key *a = x, *b = y;

	if (a->person != b->person)
		return a->person < b->person ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * The sorted areas person p visited on days (day - 13 .. day] into out (room for
 * p->nvisits); returns the count, or -1 when the bitmaps no longer cover those days.
 */
static int areas_before(const struct person *p, int64_t day, uint32_t *out)
{
	int n = 0;

	for (uint32_t i = 0; i < p->nvisits; i++) {
		const struct area_visit *v = &p->visits[i];
		int hit = 0;
		for (int64_t d = day - WINDOW_DAYS + 1; d <= day && !hit; d++) {
			int64_t back = v->day - d;
			if (back < 0)
				break; /* after its last visit */
			if (back >= 64)
				return -1;
			hit = (int)(v->days >> back & 1);
		}
		if (hit)
			out[n++] = v->area;
	}
	qsort(out, (size_t)n, sizeof(*out), u32_cmp);
	return n;
}

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *a = x, *b = y;

	if (a->worse != b->worse)
		return a->worse < b->worse ? -1 : 1;
	return a->other < b->other ? -1 : a->other > b->other;
}

/* Colour of person at t from its time-ordered code list (green before any). */
static enum vs_color color_at(const struct vs_findings *f, const uint32_t *list, size_t n,
			      int64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* first entry with ts > t */
		size_t mid = (lo + hi) / 2;
		if (f->codes[list[mid]].ts <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (enum vs_color)f->codes[list[lo - 1]].color : VS_GREEN;
}

static int household_tests(struct vs_findings *f, struct pair *pairs, size_t npairs)
{
	size_t nvalues = f->values.n;
	uint64_t *with = vs_xcalloc(nvalues + 1, sizeof(*with));
	uint64_t *without = vs_xcalloc(nvalues + 1, sizeof(*without));
	int rc = 0;

	if (npairs)
		qsort(pairs, npairs, sizeof(*pairs), pair_cmp);
	for (size_t i = 0; i < npairs; i++) {
		const struct person *w = &f->persons[pairs[i].worse];
		const struct person *o = &f->persons[pairs[i].other];
		if (i && pairs[i].worse == pairs[i - 1].worse &&
		    pairs[i].other == pairs[i - 1].other)
			continue;
		for (uint32_t j = 0; j < w->nattrs; j++) {
			uint32_t v = f->attr_values[w->attr_first + j];
			if (vs_person_value_of(f, pairs[i].other, f->value_key[v]) != v)
				with[v]++;
		}
		for (uint32_t j = 0; j < o->nattrs; j++) {
			uint32_t v = f->attr_values[o->attr_first + j];
			if (vs_person_value_of(f, pairs[i].worse, f->value_key[v]) != v)
				without[v]++;
		}
	}
	for (size_t v = 0; v < nvalues; v++) {
		struct vs_household_test *t;
		struct vs_table2x2 tab;
		const char *text = vs_text(&f->values, (uint32_t)v), *eq = strchr(text, '=');
		if (!with[v] && !without[v])
			continue;
		f->htests = vs_xreallocarray(f->htests, f->nhtests + 1, sizeof(*f->htests));
		t = &f->htests[f->nhtests++];
		t->attribute = vs_text(&f->keys, f->value_key[v]);
		t->value = eq ? eq + 1 : "";
		t->with_redder = with[v];
		t->without_redder = without[v];
		tab.a = 0;
		tab.b = with[v];
		tab.c = without[v];
		tab.d = 0;
		if ((rc = vs_mcnemar_test(&tab, NULL, &t->res)) != 0)
			break;
	}
	free(with);
	free(without);
	return rc;
}

int vs_household_run(struct vs_findings *f)
{
	size_t nh = f->households.n;
	uint32_t *first = vs_xcalloc(nh + 1, sizeof(*first));
	uint32_t *members = vs_xcalloc(f->npersons + 1, sizeof(*members));
	uint32_t *order = vs_xcalloc(f->ncodes + 1, sizeof(*order));
	uint32_t *cfirst = vs_xcalloc(f->npersons + 1, sizeof(*cfirst));
	uint32_t *ccount = vs_xcalloc(f->npersons + 1, sizeof(*ccount));
	uint32_t *fill = vs_xcalloc(nh + 1, sizeof(*fill));
	uint32_t *sa = NULL, *sb = NULL;
	size_t asa = 0, asb = 0;
	struct pair *pairs = NULL;
	struct code_key *keys;
	size_t npairs = 0, apairs = 0;
	int rc;

	f->summary.households = nh;
	/* members of each household, in person order */
	for (size_t i = 0; i < f->npersons; i++)
		if (f->persons[i].household != VS_NONE)
			first[f->persons[i].household + 1]++;
	for (size_t h = 0; h < nh; h++)
		first[h + 1] += first[h];
	for (size_t i = 0; i < f->npersons; i++) {
		uint32_t h = f->persons[i].household;
		if (h != VS_NONE)
			members[first[h] + fill[h]++] = (uint32_t)i;
	}
	/* each person's code settings in time order */
	keys = vs_xcalloc(f->ncodes + 1, sizeof(*keys));
	for (size_t i = 0; i < f->ncodes; i++)
		keys[i] = (struct code_key){ f->codes[i].person, (uint32_t)i, f->codes[i].ts };
	if (f->ncodes)
		qsort(keys, f->ncodes, sizeof(*keys), code_key_cmp);
	for (size_t i = 0; i < f->ncodes; i++)
		order[i] = keys[i].index;
	free(keys);
	for (size_t i = f->ncodes; i-- > 0;) {
		cfirst[f->codes[order[i]].person] = (uint32_t)i;
		ccount[f->codes[order[i]].person]++;
	}
	for (size_t i = 0; i < f->ncodes; i++) {
		const struct code_rec *c = &f->codes[order[i]];
		const struct person *a = &f->persons[c->person];
		int64_t day = floor_day(c->ts);
		int na;
		if (!c->unexplained || a->household == VS_NONE ||
		    first[a->household + 1] - first[a->household] < 2)
			continue;
		VS_ALLOC_GROW(sa, a->nvisits + 1, asa);
		if ((na = areas_before(a, day, sa)) < 0)
			continue;
		for (uint32_t m = first[a->household]; m < first[a->household + 1]; m++) {
			uint32_t bi = members[m];
			const struct person *b = &f->persons[bi];
			enum vs_color bc;
			struct vs_finding *x;
			int nb;
			if (bi == c->person)
				continue;
			bc = color_at(f, order + cfirst[bi], ccount[bi], c->ts);
			if (bc == (enum vs_color)c->color)
				continue;
			VS_ALLOC_GROW(sb, b->nvisits + 1, asb);
			if ((nb = areas_before(b, day, sb)) != na ||
			    memcmp(sa, sb, (size_t)na * sizeof(*sa)))
				continue;
			x = vs_findings_add(f, VS_FIND_HOUSEHOLD_DISCORDANCE);
			x->ts = c->ts;
			x->offset_min = c->offset_min;
			x->person_id = vs_person_id(f, c->person);
			x->u.household.household_id = vs_text(&f->households, a->household);
			x->u.household.persons[0] = x->person_id;
			x->u.household.persons[1] = vs_person_id(f, bi);
			x->u.household.colors[0] = (enum vs_color)c->color;
			x->u.household.colors[1] = bc;
			VS_ALLOC_GROW(pairs, npairs + 1, apairs);
			if (bc > (enum vs_color)c->color)
				pairs[npairs++] = (struct pair){ bi, c->person };
			else
				pairs[npairs++] = (struct pair){ c->person, bi };
		}
	}
	rc = household_tests(f, pairs, npairs);
	f->summary.household_tests = f->htests;
	f->summary.nhousehold_tests = f->nhtests;
	free(first);
	free(members);
	free(order);
	free(cfirst);
	free(ccount);
	free(fill);
	free(sa);
	free(sb);
	free(pairs);
	return rc;
}

/*
 * Scoring the detector against a simulated dataset's ground truth (labels.csv: one row
 * per code event, cause published:RULE or misuse:RULE) for `venuescan eval`.  Only this
 * file opens labels.csv; vs_detect_run never does.  Changes are matched to labels by
 * (person, time); the attribute values each misuse rule used are inferred from the data
 * (docs/DETECTOR.md) so that no scenario's attribute names are built in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/time.h"
#include "detect_int.h"

#define COVERAGE_MIN 0.95

struct label {
	uint32_t person;
	int64_t ts;
	uint32_t rule; /* id in rule names, VS_NONE for published */
};

static int label_cmp(const void *x, const void *y)
{
	const struct label *a = x, *b = y;

	if (a->person != b->person)
		return a->person < b->person ? -1 : 1;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule; /* misuse (small ids) first */
}

static int read_labels(const char *dir, const struct vs_findings *f, struct vs_intern *rules,
		       struct label **out, size_t *nout, struct vs_eval *e)
{
	static const char *const need[] = { "ts", "person_id", "cause", NULL };
	struct vs_csv_reader *r = NULL;
	char *path = vs_xasprintf("%s/labels.csv", dir);
	struct label *l = NULL;
	size_t n = 0, alloc = 0;
	int rc, cts, cp, cc;

	if ((rc = vs_csv_open(&r, path)) != 0)
		goto out;
	if ((rc = vs_csv_require(r, need)) != 0)
		goto out;
	cts = vs_csv_column(r, "ts");
	cp = vs_csv_column(r, "person_id");
	cc = vs_csv_column(r, "cause");
	while ((rc = vs_csv_next(r)) == 1) {
		const char *cause = vs_csv_field(r, (size_t)cc);
		long person = vs_person_table_find(&f->ptable, vs_csv_field(r, (size_t)cp));
		struct label lb;
		if (vs_time_parse(vs_csv_field(r, (size_t)cts), &lb.ts, NULL) != 0) {
			rc = vs_csv_field_wrap(r, (size_t)cts, VS_EFORMAT);
			goto out;
		}
		if (person < 0) {
			rc = vs_csv_field_error(r, (size_t)cp, "unknown person '%s'",
						vs_csv_field(r, (size_t)cp));
			goto out;
		}
		lb.person = (uint32_t)person;
		if (!strncmp(cause, "misuse:", 7) && cause[7]) {
			lb.rule = vs_intern_add(rules, cause + 7, strlen(cause + 7));
			e->misuse_labels++;
		} else if (!strncmp(cause, "published:", 10) && cause[10]) {
			lb.rule = VS_NONE;
		} else {
			rc = vs_csv_field_error(r, (size_t)cc,
						"not published:RULE or misuse:RULE '%s'", cause);
			goto out;
		}
		e->labels++;
		VS_ALLOC_GROW(l, n + 1, alloc);
		l[n++] = lb;
	}
out:
	vs_csv_close(r);
	free(path);
	if (rc < 0) {
		free(l);
		return rc;
	}
	if (n)
		qsort(l, n, sizeof(*l), label_cmp);
	*out = l;
	*nout = n;
	return 0;
}

static const struct label *find_label(const struct label *l, size_t n, uint32_t person, int64_t ts)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l[mid].person < person || (l[mid].person == person && l[mid].ts < ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && l[lo].person == person && l[lo].ts == ts ? &l[lo] : NULL;
}

/* Does the rule name contain text (ASCII case-insensitive, 3 characters at least)? */
static int names(const char *rule, const char *text)
{
	size_t n = strlen(text);

	if (n < 3)
		return 0;
	for (; *rule; rule++)
		if (!strncasecmp(rule, text, n))
			return 1;
	return 0;
}

int vs_eval_score(const char *dir, const struct vs_findings *f, struct vs_eval *e)
{
	struct vs_intern rules;
	struct label *l = NULL, *pairs = NULL;
	size_t nl = 0, nv = f->values.n, npairs = 0, apairs = 0;
	uint8_t *misuse_person = NULL; /* 1: a change of this person is labelled misuse */
	uint64_t *cover = NULL, *holders = NULL, *per_rule = NULL, *misuse_holders = NULL;
	int rc;

	memset(e, 0, sizeof(*e));
	vs_intern_init(&rules);
	if ((rc = read_labels(dir, f, &rules, &l, &nl, e)) != 0)
		goto out;
	/* changes */
	for (size_t i = 0; i < f->ncodes; i++) {
		const struct code_rec *c = &f->codes[i];
		const struct label *lb;
		bool misuse;
		if (c->color == VS_GREEN || !c->is_change) {
			lb = find_label(l, nl, c->person, c->ts);
			e->misuse_not_scored += lb && lb->rule != VS_NONE;
			continue;
		}
		e->changes++;
		lb = find_label(l, nl, c->person, c->ts);
		if (!lb)
			e->unlabelled++;
		misuse = lb && lb->rule != VS_NONE;
		if (misuse) {
			VS_ALLOC_GROW(pairs, npairs + 1, apairs);
			pairs[npairs++] = (struct label){ c->person, 0, lb->rule };
		}
		if (c->unexplained)
			misuse ? e->tp++ : e->fp++;
		else
			misuse ? e->fn++ : e->tn++;
	}
	e->precision = e->tp + e->fp ? (double)e->tp / (double)(e->tp + e->fp) : NAN;
	e->recall = e->tp + e->fn ? (double)e->tp / (double)(e->tp + e->fn) : NAN;

	/* which persons each misuse rule labelled (distinct (person, rule) pairs) */
	misuse_person = vs_xcalloc(f->npersons + 1, 1);
	per_rule = vs_xcalloc(rules.n + 1, sizeof(*per_rule));
	cover = vs_xcalloc((rules.n + 1) * (nv + 1), sizeof(*cover));
	holders = vs_xcalloc(nv + 1, sizeof(*holders));
	misuse_holders = vs_xcalloc(nv + 1, sizeof(*misuse_holders));
	if (npairs)
		qsort(pairs, npairs, sizeof(*pairs), label_cmp);
	for (size_t i = 0; i < npairs; i++) {
		const struct person *p;
		if (i && pairs[i - 1].person == pairs[i].person &&
		    pairs[i - 1].rule == pairs[i].rule)
			continue;
		misuse_person[pairs[i].person] = 1;
		per_rule[pairs[i].rule]++;
		p = &f->persons[pairs[i].person];
		for (uint32_t j = 0; j < p->nattrs; j++)
			cover[(size_t)pairs[i].rule * nv + f->attr_values[p->attr_first + j]]++;
	}
	for (size_t i = 0; i < f->npersons; i++) {
		const struct person *p = &f->persons[i];
		for (uint32_t j = 0; j < p->nattrs; j++) {
			holders[f->attr_values[p->attr_first + j]]++;
			misuse_holders[f->attr_values[p->attr_first + j]] += misuse_person[i];
		}
	}
	e->nrules = rules.n;
	e->rules = vs_xcalloc(rules.n + 1, sizeof(*e->rules));
	e->values = vs_xcalloc(nv + 1, sizeof(*e->values));
	bool *expected = vs_xcalloc(nv + 1, sizeof(*expected));
	for (size_t r = 0; r < rules.n; r++) {
		struct vs_eval_rule *er = &e->rules[r];
		uint32_t best = VS_NONE;
		int best_named = 0;
		double best_purity = -1;
		er->name = vs_xstrdup(vs_text(&rules, (uint32_t)r));
		er->persons = per_rule[r];
		er->value = "";
		for (size_t v = 0; v < nv; v++) {
			uint64_t c = cover[r * nv + v];
			const char *text = vs_text(&f->values, (uint32_t)v);
			const char *eq = strchr(text, '=');
			char key[256];
			int named;
			double purity;
			if (!per_rule[r] || (double)c < COVERAGE_MIN * (double)per_rule[r])
				continue;
			snprintf(key, sizeof(key), "%.*s", (int)(eq - text), text);
			named = names(er->name, key) || names(er->name, eq + 1);
			purity = (double)c / (double)holders[v];
			if (best == VS_NONE || named > best_named ||
			    (named == best_named && purity > best_purity)) {
				best = (uint32_t)v;
				best_named = named;
				best_purity = purity;
			}
		}
		if (best != VS_NONE) {
			er->value = vs_text(&f->values, best);
			expected[best] = true;
		}
	}
	for (size_t i = 0; i < f->nitems; i++) {
		const struct vs_finding *x = &f->items[i];
		struct vs_eval_value *ev;
		uint32_t v;
		char *kv;
		if (x->kind != VS_FIND_ASSOCIATION)
			continue;
		kv = vs_xasprintf("%s=%s", x->u.assoc.attribute, x->u.assoc.value);
		v = vs_intern_find(&f->values, kv, strlen(kv));
		free(kv);
		ev = &e->values[e->nvalues++];
		ev->value = vs_text(&f->values, v);
		ev->flagged = x->u.assoc.flagged;
		ev->expected = v != VS_NONE && expected[v];
		ev->holders = v != VS_NONE ? holders[v] : 0;
		ev->misuse_holders = v != VS_NONE ? misuse_holders[v] : 0;
		if (ev->flagged && ev->expected)
			e->attr_tp++;
		else if (ev->flagged)
			e->attr_fp++;
		else if (ev->expected)
			e->attr_fn++;
	}
	free(expected);
out:
	vs_intern_release(&rules);
	free(l);
	free(pairs);
	free(misuse_person);
	free(per_rule);
	free(cover);
	free(holders);
	free(misuse_holders);
	if (rc)
		vs_eval_release(e);
	return rc;
}

void vs_eval_release(struct vs_eval *e)
{
	for (size_t i = 0; i < e->nrules; i++)
		free((char *)e->rules[i].name);
	free(e->rules);
	free(e->values);
	memset(e, 0, sizeof(*e));
}

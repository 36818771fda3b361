/*
 * The detector's orchestration: read the dataset and run the conformance pass
 * (input.c, conformance.c), then each finding family in turn — association first, since
 * the others mark changes of persons holding a flagged value — and put the findings in
 * their stable output order.  Also the small shared helpers of src/detect/ and the public
 * accessors of detect.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "detect_int.h"

static const char *const kind_names[] = {
	"association", "action_triggered", "unexplained_code", "reason_mismatch",
	"household_discordance", "remote_scan", "burst",
};

const char *vs_finding_kind_name(enum vs_finding_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

struct vs_finding *vs_findings_add(struct vs_findings *f, enum vs_finding_kind kind)
{
	struct vs_finding *x;

	VS_ALLOC_GROW(f->items, f->nitems + 1, f->aitems);
	x = &f->items[f->nitems++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->person_id = "";
	return x;
}

const char *vs_findings_own(struct vs_findings *f, char *s)
{
	VS_ALLOC_GROW(f->owned, f->nowned + 1, f->aowned);
	f->owned[f->nowned++] = s;
	return s;
}

const char *vs_rule_mask_names(struct vs_findings *f, uint64_t mask)
{
	struct vs_buf b;
	int first = 1;

	vs_buf_init(&b, 0);
	for (size_t i = 0; i < f->nrules; i++)
		if (mask >> i & 1) {
			if (!first)
				vs_buf_addc(&b, ',');
			vs_buf_adds(&b, vs_rules_name(f->rules, i));
			first = 0;
		}
	if (!b.data)
		vs_buf_adds(&b, "");
	return vs_findings_own(f, vs_buf_detach(&b, NULL));
}

uint32_t vs_person_value_of(const struct vs_findings *f, uint32_t p, uint32_t key)
{
	const struct person *pp = &f->persons[p];

	for (uint32_t j = 0; j < pp->nattrs; j++) {
		uint32_t v = f->attr_values[pp->attr_first + j];
		if (f->value_key[v] == key)
			return v;
	}
	return VS_NONE;
}

bool vs_person_has_flagged(const struct vs_findings *f, uint32_t person)
{
	const struct person *pp = &f->persons[person];

	if (!f->value_flagged)
		return false;
	for (uint32_t j = 0; j < pp->nattrs; j++)
		if (f->value_flagged[f->attr_values[pp->attr_first + j]])
			return true;
	return false;
}

/* ---- ordering ----------------------------------------------------------------------- */

static int finding_cmp(const void *x, const void *y)
{
	const struct vs_finding *a = x, *b = y;
	int c;

	/* associations first, then action_triggered, then the rest by time */
	int ga = a->kind == VS_FIND_ASSOCIATION ? 0 : a->kind == VS_FIND_ACTION_TRIGGERED ? 1 : 2;
	int gb = b->kind == VS_FIND_ASSOCIATION ? 0 : b->kind == VS_FIND_ACTION_TRIGGERED ? 1 : 2;
	if (ga != gb)
		return ga - gb;
	if (ga == 0) {
		if ((c = strcmp(a->u.assoc.attribute, b->u.assoc.attribute)) != 0)
			return c;
		return strcmp(a->u.assoc.value, b->u.assoc.value);
	}
	if (ga == 1) {
		if ((c = strcmp(a->u.action.action, b->u.action.action)) != 0)
			return c;
		return (int)a->u.action.color - (int)b->u.action.color;
	}
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if ((c = strcmp(a->person_id, b->person_id)) != 0)
		return c;
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	if (a->kind == VS_FIND_HOUSEHOLD_DISCORDANCE)
		return strcmp(a->u.household.persons[1], b->u.household.persons[1]);
	if (a->kind == VS_FIND_REMOTE_SCAN)
		return strcmp(a->u.remote.venue_id, b->u.remote.venue_id);
	if (a->kind == VS_FIND_BURST)
		return (int)b->u.burst.to_red - (int)a->u.burst.to_red;
	return 0;
}

static int change_cmp(const void *x, const void *y)
{
	const struct vs_checked_change *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return strcmp(a->person_id, b->person_id);
}

static void build_changes(struct vs_findings *f)
{
	size_t n = 0;

	f->changes = vs_xcalloc(f->ncodes + 1, sizeof(*f->changes));
	for (size_t i = 0; i < f->ncodes; i++) {
		const struct code_rec *c = &f->codes[i];
		if (c->color == VS_GREEN || !c->is_change)
			continue;
		f->changes[n].person_id = vs_person_id(f, c->person);
		f->changes[n].ts = c->ts;
		f->changes[n].color = (enum vs_color)c->color;
		f->changes[n].unexplained = c->unexplained;
		n++;
	}
	f->nchanges = n;
	if (n)
		qsort(f->changes, n, sizeof(*f->changes), change_cmp);
}

/* ---- the run ------------------------------------------------------------------------ */

static void findings_init(struct vs_findings *f, const struct vs_detect_options *opt)
{
	memset(f, 0, sizeof(*f));
	f->rules = opt->rules;
	f->opt = *opt;
	f->rules_name = vs_xstrdup(opt->rules_name ? opt->rules_name : "");
	f->opt.rules_name = f->rules_name;
	f->nrules = vs_rules_count(opt->rules);
	vs_intern_init(&f->households);
	vs_intern_init(&f->areas);
	vs_intern_init(&f->values);
	vs_intern_init(&f->keys);
	vs_intern_init(&f->venue_ids);
	vs_intern_init(&f->texts);
	vs_intern_init(&f->tokens);
	f->risk = vs_risk_map_new();
	vs_u64map_init(&f->auth_map, 1024);
}

int vs_detect_run(const char *dir, const struct vs_detect_options *opt,
		  struct vs_findings **out)
{
	struct vs_findings *f;
	struct vs_detect_summary *s;
	int rc;

	*out = NULL;
	if (!opt || !opt->rules || !(opt->alpha > 0 && opt->alpha < 1) || !(opt->remote_km > 0))
		return vs_error_set(VS_EINVAL, "detect: bad options (rules, alpha in (0,1), "
				    "remote_km > 0)");
	f = vs_xmalloc(sizeof(*f));
	findings_init(f, opt);
	if ((rc = vs_detect_read(f, dir)) != 0)
		goto out;
	if ((rc = vs_association_run(f)) != 0)
		goto out;
	vs_conformance_findings(f);
	if ((rc = vs_household_run(f)) != 0)
		goto out;
	vs_remote_findings(f);
	if ((rc = vs_burst_run(f)) != 0)
		goto out;
	if ((rc = vs_action_run(f)) != 0)
		goto out;
	if (f->nitems)
		qsort(f->items, f->nitems, sizeof(*f->items), finding_cmp);
	build_changes(f);
	s = &f->summary;
	s->rules_name = f->rules_name;
	s->alpha = opt->alpha;
	s->remote_km = opt->remote_km;
	s->persons = f->npersons;
	s->flagged_values = f->flagged;
	s->nflagged = f->nflagged;
	for (size_t i = 0; i < f->nitems; i++)
		s->count[f->items[i].kind]++;
	s->anything_flagged = s->associations_flagged > 0 ||
		s->count[VS_FIND_REASON_MISMATCH] || s->count[VS_FIND_HOUSEHOLD_DISCORDANCE] ||
		s->count[VS_FIND_REMOTE_SCAN] || s->count[VS_FIND_BURST] ||
		s->count[VS_FIND_ACTION_TRIGGERED];
out:
	if (rc) {
		vs_findings_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void vs_findings_free(struct vs_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->npersons; i++)
		free(f->persons[i].visits);
	free(f->persons);
	vs_person_table_release(&f->ptable);
	free(f->person_slots);
	vs_intern_release(&f->households);
	vs_intern_release(&f->areas);
	vs_intern_release(&f->values);
	vs_intern_release(&f->keys);
	vs_intern_release(&f->venue_ids);
	vs_intern_release(&f->texts);
	vs_intern_release(&f->tokens);
	vs_risk_map_free(f->risk);
	free(f->attr_values);
	free(f->value_key);
	free(f->rule_state);
	free(f->area_has_risk);
	free(f->venues);
	vs_u64map_release(&f->auth_map);
	free(f->auth_state);
	free(f->codes);
	free(f->remotes);
	free(f->actions);
	free(f->items);
	free(f->flagged);
	free(f->flagged_ids);
	free(f->value_flagged);
	free(f->htests);
	free(f->changes);
	free(f->bins_red);
	free(f->bins_green);
	for (size_t i = 0; i < f->nowned; i++)
		free(f->owned[i]);
	free(f->owned);
	free(f->rules_name);
	free(f);
}

size_t vs_findings_count(const struct vs_findings *f)
{
	return f->nitems;
}

const struct vs_finding *vs_findings_get(const struct vs_findings *f, size_t i)
{
	return i < f->nitems ? &f->items[i] : NULL;
}

const struct vs_detect_summary *vs_findings_summary(const struct vs_findings *f)
{
	return &f->summary;
}

size_t vs_findings_changes(const struct vs_findings *f, const struct vs_checked_change **out)
{
	*out = f->changes;
	return f->nchanges;
}

size_t vs_findings_bins(const struct vs_findings *f, int64_t *start, int64_t *bin_s,
			const uint32_t **to_red, const uint32_t **to_green)
{
	*start = f->bin_start;
	*bin_s = f->bin_s;
	*to_red = f->bins_red;
	*to_green = f->bins_green;
	return f->nbins;
}

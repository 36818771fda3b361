/*
 * Scenario files (scenario.h, docs/SCENARIOS.md): a small INI dialect parsed line by line
 * into a validated struct vs_scenario.  [scenario] comes first; when it ends, the venues
 * and rules files it names are loaded, so every later line can be checked at once against
 * them (unknown venues, areas without venues, unknown rules) and reported with its own
 * line.  Counts that depend on a whole section (a misuse rule's members against its group)
 * are checked when the section ends, against the section's header line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/scenario.h"
#include "venuescan/time.h"

#define SCENARIO_MAX (1u << 20)
#define ITEMS_MAX 64 /* words in one value */
#define KEYS_MAX 64  /* keys in one section */

enum section {
	SEC_NONE,
	SEC_SCENARIO,
	SEC_HOMES,
	SEC_ATTRIBUTE,
	SEC_GROUP,
	SEC_DAILY,
	SEC_RISK,
	SEC_OUTBREAK,
	SEC_ENTRIES,
	SEC_REASONS,
	SEC_MISUSE,
};

struct parser {
	struct vs_scenario *s;
	const char *file;    /* for messages */
	unsigned long line;
	enum section sec;
	unsigned long sec_line;
	char *seen[KEYS_MAX];
	size_t nseen;
	int loaded;          /* venues and rules are loaded */
	int has_start, has_days, has_persons, has_venues, has_rules;
	int has_who, has_type, has_group;
	char *words[ITEMS_MAX];
	size_t nwords;
};

static int perr(const struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(const struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vs_error_atv(VS_EFORMAT, p->file, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

static int serr(const struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int serr(const struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vs_error_atv(VS_EFORMAT, p->file, p->sec_line, fmt, ap);
	va_end(ap);
	return rc;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > VS_SCN_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Split v in place at sep (a space-like run when sep is ' '), into p->words. */
static int split(struct parser *p, char *v, char sep)
{
	p->nwords = 0;
	while (*v) {
		char *e;
		if (sep == ' ')
			while (*v == ' ' || *v == '\t')
				v++;
		if (!*v)
			break;
		if (p->nwords == ITEMS_MAX)
			return perr(p, "more than %d items", ITEMS_MAX);
		if (sep == ' ') {
			e = v;
			while (*e && *e != ' ' && *e != '\t')
				e++;
		} else {
			e = strchr(v, sep);
			if (!e)
				e = v + strlen(v);
		}
		int last = !*e;
		*e = 0;
		v = trim(v);
		if (!*v)
			return perr(p, "empty item in list");
		p->words[p->nwords++] = v;
		if (last)
			break;
		v = e + 1;
	}
	if (!p->nwords)
		return perr(p, "empty value");
	return 0;
}

static int parse_prob(struct parser *p, const char *key, const char *v, double *out)
{
	if (vs_number_parse(v, 0, 1, out))
		return perr(p, "key '%s': not a probability in [0, 1] '%s'", key, v);
	return 0;
}

static int parse_count(struct parser *p, const char *key, const char *v, uint64_t max,
		       uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	if (*v < '0' || *v > '9')
		return perr(p, "key '%s': not a whole number '%s'", key, v);
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return perr(p, "key '%s': not a whole number up to %" PRIu64 " '%s'", key, max, v);
	*out = n;
	return 0;
}

static int parse_duration(struct parser *p, const char *key, const char *v, int64_t *out)
{
	char *end;
	long long n;
	int64_t unit;

	errno = 0;
	if (*v < '0' || *v > '9')
		goto bad;
	n = strtoll(v, &end, 10);
	if (errno || n > 366LL * 86400)
		goto bad;
	if (!strcmp(end, "s"))
		unit = 1;
	else if (!strcmp(end, "m"))
		unit = 60;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else if (!strcmp(end, "d"))
		unit = 86400;
	else
		goto bad;
	if (n * unit > 366LL * 86400)
		goto bad;
	*out = n * unit;
	return 0;
bad:
	return perr(p, "key '%s': not a duration like 30s, 10m, 4h, 2d '%s'", key, v);
}

/* A time: ISO 8601 with offset, or without one (the scenario's offset), or a date. */
static int parse_time(struct parser *p, const char *key, const char *v, int64_t *out)
{
	char buf[64];
	int off = p->s->offset_min;

	if (vs_time_parse(v, out, NULL) == 0)
		return 0;
	if (strlen(v) < 40) {
		snprintf(buf, sizeof(buf), "%s%s%c%02d:%02d", v, strchr(v, 'T') ? "" : "T00:00",
			 off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
		if (vs_time_parse(buf, out, NULL) == 0)
			return 0;
	}
	return perr(p, "key '%s': not a time like 2022-06-11T18:00 '%s'", key, v);
}

/* "LO HI" (or one value for both) durations. */
static int parse_drange(struct parser *p, const char *key, char *v, struct vs_scn_range *r)
{
	int rc = split(p, v, ' ');

	if (rc)
		return rc;
	if (p->nwords > 2)
		return perr(p, "key '%s': want one or two durations", key);
	if ((rc = parse_duration(p, key, p->words[0], &r->lo)))
		return rc;
	r->hi = r->lo;
	if (p->nwords == 2 && (rc = parse_duration(p, key, p->words[1], &r->hi)))
		return rc;
	if (r->hi < r->lo)
		return perr(p, "key '%s': range ends before it starts", key);
	return 0;
}

static int parse_trange(struct parser *p, const char *key, char *v, struct vs_scn_range *r)
{
	int rc = split(p, v, ' ');

	if (rc)
		return rc;
	if (p->nwords != 2)
		return perr(p, "key '%s': want two times, start and end", key);
	if ((rc = parse_time(p, key, p->words[0], &r->lo)) ||
	    (rc = parse_time(p, key, p->words[1], &r->hi)))
		return rc;
	if (r->hi <= r->lo)
		return perr(p, "key '%s': window ends before it starts", key);
	return 0;
}

static void dist_release(struct vs_scn_dist *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->labels[i]);
	free(d->labels);
	free(d->weights);
	free(d->cumulative);
	memset(d, 0, sizeof(*d));
}

/* "label:weight label:weight ..." */
static int parse_dist(struct parser *p, const char *key, char *v, struct vs_scn_dist *d)
{
	int rc = split(p, v, ' ');
	double total = 0;

	if (rc)
		return rc;
	dist_release(d);
	d->labels = vs_xcalloc(p->nwords, sizeof(*d->labels));
	d->weights = vs_xcalloc(p->nwords, sizeof(*d->weights));
	d->cumulative = vs_xcalloc(p->nwords, sizeof(*d->cumulative));
	for (size_t i = 0; i < p->nwords; i++) {
		char *colon = strrchr(p->words[i], ':');
		double w;
		if (!colon || colon == p->words[i])
			return perr(p, "key '%s': item '%s' is not label:weight", key, p->words[i]);
		*colon = 0;
		if (vs_number_parse(colon + 1, 0, 1e12, &w) || w <= 0)
			return perr(p, "key '%s': weight of '%s' is not a positive number '%s'", key,
				    p->words[i], colon + 1);
		for (size_t j = 0; j < d->n; j++)
			if (!strcmp(d->labels[j], p->words[i]))
				return perr(p, "key '%s': label '%s' given twice", key, p->words[i]);
		d->labels[d->n] = vs_xstrdup(p->words[i]);
		d->weights[d->n] = w;
		total += w;
		d->cumulative[d->n] = total;
		d->n++;
	}
	return 0;
}

static int add_area(struct vs_scenario *s, const char *path)
{
	long i = vs_scenario_area(s, path);

	if (i >= 0)
		return (int)i;
	s->areas = vs_xreallocarray(s->areas, s->nareas + 1, sizeof(*s->areas));
	memset(&s->areas[s->nareas], 0, sizeof(s->areas[0]));
	s->areas[s->nareas].path = vs_xstrdup(path);
	return (int)s->nareas++;
}

long vs_scenario_area(const struct vs_scenario *s, const char *path)
{
	for (size_t i = 0; i < s->nareas; i++)
		if (!strcmp(s->areas[i].path, path))
			return (long)i;
	return -1;
}

long vs_scenario_misuse(const struct vs_scenario *s, const char *name)
{
	for (size_t i = 0; i < s->nmisuse; i++)
		if (!strcmp(s->misuse[i].name, name))
			return (long)i;
	return -1;
}

static long find_venue(const struct vs_scenario *s, const char *v)
{
	long found = -1;

	for (size_t i = 0; i < s->venues.n; i++) {
		if (!strcasecmp(s->venues.items[i].id, v))
			return (long)i;
		if (!strcmp(s->venues.items[i].name, v)) {
			if (found >= 0)
				return -2;
			found = (long)i;
		}
	}
	return found;
}

static int resolve_venue(struct parser *p, const char *key, const char *v, size_t *out)
{
	long i = find_venue(p->s, v);

	if (i == -2)
		return perr(p, "key '%s': venue name '%s' is not unique; give its id", key, v);
	if (i < 0)
		return perr(p, "key '%s': unknown venue '%s'", key, v);
	*out = (size_t)i;
	return 0;
}

/* A home area: a known area with venues. */
static int resolve_home(struct parser *p, const char *key, const char *area, size_t *out)
{
	long i = vs_scenario_area(p->s, area);

	if (!vs_area_valid(area))
		return perr(p, "key '%s': not an area path '%s'", key, area);
	if (i < 0 || !p->s->areas[i].nvenues)
		return perr(p, "key '%s': area '%s' has no venues in '%s'", key, area,
			    p->s->venues_path);
	*out = (size_t)i;
	return 0;
}

static char *relative_to(const char *base, const char *name)
{
	const char *slash = strrchr(base, '/');

	if (name[0] == '/' || !slash)
		return vs_xstrdup(name);
	return vs_xasprintf("%.*s/%s", (int)(slash - base), base, name);
}

/* The end of [scenario]: load venues and rules; build the areas from the venues. */
static int load_inputs(struct parser *p)
{
	struct vs_scenario *s = p->s;
	size_t nr;
	int rc;

	if (!p->has_start || !p->has_days || !p->has_venues || !p->has_rules)
		return serr(p, "section [scenario] needs start, days, venues and rules");
	if (!p->has_persons)
		s->persons = 10000;
	if ((rc = vs_venues_read(s->venues_path, &s->venues)))
		return rc;
	if ((rc = vs_rules_load(s->rules_path, &s->rules)))
		return rc;
	nr = vs_rules_count(s->rules);
	s->rule_reasons = vs_xcalloc(nr, sizeof(*s->rule_reasons));
	for (size_t i = 0; i < nr; i++)
		s->rule_reasons[i] = vs_xstrdup(vs_rules_name(s->rules, i));
	s->release_reason = vs_xstrdup("");
	for (size_t i = 0; i < s->venues.n; i++) {
		int ai = add_area(s, s->venues.items[i].area);
		struct vs_scn_area *a = &s->areas[ai];
		a->venues = vs_xreallocarray(a->venues, a->nvenues + 1, sizeof(*a->venues));
		a->venues[a->nvenues++] = i;
		a->lat += s->venues.items[i].lat;
		a->lon += s->venues.items[i].lon;
	}
	for (size_t i = 0; i < s->nareas; i++) {
		s->areas[i].lat /= (double)s->areas[i].nvenues;
		s->areas[i].lon /= (double)s->areas[i].nvenues;
	}
	p->loaded = 1;
	return 0;
}

static int key_scenario(struct parser *p, const char *key, char *v)
{
	struct vs_scenario *s = p->s;
	uint64_t n;
	int rc;

	if (!strcmp(key, "name")) {
		for (const char *c = v; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
			      *c == '-' || *c == '.') || c - v >= VS_SCN_NAME_MAX)
				return perr(p, "key 'name': not a name [a-z0-9_.-] '%s'", v);
		free(s->name);
		s->name = vs_xstrdup(v);
	} else if (!strcmp(key, "utc_offset")) {
		int64_t t;
		char buf[64];
		snprintf(buf, sizeof(buf), "2000-01-01T00:00%s", v);
		if (strlen(v) != 6 || vs_time_parse(buf, &t, &s->offset_min))
			return perr(p, "key 'utc_offset': not an offset like +08:00 '%s'", v);
	} else if (!strcmp(key, "start")) {
		if ((rc = parse_time(p, key, v, &s->start)))
			return rc;
		p->has_start = 1;
	} else if (!strcmp(key, "days")) {
		if ((rc = parse_count(p, key, v, 200, &n)))
			return rc;
		if (!n)
			return perr(p, "key 'days': must be at least 1");
		s->days = (unsigned)n;
		p->has_days = 1;
	} else if (!strcmp(key, "persons")) {
		if ((rc = parse_count(p, key, v, 100000000, &s->persons)))
			return rc;
		if (!s->persons)
			return perr(p, "key 'persons': must be at least 1");
		p->has_persons = 1;
	} else if (!strcmp(key, "seed")) {
		if ((rc = parse_count(p, key, v, UINT64_MAX, &s->seed)))
			return rc;
	} else if (!strcmp(key, "venues")) {
		free(s->venues_path);
		s->venues_path = relative_to(s->path, v);
		p->has_venues = 1;
	} else if (!strcmp(key, "rules")) {
		free(s->rules_path);
		s->rules_path = relative_to(s->path, v);
		p->has_rules = 1;
	} else {
		return perr(p, "unknown key '%s' in [scenario]", key);
	}
	return 0;
}

static int key_homes(struct parser *p, const char *key, char *v)
{
	size_t a;
	double w;
	int rc;

	if ((rc = resolve_home(p, "area", key, &a)))
		return rc;
	if (vs_number_parse(v, 0, 1e12, &w) || w <= 0)
		return perr(p, "area '%s': weight is not a positive number '%s'", key, v);
	p->s->areas[a].home_weight = w;
	return 0;
}

static int key_attribute(struct parser *p, const char *key, char *v)
{
	struct vs_scn_attribute *a = &p->s->attributes[p->s->nattributes - 1];

	if (strcmp(key, "values"))
		return perr(p, "unknown key '%s' in [attribute %s]", key, a->name);
	return parse_dist(p, key, v, &a->values);
}

static int parse_kvs(struct parser *p, const char *key, char *v, struct vs_scn_kv **kv, size_t *n)
{
	int rc = split(p, v, ' ');

	if (rc)
		return rc;
	for (size_t i = 0; i < p->nwords; i++) {
		char *eq = strchr(p->words[i], '=');
		if (!eq)
			return perr(p, "key '%s': '%s' is not key=value", key, p->words[i]);
		*eq = 0;
		if (!valid_name(p->words[i]) || !eq[1] || strchr(eq + 1, ';') || strchr(eq + 1, '='))
			return perr(p, "key '%s': bad attribute '%s=%s'", key, p->words[i], eq + 1);
		*kv = vs_xreallocarray(*kv, *n + 1, sizeof(**kv));
		(*kv)[*n].key = vs_xstrdup(p->words[i]);
		(*kv)[*n].value = vs_xstrdup(eq + 1);
		(*n)++;
	}
	return 0;
}

static int key_group(struct parser *p, const char *key, char *v)
{
	struct vs_scn_group *g = &p->s->groups[p->s->ngroups - 1];
	int rc;

	if (!strcmp(key, "count"))
		return parse_count(p, key, v, 10000000, &g->count);
	if (!strcmp(key, "attrs"))
		return parse_kvs(p, key, v, &g->attrs, &g->nattrs);
	if (!strcmp(key, "homes")) {
		if ((rc = parse_dist(p, key, v, &g->homes)))
			return rc;
		g->home_area = vs_xcalloc(g->homes.n, sizeof(*g->home_area));
		for (size_t i = 0; i < g->homes.n; i++)
			if ((rc = resolve_home(p, key, g->homes.labels[i], &g->home_area[i])))
				return rc;
		return 0;
	}
	if (!strncmp(key, "attr.", 5) && valid_name(key + 5)) {
		g->draw_keys = vs_xreallocarray(g->draw_keys, g->ndraws + 1, sizeof(*g->draw_keys));
		g->draws = vs_xreallocarray(g->draws, g->ndraws + 1, sizeof(*g->draws));
		memset(&g->draws[g->ndraws], 0, sizeof(g->draws[0]));
		g->draw_keys[g->ndraws] = vs_xstrdup(key + 5);
		g->ndraws++;
		rc = parse_dist(p, key, v, &g->draws[g->ndraws - 1]);
		for (size_t i = 0; !rc && i < g->draws[g->ndraws - 1].n; i++)
			if (strchr(g->draws[g->ndraws - 1].labels[i], ';') ||
			    strchr(g->draws[g->ndraws - 1].labels[i], '='))
				rc = perr(p, "key '%s': bad attribute value '%s'", key,
					  g->draws[g->ndraws - 1].labels[i]);
		return rc;
	}
	return perr(p, "unknown key '%s' in [group %s]", key, g->name);
}

static int key_daily(struct parser *p, const char *key, char *v)
{
	struct vs_scenario *s = p->s;
	int rc;

	if (!strcmp(key, "scans")) {
		if ((rc = parse_dist(p, key, v, &s->scans)))
			return rc;
		for (size_t i = 0; i < s->scans.n; i++) {
			double c;
			if (vs_number_parse(s->scans.labels[i], 0, 20, &c) || c != (int)c)
				return perr(p, "key 'scans': count '%s' is not a whole number 0-20",
					    s->scans.labels[i]);
		}
		return 0;
	}
	if (!strcmp(key, "trip_days")) {
		if ((rc = parse_dist(p, key, v, &s->trip_days)))
			return rc;
		for (size_t i = 0; i < s->trip_days.n; i++) {
			double c;
			if (vs_number_parse(s->trip_days.labels[i], 1, 30, &c) || c != (int)c)
				return perr(p, "key 'trip_days': '%s' is not a whole number 1-30",
					    s->trip_days.labels[i]);
		}
		return 0;
	}
	if (!strcmp(key, "locate"))
		return parse_prob(p, key, v, &s->locate);
	if (!strcmp(key, "commute"))
		return parse_prob(p, key, v, &s->commute);
	if (!strcmp(key, "tests"))
		return parse_prob(p, key, v, &s->tests);
	if (!strcmp(key, "trip"))
		return parse_prob(p, key, v, &s->trip);
	return perr(p, "unknown key '%s' in [daily]", key);
}

static int key_risk(struct parser *p, const char *key, char *v)
{
	struct vs_scenario *s = p->s;
	struct vs_scn_zone z;
	int rc;

	if (strcmp(key, "zone"))
		return perr(p, "unknown key '%s' in [risk]", key);
	if ((rc = split(p, v, ' ')))
		return rc;
	if (p->nwords != 4)
		return perr(p, "key 'zone': want AREA LEVEL START END");
	if (!vs_area_valid(p->words[0]))
		return perr(p, "key 'zone': not an area path '%s'", p->words[0]);
	if (vs_risk_level_parse(p->words[1], &z.level))
		return perr(p, "key 'zone': level '%s' is not low, medium or high", p->words[1]);
	char *w2 = p->words[2], *w3 = p->words[3], *area = p->words[0];
	if ((rc = parse_time(p, key, w2, &z.start)) || (rc = parse_time(p, key, w3, &z.end)))
		return rc;
	if (z.end <= z.start)
		return perr(p, "key 'zone': ends before it starts");
	z.area = (size_t)add_area(s, area);
	s->zones = vs_xreallocarray(s->zones, s->nzones + 1, sizeof(*s->zones));
	s->zones[s->nzones++] = z;
	return 0;
}

static int key_outbreak(struct parser *p, const char *key, char *v)
{
	if (!strcmp(key, "positive"))
		return parse_prob(p, key, v, &p->s->positive);
	if (!strcmp(key, "household_contact"))
		return parse_prob(p, key, v, &p->s->contact_share);
	return perr(p, "unknown key '%s' in [outbreak]", key);
}

static int key_entries(struct parser *p, const char *key, char *v)
{
	if (!strcmp(key, "daily"))
		return parse_prob(p, key, v, &p->s->entries);
	return perr(p, "unknown key '%s' in [entries]", key);
}

static int key_reasons(struct parser *p, const char *key, char *v)
{
	struct vs_scenario *s = p->s;
	int r;

	if (!strcmp(key, "release")) {
		free(s->release_reason);
		s->release_reason = vs_xstrdup(v);
		return 0;
	}
	r = vs_rules_find(s->rules, key);
	if (r < 0)
		return perr(p, "unknown rule '%s' in [reasons] (not in '%s')", key, s->rules_path);
	free(s->rule_reasons[r]);
	s->rule_reasons[r] = vs_xstrdup(v);
	return 0;
}

static int parse_texts(struct parser *p, char *v, char ***out, size_t *n)
{
	int rc = split(p, v, '|');

	if (rc)
		return rc;
	for (size_t i = 0; i < *n; i++)
		free((*out)[i]);
	*out = vs_xreallocarray(*out, p->nwords, sizeof(**out));
	for (size_t i = 0; i < p->nwords; i++)
		(*out)[i] = vs_xstrdup(p->words[i]);
	*n = p->nwords;
	return 0;
}

static int resolve_misuse_list(struct parser *p, const char *key, char *v, size_t **out, size_t *n)
{
	int rc = split(p, v, ' ');

	if (rc)
		return rc;
	free(*out);
	*out = vs_xcalloc(p->nwords, sizeof(**out));
	*n = 0;
	for (size_t i = 0; i < p->nwords; i++) {
		long m = vs_scenario_misuse(p->s, p->words[i]);
		if (m < 0 || (size_t)m == p->s->nmisuse - 1)
			return perr(p, "key '%s': unknown misuse rule '%s' (define it above)", key,
				    p->words[i]);
		(*out)[(*n)++] = (size_t)m;
	}
	return 0;
}

/* who = key=value, an attribute some group carries as a fixed attribute. */
static int resolve_who(struct parser *p, char *v, struct vs_scn_misuse *m)
{
	char *eq = strchr(v, '=');

	if (!eq)
		return perr(p, "key 'who': '%s' is not key=value", v);
	*eq = 0;
	for (size_t g = 0; g < p->s->ngroups; g++)
		for (size_t i = 0; i < p->s->groups[g].nattrs; i++)
			if (!strcmp(p->s->groups[g].attrs[i].key, v) &&
			    !strcmp(p->s->groups[g].attrs[i].value, eq + 1)) {
				*eq = '=';
				free(m->who);
				m->who = vs_xstrdup(v);
				return 0;
			}
	*eq = '=';
	return perr(p, "key 'who': attribute '%s' is not a fixed attribute of any group", v);
}

static int key_misuse(struct parser *p, const char *key, char *v)
{
	struct vs_scenario *s = p->s;
	struct vs_scn_misuse *m = &s->misuse[s->nmisuse - 1];
	int rc;

	if (!strcmp(key, "type")) {
		static const char *const names[] = { "scan", "action", "flip", "mirror", "release" };
		for (size_t i = 0; i < 5; i++)
			if (!strcmp(v, names[i])) {
				m->type = (enum vs_misuse_type)i;
				p->has_type = 1;
				return 0;
			}
		return perr(p, "key 'type': '%s' is not scan, action, flip, mirror or release", v);
	}
	if (!strcmp(key, "who")) {
		p->has_who = 1;
		return resolve_who(p, v, m);
	}
	if (!strcmp(key, "group")) {
		for (size_t g = 0; g < s->ngroups; g++)
			if (!strcmp(s->groups[g].name, v)) {
				m->group = g;
				p->has_group = 1;
				return 0;
			}
		return perr(p, "key 'group': unknown group '%s'", v);
	}
	if (!strcmp(key, "venue"))
		return resolve_venue(p, key, v, &m->venue);
	if (!strcmp(key, "action_venue"))
		return resolve_venue(p, key, v, &m->action_venue);
	if (!strcmp(key, "window"))
		return parse_trange(p, key, v, &m->window);
	if (!strcmp(key, "action_window"))
		return parse_trange(p, key, v, &m->action_window);
	if (!strcmp(key, "red_window"))
		return parse_trange(p, key, v, &m->red_window);
	if (!strcmp(key, "late"))
		return parse_trange(p, key, v, &m->late);
	if (!strcmp(key, "in_person"))
		return parse_count(p, key, v, 10000000, &m->in_person);
	if (!strcmp(key, "photo"))
		return parse_count(p, key, v, 10000000, &m->photo);
	if (!strcmp(key, "before"))
		return parse_count(p, key, v, 10000000, &m->before);
	if (!strcmp(key, "count"))
		return parse_count(p, key, v, 10000000, &m->count);
	if (!strcmp(key, "companion"))
		return parse_prob(p, key, v, &m->companion);
	if (!strcmp(key, "family"))
		return parse_prob(p, key, v, &m->family);
	if (!strcmp(key, "share"))
		return parse_prob(p, key, v, &m->share);
	if (!strcmp(key, "stay")) {
		if ((rc = parse_drange(p, key, v, &m->stay)))
			return rc;
		if (m->stay.lo < 86400 || m->stay.lo % 86400 || m->stay.hi % 86400)
			return perr(p, "key 'stay': want whole days, at least 1d");
		return 0;
	}
	if (!strcmp(key, "delay"))
		return parse_drange(p, key, v, &m->delay);
	if (!strcmp(key, "lag"))
		return parse_drange(p, key, v, &m->lag);
	if (!strcmp(key, "green_delay"))
		return parse_drange(p, key, v, &m->green_delay);
	if (!strcmp(key, "red_delay"))
		return parse_drange(p, key, v, &m->red_delay);
	if (!strcmp(key, "action")) {
		if (!valid_name(v))
			return perr(p, "key 'action': not a token [a-z0-9_] '%s'", v);
		free(m->action);
		m->action = vs_xstrdup(v);
		return 0;
	}
	if (!strcmp(key, "reason"))
		return parse_texts(p, v, &m->reasons, &m->nreasons);
	if (!strcmp(key, "authority")) {
		if ((rc = parse_texts(p, v, &m->authorities, &m->nauthorities)))
			return rc;
		for (size_t i = 0; i < m->nauthorities; i++)
			if (!vs_area_valid(m->authorities[i]))
				return perr(p, "key 'authority': not an area path '%s'",
					    m->authorities[i]);
		return 0;
	}
	if (!strcmp(key, "among")) {
		size_t *l = NULL, n = 0;
		if ((rc = resolve_misuse_list(p, key, v, &l, &n)) == 0 && n != 1)
			rc = perr(p, "key 'among': want one misuse rule");
		if (!rc)
			m->among = l[0];
		free(l);
		return rc;
	}
	if (!strcmp(key, "of"))
		return resolve_misuse_list(p, key, v, &m->of, &m->nof);
	return perr(p, "unknown key '%s' in [misuse %s]", key, m->name);
}

/* Checks of a misuse section as a whole, at its header line. */
static int end_misuse(struct parser *p)
{
	struct vs_scenario *s = p->s;
	struct vs_scn_misuse *m = &s->misuse[s->nmisuse - 1];
	const struct vs_scn_group *g;

	if (!p->has_type)
		return serr(p, "[misuse %s] needs a type", m->name);
	switch (m->type) {
	case VS_MISUSE_SCAN:
	case VS_MISUSE_ACTION:
		if (!p->has_group || !p->has_who)
			return serr(p, "[misuse %s] needs group and who", m->name);
		g = &s->groups[m->group];
		if (m->type == VS_MISUSE_SCAN) {
			if (m->venue == SIZE_MAX || !m->window.hi)
				return serr(p, "[misuse %s] needs venue and window", m->name);
			if (m->in_person + m->photo + m->before > g->count)
				return serr(p, "[misuse %s]: in_person + photo + before = %" PRIu64
					    " is more than group '%s' has (%" PRIu64 ")", m->name,
					    m->in_person + m->photo + m->before, g->name, g->count);
			if (!m->stay.lo)
				m->stay.lo = m->stay.hi = 86400;
		} else {
			if (!m->action || !m->window.hi || !m->action_window.hi)
				return serr(p, "[misuse %s] needs action, action_window and window",
					    m->name);
			if (m->count > g->count)
				return serr(p, "[misuse %s]: count %" PRIu64 " is more than group '%s' "
					    "has (%" PRIu64 ")", m->name, m->count, g->name, g->count);
		}
		if (!m->nreasons || !m->nauthorities)
			return serr(p, "[misuse %s] needs reason and authority", m->name);
		break;
	case VS_MISUSE_FLIP: {
		const struct vs_scn_misuse *a;
		if (m->among == SIZE_MAX || !m->action || !m->action_window.hi)
			return serr(p, "[misuse %s] needs among, action and action_window", m->name);
		a = &s->misuse[m->among];
		if (a->type != VS_MISUSE_SCAN && a->type != VS_MISUSE_ACTION)
			return serr(p, "[misuse %s]: among must be a scan or action rule", m->name);
		uint64_t avail = a->type == VS_MISUSE_SCAN ? a->in_person : a->count;
		if (m->count > avail)
			return serr(p, "[misuse %s]: count %" PRIu64 " is more than '%s' turns red "
				    "%s(%" PRIu64 ")", m->name, m->count, a->name,
				    a->type == VS_MISUSE_SCAN ? "in person " : "", avail);
		for (size_t i = 0; i < s->nmisuse - 1; i++)
			if (s->misuse[i].type == VS_MISUSE_FLIP && s->misuse[i].among == m->among)
				return serr(p, "[misuse %s]: '%s' already has a flip rule", m->name,
					    a->name);
		if (!m->nreasons || !m->nauthorities)
			return serr(p, "[misuse %s] needs reason and authority", m->name);
		break;
	}
	case VS_MISUSE_MIRROR:
	case VS_MISUSE_RELEASE:
		if (!m->nof)
			return serr(p, "[misuse %s] needs of", m->name);
		for (size_t i = 0; i < m->nof; i++) {
			enum vs_misuse_type t = s->misuse[m->of[i]].type;
			if (t != VS_MISUSE_SCAN && t != VS_MISUSE_ACTION)
				return serr(p, "[misuse %s]: '%s' is not a scan or action rule",
					    m->name, s->misuse[m->of[i]].name);
			for (size_t j = 0; j < s->nmisuse - 1; j++)
				for (size_t k = 0; k < s->misuse[j].nof; k++)
					if (s->misuse[j].type == m->type && s->misuse[j].of[k] == m->of[i])
						return serr(p, "[misuse %s]: '%s' already has a %s rule",
							    m->name, s->misuse[m->of[i]].name,
							    m->type == VS_MISUSE_MIRROR ? "mirror" : "release");
		}
		if (m->type == VS_MISUSE_MIRROR && !m->nreasons)
			return serr(p, "[misuse %s] needs reason", m->name);
		if (m->type == VS_MISUSE_RELEASE) {
			if (!m->window.hi)
				return serr(p, "[misuse %s] needs window", m->name);
			if (m->share < 1 && !m->late.hi)
				return serr(p, "[misuse %s]: share below 1 needs late", m->name);
		}
		break;
	}
	return 0;
}

static int end_section(struct parser *p)
{
	int rc = 0;

	if (p->sec == SEC_SCENARIO)
		rc = load_inputs(p);
	else if (p->sec == SEC_ATTRIBUTE && !p->s->attributes[p->s->nattributes - 1].values.n)
		rc = serr(p, "[attribute %s] needs values", p->s->attributes[p->s->nattributes - 1].name);
	else if (p->sec == SEC_GROUP) {
		struct vs_scn_group *g = &p->s->groups[p->s->ngroups - 1];
		if (!g->count || !g->homes.n || !g->nattrs)
			rc = serr(p, "[group %s] needs count, attrs and homes", g->name);
	} else if (p->sec == SEC_MISUSE)
		rc = end_misuse(p);
	for (size_t i = 0; i < p->nseen; i++)
		free(p->seen[i]);
	p->nseen = 0;
	return rc;
}

static int begin_section(struct parser *p, char *head)
{
	struct vs_scenario *s = p->s;
	char *name = strchr(head, ' ');
	int rc;

	if (p->sec != SEC_NONE && (rc = end_section(p)))
		return rc;
	if (name) {
		*name++ = 0;
		name = trim(name);
	}
	p->sec_line = p->line;
	if (p->sec == SEC_NONE && strcmp(head, "scenario"))
		return perr(p, "the first section must be [scenario]");
	if (!strcmp(head, "scenario") || !strcmp(head, "homes") || !strcmp(head, "daily") ||
	    !strcmp(head, "risk") || !strcmp(head, "outbreak") || !strcmp(head, "entries") ||
	    !strcmp(head, "reasons")) {
		static const enum section secs[] = { SEC_SCENARIO, SEC_HOMES, SEC_DAILY, SEC_RISK,
						     SEC_OUTBREAK, SEC_ENTRIES, SEC_REASONS };
		static const char *const names[] = { "scenario", "homes", "daily", "risk",
						      "outbreak", "entries", "reasons" };
		if (name)
			return perr(p, "section [%s] takes no name", head);
		for (size_t i = 0; i < 7; i++)
			if (!strcmp(head, names[i])) {
				if (p->sec != SEC_NONE && secs[i] == SEC_SCENARIO)
					return perr(p, "section [scenario] given twice");
				p->sec = secs[i];
			}
		return 0;
	}
	if (strcmp(head, "attribute") && strcmp(head, "group") && strcmp(head, "misuse"))
		return perr(p, "unknown section [%s]", head);
	if (!name || !valid_name(name))
		return perr(p, "section [%s NAME] needs a name [a-z0-9_]", head);
	if (!strcmp(head, "attribute")) {
		for (size_t i = 0; i < s->nattributes; i++)
			if (!strcmp(s->attributes[i].name, name))
				return perr(p, "attribute '%s' declared twice", name);
		s->attributes = vs_xreallocarray(s->attributes, s->nattributes + 1,
						 sizeof(*s->attributes));
		memset(&s->attributes[s->nattributes], 0, sizeof(s->attributes[0]));
		s->attributes[s->nattributes++].name = vs_xstrdup(name);
		p->sec = SEC_ATTRIBUTE;
	} else if (!strcmp(head, "group")) {
		for (size_t i = 0; i < s->ngroups; i++)
			if (!strcmp(s->groups[i].name, name))
				return perr(p, "group '%s' declared twice", name);
		s->groups = vs_xreallocarray(s->groups, s->ngroups + 1, sizeof(*s->groups));
		memset(&s->groups[s->ngroups], 0, sizeof(s->groups[0]));
		s->groups[s->ngroups].name = vs_xstrdup(name);
		s->groups[s->ngroups++].line = p->line;
		p->sec = SEC_GROUP;
	} else {
		struct vs_scn_misuse *m;
		if (vs_scenario_misuse(s, name) >= 0)
			return perr(p, "misuse rule '%s' declared twice", name);
		s->misuse = vs_xreallocarray(s->misuse, s->nmisuse + 1, sizeof(*s->misuse));
		m = &s->misuse[s->nmisuse++];
		memset(m, 0, sizeof(*m));
		m->name = vs_xstrdup(name);
		m->line = p->line;
		m->venue = m->action_venue = m->among = SIZE_MAX;
		m->share = 1;
		p->has_who = p->has_type = p->has_group = 0;
		p->sec = SEC_MISUSE;
	}
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *eq, *key, *v;

	line = trim(line);
	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (*line == '[') {
		size_t n = strlen(line);
		if (line[n - 1] != ']')
			return perr(p, "section header without ']'");
		line[n - 1] = 0;
		return begin_section(p, trim(line + 1));
	}
	eq = strchr(line, '=');
	if (!eq)
		return perr(p, "want 'key = value', a [section] or a # comment");
	if (p->sec == SEC_NONE)
		return perr(p, "key outside a section; the first section must be [scenario]");
	*eq = 0;
	key = trim(line);
	v = trim(eq + 1);
	if (!*key)
		return perr(p, "empty key");
	if (!*v)
		return perr(p, "key '%s': empty value", key);
	if (p->sec != SEC_RISK) {
		for (size_t i = 0; i < p->nseen; i++)
			if (!strcmp(p->seen[i], key))
				return perr(p, "key '%s' given twice in this section", key);
		if (p->nseen == KEYS_MAX)
			return perr(p, "more than %d keys in one section", KEYS_MAX);
		p->seen[p->nseen++] = vs_xstrdup(key);
	}
	switch (p->sec) {
	case SEC_SCENARIO: return key_scenario(p, key, v);
	case SEC_HOMES: return key_homes(p, key, v);
	case SEC_ATTRIBUTE: return key_attribute(p, key, v);
	case SEC_GROUP: return key_group(p, key, v);
	case SEC_DAILY: return key_daily(p, key, v);
	case SEC_RISK: return key_risk(p, key, v);
	case SEC_OUTBREAK: return key_outbreak(p, key, v);
	case SEC_ENTRIES: return key_entries(p, key, v);
	case SEC_REASONS: return key_reasons(p, key, v);
	case SEC_MISUSE: return key_misuse(p, key, v);
	case SEC_NONE: break;
	}
	return 0;
}

/* Defaults the sections did not set, and whole-scenario checks. */
static int finish(struct parser *p)
{
	struct vs_scenario *s = p->s;
	double total = 0;
	char buf[] = "0:1";

	if (!s->name)
		s->name = vs_xstrdup("scenario");
	if (!s->scans.n && parse_dist(p, "scans", buf, &s->scans))
		return VS_EFORMAT;
	if (!s->trip_days.n) {
		char td[] = "1:1";
		if (parse_dist(p, "trip_days", td, &s->trip_days))
			return VS_EFORMAT;
	}
	s->home_cumulative = vs_xcalloc(s->nareas, sizeof(double));
	for (size_t i = 0; i < s->nareas; i++) {
		total += s->areas[i].home_weight;
		s->home_cumulative[i] = total;
	}
	if (total <= 0)
		return vs_error_set(VS_EFORMAT, "%s:%lu: section [homes] with at least one area is "
				    "required", p->file, p->line);
	/* Areas that are prefixes only (risk zones): centre = mean of areas under them. */
	for (size_t i = 0; i < s->nareas; i++) {
		size_t n = 0, len = strlen(s->areas[i].path);
		if (s->areas[i].nvenues)
			continue;
		for (size_t j = 0; j < s->nareas; j++)
			if (s->areas[j].nvenues && !strncmp(s->areas[j].path, s->areas[i].path, len) &&
			    s->areas[j].path[len] == '/') {
				s->areas[i].lat += s->areas[j].lat;
				s->areas[i].lon += s->areas[j].lon;
				n++;
			}
		if (n) {
			s->areas[i].lat /= (double)n;
			s->areas[i].lon /= (double)n;
		}
	}
	return 0;
}

int vs_scenario_parse(const char *text, size_t len, const char *path, struct vs_scenario **out)
{
	struct parser p;
	struct vs_scenario *s = vs_xcalloc(1, sizeof(*s));
	char *copy = vs_xstrndup(text, len), *line = copy;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	*out = NULL;
	s->path = vs_xstrdup(path);
	s->offset_min = 8 * 60;
	s->seed = 1;
	s->venues = (struct vs_venue_list)VS_VENUE_LIST_INIT;
	p.s = s;
	p.file = path;
	if (memchr(text, 0, len)) {
		rc = vs_error_set(VS_EFORMAT, "%s: contains a NUL byte", path);
		goto out;
	}
	while (line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		p.line++;
		if ((rc = parse_line(&p, line)))
			goto out;
		line = nl && nl[1] ? nl + 1 : NULL;
	}
	if (p.sec == SEC_NONE) {
		rc = vs_error_set(VS_EFORMAT, "%s:%lu: no [scenario] section", path, p.line);
		goto out;
	}
	if ((rc = end_section(&p)) || (rc = finish(&p)))
		goto out;
	*out = s;
	s = NULL;
out:
	for (size_t i = 0; i < p.nseen; i++)
		free(p.seen[i]);
	free(copy);
	vs_scenario_free(s);
	return rc;
}

int vs_scenario_load(const char *path, struct vs_scenario **out)
{
	struct vs_buf b = VS_BUF_INIT;
	int rc;

	*out = NULL;
	if ((rc = vs_file_read_all(path, SCENARIO_MAX, &b)) == 0)
		rc = vs_scenario_parse(b.data, b.len, path, out);
	vs_buf_release(&b);
	return rc;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void vs_scenario_free(struct vs_scenario *s)
{
	if (!s)
		return;
	if (s->rules) {
		strv_free(s->rule_reasons, vs_rules_count(s->rules));
		vs_rules_free(s->rules);
	}
	free(s->release_reason);
	vs_venue_list_release(&s->venues);
	for (size_t i = 0; i < s->nareas; i++) {
		free(s->areas[i].path);
		free(s->areas[i].venues);
	}
	free(s->areas);
	free(s->home_cumulative);
	for (size_t i = 0; i < s->nattributes; i++) {
		free(s->attributes[i].name);
		dist_release(&s->attributes[i].values);
	}
	free(s->attributes);
	for (size_t i = 0; i < s->ngroups; i++) {
		struct vs_scn_group *g = &s->groups[i];
		free(g->name);
		for (size_t j = 0; j < g->nattrs; j++) {
			free(g->attrs[j].key);
			free(g->attrs[j].value);
		}
		free(g->attrs);
		for (size_t j = 0; j < g->ndraws; j++)
			dist_release(&g->draws[j]);
		strv_free(g->draw_keys, g->ndraws);
		free(g->draws);
		dist_release(&g->homes);
		free(g->home_area);
	}
	free(s->groups);
	free(s->zones);
	dist_release(&s->scans);
	dist_release(&s->trip_days);
	for (size_t i = 0; i < s->nmisuse; i++) {
		struct vs_scn_misuse *m = &s->misuse[i];
		free(m->name);
		free(m->who);
		free(m->action);
		strv_free(m->reasons, m->nreasons);
		strv_free(m->authorities, m->nauthorities);
		free(m->of);
	}
	free(s->misuse);
	free(s->name);
	free(s->path);
	free(s->venues_path);
	free(s->rules_path);
	free(s);
}

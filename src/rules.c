/*
 * The rule engine and its small language.  A rules file is a list of statements, one a
 * line, '#' starting a comment:
 *
 *   rule NAME COLOR on KIND[=VALUE] within DURATION
 *   release after DURATION
 *   reason NAME WORD...
 *
 * (docs/RULES.md has the whole grammar.)  Evaluation is a handful of comparisons per rule:
 * a person's state is the latest trigger time of each rule, which is all that windows of
 * the form (t - window, t] need.  The risk map is a small hash table from area path to
 * its level intervals, looked up once per '/'-prefix of the area asked about.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/rules.h"

#define RULE_NAME_MAX 48
#define RULES_FILE_MAX (1u << 20)
#define MAX_TOKENS 64

struct rule {
	char name[RULE_NAME_MAX + 1];
	enum vs_color color;
	enum vs_fact_kind kind;
	char *value;          /* NULL: any value */
	int64_t window;       /* seconds */
	char **words;         /* reason words, lowercased ASCII */
	size_t nwords;
};

struct vs_rule_set {
	struct rule rules[VS_RULES_MAX];
	size_t n;
	int64_t release; /* seconds */
};

static const char *const color_names[] = { "green", "yellow", "red" };
static const char *const level_names[] = { "low", "medium", "high" };
static const char *const kind_names[] = { "test", "contact", "entry", "presence", "action" };

const char *vs_color_name(enum vs_color c)
{
	return (unsigned)c < 3 ? color_names[c] : "?";
}

int vs_color_parse(const char *s, enum vs_color *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, color_names[i])) {
			*out = (enum vs_color)i;
			return 0;
		}
	return vs_error_set(VS_EFORMAT, "not a colour '%s' (green, yellow or red)", s);
}

const char *vs_risk_level_name(enum vs_risk_level l)
{
	return (unsigned)l < 3 ? level_names[l] : "?";
}

int vs_risk_level_parse(const char *s, enum vs_risk_level *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, level_names[i])) {
			*out = (enum vs_risk_level)i;
			return 0;
		}
	return vs_error_set(VS_EFORMAT, "not a risk level '%s' (low, medium or high)", s);
}

/* ---- parsing ------------------------------------------------------------------------ */

struct parser {
	const char *name;
	unsigned long line;
	char *tok[MAX_TOKENS];
	size_t ntok;
};

static int perr(const struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(const struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vs_error_atv(VS_EFORMAT, p->name, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

/* Split one line (modified in place) into tokens; "..." quotes a token with spaces. */
static int tokenize(struct parser *p, char *s)
{
	p->ntok = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#')
			return 0;
		if (p->ntok == MAX_TOKENS)
			return perr(p, "too many words on one line");
		if (*s == '"') {
			char *end = strchr(++s, '"');
			if (!end)
				return perr(p, "unterminated quote");
			*end = '\0';
			p->tok[p->ntok++] = s;
			s = end + 1;
			if (*s && *s != ' ' && *s != '\t' && *s != '\r')
				return perr(p, "text straight after a closing quote");
			continue;
		}
		p->tok[p->ntok++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

static int parse_duration(const struct parser *p, const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t unit;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || !isdigit((unsigned char)s[0]))
		return perr(p, "not a duration '%s' (e.g. 14d, 36h, 90m)", s);
	switch (*end) {
	case 'd': unit = 86400; break;
	case 'h': unit = 3600; break;
	case 'm': unit = 60; break;
	case 's': unit = 1; break;
	default: return perr(p, "not a duration '%s' (e.g. 14d, 36h, 90m)", s);
	}
	if (end[1] || v > (long long)(INT64_MAX / 86400 / 4))
		return perr(p, "not a duration '%s' (e.g. 14d, 36h, 90m)", s);
	*out = (int64_t)v * unit;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_'))
			return 0;
	return n > 0 && n <= RULE_NAME_MAX;
}

static int parse_fact(const struct parser *p, const char *s, struct rule *r)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq ? (size_t)(eq - s) : strlen(s);
	const char *value = eq ? eq + 1 : NULL;
	size_t k;

	for (k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (strlen(kind_names[k]) == klen && !strncmp(s, kind_names[k], klen))
			break;
	if (k == sizeof(kind_names) / sizeof(kind_names[0]))
		return perr(p, "unknown fact '%s' (test, contact, entry, presence, action)", s);
	r->kind = (enum vs_fact_kind)k;
	switch (r->kind) {
	case VS_FACT_TEST:
		if (!value || (strcmp(value, "positive") && strcmp(value, "negative")))
			return perr(p, "'%s': test takes =positive or =negative", s);
		break;
	case VS_FACT_PRESENCE: {
		enum vs_risk_level l;
		if (!value || vs_risk_level_parse(value, &l))
			return perr(p, "'%s': presence takes =low, =medium or =high", s);
		break;
	}
	case VS_FACT_ACTION:
		if (value && !valid_name(value))
			return perr(p, "'%s': an action token is [a-z0-9_]+", s);
		break;
	case VS_FACT_CONTACT:
	case VS_FACT_ENTRY:
		if (value)
			return perr(p, "'%s': this fact takes no value", s);
		break;
	}
	r->value = value ? vs_xstrdup(value) : NULL;
	return 0;
}

static int parse_rule(struct vs_rule_set *rs, struct parser *p)
{
	struct rule *r;
	enum vs_color color = VS_GREEN;
	int rc;

	if (p->ntok != 7 || strcmp(p->tok[3], "on") || strcmp(p->tok[5], "within"))
		return perr(p, "expected 'rule NAME COLOR on FACT within DURATION'");
	if (!valid_name(p->tok[1]))
		return perr(p, "rule name '%s' is not [a-z0-9_]+ (at most 48)", p->tok[1]);
	if (vs_rules_find(rs, p->tok[1]) >= 0)
		return perr(p, "rule '%s' is defined twice", p->tok[1]);
	if (vs_color_parse(p->tok[2], &color) || color == VS_GREEN)
		return perr(p, "rule colour '%s' is not red or yellow", p->tok[2]);
	if (rs->n == VS_RULES_MAX)
		return perr(p, "more than 64 rules");
	r = &rs->rules[rs->n];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", p->tok[1]);
	r->color = color;
	if ((rc = parse_fact(p, p->tok[4], r)) != 0)
		return rc;
	if ((rc = parse_duration(p, p->tok[6], &r->window)) != 0) {
		free(r->value);
		return rc;
	}
	rs->n++;
	return 0;
}

static int parse_reason(struct vs_rule_set *rs, struct parser *p)
{
	struct rule *r;
	int i;

	if (p->ntok < 3)
		return perr(p, "expected 'reason RULE WORD...'");
	if ((i = vs_rules_find(rs, p->tok[1])) < 0)
		return perr(p, "reason for an undefined rule '%s' (define the rule first)", p->tok[1]);
	r = &rs->rules[i];
	for (size_t t = 2; t < p->ntok; t++) {
		char *w;
		if (!*p->tok[t])
			return perr(p, "empty reason word");
		w = vs_xstrdup(p->tok[t]);
		for (char *c = w; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		r->words = vs_xreallocarray(r->words, r->nwords + 1, sizeof(*r->words));
		r->words[r->nwords++] = w;
	}
	return 0;
}

int vs_rules_parse(const char *text, size_t len, const char *name, struct vs_rule_set **out)
{
	struct vs_rule_set *rs = vs_xcalloc(1, sizeof(*rs));
	struct parser p = { name, 0, { 0 }, 0 };
	char *copy = vs_xstrndup(text, len), *line = copy;
	int rc = 0, have_release = 0;

	*out = NULL;
	if (strlen(copy) != len) {
		rc = vs_error_set(VS_EFORMAT, "%s: rules text contains a NUL byte", name);
		goto out;
	}
	while (line && !rc) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		p.line++;
		if ((rc = tokenize(&p, line)) != 0 || p.ntok == 0)
			goto next;
		if (!strcmp(p.tok[0], "rule")) {
			rc = parse_rule(rs, &p);
		} else if (!strcmp(p.tok[0], "release")) {
			if (p.ntok != 3 || strcmp(p.tok[1], "after"))
				rc = perr(&p, "expected 'release after DURATION'");
			else if (have_release)
				rc = perr(&p, "'release' is given twice");
			else
				rc = parse_duration(&p, p.tok[2], &rs->release);
			have_release = 1;
		} else if (!strcmp(p.tok[0], "reason")) {
			rc = parse_reason(rs, &p);
		} else {
			rc = perr(&p, "unknown statement '%s' (rule, release, reason)", p.tok[0]);
		}
next:
		line = nl ? nl + 1 : NULL;
	}
	if (!rc && rs->n == 0)
		rc = vs_error_set(VS_EFORMAT, "%s: no rules defined", name);
	if (!rc && !have_release)
		rc = vs_error_set(VS_EFORMAT, "%s: no 'release after DURATION' statement", name);
out:
	free(copy);
	if (rc) {
		vs_rules_free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}

/* Generated by the Makefile from fixtures/rules/henan-2021.rules. */
extern const char vs_rules_default_text[];

int vs_rules_default(struct vs_rule_set **out)
{
	return vs_rules_parse(vs_rules_default_text, strlen(vs_rules_default_text),
			      VS_RULES_DEFAULT_NAME, out);
}

int vs_rules_load(const char *path, struct vs_rule_set **out)
{
	struct vs_buf b;
	int rc;

	*out = NULL;
	if ((rc = vs_file_read_all(path, RULES_FILE_MAX, &b)) != 0)
		return rc;
	rc = vs_rules_parse(b.data, b.len, path, out);
	vs_buf_release(&b);
	return rc;
}

void vs_rules_free(struct vs_rule_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->rules[i].value);
		for (size_t w = 0; w < rs->rules[i].nwords; w++)
			free(rs->rules[i].words[w]);
		free(rs->rules[i].words);
	}
	free(rs);
}

/* ---- queries ------------------------------------------------------------------------ */

size_t vs_rules_count(const struct vs_rule_set *rs)
{
	return rs->n;
}

const char *vs_rules_name(const struct vs_rule_set *rs, size_t rule)
{
	return rs->rules[rule].name;
}

enum vs_color vs_rules_color(const struct vs_rule_set *rs, size_t rule)
{
	return rs->rules[rule].color;
}

int64_t vs_rules_window(const struct vs_rule_set *rs, size_t rule)
{
	return rs->rules[rule].window;
}

int64_t vs_rules_release(const struct vs_rule_set *rs)
{
	return rs->release;
}

int vs_rules_find(const struct vs_rule_set *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->rules[i].name, name))
			return (int)i;
	return -1;
}

void vs_rules_state_init(const struct vs_rule_set *rs, int64_t *state)
{
	for (size_t i = 0; i < rs->n; i++)
		state[i] = VS_NEVER;
}

uint64_t vs_rules_observe(const struct vs_rule_set *rs, int64_t *state, enum vs_fact_kind kind,
			  const char *value, int64_t ts)
{
	uint64_t hit = 0;

	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->kind != kind || (r->value && (!value || strcmp(r->value, value))))
			continue;
		if (ts > state[i])
			state[i] = ts;
		hit |= UINT64_C(1) << i;
	}
	return hit;
}

/* Was rule i triggered within (t - window, t]? */
static int within(int64_t last, int64_t t, int64_t window)
{
	return last != VS_NEVER && last <= t && last > t - window;
}

enum vs_color vs_rules_color_at(const struct vs_rule_set *rs, const int64_t *state, int64_t t,
				int *rule)
{
	enum vs_color best = VS_GREEN;
	int best_rule = -1;

	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		if (!within(state[i], t, rs->release))
			continue;
		if (r->color > best || (r->color == best && state[i] > state[best_rule])) {
			best = r->color;
			best_rule = (int)i;
		}
	}
	if (rule)
		*rule = best_rule;
	return best;
}

int vs_rules_explain(const struct vs_rule_set *rs, const int64_t *state, int64_t t,
		     enum vs_color color)
{
	int best = -1;

	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->color != color || !within(state[i], t, r->window))
			continue;
		if (best < 0 || state[i] > state[best])
			best = (int)i;
	}
	return best;
}

/* strstr with ASCII letters of the haystack folded to lower case (needle is lower already). */
static int contains_folded(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] && tolower((unsigned char)hay[i]) == (unsigned char)needle[i])
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

uint64_t vs_rules_reason_claims(const struct vs_rule_set *rs, const char *text)
{
	uint64_t claims = 0;

	for (size_t i = 0; i < rs->n; i++)
		for (size_t w = 0; w < rs->rules[i].nwords; w++)
			if (contains_folded(text, rs->rules[i].words[w])) {
				claims |= UINT64_C(1) << i;
				break;
			}
	return claims;
}

/* ---- the risk map ------------------------------------------------------------------- */

struct interval {
	int64_t start, end;
	enum vs_risk_level level;
};

struct area_entry {
	char *area; /* NULL: empty slot */
	struct interval *iv;
	size_t n, alloc;
};

struct vs_risk_map {
	struct area_entry *slots;
	size_t nslots; /* a power of two */
	size_t used;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

struct vs_risk_map *vs_risk_map_new(void)
{
	struct vs_risk_map *m = vs_xcalloc(1, sizeof(*m));

	m->nslots = 64;
	m->slots = vs_xcalloc(m->nslots, sizeof(*m->slots));
	return m;
}

void vs_risk_map_free(struct vs_risk_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nslots; i++) {
		free(m->slots[i].area);
		free(m->slots[i].iv);
	}
	free(m->slots);
	free(m);
}

static struct area_entry *lookup(const struct vs_risk_map *m, const char *area, size_t len)
{
	size_t i = (size_t)hash_bytes(area, len) & (m->nslots - 1);

	while (m->slots[i].area) {
		if (strlen(m->slots[i].area) == len && !memcmp(m->slots[i].area, area, len))
			return &m->slots[i];
		i = (i + 1) & (m->nslots - 1);
	}
	return &m->slots[i]; /* the empty slot where it would go */
}

static void grow(struct vs_risk_map *m)
{
	struct area_entry *old = m->slots;
	size_t oldn = m->nslots;

	m->nslots *= 2;
	m->slots = vs_xcalloc(m->nslots, sizeof(*m->slots));
	for (size_t i = 0; i < oldn; i++)
		if (old[i].area)
			*lookup(m, old[i].area, strlen(old[i].area)) = old[i];
	free(old);
}

int vs_risk_map_add(struct vs_risk_map *m, const char *area, enum vs_risk_level level,
		    int64_t start, int64_t end)
{
	struct area_entry *e;

	if (!*area)
		return vs_error_set(VS_EINVAL, "empty area");
	if (end <= start)
		return vs_error_set(VS_EINVAL, "area '%s': the period ends before it starts", area);
	if ((m->used + 1) * 2 > m->nslots)
		grow(m);
	e = lookup(m, area, strlen(area));
	if (!e->area) {
		e->area = vs_xstrdup(area);
		m->used++;
	}
	VS_ALLOC_GROW(e->iv, e->n + 1, e->alloc);
	e->iv[e->n++] = (struct interval){ start, end, level };
	return 0;
}

enum vs_risk_level vs_risk_map_level(const struct vs_risk_map *m, const char *area, int64_t ts)
{
	enum vs_risk_level best = VS_RISK_LOW;
	size_t len = 0;

	for (;;) {
		while (area[len] && area[len] != '/')
			len++;
		const struct area_entry *e = lookup(m, area, len);
		for (size_t i = 0; e->area && i < e->n; i++)
			if (ts >= e->iv[i].start && ts < e->iv[i].end && e->iv[i].level > best)
				best = e->iv[i].level;
		if (!area[len])
			return best;
		len++;
	}
}

int vs_risk_map_changed(const struct vs_risk_map *m, const char *area, int64_t from, int64_t to)
{
	size_t len = 0;

	for (;;) {
		while (area[len] && area[len] != '/')
			len++;
		const struct area_entry *e = lookup(m, area, len);
		for (size_t i = 0; e->area && i < e->n; i++) {
			const struct interval *v = &e->iv[i];
			if ((v->start >= from && v->start < to) || (v->end >= from && v->end < to))
				return 1;
		}
		if (!area[len])
			return 0;
		len++;
	}
}

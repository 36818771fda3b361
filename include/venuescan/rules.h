/*
 * The rule engine: published health-code rules as data (a rules file, docs/RULES.md), and
 * the two questions asked of them — what colour do a person's facts give at time t, and is
 * a change to a colour at t explained by some rule?  The simulator and the code service
 * decide colours with it; the detector checks logged changes against it.
 *
 * The engine keeps, per person, only the latest time each rule was triggered (a caller-
 * owned array of vs_rules_count() int64 values): a rule explains a change at t when its
 * trigger fell in (t - window, t], so older triggers never matter.  Facts and questions
 * for one person must therefore come in non-decreasing time order, facts first on ties.
 *
 * Areas' risk levels over time (areas.csv) live in a vs_risk_map; a level set on a prefix
 * ("Henan/Zhengzhou") covers every area under it.
 */
#ifndef VENUESCAN_RULES_H
#define VENUESCAN_RULES_H

#include <stddef.h>
#include <stdint.h>

/* Colours in order of severity. */
enum vs_color { VS_GREEN = 0, VS_YELLOW = 1, VS_RED = 2 };

enum vs_risk_level { VS_RISK_LOW = 0, VS_RISK_MEDIUM = 1, VS_RISK_HIGH = 2 };

/* What a rule is triggered by: the event kinds of dataset v1 that carry health facts. */
enum vs_fact_kind {
	VS_FACT_TEST,     /* value negative|positive */
	VS_FACT_CONTACT,  /* designated close contact */
	VS_FACT_ENTRY,    /* arrived from abroad */
	VS_FACT_PRESENCE, /* seen in an area (locate, or a scan's device area); value = its risk level then */
	VS_FACT_ACTION,   /* a non-health act; value = the action token */
};

#define VS_NEVER INT64_MIN /* a rule state slot never triggered */
#define VS_RULES_MAX 64

const char *vs_color_name(enum vs_color c);              /* "green", "yellow", "red" */
int vs_color_parse(const char *s, enum vs_color *out);  /* VS_EFORMAT if not a colour */
const char *vs_risk_level_name(enum vs_risk_level l);    /* "low", "medium", "high" */
int vs_risk_level_parse(const char *s, enum vs_risk_level *out);

struct vs_rule_set;

/* The name the built-in rule set is shown under. */
#define VS_RULES_DEFAULT_NAME "henan-2021 (built in)"

/*
 * The published Henan rules of 2021, built into the library from
 * fixtures/rules/henan-2021.rules: the default of detect, serve and replay.
 */
int vs_rules_default(struct vs_rule_set **out);
/* Load a rules file; errors are "FILE:LINE: ..." (VS_EFORMAT) or I/O errors. */
int vs_rules_load(const char *path, struct vs_rule_set **out);
/* Parse rules text; name is used in error messages. */
int vs_rules_parse(const char *text, size_t len, const char *name, struct vs_rule_set **out);
void vs_rules_free(struct vs_rule_set *rs);

size_t vs_rules_count(const struct vs_rule_set *rs);
const char *vs_rules_name(const struct vs_rule_set *rs, size_t rule);
enum vs_color vs_rules_color(const struct vs_rule_set *rs, size_t rule);
/* The rule's window in seconds. */
int64_t vs_rules_window(const struct vs_rule_set *rs, size_t rule);
/* How long a colour lasts after the last trigger, in seconds ("release after"). */
int64_t vs_rules_release(const struct vs_rule_set *rs);
/* The index of the rule called name, or -1. */
int vs_rules_find(const struct vs_rule_set *rs, const char *name);

/* Set a person's state (vs_rules_count() slots) to "never triggered". */
void vs_rules_state_init(const struct vs_rule_set *rs, int64_t *state);
/*
 * Record a fact of kind with value (NULL for kinds without one) at ts.  Returns a bit mask
 * of the rules it triggered (bit i for rule i; 0 if none).
 */
uint64_t vs_rules_observe(const struct vs_rule_set *rs, int64_t *state, enum vs_fact_kind kind,
			  const char *value, int64_t ts);
/*
 * The colour the rules give at t: the most severe colour among rules triggered within
 * (t - release, t].  *rule (may be NULL) receives the index of the rule that gives it, the
 * latest-triggered one on ties, or -1 for green.
 */
enum vs_color vs_rules_color_at(const struct vs_rule_set *rs, const int64_t *state, int64_t t,
				int *rule);
/*
 * Is a change to color at t explained?  Returns the index of a rule of that colour whose
 * trigger fell in (t - window, t] (the latest such), or -1.  A change to green is always
 * explained by release and returns -1 too: ask only about red and yellow.
 */
int vs_rules_explain(const struct vs_rule_set *rs, const int64_t *state, int64_t t,
		     enum vs_color color);
/*
 * The rules a shown reason text claims (SPEC §6 "reason mismatch"): a bit mask of rules one
 * of whose reason words occurs in text (ASCII letters compared case-insensitively).
 */
uint64_t vs_rules_reason_claims(const struct vs_rule_set *rs, const char *text);

/* Risk levels of areas over time.  Owned by the caller. */
struct vs_risk_map;

struct vs_risk_map *vs_risk_map_new(void);
void vs_risk_map_free(struct vs_risk_map *m);
/* Area (a path or a prefix of paths) is at level during [start, end). */
int vs_risk_map_add(struct vs_risk_map *m, const char *area, enum vs_risk_level level,
		    int64_t start, int64_t end);
/* The highest level set at ts on area or any of its prefixes; VS_RISK_LOW when none. */
enum vs_risk_level vs_risk_map_level(const struct vs_risk_map *m, const char *area, int64_t ts);
/* Has any level of area (or a prefix of it) started or ended within [from, to)? */
int vs_risk_map_changed(const struct vs_risk_map *m, const char *area, int64_t from, int64_t to);

#endif

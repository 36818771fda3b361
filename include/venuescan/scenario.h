/*
 * Scenarios: the INI files (docs/SCENARIOS.md) that tell the simulator who lives where,
 * what people do each day, which areas are at risk when, and which misuse rules — colour
 * changes that follow identity rather than exposure — act on whom.  This module parses and
 * validates a scenario whole: every error is "FILE:LINE: ..." and nothing is half-loaded.
 * It also loads the venues and rules files the scenario names, so a loaded scenario is
 * everything the simulator needs.
 */
#ifndef VENUESCAN_SCENARIO_H
#define VENUESCAN_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "venuescan/rules.h"
#include "venuescan/venues.h"

#define VS_SCN_NAME_MAX 64

/* A discrete distribution over labels ("value:weight ..."), weights > 0. */
struct vs_scn_dist {
	char **labels;
	double *weights;
	double *cumulative; /* running sums of weights */
	size_t n;
};

/* A [lo, hi] range of seconds (durations) or unix times (windows); lo <= hi. */
struct vs_scn_range {
	int64_t lo, hi;
};

/* An area the simulation knows: home areas, venue areas and risk areas. */
struct vs_scn_area {
	char *path;        /* Province/City/District (risk areas may be prefixes) */
	double lat, lon;   /* centre: mean of its venues, else of areas under it */
	size_t *venues;    /* indices into the venue list, venues in this exact area */
	size_t nvenues;
	double home_weight; /* share of ordinary households living here ([homes]) */
};

/* A population-wide attribute ([attribute NAME]). */
struct vs_scn_attribute {
	char *name;              /* [a-z0-9_]+ */
	struct vs_scn_dist values;
};

/* A fixed key=value pair. */
struct vs_scn_kv {
	char *key, *value;
};

/* A group of persons, one per household, that carry extra attributes ([group NAME]). */
struct vs_scn_group {
	char *name;
	unsigned long line;
	uint64_t count;            /* persons (household heads) in the group, at default size */
	struct vs_scn_kv *attrs;   /* fixed attributes (attrs = k=v ...) */
	size_t nattrs;
	char **draw_keys;          /* attributes drawn per member (attr.KEY = value:weight ...) */
	struct vs_scn_dist *draws;
	size_t ndraws;
	struct vs_scn_dist homes;  /* labels are area indices as text is not kept: see home_area */
	size_t *home_area;         /* area index of homes.labels[i] */
};

/* A risk level for an area over [start, end) ([risk]: zone = AREA LEVEL START END). */
struct vs_scn_zone {
	size_t area;
	enum vs_risk_level level;
	int64_t start, end;
};

enum vs_misuse_type {
	VS_MISUSE_SCAN,    /* who scan venue (in person or forwarded photo) turn red */
	VS_MISUSE_ACTION,  /* who did action turn red at a time */
	VS_MISUSE_FLIP,    /* green minutes after an action, red again later */
	VS_MISUSE_MIRROR,  /* another province copies a red with a lag */
	VS_MISUSE_RELEASE, /* mass release */
};

struct vs_scn_misuse {
	char *name;                 /* [a-z0-9_]+, labels say misuse:NAME */
	unsigned long line;
	enum vs_misuse_type type;
	size_t group;               /* whose members it targets (who = GROUP) */
	char *who;                  /* the matching attribute "key=value" */
	/* scan */
	size_t venue;               /* venue index */
	struct vs_scn_range window; /* scans in it turn red (scan); reds at (action) */
	uint64_t in_person;         /* members who come and scan it in person */
	uint64_t photo;             /* members who scan a forwarded photo from home */
	uint64_t before;            /* members who scan it in person before window (no effect) */
	double companion;           /* share of in-person scanners with a household companion */
	double family;              /* share of photo scanners whose co-resident also scans */
	struct vs_scn_range stay;   /* nights in the venue's city (in person) */
	/* action, flip */
	char *action;               /* action token */
	uint64_t count;             /* members who do the action */
	struct vs_scn_range action_window;
	size_t action_venue;        /* where the action happens (SIZE_MAX: where they are) */
	size_t among;               /* flip: the misuse rule whose reds it acts on */
	struct vs_scn_range green_delay, red_delay;
	struct vs_scn_range red_window; /* flip: red again in this window (overrides red_delay) */
	/* all that push a colour */
	struct vs_scn_range delay;  /* scan/action to code change */
	char **reasons;             /* reason texts, one drawn per person */
	size_t nreasons;
	char **authorities;         /* pushing authorities, one drawn per person */
	size_t nauthorities;
	/* mirror, release */
	size_t *of;                 /* misuse rules acted on */
	size_t nof;
	struct vs_scn_range lag;    /* mirror: red lag; release: mirror's green lag */
	double share;               /* release: share released in window, rest in late */
	struct vs_scn_range late;
};

struct vs_scenario {
	char *path;
	char *name;
	int64_t start;              /* local midnight of day 0, unix seconds */
	int offset_min;             /* UTC offset of timestamps */
	unsigned days;
	uint64_t persons;
	uint64_t seed;
	char *venues_path, *rules_path;
	struct vs_venue_list venues;
	struct vs_rule_set *rules;
	char **rule_reasons;        /* per rule: the shown reason text (may be "") */
	char *release_reason;

	struct vs_scn_area *areas;
	size_t nareas;
	double *home_cumulative;    /* running sums of areas[].home_weight */
	struct vs_scn_attribute *attributes;
	size_t nattributes;
	struct vs_scn_group *groups;
	size_t ngroups;
	struct vs_scn_zone *zones;
	size_t nzones;

	/* [daily] */
	struct vs_scn_dist scans;   /* labels are counts */
	double locate, commute, tests, trip;
	struct vs_scn_dist trip_days;
	/* [outbreak], [entries] */
	double positive;            /* daily chance of a positive test in a high-risk area */
	double contact_share;       /* chance a household member is designated a contact */
	double entries;             /* daily chance per person of arriving from abroad */

	struct vs_scn_misuse *misuse;
	size_t nmisuse;
};

/*
 * Load and validate the scenario at path; the venues and rules files it names are read
 * relative to its folder.  On success *out is a scenario the caller frees with
 * vs_scenario_free().  Errors are VS_EFORMAT "FILE:LINE: ..." (or the venues or rules
 * file's own errors) and I/O errors.
 */
int vs_scenario_load(const char *path, struct vs_scenario **out);
/* Parse scenario text; path names it in errors and anchors relative file names. */
int vs_scenario_parse(const char *text, size_t len, const char *path, struct vs_scenario **out);
void vs_scenario_free(struct vs_scenario *s);

/* The index of the area with exactly this path, or -1. */
long vs_scenario_area(const struct vs_scenario *s, const char *path);
/* The index of the misuse rule called name, or -1. */
long vs_scenario_misuse(const struct vs_scenario *s, const char *name);

#endif

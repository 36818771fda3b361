/*
 * The detector's private state, shared by the files of src/detect/: the dataset as the
 * detector holds it (interned strings, per-person compact state, the few event records it
 * keeps: code changes, scans far from their venue, actions), and the entry points of each
 * finding family.  Nothing here is part of the library's API.
 */
#ifndef VS_DETECT_INT_H
#define VS_DETECT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "venuescan/dataset.h"
#include "venuescan/detect.h"
#include "venuescan/rules.h"

#define VS_NONE UINT32_MAX

/* --- interned strings: id <-> text, ids dense from 0 ---------------------------------- */

struct vs_intern {
	char **text;      /* id -> text (owned) */
	uint32_t *len;
	size_t n, alloc;
	uint32_t *slots;  /* open addressing: id + 1, 0 empty */
	size_t nslots;
};

void vs_intern_init(struct vs_intern *t);
void vs_intern_release(struct vs_intern *t);
/* The id of s[0..len), adding it if new. */
uint32_t vs_intern_add(struct vs_intern *t, const char *s, size_t len);
/* The id of s[0..len), or VS_NONE. */
uint32_t vs_intern_find(const struct vs_intern *t, const char *s, size_t len);

/* --- 64-bit keys to dense indices (map.c) --------------------------------------------- */

struct vs_u64map {
	uint64_t *keys;  /* key + 1; 0 empty */
	uint32_t *vals;
	size_t nslots, n;
};

void vs_u64map_init(struct vs_u64map *m, size_t expect);
void vs_u64map_release(struct vs_u64map *m);
/* The index of key, adding it (with index m->n) if new; *added tells which. */
uint32_t vs_u64map_add(struct vs_u64map *m, uint64_t key, int *added);

/* --- the dataset as held ------------------------------------------------------------- */

struct area_visit {
	uint32_t area;
	uint32_t count;
	int32_t day;       /* latest day (unix day) visited */
	uint32_t pad;
	uint64_t days;     /* bit i: visited on day - i */
};

struct person {
	uint32_t household;    /* id in households, VS_NONE when empty */
	uint32_t home_area;    /* id in areas */
	uint32_t attr_first;   /* attrs: values[attr_first .. attr_first + nattrs) */
	uint16_t nattrs;
	uint8_t color;         /* the colour last set by any authority */
	uint8_t outcome;       /* >= 1 unexplained change to red or yellow */
	uint8_t last_was_code; /* the last event handled was a code event (tie order) */
	uint8_t seen;          /* any event handled */
	uint8_t pad;
	uint8_t disordered;    /* its events are not in time order: replayed sorted */
	uint32_t cur_area;     /* latest presence area, VS_NONE */
	uint32_t outcome_area; /* area at the first unexplained change, VS_NONE */
	uint32_t last_action;  /* token id of the latest action, VS_NONE */
	int64_t last_ts;
	int64_t last_action_ts;
	struct area_visit *visits;
	uint32_t nvisits, avisits;
};

enum ev_kind { EV_LOCATE, EV_SCAN, EV_CODE, EV_TEST, EV_CONTACT, EV_ENTRY, EV_ACTION };

/* One event, parsed.  Strings are interned ids. */
struct event {
	int64_t ts;
	uint64_t seq;         /* row order in the file, to keep sorting stable */
	double lat, lon;      /* NAN when absent */
	uint32_t person;
	uint32_t area;        /* VS_NONE when empty */
	uint32_t venue;       /* id in venue_ids, VS_NONE when empty */
	uint32_t value;       /* colour (code), 1 positive (test), token id (action) */
	uint32_t reason, authority; /* ids in texts, VS_NONE when empty */
	int16_t offset_min;
	uint8_t kind;
};

/* A code event (any colour), kept for every later finding. */
struct code_rec {
	int64_t ts;
	uint32_t person;
	uint32_t reason, authority;
	uint8_t is_change;     /* the colour differs from the person's previous one */
	uint32_t prev_action;  /* token of an action within the action window before, VS_NONE */
	int32_t action_delay;  /* seconds since that action */
	int16_t offset_min;
	uint8_t color;
	uint8_t prev_color;
	uint8_t unexplained;   /* red/yellow not explained by any rule */
	uint8_t explained_rule_presence; /* explained by a presence rule */
	uint8_t rules_green;   /* the rules' colour at ts is green */
	uint8_t undoes;        /* to green from a colour an unexplained change had set */
	uint64_t claimed, unsupported; /* reason mismatch: rule bit masks */
};

struct remote_rec {
	int64_t ts;
	double lat, lon, km;
	uint32_t person, venue, area;
	int16_t offset_min;
};

struct action_rec {
	int64_t ts;
	uint32_t person, token;
};

struct venue_rec {
	double lat, lon;
	uint32_t area, name; /* ids in areas, texts */
	bool known;
};

struct vs_findings {
	const struct vs_rule_set *rules;
	struct vs_detect_options opt;
	char *rules_name;

	struct vs_person_table ptable;
	uint64_t *person_slots;     /* id hash: hash << 32 | (index + 1), 0 empty */
	size_t nperson_slots;       /* a power of two */
	uint32_t last_person;       /* the previous event's person, a lookup hint */
	struct vs_intern households, areas, values, keys, venue_ids, texts, tokens;
	struct person *persons;
	size_t npersons;
	uint32_t *attr_values;      /* value ids, per person ranges */
	size_t nattr_values, aattr_values;
	uint32_t *value_key;        /* value id -> key id */
	size_t avalue_key;
	const char **value_attr, **value_val; /* value id -> key text, value text */
	int64_t *rule_state;        /* npersons * nrules */
	size_t nrules;
	uint8_t *area_has_risk;     /* area id -> 0 unknown, 1 no level ever, 2 has levels */
	size_t aarea_has_risk;
	struct vs_risk_map *risk;
	struct venue_rec *venues;   /* by venue id */
	size_t avenues;

	struct vs_u64map auth_map;  /* (person, authority) -> index in auth_state */
	uint16_t *auth_state;       /* colour | AUTH_UNEXPLAINED */
	size_t aauth_state;
	struct code_rec *codes;
	size_t ncodes, acodes;
	struct remote_rec *remotes;
	size_t nremotes, aremotes;
	struct action_rec *actions;
	size_t nactions, aactions;
	int64_t ts_min, ts_max;

	/* results */
	struct vs_finding *items;
	size_t nitems, aitems;
	struct vs_detect_summary summary;
	const char **flagged;       /* flagged "key=value" texts */
	uint32_t *flagged_ids;
	size_t nflagged;
	uint8_t *value_flagged;     /* value id -> 1 when flagged */
	struct vs_household_test *htests;
	size_t nhtests;
	struct vs_checked_change *changes;
	size_t nchanges;
	int64_t bin_start, bin_s;
	uint32_t *bins_red, *bins_green;
	size_t nbins;
	char **owned;               /* strings made for findings */
	size_t nowned, aowned;
};

#define AUTH_UNEXPLAINED 0x100 /* that authority's latest change to red/yellow was unexplained */
#define ACTION_WINDOW_S (30 * 60)  /* an action "just before" a change: within 30 minutes */
#define BURST_BIN_S 3600
#define BURST_MIN_CHANGES 10

/* input.c */
int vs_detect_read(struct vs_findings *f, const char *dir);
const char *vs_text(const struct vs_intern *t, uint32_t id); /* "" for VS_NONE */
const char *vs_person_id(const struct vs_findings *f, uint32_t p);

/* conformance.c: one event, in per-person time order */
void vs_conformance_event(struct vs_findings *f, const struct event *e);
void vs_conformance_findings(struct vs_findings *f);

/* association.c */
int vs_association_run(struct vs_findings *f);
/* household.c */
int vs_household_run(struct vs_findings *f);
/* remote.c */
void vs_remote_findings(struct vs_findings *f);
/* burst.c */
int vs_burst_run(struct vs_findings *f);
/* action.c */
int vs_action_run(struct vs_findings *f);

/* detect.c */
struct vs_finding *vs_findings_add(struct vs_findings *f, enum vs_finding_kind kind);
const char *vs_findings_own(struct vs_findings *f, char *s); /* takes s */
const char *vs_rule_mask_names(struct vs_findings *f, uint64_t mask);
bool vs_person_has_flagged(const struct vs_findings *f, uint32_t person);
/* The value id of person p for attribute key (first one), or VS_NONE. */
uint32_t vs_person_value_of(const struct vs_findings *f, uint32_t p, uint32_t key);

#endif

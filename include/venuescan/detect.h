/*
 * The detector: audit a dataset v1 (SPEC §5) for code changes that follow a person's
 * identity instead of their location or exposure (SPEC §7, docs/DETECTOR.md).  One
 * streaming pass over events.csv checks every change to red or yellow against a published
 * rule set and keeps a few bytes of state per person; the findings — rule conformance,
 * reason mismatches, remote scans, stepwise Mantel-Haenszel association of every
 * attribute value, same-household discordance, bursts and action-triggered changes — are
 * then computed from that state and returned in a stable order.  labels.csv is never
 * opened here (vs_eval_score reads it, for `venuescan eval`).
 *
 * A vs_findings owns everything its findings point to (strings included); the caller
 * frees it with vs_findings_free.
 */
#ifndef VENUESCAN_DETECT_H
#define VENUESCAN_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "venuescan/rules.h"
#include "venuescan/stats.h"

#define VS_DETECT_ALPHA_DEFAULT 0.01
#define VS_DETECT_REMOTE_KM_DEFAULT 5.0

struct vs_detect_options {
	const struct vs_rule_set *rules; /* the published rules; borrowed, must outlive the call */
	const char *rules_name;          /* shown in the summary (e.g. the rules file) */
	double alpha;                    /* significance level after BH, (0, 1) */
	double remote_km;                /* a scan this far from its venue is remote, > 0 */
};

enum vs_finding_kind {
	VS_FIND_ASSOCIATION,
	VS_FIND_ACTION_TRIGGERED,
	VS_FIND_UNEXPLAINED_CODE,
	VS_FIND_REASON_MISMATCH,
	VS_FIND_HOUSEHOLD_DISCORDANCE,
	VS_FIND_REMOTE_SCAN,
	VS_FIND_BURST,
};

/* The JSON "kind" of a finding ("association", "unexplained_code", ...). */
const char *vs_finding_kind_name(enum vs_finding_kind k);

struct vs_association {
	const char *attribute, *value;
	uint64_t persons_with, persons_without;
	uint64_t outcomes_with, outcomes_without;
	size_t strata;                /* strata that held the value (n >= 2) */
	struct vs_mh_result mh;
	double q_value;               /* NAN when p is undefined */
	const char *const *conditioned_on; /* "key=value" already flagged when tested */
	size_t nconditioned;
	size_t round;                 /* stepwise round of this test, 0 first */
	bool flagged;
};

struct vs_finding {
	enum vs_finding_kind kind;
	int64_t ts;                   /* unix seconds (0 for association, action_triggered) */
	int offset_min;               /* UTC offset the time was written with */
	const char *person_id;        /* "" when not about one person */
	union {
		struct vs_association assoc;
		struct {
			enum vs_color color;
			const char *reason, *authority;
			const char *checked; /* rules of that colour asked, ',' joined */
			bool flagged; /* the person holds a flagged attribute value */
		} code;
		struct {
			enum vs_color color;
			const char *reason, *authority;
			const char *claimed;     /* rule names the reason claims, ',' joined */
			const char *unsupported; /* claimed rules the facts do not support */
		} mismatch;
		struct {
			const char *household_id;
			const char *persons[2];  /* [0] changed colour at ts; [1] its housemate */
			enum vs_color colors[2];
		} household;
		struct {
			const char *venue_id, *venue_name, *device_area, *venue_area;
			double lat, lon;         /* the device */
			double distance_km;
		} remote;
		struct {
			int64_t end;
			int end_offset_min;
			bool to_red;             /* else to green */
			uint64_t changes;
			double expected;
			double p_value;
		} burst;
		struct {
			const char *action;
			enum vs_color color;
			uint64_t count;          /* actions followed by a change to color in time */
			uint64_t actions;        /* all actions with this token */
			double median_delay_s;
			double expected;         /* count expected by chance */
			double p_value;
		} action;
	} u;
};

/* McNemar's test over discordant household pairs for one attribute value. */
struct vs_household_test {
	const char *attribute, *value;
	uint64_t with_redder;    /* discordant pairs where the holder had the worse colour */
	uint64_t without_redder; /* ... where the housemate without it had */
	struct vs_mcnemar_result res;
};

struct vs_detect_summary {
	const char *rules_name;
	double alpha, remote_km;
	uint64_t persons, households, events;
	bool sorted_path;                   /* events were time-ordered per person */
	uint64_t persons_out_of_order;      /* persons whose events were sorted in memory */
	uint64_t code_events, changes_red_yellow, unexplained, unexplained_persons;
	uint64_t count[VS_FIND_BURST + 1];  /* findings of each kind */
	uint64_t associations_flagged;
	const char *const *flagged_values;  /* "key=value", in the order flagged */
	size_t nflagged;
	const struct vs_household_test *household_tests;
	size_t nhousehold_tests;
	bool anything_flagged;              /* the exit status: 1 when true */
};

/* One checked change to red or yellow, for scoring (vs_eval_score). */
struct vs_checked_change {
	const char *person_id;
	int64_t ts;
	enum vs_color color;
	bool unexplained;
};

struct vs_findings;

/*
 * Audit the dataset in folder dir (persons.csv and events.csv required; venues.csv and
 * areas.csv optional).  On success *out holds the findings (free with vs_findings_free).
 * Fails with VS_EFORMAT and "FILE:LINE: field 'F': ..." on a malformed row, VS_EIO when a
 * file cannot be read, VS_EINVAL on bad options; *out is then NULL.
 */
int vs_detect_run(const char *dir, const struct vs_detect_options *opt,
		  struct vs_findings **out);
void vs_findings_free(struct vs_findings *f);

/* The findings, in output order: associations (attribute, value), action_triggered,
 * then the rest by (ts, person_id, kind). */
size_t vs_findings_count(const struct vs_findings *f);
const struct vs_finding *vs_findings_get(const struct vs_findings *f, size_t i);
const struct vs_detect_summary *vs_findings_summary(const struct vs_findings *f);
/* Every change to red or yellow that was checked, in (ts, person_id) order. */
size_t vs_findings_changes(const struct vs_findings *f, const struct vs_checked_change **out);
/*
 * The counts bursts were judged on, for plotting: *start is the first bin's start (unix
 * seconds), *bin_s its length (an hour, longer for very long spans), and the two arrays
 * (owned by f) hold the changes to red and to green per bin.  Returns the number of bins.
 */
size_t vs_findings_bins(const struct vs_findings *f, int64_t *start, int64_t *bin_s,
			const uint32_t **to_red, const uint32_t **to_green);

/* --- scoring against labels.csv (venuescan eval) --------------------------------------- */

struct vs_eval_value {
	const char *value;      /* "key=value" */
	bool flagged, expected; /* flagged by detect; used by a misuse rule (below) */
	uint64_t holders, misuse_holders; /* persons holding it; of them, with a misuse label */
};

struct vs_eval_rule {
	const char *name;       /* the RULE of misuse:RULE */
	uint64_t persons;       /* persons with a change to red/yellow labelled with it */
	const char *value;      /* the attribute value it used, "" when none is clear */
};

struct vs_eval {
	uint64_t changes;                /* changes to red or yellow scored */
	uint64_t tp, fp, fn, tn;         /* unexplained (predicted) vs misuse:* (truth) */
	uint64_t unlabelled;             /* changes without a label row (counted as published) */
	uint64_t misuse_not_scored;      /* misuse labels on settings that are not changes to
					    red or yellow (a repeated colour, a change to green) */
	uint64_t labels, misuse_labels;  /* rows of labels.csv */
	double precision, recall;        /* NAN when undefined */
	struct vs_eval_value *values;    /* every attribute value tested, in findings order */
	size_t nvalues;
	struct vs_eval_rule *rules;      /* misuse rules, by name */
	size_t nrules;
	uint64_t attr_tp, attr_fp, attr_fn; /* flagged vs expected attribute values */
};

/*
 * Score findings (from vs_detect_run on dir) against dir/labels.csv (ts,person_id,cause).
 * A change to red or yellow is a true positive when detect found it unexplained and its
 * label is misuse:*.  Each misuse rule's attribute value is found from the data: among the
 * values held by at least 95% of the persons it labelled, the one whose name (key or
 * value) occurs in the rule's name, else the one with the largest share of holders so
 * labelled (docs/DETECTOR.md).  Fails with "labels.csv:LINE: field 'F': ..." (VS_EFORMAT)
 * on a bad row or an unknown person, VS_EIO when it cannot be read.  On success release
 * out with vs_eval_release; its value strings borrow from f, which must outlive it.
 */
int vs_eval_score(const char *dir, const struct vs_findings *f, struct vs_eval *out);
void vs_eval_release(struct vs_eval *e);

#endif

/*
 * The load generator (docs/SERVICE.md, "replay"): posts a dataset's scans to a code
 * service in time order with libcurl's multi interface, N requests in flight on reused
 * connections, at full speed or at a fixed rate, and checks every answered colour against
 * the reference rule engine run locally on the same scans.  With a rate, each request has
 * an intended send time (start + i / rate) and its latency is measured from that time, so
 * a server that stalls is charged for the requests that queued behind the stall
 * (coordinated omission, corrected as wrk2 does).  Latencies go into a log-bucketed
 * histogram whose percentiles are at most 1/64 (1.6%) above the true value, never below.
 */
#ifndef VENUESCAN_REPLAY_H
#define VENUESCAN_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- histogram ------------------------------------------------------------------------ */

#define VS_HIST_SUB 64                         /* sub-buckets per power of two (half-range) */
#define VS_HIST_BUCKETS (2 * VS_HIST_SUB + 57 * VS_HIST_SUB)

/* Counts of values (nanoseconds) in log-linear buckets.  Plain data: copy, zero to reset. */
struct vs_hist {
	uint64_t count;
	uint64_t max;
	uint64_t min;
	long double sum;
	uint64_t b[VS_HIST_BUCKETS];
};

void vs_hist_init(struct vs_hist *h);
void vs_hist_record(struct vs_hist *h, uint64_t v);
/* Add b's counts into a. */
void vs_hist_merge(struct vs_hist *a, const struct vs_hist *b);
/*
 * The value at percentile p (0 < p <= 100): the highest value of the bucket holding the
 * ceil(p/100 * count)-th smallest value, capped at the maximum recorded; 0 when empty.
 */
uint64_t vs_hist_percentile(const struct vs_hist *h, double p);
double vs_hist_mean(const struct vs_hist *h);

/* ---- replay ------------------------------------------------------------------------- */

struct vs_replay_config {
	const char *dir;          /* dataset folder; NULL with get_path */
	const char *target;       /* base URL, e.g. "http://127.0.0.1:8080" */
	unsigned concurrency;     /* requests in flight; 0: 32 */
	unsigned threads;         /* driving threads sharing them (persons split); 0: 1 */
	double rate;              /* requests per second; 0: as fast as answers come */
	double duration_s;        /* stop sending after this long; 0: no limit */
	uint64_t max_requests;    /* stop after this many; 0: every scan (get_path: 100000) */
	const char *token;        /* sent as "Authorization: Bearer TOKEN"; may be NULL */
	const char *keys_dir;     /* issuer secret keys; NULL: DIR/keys */
	const char *rules_path;   /* NULL: the published rules */
	const char *get_path;     /* GET this path instead of posting scans (e.g. "/healthz") */
	size_t max_examples;      /* disagreements kept as examples; 0: 5 */
};

#define VS_REPLAY_KINDS 32

struct vs_replay_result {
	uint64_t sent, answered, ok;  /* requests sent; answered (any status); 200 */
	uint64_t errors;              /* everything but 200 */
	char *kind_names[VS_REPLAY_KINDS]; /* "http 422 expired", "transport: ..." */
	uint64_t kind_counts[VS_REPLAY_KINDS];
	size_t nkinds;
	double elapsed_s;             /* from the first send to the last answer */
	int from_intended;            /* latency measured from intended send times (rate) */
	struct vs_hist latency;       /* nanoseconds */
	uint64_t checked, disagree;
	char **examples;
	size_t nexamples;
};

/*
 * Read the dataset (persons.csv, venues.csv, events.csv, areas.csv of dir), sign one
 * payload per venue with the issuer keys, compute the published rules' answer for every
 * scan, then drive the target.  res is filled (release with vs_replay_result_release)
 * even when requests fail: failures are counted, not errors.  Errors: bad dataset or keys
 * (VS_EFORMAT naming file and line), a venue with no key (VS_ENOTFOUND), bad URL.
 */
int vs_replay_run(const struct vs_replay_config *cfg, struct vs_replay_result *res);
void vs_replay_result_release(struct vs_replay_result *res);

/* Print res as text or as one JSON object (with a newline). */
void vs_replay_print_text(FILE *out, const struct vs_replay_config *cfg,
			  const struct vs_replay_result *res);
void vs_replay_print_json(FILE *out, const struct vs_replay_config *cfg,
			  const struct vs_replay_result *res);

#endif

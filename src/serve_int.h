/*
 * Private interface between the code service's HTTP layer (serve.c) and its store
 * (serve_store.c): the write jobs the HTTP threads hand to the single writer thread, which
 * applies them to the in-memory person states and the database in one transaction per
 * batch and calls each job's done() after the commit.
 */
#ifndef VS_SERVE_INT_H
#define VS_SERVE_INT_H

#include <stdint.h>

#include "venuescan/rules.h"
#include "venuescan/serve.h"

enum job_kind { JOB_SCAN, JOB_ASSIGN };

struct job {
	enum job_kind kind;
	char person_id[VS_SERVE_PERSON_MAX + 1];
	int64_t ts;          /* scan time, or the assignment's effective time */
	int ts_offset;
	/* scan */
	char venue_id[37];
	char *venue_name;    /* owned by the job */
	char *venue_area;    /* owned by the job */
	double venue_lat, venue_lon;
	double lat, lon;     /* the device */
	/* assign */
	enum vs_color color;
	char *reason, *justification, *authority, *operator_name; /* owned by the job */
	/* result, set by the writer before done() */
	int http_status;
	char *body;          /* JSON response, malloc'ed; the receiver takes it */
	void (*done)(struct job *j);
	void *arg;
	struct job *next;
};

void job_release(struct job *j);

struct store;

/*
 * Open the database, replace the stored areas with areas_path's (if not NULL), load the
 * person states and the audit head, and verify the chain.  rs is borrowed for the store's
 * life.
 */
int store_open(const char *path, const struct vs_rule_set *rs, const char *areas_path,
	       const char *authority, size_t batch_max, struct store **out);
int store_start(struct store *s);
/*
 * Queue j for the writer; before_queue(arg) runs under the queue lock just before (the
 * HTTP layer suspends the connection there, so done() cannot come first).  Returns -1
 * without calling anything when the store is stopping.
 */
int store_submit(struct store *s, struct job *j, void (*before_queue)(void *), void *arg);
/*
 * Refuse new jobs, let the writer answer everything queued, and stop it.  The store stays
 * readable (metrics) until store_close.  Returns the writer's last commit error.
 */
int store_stop(struct store *s);
/* store_stop if not done yet, then close the database and free s. */
int store_close(struct store *s);

/* Counters for /metrics (read without locks; approximate while running). */
int64_t store_audit_length(const struct store *s);
uint64_t store_commits(const struct store *s);
uint64_t store_committed_jobs(const struct store *s);
uint64_t store_persons(const struct store *s);

#endif

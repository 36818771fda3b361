/*
 * The reference code service (SPEC §8, docs/SERVICE.md): HTTP with JSON in and out
 * (libmicrohttpd, a poll thread pool sized to the cores), state in SQLite in WAL mode,
 * colours decided by the rule engine, manual assignments by authenticated operators, and
 * every change of a colour appended to the hash-chained audit log (audit.h).
 *
 * Writes go through one writer thread that commits many requests' writes in one
 * transaction (group commit) with synchronous=FULL; a request is answered only after the
 * transaction holding its write has committed, so an acknowledged write survives kill -9.
 * Reads use their own connections.  On start the audit chain is verified before the
 * service listens; a broken chain refuses to start.
 */
#ifndef VENUESCAN_SERVE_H
#define VENUESCAN_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>


struct sqlite3;

#define VS_SERVE_NEAR_KM 1.0        /* a scan counts as presence within this of the venue */
#define VS_SERVE_BODY_MAX (16u << 10) /* default request body limit, bytes */
#define VS_SERVE_PERSON_MAX 128     /* longest person id, bytes */
#define VS_SERVE_TEXT_MAX 1024      /* longest reason, justification or authority, bytes */

struct vs_serve_config {
	const char *db_path;
	const char *listen;             /* "127.0.0.1:8080", "[::1]:0" (numeric; port 0: any) */
	const char *rules_path;         /* NULL: the published rules (vs_rules_default) */
	const char *areas_path;         /* areas.csv to store and use; NULL: keep the stored ones */
	const char *const *trust_paths; /* .pub files the venue payloads verify against */
	size_t ntrust;
	const char *authority;          /* authority of rule-driven colours; NULL: "venuescan" */
	unsigned threads;               /* HTTP threads; 0: one per core */
	unsigned timeout_s;             /* idle or slow connection limit; 0: 10 s */
	size_t body_max;                /* 0: VS_SERVE_BODY_MAX */
	size_t batch_max;               /* most requests per commit; 0: 4096 */
};

struct vs_server;

/*
 * Open (creating if needed) the database, load the rules, areas and trust set, verify the
 * audit chain, and start listening and the writer thread.  *out receives the running
 * server (stop it with vs_serve_stop).  Errors: VS_EDB, VS_EFORMAT (a broken chain names
 * its first bad seq; bad rules or areas name file and line), VS_EIO (cannot listen).
 */
int vs_serve_start(const struct vs_serve_config *cfg, struct vs_server **out);

/* The address actually bound, as "127.0.0.1:PORT" or "[::1]:PORT". */
const char *vs_serve_address(const struct vs_server *s);

/*
 * Drain and stop: stop accepting connections, answer new requests 503, wait up to
 * drain_s seconds for requests in flight, commit everything queued, then stop the threads
 * and close the database.  Frees s.  Returns 0, or an error from the final commit.
 */
int vs_serve_stop(struct vs_server *s, unsigned drain_s);

/*
 * Start, print "listening on ADDR:PORT" on ready (flushed), wait for SIGTERM or SIGINT,
 * then vs_serve_stop.  Blocks those signals in the calling thread first (the threads it
 * starts inherit the mask).
 */
int vs_serve_run(const struct vs_serve_config *cfg, FILE *ready);

/*
 * Open the service database at path with the schema made if missing (readonly: open an
 * existing database only).  WAL mode, synchronous=FULL, a 10 s busy timeout.  *out is the
 * connection the caller closes with sqlite3_close.
 */
int vs_serve_db_open(const char *path, int readonly, struct sqlite3 **out);

/*
 * Make an operator token: 32 random bytes printed as "vst_" + base64url (*token, newly
 * allocated, the caller frees and should wipe it), stored only as its SHA-256 with the
 * operator's name and role ("assign" or "read").  Errors: VS_EINVAL for a bad role or an
 * empty operator name, VS_EDB.
 */
int vs_serve_token_add(const char *db_path, const char *operator_name, const char *role,
		       char **token);

#endif

/*
 * The code service's audit log: every change of a person's code colour, by a rule or by an
 * operator's hand, is one entry in a hash chain kept in the service's SQLite database
 * (table `audit`, head in `audit_head`; docs/SERVICE.md).  An entry's hash is
 * SHA-256(previous entry's hash || the entry's canonical serialisation), the first entry's
 * previous hash being 32 zero bytes; the canonical serialisation is the compact JSON object
 * vs_audit_entry_json() writes.  The head table holds the last seq and hash, written in the
 * same transaction as each entry, so deleting entries from the end is detected as well as
 * editing, deleting or reordering entries in the middle.
 *
 * This module also turns the service's database into a dataset v1 folder (audit export).
 */
#ifndef VENUESCAN_AUDIT_H
#define VENUESCAN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "venuescan/mem.h"

struct sqlite3;

#define VS_AUDIT_HASH_LEN 32

/*
 * One entry, as stored.  Strings are borrowed (never NULL; "" when not applicable: a
 * rule-driven change has no operator or justification, a manual one no rule).  Colours
 * are kept as the stored text so that verification hashes exactly what is in the table.
 */
struct vs_audit_entry {
	int64_t seq;              /* 1, 2, 3, ... without gaps */
	int64_t ts;               /* when the change took effect, unix seconds */
	int ts_offset;            /* ts's UTC offset, minutes */
	int64_t recorded_at;      /* wall-clock time of the commit, unix seconds (UTC) */
	const char *person_id;
	const char *old_color;    /* "green", "yellow", "red" */
	const char *new_color;
	const char *reason;
	const char *authority;
	const char *operator_name;
	const char *justification;
	const char *rule;
};

/*
 * Append e's canonical serialisation to b: the compact JSON object
 * {"seq":N,"ts":"ISO","recorded_at":"ISO","person_id":"...","old":"...","new":"...",
 *  "reason":"...","authority":"...","operator":"...","justification":"...","rule":"..."}
 * with times written by vs_time_format (ts in its own offset, recorded_at in +00:00).
 * Fails only with VS_ETOOBIG when b's bound is reached.
 */
int vs_audit_entry_json(struct vs_buf *b, const struct vs_audit_entry *e);

/* out = SHA-256(prev || canonical serialisation of e).  Fails only as vs_audit_entry_json. */
int vs_audit_entry_hash(const unsigned char prev[VS_AUDIT_HASH_LEN],
			const struct vs_audit_entry *e, unsigned char out[VS_AUDIT_HASH_LEN]);

/* Lowercase hex of a hash into out (65 bytes with the NUL). */
void vs_audit_hex(const unsigned char h[VS_AUDIT_HASH_LEN], char out[2 * VS_AUDIT_HASH_LEN + 1]);

/* Create the audit tables in db if they are missing (inside the caller's transaction, if any). */
int vs_audit_schema(struct sqlite3 *db);

/* The chain's head as the appender keeps it in memory. */
struct vs_audit_head {
	int64_t seq;                          /* 0 for an empty log */
	unsigned char hash[VS_AUDIT_HASH_LEN]; /* zeros for an empty log */
};

/* Read the stored head (zeros when the log is empty and the head row absent). */
int vs_audit_head_load(struct sqlite3 *db, struct vs_audit_head *head);

/*
 * Append e to the log in db and update the head row, inside a transaction the caller has
 * begun (the append is durable when the caller commits).  e->seq is set to head->seq + 1
 * and head is advanced on success; on failure head is unchanged (the caller rolls back).
 */
int vs_audit_append(struct sqlite3 *db, struct vs_audit_head *head, struct vs_audit_entry *e);

/* What verification found. */
struct vs_audit_verdict {
	int64_t entries;        /* entries read */
	int64_t first_bad;      /* 0 when intact, else the first seq that does not verify */
	char what[160];         /* why first_bad is bad ("hash does not match", "missing", ...) */
	char head_hex[2 * VS_AUDIT_HASH_LEN + 1]; /* hash of the last good entry */
	int64_t head_seq;       /* seq of the last good entry */
};

/*
 * Recompute the chain of db from seq 1: seq continuity (no gap, duplicate or reordering),
 * each hash, and finally the stored head (seq and hash), so a truncated tail is caught.
 * Returns 0 when verification ran (intact or not: see v->first_bad), or a negative error
 * (VS_EDB) when the database could not be read.
 */
int vs_audit_verify_db(struct sqlite3 *db, struct vs_audit_verdict *v);

/* As vs_audit_verify_db, also checking a published checkpoint (cp_seq 0: none). */
int vs_audit_verify_db_cp(struct sqlite3 *db, int64_t cp_seq,
			  const unsigned char cp_hash[VS_AUDIT_HASH_LEN], struct vs_audit_verdict *v);

/*
 * vs_audit_verify_db on the database file at path, opened read-only.  checkpoint (may be
 * NULL) is a head published earlier ("SEQ:HEX", as `audit verify` prints it): the chain must
 * still hold entry SEQ with that hash, which catches a tail cut together with a forged
 * head row.  A malformed checkpoint fails with VS_EINVAL.
 */
int vs_audit_verify(const char *path, const char *checkpoint, struct vs_audit_verdict *v);

/*
 * Write the service's database at db_path as a dataset v1 folder out_dir (atomically: all
 * of it or nothing): persons.csv, venues.csv, areas.csv, events.csv (one `scan` event per
 * stored scan, one `code` event per audit entry) and manifest.json.  persons_csv (may be
 * NULL) is a persons.csv of the service's registry whose household, home area and
 * attributes are copied for the persons the service saw; without it a person is its own
 * household, with the area of its first scan as home and no attributes.  The chain is
 * verified first: a broken chain fails with VS_EFORMAT and writes nothing.
 */
int vs_audit_export(const char *db_path, const char *persons_csv, const char *out_dir);

#endif

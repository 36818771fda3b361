/*
 * The audit log's hash chain: canonical serialisation of an entry, hashing, appending
 * inside the service's write transaction, verifying a whole database, and exporting the
 * service's state as a dataset v1 folder for `detect`.  The chain needs nothing but the
 * rows themselves and the head row to check: an auditor with the sqlite3 shell, jq and
 * sha256sum can redo what vs_audit_verify_db does (docs/SERVICE.md shows how).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "venuescan/audit.h"
#include "audit_int.h"
#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"

#define ENTRY_MAX (64u << 10) /* longest canonical entry, bytes */

static int add_str(struct vs_buf *b, const char *key, const char *val)
{
	int rc = vs_buf_addf(b, ",\"%s\":", key);
	if (!rc)
		rc = vs_buf_add_json_string(b, val ? val : "", val ? strlen(val) : 0);
	return rc;
}

int vs_audit_entry_json(struct vs_buf *b, const struct vs_audit_entry *e)
{
	char ts[VS_TIME_TEXT_MAX], rec[VS_TIME_TEXT_MAX];
	int rc;

	vs_time_format(e->ts, e->ts_offset, ts);
	vs_time_format(e->recorded_at, 0, rec);
	rc = vs_buf_addf(b, "{\"seq\":%lld,\"ts\":\"%s\",\"recorded_at\":\"%s\"", (long long)e->seq,
			 ts, rec);
	if (!rc)
		rc = add_str(b, "person_id", e->person_id);
	if (!rc)
		rc = add_str(b, "old", e->old_color);
	if (!rc)
		rc = add_str(b, "new", e->new_color);
	if (!rc)
		rc = add_str(b, "reason", e->reason);
	if (!rc)
		rc = add_str(b, "authority", e->authority);
	if (!rc)
		rc = add_str(b, "operator", e->operator_name);
	if (!rc)
		rc = add_str(b, "justification", e->justification);
	if (!rc)
		rc = add_str(b, "rule", e->rule);
	if (!rc)
		rc = vs_buf_addc(b, '}');
	return rc;
}

int vs_audit_entry_hash(const unsigned char prev[VS_AUDIT_HASH_LEN],
			const struct vs_audit_entry *e, unsigned char out[VS_AUDIT_HASH_LEN])
{
	struct vs_buf b;
	crypto_hash_sha256_state st;
	int rc;

	vs_buf_init(&b, ENTRY_MAX);
	rc = vs_audit_entry_json(&b, e);
	if (rc)
		goto out;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, VS_AUDIT_HASH_LEN);
	crypto_hash_sha256_update(&st, (const unsigned char *)b.data, b.len);
	crypto_hash_sha256_final(&st, out);
out:
	vs_buf_release(&b);
	return rc;
}

void vs_audit_hex(const unsigned char h[VS_AUDIT_HASH_LEN], char out[2 * VS_AUDIT_HASH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < VS_AUDIT_HASH_LEN; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[2 * VS_AUDIT_HASH_LEN] = '\0';
}

static int db_error(sqlite3 *db, const char *what)
{
	return vs_error_set(VS_EDB, "database: %s: %s", what, db ? sqlite3_errmsg(db) : "?");
}

int vs_audit_schema(sqlite3 *db)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS audit("
		" seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ts_offset INTEGER NOT NULL,"
		" recorded_at INTEGER NOT NULL, person_id TEXT NOT NULL, old_color TEXT NOT NULL,"
		" new_color TEXT NOT NULL, reason TEXT NOT NULL, authority TEXT NOT NULL,"
		" operator TEXT NOT NULL, justification TEXT NOT NULL, rule TEXT NOT NULL,"
		" hash BLOB NOT NULL);"
		"CREATE TABLE IF NOT EXISTS audit_head("
		" id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash BLOB NOT NULL);";

	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "creating the audit tables");
	return 0;
}

int vs_audit_head_load(sqlite3 *db, struct vs_audit_head *head)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, s;

	memset(head, 0, sizeof(*head));
	if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK) {
		rc = db_error(db, "reading the audit head");
		goto out;
	}
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != VS_AUDIT_HASH_LEN) {
			rc = vs_error_set(VS_EFORMAT, "database: audit head hash is not %d bytes",
					  VS_AUDIT_HASH_LEN);
			goto out;
		}
		head->seq = sqlite3_column_int64(st, 0);
		memcpy(head->hash, sqlite3_column_blob(st, 1), VS_AUDIT_HASH_LEN);
	} else if (s != SQLITE_DONE) {
		rc = db_error(db, "reading the audit head");
	}
out:
	sqlite3_finalize(st);
	return rc;
}

int vs_audit_append(sqlite3 *db, struct vs_audit_head *head, struct vs_audit_entry *e)
{
	static const char ins[] =
		"INSERT INTO audit(seq, ts, ts_offset, recorded_at, person_id, old_color,"
		" new_color, reason, authority, operator, justification, rule, hash)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
	static const char upd[] = "INSERT OR REPLACE INTO audit_head(id, seq, hash) VALUES (1,?,?)";
	unsigned char h[VS_AUDIT_HASH_LEN];
	sqlite3_stmt *a = NULL, *u = NULL;
	int rc;

	e->seq = head->seq + 1;
	rc = vs_audit_entry_hash(head->hash, e, h);
	if (rc)
		goto out;
	/* The statements are cached by SQLite's own prepare cache only per call; the writer
	 * appends rarely compared with scans, so preparing here keeps this module stateless. */
	if (sqlite3_prepare_v2(db, ins, -1, &a, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, upd, -1, &u, NULL) != SQLITE_OK) {
		rc = db_error(db, "appending to the audit log");
		goto out;
	}
	sqlite3_bind_int64(a, 1, e->seq);
	sqlite3_bind_int64(a, 2, e->ts);
	sqlite3_bind_int(a, 3, e->ts_offset);
	sqlite3_bind_int64(a, 4, e->recorded_at);
	sqlite3_bind_text(a, 5, e->person_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 6, e->old_color, -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 7, e->new_color, -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 8, e->reason ? e->reason : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 9, e->authority ? e->authority : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 10, e->operator_name ? e->operator_name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 11, e->justification ? e->justification : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 12, e->rule ? e->rule : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(a, 13, h, VS_AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(u, 1, e->seq);
	sqlite3_bind_blob(u, 2, h, VS_AUDIT_HASH_LEN, SQLITE_STATIC);
	if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(u) != SQLITE_DONE) {
		rc = db_error(db, "appending to the audit log");
		goto out;
	}
	head->seq = e->seq;
	memcpy(head->hash, h, VS_AUDIT_HASH_LEN);
out:
	sqlite3_finalize(a);
	sqlite3_finalize(u);
	return rc;
}

/* ---- verification ------------------------------------------------------------------- */

static void bad(struct vs_audit_verdict *v, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct vs_audit_verdict *v, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	v->first_bad = seq;
	va_start(ap, fmt);
	vsnprintf(v->what, sizeof(v->what), fmt, ap);
	va_end(ap);
}

static int head_present(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM audit_head WHERE id = 1", -1, &st, NULL) ==
	    SQLITE_OK)
		found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int vs_audit_verify_db(sqlite3 *db, struct vs_audit_verdict *v)
{
	return vs_audit_verify_db_cp(db, 0, NULL, v);
}

int vs_audit_verify_db_cp(sqlite3 *db, int64_t cp_seq,
			  const unsigned char cp_hash[VS_AUDIT_HASH_LEN], struct vs_audit_verdict *v)
{
	static const char sql[] =
		"SELECT " VS_AUDIT_COLUMNS " FROM audit ORDER BY seq";
	static const char *const names[] = { "seq", "ts", "ts_offset", "recorded_at",
		"person_id", "old_color", "new_color", "reason", "authority", "operator",
		"justification", "rule", "hash" };
	unsigned char prev[VS_AUDIT_HASH_LEN] = { 0 }, h[VS_AUDIT_HASH_LEN];
	struct vs_audit_head head;
	sqlite3_stmt *st = NULL;
	int rc = 0, s;
	int64_t expect = 1;
	int own_txn = sqlite3_get_autocommit(db);

	memset(v, 0, sizeof(*v));
	vs_audit_hex(prev, v->head_hex);
	/* One read transaction, so entries and head are one snapshot (the caller's, if any). */
	if (own_txn && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "starting a read transaction");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, "reading the audit log");
		goto out;
	}
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct vs_audit_entry e;
		int null_col = vs_audit_entry_from_row(st, &e);

		v->entries++;
		if (e.seq != expect) {
			bad(v, expect, e.seq > expect ? "missing (next stored entry is seq %lld)" :
				       "out of order (found seq %lld)", (long long)e.seq);
			goto out;
		}
		if (null_col >= 0) {
			bad(v, e.seq, "field '%s' is NULL", names[null_col]);
			goto out;
		}
		if ((rc = vs_audit_entry_hash(prev, &e, h)) != 0)
			goto out;
		if (sqlite3_column_bytes(st, 12) != VS_AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 12), h, VS_AUDIT_HASH_LEN)) {
			bad(v, e.seq, "hash does not match the entry and its predecessor");
			goto out;
		}
		if (cp_seq == e.seq && memcmp(cp_hash, h, VS_AUDIT_HASH_LEN)) {
			bad(v, e.seq, "does not match the published checkpoint");
			goto out;
		}
		memcpy(prev, h, VS_AUDIT_HASH_LEN);
		v->head_seq = e.seq;
		vs_audit_hex(prev, v->head_hex);
		expect++;
	}
	if (s != SQLITE_DONE) {
		rc = db_error(db, "reading the audit log");
		goto out;
	}
	if ((rc = vs_audit_head_load(db, &head)) != 0) {
		if (rc == VS_EFORMAT) {
			bad(v, v->head_seq + 1, "the audit head's hash is damaged");
			rc = 0;
		}
		goto out;
	}
	if (head.seq == 0 && v->head_seq > 0 && !head_present(db))
		bad(v, v->head_seq + 1, "the head row is missing (%lld entries verified)",
		    (long long)v->head_seq);
	else if (head.seq > v->head_seq)
		bad(v, v->head_seq + 1, "missing (the head records %lld entries)",
		    (long long)head.seq);
	else if (head.seq < v->head_seq)
		bad(v, head.seq + 1, "not covered by the head (the head records %lld entries)",
		    (long long)head.seq);
	else if (memcmp(head.hash, prev, VS_AUDIT_HASH_LEN))
		bad(v, head.seq ? head.seq : 1, "the head's hash does not match the chain");
	else if (cp_seq > v->head_seq)
		bad(v, v->head_seq + 1, "missing (a published checkpoint holds seq %lld)",
		    (long long)cp_seq);
out:
	sqlite3_finalize(st);
	if (own_txn)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

static int open_ro(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		int rc = vs_error_set(VS_EDB, "'%s': cannot open database: %s", path,
				      db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, 10000);
	/* A file that is not a database fails here, with a message naming it. */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = vs_error_set(VS_EDB, "'%s': not a venuescan database: %s", path,
				      sqlite3_errmsg(db));
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return 0;
}

static int has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type='table' AND name=?", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

static int parse_checkpoint(const char *s, int64_t *seq, unsigned char hash[VS_AUDIT_HASH_LEN])
{
	char *end;
	long long n;

	n = strtoll(s, &end, 10);
	if (end == s || *end != ':' || n < 1 || strlen(end + 1) != 2 * VS_AUDIT_HASH_LEN)
		goto bad;
	for (size_t i = 0; i < VS_AUDIT_HASH_LEN; i++) {
		unsigned v;
		if (sscanf(end + 1 + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)end[1 + 2 * i]) ||
		    !isxdigit((unsigned char)end[2 + 2 * i]))
			goto bad;
		hash[i] = (unsigned char)v;
	}
	*seq = n;
	return 0;
bad:
	return vs_error_set(VS_EINVAL, "checkpoint '%s': not SEQ:HASH (a seq and 64 hex digits)",
			    s);
}

int vs_audit_verify(const char *path, const char *checkpoint, struct vs_audit_verdict *v)
{
	unsigned char cp_hash[VS_AUDIT_HASH_LEN];
	int64_t cp_seq = 0;
	sqlite3 *db = NULL;
	int rc;

	memset(v, 0, sizeof(*v));
	if (checkpoint && (rc = parse_checkpoint(checkpoint, &cp_seq, cp_hash)) != 0)
		return rc;
	if ((rc = open_ro(path, &db)) != 0)
		return rc;
	if (!has_table(db, "audit") || !has_table(db, "audit_head")) {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a venuescan database (no audit log)", path);
		goto out;
	}
	rc = vs_audit_verify_db_cp(db, cp_seq, cp_seq ? cp_hash : NULL, v);
	if (rc)
		vs_error_prefix("'%s'", path);
out:
	sqlite3_close(db);
	return rc;
}

/* ---- export ------------------------------------------------------------------------- */

/* The registry's persons.csv, read by the dataset module. */

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* One output file of the export. */
struct out_file {
	const char *name;
	struct vs_outfile *f;
	FILE *fp;
	uint64_t rows;
};

static int out_open(struct out_file *o, const char *dir, const char *name)
{
	char *path = vs_xasprintf("%s/%s", dir, name);
	int rc;

	o->name = name;
	o->rows = 0;
	rc = vs_outfile_open(&o->f, path, 0644);
	free(path);
	if (!rc)
		o->fp = vs_outfile_stream(o->f);
	return rc;
}

static int out_commit(struct out_file *o)
{
	struct vs_outfile *f = o->f;

	o->f = NULL;
	return vs_outfile_commit(f);
}

static int export_persons(sqlite3 *db, const struct vs_person_table *reg, struct out_file *o)
{
	struct vs_person_table t = VS_PERSON_TABLE_INIT;
	sqlite3_stmt *st = NULL;
	int rc, x;

	/* Everyone the service holds a code for; registry data where known, else the area
	 * of the person's first scan as home. */
	if (sqlite3_prepare_v2(db,
			       "SELECT p.person_id, (SELECT v.area FROM scans s JOIN venues v"
			       " ON v.venue_id = s.venue_id WHERE s.person_id = p.person_id"
			       " ORDER BY s.ts, s.id LIMIT 1) FROM persons p ORDER BY p.person_id",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, "exporting persons");
		goto out;
	}
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col_text(st, 0);
		long i = reg ? vs_person_table_find(reg, id) : -1;

		if (i >= 0) {
			const struct vs_person *p = &reg->items[i];
			struct vs_buf attrs = VS_BUF_INIT;
			for (uint32_t k = 0; k < p->nattrs; k++) {
				const struct vs_attr *a = &reg->attrs[p->attr_first + k];
				vs_buf_addf(&attrs, "%s%s=%s", k ? ";" : "", a->key, a->value);
			}
			rc = vs_person_table_add(&t, id, p->household_id, p->home_area,
						 attrs.data ? attrs.data : "");
			vs_buf_release(&attrs);
		} else {
			const char *home = col_text(st, 1);
			rc = vs_person_table_add(&t, id, "", *home ? home : "Unknown", "");
		}
		if (rc) {
			vs_error_prefix("person '%s'", id);
			goto out;
		}
	}
	if (x != SQLITE_DONE) {
		rc = db_error(db, "exporting persons");
		goto out;
	}
	if ((rc = vs_persons_write_header(o->fp)) != 0)
		goto out;
	for (size_t i = 0; i < t.n; i++)
		if ((rc = vs_person_write(o->fp, &t, i)) != 0)
			goto out;
	o->rows = t.n;
out:
	sqlite3_finalize(st);
	vs_person_table_release(&t);
	return rc;
}

static int export_venues(sqlite3 *db, struct out_file *o)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	sqlite3_stmt *st = NULL;
	int rc = 0, x;

	if (sqlite3_prepare_v2(db, "SELECT venue_id, name, area, lat, lon FROM venues"
			       " ORDER BY venue_id", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, "exporting venues");
		goto out;
	}
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		struct vs_venue *v;
		VS_ALLOC_GROW(list.items, list.n + 1, list.alloc);
		v = &list.items[list.n++];
		snprintf(v->id, sizeof(v->id), "%s", col_text(st, 0));
		v->name = vs_xstrdup(col_text(st, 1));
		v->area = vs_xstrdup(col_text(st, 2));
		v->lat = sqlite3_column_double(st, 3);
		v->lon = sqlite3_column_double(st, 4);
	}
	if (x != SQLITE_DONE) {
		rc = db_error(db, "exporting venues");
		goto out;
	}
	rc = vs_venues_write(o->fp, &list);
	o->rows = list.n;
out:
	sqlite3_finalize(st);
	vs_venue_list_release(&list);
	return rc;
}

static int export_areas(sqlite3 *db, struct out_file *o)
{
	sqlite3_stmt *st = NULL;
	int rc, x;

	if ((rc = vs_areas_write_header(o->fp)) != 0)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT area, level, start, end, start_offset FROM areas"
			       " ORDER BY rowid", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, "exporting areas");
		goto out;
	}
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		enum vs_risk_level lv;
		if ((rc = vs_risk_level_parse(col_text(st, 1), &lv)) != 0 ||
		    (rc = vs_area_level_write(o->fp, col_text(st, 0), lv,
					      sqlite3_column_int64(st, 2),
					      sqlite3_column_int64(st, 3),
					      sqlite3_column_int(st, 4))) != 0)
			goto out;
		o->rows++;
	}
	if (x != SQLITE_DONE)
		rc = db_error(db, "exporting areas");
out:
	sqlite3_finalize(st);
	return rc;
}

static int export_events(sqlite3 *db, struct out_file *o)
{
	/* Events in time order; on ties a scan before the code change it caused. */
	static const char sql[] =
		"SELECT s.ts, s.ts_offset, s.person_id, 0, s.venue_id,"
		" CASE WHEN s.near THEN v.area ELSE '' END, s.lat, s.lon, s.color, '', '', s.id"
		" FROM scans s LEFT JOIN venues v ON v.venue_id = s.venue_id UNION ALL"
		" SELECT ts, ts_offset, person_id, 1, '', '', 0, 0, new_color, reason, authority, seq"
		" FROM audit ORDER BY 1, 4, 12";
	sqlite3_stmt *st = NULL;
	int rc, x;

	if ((rc = vs_events_write_header(o->fp)) != 0)
		return rc;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, "exporting events");
		goto out;
	}
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		struct vs_event ev;
		int is_code = sqlite3_column_int(st, 3);

		memset(&ev, 0, sizeof(ev));
		ev.ts = sqlite3_column_int64(st, 0);
		ev.offset_min = sqlite3_column_int(st, 1);
		ev.kind = is_code ? VS_EVENT_CODE : VS_EVENT_SCAN;
		ev.person = VS_PERSON_NONE;
		ev.person_id = col_text(st, 2);
		ev.venue_id = col_text(st, 4);
		ev.area = col_text(st, 5);
		ev.has_pos = !is_code;
		ev.lat = sqlite3_column_double(st, 6);
		ev.lon = sqlite3_column_double(st, 7);
		ev.value = col_text(st, 8);
		ev.has_color = vs_color_parse(ev.value, &ev.color) == 0;
		ev.reason = col_text(st, 9);
		ev.authority = col_text(st, 10);
		if ((rc = vs_event_write(o->fp, &ev)) != 0) {
			vs_error_prefix("exporting %s %lld", is_code ? "audit seq" : "scan",
					(long long)sqlite3_column_int64(st, 11));
			goto out;
		}
		o->rows++;
	}
	if (x != SQLITE_DONE)
		rc = db_error(db, "exporting events");
out:
	sqlite3_finalize(st);
	return rc;
}

int vs_audit_export(const char *db_path, const char *persons_csv, const char *out_dir)
{
	static const char *const names[4] = { VS_DATASET_PERSONS, VS_DATASET_VENUES,
		VS_DATASET_AREAS, VS_DATASET_EVENTS };
	struct vs_person_table reg = VS_PERSON_TABLE_INIT;
	struct out_file outs[4] = { { 0 } };
	struct vs_manifest_file mf[4];
	struct vs_outdir *od = NULL;
	struct vs_audit_verdict v;
	sqlite3 *db = NULL;
	const char *dir;
	int rc;

	if ((rc = vs_crypto_init()) != 0)
		return rc;
	if (persons_csv && (rc = vs_persons_read(persons_csv, &reg)) != 0)
		goto out;
	if ((rc = open_ro(db_path, &db)) != 0)
		goto out;
	if (!has_table(db, "audit") || !has_table(db, "scans")) {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a venuescan database", db_path);
		goto out;
	}
	/* One read transaction: the chain verified is the chain exported. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(db, "starting a read transaction");
		goto out;
	}
	if ((rc = vs_audit_verify_db(db, &v)) != 0)
		goto out;
	if (v.first_bad) {
		rc = vs_error_set(VS_EFORMAT, "'%s': audit log seq %lld: %s; nothing exported",
				  db_path, (long long)v.first_bad, v.what);
		goto out;
	}
	if ((rc = vs_outdir_open(&od, out_dir)) != 0)
		goto out;
	dir = vs_outdir_path(od);
	for (int i = 0; i < 4; i++)
		if ((rc = out_open(&outs[i], dir, names[i])) != 0)
			goto out;
	if ((rc = export_persons(db, persons_csv ? &reg : NULL, &outs[0])) != 0 ||
	    (rc = export_venues(db, &outs[1])) != 0 || (rc = export_areas(db, &outs[2])) != 0 ||
	    (rc = export_events(db, &outs[3])) != 0)
		goto out;
	for (int i = 0; i < 4; i++) {
		mf[i].name = names[i];
		mf[i].rows = outs[i].rows;
		if ((rc = out_commit(&outs[i])) != 0)
			goto out;
	}
	if ((rc = vs_manifest_write(dir, "venuescan audit export", VS_VERSION, 0, mf, 4)) != 0)
		goto out;
	rc = vs_outdir_commit(od);
	od = NULL;
out:
	for (int i = 0; i < 4; i++)
		vs_outfile_abort(outs[i].f);
	vs_outdir_abort(od);
	if (db) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	vs_person_table_release(&reg);
	return rc;
}

int vs_audit_entry_from_row(sqlite3_stmt *st, struct vs_audit_entry *e)
{
	const char *t[8];
	int null_col = -1;

	for (int i = 0; i < VS_AUDIT_NCOLUMNS; i++)
		if (sqlite3_column_type(st, i) == SQLITE_NULL && null_col < 0)
			null_col = i;
	for (int i = 0; i < 8; i++) {
		t[i] = (const char *)sqlite3_column_text(st, 4 + i);
		if (!t[i])
			t[i] = "";
	}
	e->seq = sqlite3_column_int64(st, 0);
	e->ts = sqlite3_column_int64(st, 1);
	e->ts_offset = sqlite3_column_int(st, 2);
	e->recorded_at = sqlite3_column_int64(st, 3);
	e->person_id = t[0];
	e->old_color = t[1];
	e->new_color = t[2];
	e->reason = t[3];
	e->authority = t[4];
	e->operator_name = t[5];
	e->justification = t[6];
	e->rule = t[7];
	return null_col;
}

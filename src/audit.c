/*
 * The audit log's hash chain: canonical serialisation of an entry, hashing, appending
 * inside the service's write transaction, verifying a whole database, and exporting the
 * service's state as a dataset v1 folder for `detect`.  The chain needs nothing but the
 * rows themselves and the head row to check: an auditor with the sqlite3 shell, jq and
 * sha256sum can redo what vs_audit_verify_db does (docs/SERVICE.md shows how).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "venuescan/audit.h"
#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/time.h"

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

int vs_audit_verify_db(sqlite3 *db, struct vs_audit_verdict *v)
{
	static const char sql[] =
		"SELECT seq, ts, ts_offset, recorded_at, person_id, old_color, new_color, reason,"
		" authority, operator, justification, rule, hash FROM audit ORDER BY seq";
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
		const char *txt[13];
		int null_col = -1;

		v->entries++;
		for (int i = 0; i < 13; i++) {
			if (sqlite3_column_type(st, i) == SQLITE_NULL && null_col < 0)
				null_col = i;
			txt[i] = i >= 4 && i <= 11 ? (const char *)sqlite3_column_text(st, i) : NULL;
		}
		e.seq = sqlite3_column_int64(st, 0);
		if (e.seq != expect) {
			bad(v, expect, e.seq > expect ? "missing (next stored entry is seq %lld)" :
				       "out of order (found seq %lld)", (long long)e.seq);
			goto out;
		}
		if (null_col >= 0) {
			bad(v, e.seq, "field '%s' is NULL", names[null_col]);
			goto out;
		}
		e.ts = sqlite3_column_int64(st, 1);
		e.ts_offset = sqlite3_column_int(st, 2);
		e.recorded_at = sqlite3_column_int64(st, 3);
		e.person_id = txt[4];
		e.old_color = txt[5];
		e.new_color = txt[6];
		e.reason = txt[7];
		e.authority = txt[8];
		e.operator_name = txt[9];
		e.justification = txt[10];
		e.rule = txt[11];
		if ((rc = vs_audit_entry_hash(prev, &e, h)) != 0)
			goto out;
		if (sqlite3_column_bytes(st, 12) != VS_AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 12), h, VS_AUDIT_HASH_LEN)) {
			bad(v, e.seq, "hash does not match the entry and its predecessor");
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
	if (head.seq > v->head_seq)
		bad(v, v->head_seq + 1, "missing (the head records %lld entries)",
		    (long long)head.seq);
	else if (head.seq < v->head_seq)
		bad(v, head.seq + 1, "not covered by the head (the head records %lld entries)",
		    (long long)head.seq);
	else if (memcmp(head.hash, prev, VS_AUDIT_HASH_LEN))
		bad(v, head.seq ? head.seq : 1, "the head's hash does not match the chain");
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

int vs_audit_verify(const char *path, struct vs_audit_verdict *v)
{
	sqlite3 *db = NULL;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = open_ro(path, &db)) != 0)
		return rc;
	if (!has_table(db, "audit") || !has_table(db, "audit_head")) {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a venuescan database (no audit log)", path);
		goto out;
	}
	rc = vs_audit_verify_db(db, v);
	if (rc)
		vs_error_prefix("'%s'", path);
out:
	sqlite3_close(db);
	return rc;
}

/* ---- export ------------------------------------------------------------------------- */

/* A person of the registry (persons.csv given to export). */
struct reg_person {
	char *id, *household, *home, *attrs;
};

struct registry {
	struct reg_person *p;
	size_t n, alloc;
};

static int reg_cmp(const void *a, const void *b)
{
	return strcmp(((const struct reg_person *)a)->id, ((const struct reg_person *)b)->id);
}

static void registry_release(struct registry *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->p[i].id);
		free(r->p[i].household);
		free(r->p[i].home);
		free(r->p[i].attrs);
	}
	free(r->p);
	memset(r, 0, sizeof(*r));
}

static int registry_read(const char *path, struct registry *r)
{
	static const char *const cols[] = { "person_id", "household_id", "home_area", "attrs", NULL };
	struct vs_csv_reader *cr = NULL;
	int rc, c[4];

	if ((rc = vs_csv_open(&cr, path)) != 0)
		return rc;
	if ((rc = vs_csv_require(cr, cols)) != 0)
		goto out;
	for (int i = 0; i < 4; i++)
		c[i] = vs_csv_column(cr, cols[i]);
	while ((rc = vs_csv_next(cr)) == 1) {
		struct reg_person *p;
		if (!*vs_csv_field(cr, (size_t)c[0])) {
			rc = vs_csv_field_error(cr, (size_t)c[0], "empty person id");
			goto out;
		}
		VS_ALLOC_GROW(r->p, r->n + 1, r->alloc);
		p = &r->p[r->n++];
		p->id = vs_xstrdup(vs_csv_field(cr, (size_t)c[0]));
		p->household = vs_xstrdup(vs_csv_field(cr, (size_t)c[1]));
		p->home = vs_xstrdup(vs_csv_field(cr, (size_t)c[2]));
		p->attrs = vs_xstrdup(vs_csv_field(cr, (size_t)c[3]));
	}
	if (rc == 0 && r->n)
		qsort(r->p, r->n, sizeof(*r->p), reg_cmp);
	for (size_t i = 1; rc == 0 && i < r->n; i++)
		if (!strcmp(r->p[i].id, r->p[i - 1].id))
			rc = vs_error_set(VS_EFORMAT, "%s: duplicate person_id '%s'", path, r->p[i].id);
out:
	vs_csv_close(cr);
	return rc;
}

static const struct reg_person *registry_find(const struct registry *r, const char *id)
{
	struct reg_person key = { (char *)id, NULL, NULL, NULL };

	return r->n ? bsearch(&key, r->p, r->n, sizeof(*r->p), reg_cmp) : NULL;
}

/* One CSV output of the export, with its row count and SHA-256 for the manifest. */
struct csv_out {
	const char *name;
	struct vs_outfile *f;
	FILE *fp;
	unsigned long rows;
};

static int csv_out_open(struct csv_out *o, const char *dir, const char *name,
			const char *const *header, size_t n)
{
	char *path = vs_xasprintf("%s/%s", dir, name);
	int rc;

	o->name = name;
	o->rows = 0;
	rc = vs_outfile_open(&o->f, path, 0644);
	free(path);
	if (rc)
		return rc;
	o->fp = vs_outfile_stream(o->f);
	return vs_csv_write_row(o->fp, header, n);
}

static int csv_out_row(struct csv_out *o, const char *const *fields, size_t n)
{
	o->rows++;
	return vs_csv_write_row(o->fp, fields, n);
}

static int csv_out_commit(struct csv_out *o)
{
	struct vs_outfile *f = o->f;

	o->f = NULL;
	return vs_outfile_commit(f);
}

static int sha256_file(const char *path, char hex[65])
{
	struct vs_buf b = VS_BUF_INIT;
	unsigned char h[32];
	int rc = vs_file_read_all(path, 0, &b);

	if (!rc) {
		crypto_hash_sha256(h, (const unsigned char *)b.data, b.len);
		vs_audit_hex(h, hex);
	}
	vs_buf_release(&b);
	return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

static int export_rows(sqlite3 *db, const struct registry *reg, const char *dir,
		       struct csv_out *outs)
{
	static const char *const ph[] = { "person_id", "household_id", "home_area", "attrs" };
	static const char *const vh[] = { "venue_id", "name", "area", "lat", "lon" };
	static const char *const ah[] = { "area", "level", "start", "end" };
	static const char *const eh[] = { "ts", "person_id", "kind", "venue_id", "area", "lat",
		"lon", "value", "reason", "authority" };
	/* Events in time order; on ties scans before code changes (the fact first). */
	static const char ev_sql[] =
		"SELECT ts, ts_offset, person_id, 0, venue_id, near, lat, lon, color, '', '', id"
		" FROM scans UNION ALL"
		" SELECT ts, ts_offset, person_id, 1, '', 0, 0, 0, new_color, reason, authority, seq"
		" FROM audit ORDER BY 1, 4, 12";
	sqlite3_stmt *st = NULL, *va = NULL;
	char a[VS_TIME_TEXT_MAX], b[VS_TIME_TEXT_MAX], la[32], lo[32];
	int rc, s;

	if ((rc = csv_out_open(&outs[0], dir, "persons.csv", ph, 4)) ||
	    (rc = csv_out_open(&outs[1], dir, "venues.csv", vh, 5)) ||
	    (rc = csv_out_open(&outs[2], dir, "areas.csv", ah, 4)) ||
	    (rc = csv_out_open(&outs[3], dir, "events.csv", eh, 10)))
		return rc;

	/* persons: everyone the service holds a code for, registry data where known. */
	if (sqlite3_prepare_v2(db,
			       "SELECT p.person_id, (SELECT v.area FROM scans s JOIN venues v"
			       " ON v.venue_id = s.venue_id WHERE s.person_id = p.person_id"
			       " ORDER BY s.ts, s.id LIMIT 1) FROM persons p ORDER BY p.person_id",
			       -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col_text(st, 0);
		const struct reg_person *p = registry_find(reg, id);
		const char *f[4] = { id, p ? p->household : id, p ? p->home : col_text(st, 1),
				     p ? p->attrs : "" };
		if ((rc = csv_out_row(&outs[0], f, 4)) != 0)
			goto out;
	}
	if (s != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT venue_id, name, area, lat, lon FROM venues"
			       " ORDER BY venue_id", -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f[5] = { col_text(st, 0), col_text(st, 1), col_text(st, 2), la, lo };
		snprintf(la, sizeof(la), "%.7g", sqlite3_column_double(st, 3));
		snprintf(lo, sizeof(lo), "%.7g", sqlite3_column_double(st, 4));
		if ((rc = csv_out_row(&outs[1], f, 5)) != 0)
			goto out;
	}
	if (s != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT area, level, start, end, start_offset, end_offset"
			       " FROM areas ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f[4] = { col_text(st, 0), col_text(st, 1), a, b };
		vs_time_format(sqlite3_column_int64(st, 2), sqlite3_column_int(st, 4), a);
		vs_time_format(sqlite3_column_int64(st, 3), sqlite3_column_int(st, 5), b);
		if ((rc = csv_out_row(&outs[2], f, 4)) != 0)
			goto out;
	}
	if (s != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT area FROM venues WHERE venue_id = ?", -1, &va,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, ev_sql, -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *f[10];
		int is_code = sqlite3_column_int(st, 3);
		const char *area = "";

		vs_time_format(sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), a);
		f[0] = a;
		f[1] = col_text(st, 2);
		f[2] = is_code ? "code" : "scan";
		f[3] = col_text(st, 4);
		/* A scan's area is where the device was: the venue's area when the device was
		 * at the venue, unknown (empty) for a scan from afar. */
		if (!is_code && sqlite3_column_int(st, 5)) {
			sqlite3_reset(va);
			sqlite3_bind_text(va, 1, f[3], -1, SQLITE_TRANSIENT);
			if (sqlite3_step(va) == SQLITE_ROW)
				area = col_text(va, 0);
		}
		f[4] = area;
		if (is_code) {
			la[0] = lo[0] = '\0';
		} else {
			snprintf(la, sizeof(la), "%.7g", sqlite3_column_double(st, 6));
			snprintf(lo, sizeof(lo), "%.7g", sqlite3_column_double(st, 7));
		}
		f[5] = la;
		f[6] = lo;
		f[7] = col_text(st, 8);
		f[8] = col_text(st, 9);
		f[9] = col_text(st, 10);
		rc = csv_out_row(&outs[3], f, 10);
		/* area points into va's row: keep it until the row is written */
		if (rc)
			goto out;
	}
	if (s != SQLITE_DONE)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	rc = db_error(db, "exporting");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(va);
	return rc;
}

int vs_audit_export(const char *db_path, const char *persons_csv, const char *out_dir)
{
	struct registry reg = { 0 };
	struct csv_out outs[4] = { { 0 } };
	struct vs_outdir *od = NULL;
	struct vs_audit_verdict v;
	struct vs_buf man = VS_BUF_INIT;
	sqlite3 *db = NULL;
	int rc;

	if ((rc = vs_crypto_init()) != 0)
		return rc;
	if (persons_csv && (rc = registry_read(persons_csv, &reg)) != 0)
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
	if ((rc = export_rows(db, &reg, vs_outdir_path(od), outs)) != 0)
		goto out;
	for (int i = 0; i < 4; i++)
		if ((rc = csv_out_commit(&outs[i])) != 0)
			goto out;
	vs_buf_addf(&man, "{\n  \"format\": \"venuescan-dataset\",\n  \"version\": 1,\n"
		    "  \"generator\": \"venuescan audit export\",\n  \"seed\": null,\n"
		    "  \"audit_head\": {\"seq\": %lld, \"hash\": \"%s\"},\n  \"files\": {",
		    (long long)v.head_seq, v.head_hex);
	for (int i = 0; i < 4; i++) {
		char hex[65];
		char *p = vs_xasprintf("%s/%s", vs_outdir_path(od), outs[i].name);
		rc = sha256_file(p, hex);
		free(p);
		if (rc)
			goto out;
		vs_buf_addf(&man, "%s\n    \"%s\": {\"rows\": %lu, \"sha256\": \"%s\"}", i ? "," : "",
			    outs[i].name, outs[i].rows, hex);
	}
	vs_buf_adds(&man, "\n  }\n}\n");
	{
		char *p = vs_xasprintf("%s/manifest.json", vs_outdir_path(od));
		rc = vs_file_write_atomic(p, man.data, man.len, 0644);
		free(p);
		if (rc)
			goto out;
	}
	rc = vs_outdir_commit(od);
	od = NULL;
out:
	for (int i = 0; i < 4; i++)
		if (outs[i].f)
			vs_outfile_abort(outs[i].f);
	vs_outdir_abort(od);
	if (db) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	vs_buf_release(&man);
	registry_release(&reg);
	return rc;
}

/*
 * The code service's store: the SQLite schema, the in-memory state of every person (the
 * rule engine's trigger times, the colour shown, a manual assignment in force), and the
 * single writer thread.  A scan costs one appended row: the rules' trigger times are a
 * function of the stored scans (each row keeps the presence fact it gave), so they are
 * rebuilt by replaying the scans at start rather than rewritten per scan, and a person's
 * row is written only when their colour or assignment changes.  The writer takes every queued job at once, applies them in
 * arrival order to memory and to the database inside one transaction, appends the audit
 * entries of the colour changes they cause, commits (synchronous=FULL: the WAL is fsynced
 * before COMMIT returns) and only then lets the HTTP layer answer them — group commit.
 * Should a commit fail, the transaction is rolled back, memory is reloaded from the
 * database, and every job of the batch is answered 503: nothing unwritten is acknowledged.
 */
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "venuescan/audit.h"
#include "venuescan/codec.h"
#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/rules.h"
#include "venuescan/serve.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"
#include "serve_int.h"

static int db_error(sqlite3 *db, const char *what)
{
	return vs_error_set(VS_EDB, "database: %s: %s", what, db ? sqlite3_errmsg(db) : "?");
}

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS persons("
	" person_id TEXT PRIMARY KEY, color TEXT NOT NULL, reason TEXT NOT NULL,"
	" authority TEXT NOT NULL, since INTEGER NOT NULL, since_offset INTEGER NOT NULL,"
	" manual TEXT NOT NULL, manual_reason TEXT NOT NULL, manual_authority TEXT NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS scans("
	" id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ts_offset INTEGER NOT NULL,"
	" person_id TEXT NOT NULL, venue_id TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,"
	" near INTEGER NOT NULL, level TEXT NOT NULL, color TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS venues("
	" venue_id TEXT PRIMARY KEY, name TEXT NOT NULL, area TEXT NOT NULL,"
	" lat REAL NOT NULL, lon REAL NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS areas("
	" area TEXT NOT NULL, level TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
	" start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens("
	" hash BLOB PRIMARY KEY, operator TEXT NOT NULL, role TEXT NOT NULL,"
	" created INTEGER NOT NULL) WITHOUT ROWID;";

int vs_serve_db_open(const char *path, int readonly, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = 0;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = vs_error_set(VS_EDB, "'%s': cannot open database: %s", path,
				  db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	if (!readonly) {
		if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL,
				 NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
		    vs_audit_schema(db) != 0) {
			rc = vs_error_set(VS_EDB, "'%s': not a usable venuescan database: %s", path,
					  sqlite3_errmsg(db));
			goto out;
		}
	} else if (sqlite3_exec(db, "SELECT count(*) FROM persons", NULL, NULL, NULL) !=
		   SQLITE_OK) {
		rc = vs_error_set(VS_EDB, "'%s': not a venuescan database: %s", path,
				  sqlite3_errmsg(db));
		goto out;
	}
	*out = db;
	db = NULL;
out:
	sqlite3_close(db);
	return rc;
}

int vs_serve_token_add(const char *db_path, const char *operator_name, const char *role,
		       char **token)
{
	unsigned char raw[32], h[32];
	struct vs_buf b = VS_BUF_INIT;
	char *enc;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	*token = NULL;
	if (strcmp(role, "assign") && strcmp(role, "read"))
		return vs_error_set(VS_EINVAL, "role '%s': not a role (assign or read)", role);
	if (!*operator_name || strlen(operator_name) > VS_SERVE_TEXT_MAX)
		return vs_error_set(VS_EINVAL, "operator name: must be 1 to %d bytes",
				    VS_SERVE_TEXT_MAX);
	if ((rc = vs_crypto_init()) != 0)
		return rc;
	if ((rc = vs_serve_db_open(db_path, 0, &db)) != 0)
		return rc;
	randombytes_buf(raw, sizeof(raw));
	enc = vs_base64url_encode(raw, sizeof(raw));
	vs_buf_adds(&b, "vst_");
	vs_buf_adds(&b, enc);
	sodium_memzero(enc, strlen(enc));
	free(enc);
	crypto_hash_sha256(h, (const unsigned char *)b.data, b.len);
	if (sqlite3_prepare_v2(db, "INSERT INTO tokens(hash, operator, role, created)"
			       " VALUES (?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(db, "adding a token");
		goto out;
	}
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_text(st, 2, operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, vs_time_now());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_error(db, "adding a token");
		goto out;
	}
	*token = vs_buf_detach(&b, NULL);
out:
	sodium_memzero(raw, sizeof(raw));
	if (b.data)
		sodium_memzero(b.data, b.len);
	vs_buf_release(&b);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* ---- string-keyed table ------------------------------------------------------------- */

struct sent {
	struct sent *next;
	uint64_t hash;
	void *val;
	char key[];
};

struct smap {
	struct sent **b;
	size_t nb, n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static void *smap_get(const struct smap *m, const char *key)
{
	uint64_t h = str_hash(key);

	if (!m->nb)
		return NULL;
	for (struct sent *e = m->b[h & (m->nb - 1)]; e; e = e->next)
		if (e->hash == h && !strcmp(e->key, key))
			return e->val;
	return NULL;
}

/* Add key (not present) with val; returns the table's own copy of key. */
static const char *smap_put(struct smap *m, const char *key, void *val)
{
	size_t len = strlen(key);
	struct sent *e = vs_xmalloc(sizeof(*e) + len + 1);

	if (m->n + 1 > m->nb) {
		size_t nb = m->nb ? 2 * m->nb : 1024;
		struct sent **b = vs_xcalloc(nb, sizeof(*b));
		for (size_t i = 0; i < m->nb; i++)
			for (struct sent *x = m->b[i], *nx; x; x = nx) {
				nx = x->next;
				x->next = b[x->hash & (nb - 1)];
				b[x->hash & (nb - 1)] = x;
			}
		free(m->b);
		m->b = b;
		m->nb = nb;
	}
	e->hash = str_hash(key);
	e->val = val;
	memcpy(e->key, key, len + 1);
	e->next = m->b[e->hash & (m->nb - 1)];
	m->b[e->hash & (m->nb - 1)] = e;
	m->n++;
	return e->key;
}

static void smap_release(struct smap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct sent *x = m->b[i], *nx; x; x = nx) {
			nx = x->next;
			if (free_val)
				free_val(x->val);
			free(x);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* ---- person state ------------------------------------------------------------------- */

struct person {
	const char *id;         /* the key in the persons table */
	enum vs_color color;    /* shown now */
	char *reason, *authority;
	int64_t since;
	int since_offset;
	enum vs_color manual;   /* a manual assignment in force (green: none) */
	char *manual_reason, *manual_authority;
	int64_t last_ts;        /* latest scan time: the rules' clock never goes back */
	int dirty;              /* to be saved at the end of the batch */
	int64_t state[];        /* the rule engine's, vs_rules_count() slots */
};

static void person_free(void *v)
{
	struct person *p = v;

	free(p->reason);
	free(p->authority);
	free(p->manual_reason);
	free(p->manual_authority);
	free(p);
}

static void set_str(char **dst, const char *s)
{
	if (*dst && !strcmp(*dst, s))
		return;
	free(*dst);
	*dst = vs_xstrdup(s);
}

/* ---- the store ---------------------------------------------------------------------- */

enum { ST_SCAN, ST_PERSON, ST_VENUE, ST_N };

struct store {
	sqlite3 *db;
	const struct vs_rule_set *rs;
	struct vs_risk_map *risk;
	char *authority;
	size_t batch_max;
	struct smap persons, venues;
	struct person **dirty;      /* persons changed by the current batch */
	size_t ndirty, dirty_alloc;
	struct vs_audit_head head;
	sqlite3_stmt *st[ST_N];

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *qhead, **qtail;
	int stopping, started;
	pthread_t thread;
	int last_error;

	/* Checkpoints run beside the writer so a commit never waits for one. */
	char *path;
	pthread_t ckpt_thread;
	pthread_cond_t ckpt_cv;
	int ckpt_started, ckpt_stop;
	atomic_int wal_pages;

	_Atomic int64_t audit_len;
	_Atomic uint64_t commits, committed, npersons;
};

void job_release(struct job *j)
{
	free(j->venue_name);
	free(j->venue_area);
	free(j->reason);
	free(j->justification);
	free(j->authority);
	free(j->operator_name);
	free(j->body);
	memset(j, 0, sizeof(*j));
}

int64_t store_audit_length(const struct store *s) { return atomic_load(&s->audit_len); }
uint64_t store_commits(const struct store *s) { return atomic_load(&s->commits); }
uint64_t store_committed_jobs(const struct store *s) { return atomic_load(&s->committed); }
uint64_t store_persons(const struct store *s) { return atomic_load(&s->npersons); }

static int load_areas_file(struct store *s, const char *path)
{
	static const char *const cols[] = { "area", "level", "start", "end", NULL };
	struct vs_csv_reader *r = NULL;
	sqlite3_stmt *ins = NULL;
	int rc, c[4];

	if ((rc = vs_csv_open(&r, path)) != 0)
		return rc;
	if ((rc = vs_csv_require(r, cols)) != 0)
		goto out;
	for (int i = 0; i < 4; i++)
		c[i] = vs_csv_column(r, cols[i]);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE; DELETE FROM areas;", NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT INTO areas VALUES (?,?,?,?,?,?)", -1, &ins, NULL) !=
		    SQLITE_OK) {
		rc = db_error(s->db, "storing areas");
		goto out;
	}
	while ((rc = vs_csv_next(r)) == 1) {
		enum vs_risk_level lv;
		int64_t a, b;
		int ao, bo;
		if (!vs_area_valid(vs_csv_field(r, (size_t)c[0]))) {
			rc = vs_csv_field_error(r, (size_t)c[0], "not an area path '%s'",
						vs_csv_field(r, (size_t)c[0]));
			goto out;
		}
		if (vs_risk_level_parse(vs_csv_field(r, (size_t)c[1]), &lv)) {
			rc = vs_csv_field_wrap(r, (size_t)c[1], VS_EFORMAT);
			goto out;
		}
		if (vs_time_parse(vs_csv_field(r, (size_t)c[2]), &a, &ao)) {
			rc = vs_csv_field_wrap(r, (size_t)c[2], VS_EFORMAT);
			goto out;
		}
		if (vs_time_parse(vs_csv_field(r, (size_t)c[3]), &b, &bo)) {
			rc = vs_csv_field_wrap(r, (size_t)c[3], VS_EFORMAT);
			goto out;
		}
		if (b <= a) {
			rc = vs_csv_field_error(r, (size_t)c[3], "end is not after start");
			goto out;
		}
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, vs_csv_field(r, (size_t)c[0]), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 2, vs_risk_level_name(lv), -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, a);
		sqlite3_bind_int64(ins, 4, b);
		sqlite3_bind_int(ins, 5, ao);
		sqlite3_bind_int(ins, 6, bo);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			rc = db_error(s->db, "storing areas");
			goto out;
		}
	}
	if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_error(s->db, "storing areas");
out:
	if (rc && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(ins);
	vs_csv_close(r);
	return rc;
}

static int load_state(struct store *s)
{
	size_t nr = vs_rules_count(s->rs);
	sqlite3_stmt *st = NULL;
	int rc = 0, x;

	smap_release(&s->persons, person_free);
	smap_release(&s->venues, NULL);
	vs_risk_map_free(s->risk);
	s->risk = vs_risk_map_new();
	if (sqlite3_prepare_v2(s->db, "SELECT area, level, start, end FROM areas", -1, &st,
			       NULL) != SQLITE_OK)
		goto dberr;
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		enum vs_risk_level lv;
		if (vs_risk_level_parse((const char *)sqlite3_column_text(st, 1), &lv) ||
		    (rc = vs_risk_map_add(s->risk, (const char *)sqlite3_column_text(st, 0), lv,
					  sqlite3_column_int64(st, 2),
					  sqlite3_column_int64(st, 3))) != 0) {
			rc = VS_EFORMAT;
			vs_error_prefix("database: table areas");
			goto out;
		}
	}
	if (x != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT person_id, color, reason, authority, since,"
			       " since_offset, manual, manual_reason, manual_authority FROM persons",
			       -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		struct person *p = vs_xcalloc(1, sizeof(*p) + nr * sizeof(int64_t));
		enum vs_color c = VS_GREEN, m = VS_GREEN;
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (vs_color_parse((const char *)sqlite3_column_text(st, 1), &c) ||
		    vs_color_parse((const char *)sqlite3_column_text(st, 6), &m)) {
			person_free(p);
			rc = vs_error_set(VS_EFORMAT, "database: person '%s': not a colour",
					  id ? id : "");
			goto out;
		}
		vs_rules_state_init(s->rs, p->state);
		p->color = c;
		p->manual = m;
		p->reason = vs_xstrdup((const char *)sqlite3_column_text(st, 2));
		p->authority = vs_xstrdup((const char *)sqlite3_column_text(st, 3));
		p->since = sqlite3_column_int64(st, 4);
		p->since_offset = sqlite3_column_int(st, 5);
		p->manual_reason = vs_xstrdup((const char *)sqlite3_column_text(st, 7));
		p->manual_authority = vs_xstrdup((const char *)sqlite3_column_text(st, 8));
		p->last_ts = INT64_MIN;
		p->id = smap_put(&s->persons, id, p);
	}
	if (x != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;

	/* The rules' state is a function of the scans' facts: replay them in commit order. */
	if (sqlite3_prepare_v2(s->db, "SELECT person_id, ts, level FROM scans ORDER BY id", -1,
			       &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((x = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *level = (const char *)sqlite3_column_text(st, 2);
		struct person *p = smap_get(&s->persons, id ? id : "");
		int64_t ts = sqlite3_column_int64(st, 1);

		if (!p) {
			rc = vs_error_set(VS_EFORMAT, "database: a scan of person '%s', who has no"
					  " code", id ? id : "");
			goto out;
		}
		if (ts > p->last_ts)
			p->last_ts = ts;
		if (level && *level)
			vs_rules_observe(s->rs, p->state, VS_FACT_PRESENCE, level, p->last_ts);
	}
	if (x != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT venue_id FROM venues", -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	while ((x = sqlite3_step(st)) == SQLITE_ROW)
		smap_put(&s->venues, (const char *)sqlite3_column_text(st, 0), s);
	if (x != SQLITE_DONE)
		goto dberr;
	if ((rc = vs_audit_head_load(s->db, &s->head)) != 0)
		goto out;
	atomic_store(&s->audit_len, s->head.seq);
	atomic_store(&s->npersons, s->persons.n);
	goto out;
dberr:
	rc = db_error(s->db, "loading the service state");
out:
	sqlite3_finalize(st);
	return rc;
}

int store_open(const char *path, const struct vs_rule_set *rs, const char *areas_path,
	       const char *authority, size_t batch_max, struct store **out)
{
	static const char *const sql[ST_N] = {
		"INSERT INTO scans(ts, ts_offset, person_id, venue_id, lat, lon, near, level, color)"
		" VALUES (?,?,?,?,?,?,?,?,?)",
		"INSERT OR REPLACE INTO persons(person_id, color, reason, authority, since,"
		" since_offset, manual, manual_reason, manual_authority)"
		" VALUES (?,?,?,?,?,?,?,?,?)",
		"INSERT OR IGNORE INTO venues(venue_id, name, area, lat, lon) VALUES (?,?,?,?,?)",
	};
	struct store *s = vs_xcalloc(1, sizeof(*s));
	struct vs_audit_verdict v;
	int rc;

	*out = NULL;
	s->rs = rs;
	s->authority = vs_xstrdup(authority ? authority : "venuescan");
	s->batch_max = batch_max ? batch_max : 4096;
	s->qtail = &s->qhead;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->ckpt_cv, NULL);
	s->path = vs_xstrdup(path);
	if ((rc = vs_serve_db_open(path, 0, &s->db)) != 0)
		goto out;
	/* Verify the chain before anything else touches the database. */
	if ((rc = vs_audit_verify_db(s->db, &v)) != 0)
		goto out;
	if (v.first_bad) {
		rc = vs_error_set(VS_EFORMAT, "'%s': audit log seq %lld: %s; refusing to serve"
				  " (see 'venuescan audit verify')", path, (long long)v.first_bad,
				  v.what);
		goto out;
	}
	if (areas_path && (rc = load_areas_file(s, areas_path)) != 0)
		goto out;
	if ((rc = load_state(s)) != 0)
		goto out;
	for (int i = 0; i < ST_N; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			rc = db_error(s->db, "preparing statements");
			goto out;
		}
	*out = s;
	s = NULL;
out:
	if (s)
		store_close(s);
	return rc;
}

/* ---- applying jobs ------------------------------------------------------------------ */

static struct person *person_get(struct store *s, const char *id)
{
	struct person *p = smap_get(&s->persons, id);
	size_t nr = vs_rules_count(s->rs);

	if (p)
		return p;
	p = vs_xcalloc(1, sizeof(*p) + nr * sizeof(int64_t));
	vs_rules_state_init(s->rs, p->state);
	p->color = p->manual = VS_GREEN;
	p->reason = vs_xstrdup("");
	p->authority = vs_xstrdup(s->authority);
	p->manual_reason = vs_xstrdup("");
	p->manual_authority = vs_xstrdup("");
	p->last_ts = INT64_MIN;
	p->since = INT64_MIN;
	p->id = smap_put(&s->persons, id, p);
	atomic_store(&s->npersons, s->persons.n);
	return p;
}

static int person_save(struct store *s, const struct person *p)
{
	sqlite3_stmt *st = s->st[ST_PERSON];

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vs_color_name(p->color), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->authority, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, p->since);
	sqlite3_bind_int(st, 6, p->since_offset);
	sqlite3_bind_text(st, 7, vs_color_name(p->manual), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, p->manual_reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, p->manual_authority, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s->db, "saving a person");
}

/* Save p at the end of the batch (once, however many of the batch's jobs touched it). */
static void person_touch(struct store *s, struct person *p)
{
	if (p->dirty)
		return;
	p->dirty = 1;
	VS_ALLOC_GROW(s->dirty, s->ndirty + 1, s->dirty_alloc);
	s->dirty[s->ndirty++] = p;
}

/*
 * The colour p's facts and manual assignment give at t, with its reason, authority and
 * rule name: the more severe of the rules' colour and the manual one (a manual assignment
 * of the same colour as the rules' is shown as the rules', which need no operator).
 */
static enum vs_color decide(struct store *s, struct person *p, int64_t t, const char **reason,
			    const char **authority, const char **rule)
{
	int r;
	enum vs_color c = vs_rules_color_at(s->rs, p->state, t, &r);

	if (p->manual > c) {
		*reason = p->manual_reason;
		*authority = p->manual_authority;
		*rule = "";
		return p->manual;
	}
	*authority = s->authority;
	if (r < 0) {
		*reason = p->color == VS_GREEN ? p->reason : "release";
		*rule = "";
	} else {
		*reason = *rule = vs_rules_name(s->rs, (size_t)r);
	}
	if (c == VS_GREEN && p->color == VS_GREEN)
		*reason = p->reason;
	return c;
}

/* Move p to colour c at t (offset off), appending the audit entry, even when c is p's
 * colour if force (a manual assignment is always logged). */
static int change(struct store *s, struct person *p, enum vs_color c, const char *reason,
		  const char *authority, const char *rule, const char *operator_name,
		  const char *justification, int64_t t, int off, int64_t now, int force)
{
	struct vs_audit_entry e;
	char *r, *a;
	int rc;

	if (c == p->color && !force)
		return 0;
	/* reason and authority may point into p itself */
	r = vs_xstrdup(reason);
	a = vs_xstrdup(authority);
	e.seq = 0;
	e.ts = t;
	e.ts_offset = off;
	e.recorded_at = now;
	e.person_id = p->id;
	e.old_color = vs_color_name(p->color);
	e.new_color = vs_color_name(c);
	e.reason = r;
	e.authority = a;
	e.operator_name = operator_name ? operator_name : "";
	e.justification = justification ? justification : "";
	e.rule = rule ? rule : "";
	rc = vs_audit_append(s->db, &s->head, &e);
	if (!rc) {
		if (c != p->color || p->since == INT64_MIN) {
			p->since = t;
			p->since_offset = off;
		}
		p->color = c;
		set_str(&p->reason, r);
		set_str(&p->authority, a);
	}
	free(r);
	free(a);
	return rc;
}

static void respond_code(struct job *j, const struct person *p, int with_venue, int64_t seq)
{
	struct vs_buf b = VS_BUF_INIT;
	char since[VS_TIME_TEXT_MAX];

	vs_time_format(p->since, p->since_offset, since);
	vs_buf_addf(&b, "{\"person_id\":");
	vs_buf_add_json_string(&b, p->id, strlen(p->id));
	vs_buf_addf(&b, ",\"color\":\"%s\",\"reason\":", vs_color_name(p->color));
	vs_buf_add_json_string(&b, p->reason, strlen(p->reason));
	vs_buf_adds(&b, ",\"authority\":");
	vs_buf_add_json_string(&b, p->authority, strlen(p->authority));
	vs_buf_addf(&b, ",\"since\":\"%s\"", since);
	if (with_venue)
		vs_buf_addf(&b, ",\"venue_id\":\"%s\"", j->venue_id);
	if (seq)
		vs_buf_addf(&b, ",\"seq\":%lld", (long long)seq);
	vs_buf_adds(&b, "}\n");
	j->http_status = 200;
	j->body = vs_buf_detach(&b, NULL);
}

static int apply_scan(struct store *s, struct job *j, int64_t now)
{
	struct person *p = person_get(s, j->person_id);
	sqlite3_stmt *st;
	const char *reason, *authority, *rule;
	int64_t t = j->ts > p->last_ts ? j->ts : p->last_ts;
	int near = vs_distance_km(j->lat, j->lon, j->venue_lat, j->venue_lon) <= VS_SERVE_NEAR_KM;
	const char *level = "";
	enum vs_color c, was = p->color;
	int rc;

	if (near) {
		level = vs_risk_level_name(vs_risk_map_level(s->risk, j->venue_area, j->ts));
		vs_rules_observe(s->rs, p->state, VS_FACT_PRESENCE, level, t);
	}
	p->last_ts = t;
	if (p->since == INT64_MIN) { /* first seen: green since now */
		p->since = t;
		p->since_offset = j->ts_offset;
		person_touch(s, p);
	}
	c = decide(s, p, t, &reason, &authority, &rule);
	if ((rc = change(s, p, c, reason, authority, rule, NULL, NULL, t, j->ts_offset, now, 0)))
		return rc;
	if (p->color != was)
		person_touch(s, p);
	if (!smap_get(&s->venues, j->venue_id)) {
		st = s->st[ST_VENUE];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, j->venue_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, j->venue_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, j->venue_area, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, j->venue_lat);
		sqlite3_bind_double(st, 5, j->venue_lon);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s->db, "saving a venue");
		smap_put(&s->venues, j->venue_id, s);
	}
	st = s->st[ST_SCAN];
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, j->ts);
	sqlite3_bind_int(st, 2, j->ts_offset);
	sqlite3_bind_text(st, 3, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, j->venue_id, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 5, j->lat);
	sqlite3_bind_double(st, 6, j->lon);
	sqlite3_bind_int(st, 7, near);
	sqlite3_bind_text(st, 8, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, vs_color_name(p->color), -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s->db, "saving a scan");
	respond_code(j, p, 1, 0);
	return 0;
}

static int apply_assign(struct store *s, struct job *j, int64_t now)
{
	struct person *p = person_get(s, j->person_id);
	const char *reason, *authority, *rule;
	int64_t t = j->ts > p->last_ts ? j->ts : p->last_ts;
	enum vs_color c;
	int rc;

	p->manual = j->color;
	set_str(&p->manual_reason, j->reason);
	set_str(&p->manual_authority, j->authority);
	if (p->since == INT64_MIN) {
		p->since = t;
		p->since_offset = j->ts_offset;
	}
	c = decide(s, p, t, &reason, &authority, &rule);
	/* The entry records the operator's act even when the rules' colour stays shown. */
	if ((rc = change(s, p, c, j->reason, j->authority, rule, j->operator_name,
			 j->justification, t, j->ts_offset, now, 1)))
		return rc;
	if (c != j->color || strcmp(p->reason, reason)) {
		/* what is shown is the decided colour's own reason */
		set_str(&p->reason, reason);
		set_str(&p->authority, authority);
	}
	person_touch(s, p);
	respond_code(j, p, 0, s->head.seq);
	return 0;
}

static void answer_error(struct job *j, int status, const char *error, const char *detail)
{
	struct vs_buf b = VS_BUF_INIT;

	vs_buf_adds(&b, "{\"error\":");
	vs_buf_add_json_string(&b, error, strlen(error));
	vs_buf_adds(&b, ",\"detail\":");
	vs_buf_add_json_string(&b, detail, strlen(detail));
	vs_buf_adds(&b, "}\n");
	free(j->body);
	j->http_status = status;
	j->body = vs_buf_detach(&b, NULL);
}

static int run_batch(struct store *s, struct job *list)
{
	int64_t now = vs_time_now();
	int rc = 0;
	uint64_t n = 0;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(s->db, "starting a write transaction");
	} else {
		for (struct job *j = list; j && !rc; j = j->next, n++)
			rc = j->kind == JOB_SCAN ? apply_scan(s, j, now) : apply_assign(s, j, now);
		for (size_t i = 0; i < s->ndirty; i++) {
			if (!rc)
				rc = person_save(s, s->dirty[i]);
			s->dirty[i]->dirty = 0;
		}
		s->ndirty = 0;
		if (!rc && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			rc = db_error(s->db, "committing");
	}
	if (rc) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", vs_error_message());
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		/* Memory may hold changes the database does not: reload it. */
		if (load_state(s) != 0)
			fprintf(stderr, "venuescan serve: reloading state: %s\n", vs_error_message());
		fprintf(stderr, "venuescan serve: %s; %llu requests answered 503\n", msg,
			(unsigned long long)n);
		for (struct job *j = list; j; j = j->next)
			answer_error(j, 503, "not stored", msg);
		s->last_error = rc;
	} else {
		atomic_fetch_add(&s->commits, 1);
		atomic_fetch_add(&s->committed, n);
		atomic_store(&s->audit_len, s->head.seq);
	}
	return rc;
}

static void *writer_main(void *arg)
{
	struct store *s = arg;

	for (;;) {
		struct job *list, *j, *next;
		size_t n = 0;

		pthread_mutex_lock(&s->mu);
		while (!s->qhead && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->qhead) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		/* Take up to batch_max jobs, in arrival order. */
		list = s->qhead;
		for (j = list; j->next && ++n < s->batch_max; j = j->next)
			;
		s->qhead = j->next;
		j->next = NULL;
		if (!s->qhead)
			s->qtail = &s->qhead;
		pthread_mutex_unlock(&s->mu);

		run_batch(s, list);
		for (j = list; j; j = next) {
			next = j->next;
			j->next = NULL;
			j->done(j);
		}
	}
	return NULL;
}

/* The writer's WAL hook: wake the checkpointer once the WAL has grown. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	(void)db;
	(void)name;
	atomic_store(&s->wal_pages, pages);
	if (pages >= 1000) {
		pthread_mutex_lock(&s->mu);
		pthread_cond_signal(&s->ckpt_cv);
		pthread_mutex_unlock(&s->mu);
	}
	return SQLITE_OK;
}

/*
 * PASSIVE checkpoints on a connection of their own: they copy committed WAL frames into
 * the database file and fsync it without blocking the writer, which keeps appending
 * (wal_autocheckpoint is off on the writer's connection).
 */
static void *checkpoint_main(void *arg)
{
	struct store *s = arg;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "venuescan serve: checkpointer: %s\n", db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	sqlite3_busy_timeout(db, 10000);
	pthread_mutex_lock(&s->mu);
	while (!s->ckpt_stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (atomic_load(&s->wal_pages) < 1000)
			pthread_cond_timedwait(&s->ckpt_cv, &s->mu, &until);
		if (s->ckpt_stop)
			break;
		pthread_mutex_unlock(&s->mu);
		if (atomic_load(&s->wal_pages) > 0) {
			int pages = atomic_exchange(&s->wal_pages, 0);
			/* Under steady load a PASSIVE checkpoint never catches up with the
			 * writer, and the WAL only restarts from its beginning once one has:
			 * past 10,000 pages (40 MB) make it RESTART, which holds the next
			 * commit for one checkpoint's time, to bound the WAL. */
			sqlite3_wal_checkpoint_v2(db, NULL, pages > 10000 ? SQLITE_CHECKPOINT_RESTART
						  : SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	sqlite3_close(db);
	return NULL;
}

int store_start(struct store *s)
{
	sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864",
		     NULL, NULL, NULL);
	sqlite3_wal_hook(s->db, on_wal, s);
	if (pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s) == 0)
		s->ckpt_started = 1;
	else
		sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=1000", NULL, NULL, NULL);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0)
		return vs_error_set(VS_EIO, "cannot start the writer thread");
	s->started = 1;
	return 0;
}

int store_submit(struct store *s, struct job *j, void (*before_queue)(void *), void *arg)
{
	pthread_mutex_lock(&s->mu);
	if (s->stopping || !s->started) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (before_queue)
		before_queue(arg);
	j->next = NULL;
	*s->qtail = j;
	s->qtail = &j->next;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int store_stop(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = 0;
	if (s->ckpt_started) {
		pthread_mutex_lock(&s->mu);
		s->ckpt_stop = 1;
		pthread_cond_signal(&s->ckpt_cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->ckpt_thread, NULL);
		s->ckpt_started = 0;
	}
	return s->last_error;
}

int store_close(struct store *s)
{
	int rc;

	if (!s)
		return 0;
	rc = store_stop(s);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK && !rc)
		rc = db_error(s->db, "closing");
	smap_release(&s->persons, person_free);
	smap_release(&s->venues, NULL);
	vs_risk_map_free(s->risk);
	free(s->dirty);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->ckpt_cv);
	free(s->path);
	free(s->authority);
	free(s);
	return rc;
}

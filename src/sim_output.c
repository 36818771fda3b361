/*
 * The simulator's output (sim_int.h): rows formatted into per-block memory by the workers
 * (RFC 4180 quoting, timestamps with the scenario's UTC offset), written in block order to
 * the dataset's files with a running SHA-256, the manifest, and the optional SQLite copy.
 * The row layout is dataset v1's (SPEC §5); the dataset module's writers would validate
 * each row again, which the day loop's rows do not need on this hot path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/time.h"
#include "sim_int.h"

#define FILE_BUFFER (1u << 20)

void sim_bytes_reserve(struct sim_bytes *b, size_t more)
{
	if (b->cap - b->len >= more)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more)
		cap *= 2;
	b->p = vs_xrealloc(b->p, cap);
	b->cap = cap;
}

static inline void put(struct sim_bytes *b, const char *s, size_t n)
{
	sim_bytes_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void putc_(struct sim_bytes *b, char c)
{
	sim_bytes_reserve(b, 1);
	b->p[b->len++] = c;
}

void sim_sink_init(struct sim_sink *k, int offset_min)
{
	memset(k, 0, sizeof(*k));
	k->offset_min = offset_min;
}

void sim_sink_release(struct sim_sink *k)
{
	free(k->events.p);
	free(k->labels.p);
	memset(k, 0, sizeof(*k));
}

void sim_sink_reset(struct sim_sink *k)
{
	k->events.len = k->labels.len = 0;
	k->nevents = k->nlabels = 0;
}

/* A field with RFC 4180 quoting when it needs it (as vs_csv_write_field decides). */
void sim_csv_field(struct sim_bytes *b, const char *s)
{
	size_t n;

	if (!s || !*s)
		return;
	n = strlen(s);
	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[n - 1] != ' ') {
		put(b, s, n);
		return;
	}
	sim_bytes_reserve(b, 2 * n + 2);
	b->p[b->len++] = '"';
	for (; *s; s++) {
		if (*s == '"')
			b->p[b->len++] = '"';
		b->p[b->len++] = *s;
	}
	b->p[b->len++] = '"';
}

/* A coordinate with 5 decimals (about a metre), without printf's locale or cost. */
static void add_coord(struct sim_bytes *b, double x)
{
	char tmp[32];
	int64_t v = (int64_t)(x * 100000.0 + (x < 0 ? -0.5 : 0.5));
	uint64_t a = (uint64_t)(v < 0 ? -v : v);
	int n = 0;

	if (v < 0)
		putc_(b, '-');
	for (int i = 0; i < 5; i++) {
		tmp[n++] = (char)('0' + a % 10);
		a /= 10;
	}
	tmp[n++] = '.';
	do {
		tmp[n++] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	sim_bytes_reserve(b, (size_t)n);
	while (n)
		b->p[b->len++] = tmp[--n];
}

/* Fields the day loop writes that never need quoting: times, ids, kinds, colours. */
static inline void put_plain(struct sim_bytes *b, const char *s)
{
	if (s)
		put(b, s, strlen(s));
}

void sim_sink_event(struct sim_sink *k, const struct sim_event *ev)
{
	char ts[VS_TIME_TEXT_MAX];
	struct sim_bytes *b = &k->events;
	size_t tslen;

	/* the date part is formatted once per local day; the time of day is patched in */
	{
		int64_t local = ev->ts + (int64_t)k->offset_min * 60;
		int64_t day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
		int tod = (int)(local - day * 86400);
		if (!k->ts_valid || day != k->ts_day) {
			vs_time_format(ev->ts, k->offset_min, k->ts_text);
			k->ts_day = day;
			k->ts_valid = 1;
		}
		memcpy(ts, k->ts_text, VS_TIME_TEXT_MAX);
		ts[11] = (char)('0' + tod / 36000);
		ts[12] = (char)('0' + tod / 3600 % 10);
		ts[14] = (char)('0' + tod % 3600 / 600);
		ts[15] = (char)('0' + tod % 600 / 60);
		ts[17] = (char)('0' + tod % 60 / 10);
		ts[18] = (char)('0' + tod % 10);
	}
	tslen = strlen(ts);
	put(b, ts, tslen);
	putc_(b, ',');
	put_plain(b, ev->person_id);
	putc_(b, ',');
	put_plain(b, ev->kind);
	putc_(b, ',');
	put_plain(b, ev->venue_id);
	putc_(b, ',');
	sim_csv_field(b, ev->area);
	putc_(b, ',');
	if (ev->has_pos)
		add_coord(b, ev->lat);
	putc_(b, ',');
	if (ev->has_pos)
		add_coord(b, ev->lon);
	putc_(b, ',');
	sim_csv_field(b, ev->value);
	putc_(b, ',');
	sim_csv_field(b, ev->reason);
	putc_(b, ',');
	sim_csv_field(b, ev->authority);
	putc_(b, '\n');
	k->nevents++;
	if (ev->cause) {
		put(&k->labels, ts, tslen);
		putc_(&k->labels, ',');
		put_plain(&k->labels, ev->person_id);
		putc_(&k->labels, ',');
		sim_csv_field(&k->labels, ev->cause);
		putc_(&k->labels, '\n');
		k->nlabels++;
	}
}

int sim_file_write(struct sim_file *sf, const void *data, size_t len, uint64_t rows)
{
	if (len && fwrite(data, 1, len, sf->f) != len)
		return vs_error_set(VS_EIO, "'%s': cannot write: %s", sf->path, strerror(errno));
	vs_sha256_update(&sf->sha, data, len);
	sf->bytes += len;
	sf->rows += rows;
	return 0;
}

int sim_file_row(struct sim_file *sf, const char *const *fields, size_t n)
{
	struct sim_bytes b = { NULL, 0, 0 };
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (i)
			putc_(&b, ',');
		sim_csv_field(&b, fields[i]);
	}
	putc_(&b, '\n');
	rc = sim_file_write(sf, b.p, b.len, 1);
	free(b.p);
	return rc;
}

int sim_file_open(struct sim_file *sf, const char *dir, const char *name, const char *header)
{
	int rc;

	memset(sf, 0, sizeof(*sf));
	sf->name = name;
	sf->path = vs_xasprintf("%s/%s", dir, name);
	sf->f = fopen(sf->path, "wb");
	if (!sf->f) {
		rc = vs_error_set(VS_EIO, "'%s': cannot create: %s", sf->path, strerror(errno));
		free(sf->path);
		sf->path = NULL;
		return rc;
	}
	setvbuf(sf->f, NULL, _IOFBF, FILE_BUFFER);
	if ((rc = vs_sha256_init(&sf->sha)))
		return rc;
	return sim_file_write(sf, header, strlen(header), 0);
}

int sim_file_close(struct sim_file *sf)
{
	int rc = 0;

	if (!sf->f)
		return 0;
	if (fflush(sf->f) || ferror(sf->f) || fsync(fileno(sf->f)))
		rc = vs_error_set(VS_EIO, "'%s': cannot write: %s", sf->path, strerror(errno));
	if (fclose(sf->f) && !rc)
		rc = vs_error_set(VS_EIO, "'%s': cannot write: %s", sf->path, strerror(errno));
	sf->f = NULL;
	return rc;
}

void sim_file_abort(struct sim_file *sf)
{
	if (sf->f)
		fclose(sf->f);
	sf->f = NULL;
	free(sf->path);
	sf->path = NULL;
}

int sim_manifest_write(const char *dir, const struct vs_scenario *s, uint64_t seed,
		       uint64_t persons, struct sim_file *files, size_t n)
{
	struct vs_buf b = VS_BUF_INIT;
	char start[VS_TIME_TEXT_MAX];
	char *path;
	int rc;

	vs_time_format(s->start, s->offset_min, start);
	vs_buf_adds(&b, "{\n  \"format\": \"venuescan-dataset\",\n  \"format_version\": 1,\n"
			"  \"generator\": \"venuescan simulate\",\n  \"version\": ");
	vs_buf_add_json_string(&b, VS_VERSION, strlen(VS_VERSION));
	vs_buf_addf(&b, ",\n  \"seed\": %" PRIu64 ",\n  \"scenario\": ", seed);
	vs_buf_add_json_string(&b, s->name, strlen(s->name));
	vs_buf_addf(&b, ",\n  \"persons\": %" PRIu64 ",\n  \"days\": %u,\n  \"start\": \"%s\",\n"
		    "  \"files\": {", persons, s->days, start);
	for (size_t i = 0; i < n; i++) {
		unsigned char h[VS_SHA256_BYTES];
		char hex[VS_SHA256_HEX];
		vs_sha256_final(&files[i].sha, h);
		vs_sha256_hex(h, hex);
		vs_buf_adds(&b, i ? ",\n    " : "\n    ");
		vs_buf_add_json_string(&b, files[i].name, strlen(files[i].name));
		vs_buf_addf(&b, ": {\"rows\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"sha256\": \"%s\"}",
			    files[i].rows, files[i].bytes, hex);
	}
	vs_buf_adds(&b, "\n  }\n}\n");
	path = vs_xasprintf("%s/manifest.json", dir);
	rc = vs_file_write_atomic(path, b.data, b.len, 0644);
	free(path);
	vs_buf_release(&b);
	return rc;
}

/* ---- SQLite --------------------------------------------------------------------------- */

static int db_fail(sqlite3 *db, const char *path, const char *what)
{
	return vs_error_set(VS_EDB, "'%s': %s: %s", path, what, db ? sqlite3_errmsg(db) : "no memory");
}

/* One CSV file into table (all columns TEXT except those listed as REAL). */
static int import_csv(sqlite3 *db, const char *dbpath, const char *dir, const char *file,
		      const char *table)
{
	struct vs_csv_reader *r = NULL;
	struct vs_buf sql = VS_BUF_INIT;
	sqlite3_stmt *st = NULL;
	char *path = vs_xasprintf("%s/%s", dir, file);
	size_t nc;
	int rc;

	if ((rc = vs_csv_open(&r, path)))
		goto out;
	nc = vs_csv_ncolumns(r);
	vs_buf_addf(&sql, "CREATE TABLE %s (", table);
	for (size_t i = 0; i < nc; i++) {
		const char *c = vs_csv_column_name(r, i);
		vs_buf_addf(&sql, "%s\"%s\" %s", i ? ", " : "", c,
			    !strcmp(c, "lat") || !strcmp(c, "lon") ? "REAL" : "TEXT");
	}
	vs_buf_adds(&sql, ")");
	if (sqlite3_exec(db, sql.data, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, dbpath, "create table");
		goto out;
	}
	vs_buf_reset(&sql);
	vs_buf_addf(&sql, "INSERT INTO %s VALUES (", table);
	for (size_t i = 0; i < nc; i++)
		vs_buf_adds(&sql, i ? ", ?" : "?");
	vs_buf_adds(&sql, ")");
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		rc = db_fail(db, dbpath, "prepare");
		goto out;
	}
	while ((rc = vs_csv_next(r)) == 1) {
		for (size_t i = 0; i < nc; i++) {
			const char *f = vs_csv_field(r, i);
			const char *c = vs_csv_column_name(r, i);
			if (!*f)
				sqlite3_bind_null(st, (int)i + 1);
			else if (!strcmp(c, "lat") || !strcmp(c, "lon"))
				sqlite3_bind_double(st, (int)i + 1, strtod(f, NULL));
			else
				sqlite3_bind_text(st, (int)i + 1, f, (int)vs_csv_field_len(r, i),
						  SQLITE_STATIC);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = db_fail(db, dbpath, "insert");
			goto out;
		}
		sqlite3_reset(st);
	}
out:
	sqlite3_finalize(st);
	vs_csv_close(r);
	vs_buf_release(&sql);
	free(path);
	return rc;
}

int sim_sqlite_write(const char *dir, const char *path)
{
	static const char *const files[][2] = {
		{ "persons.csv", "persons" }, { "venues.csv", "venues" }, { "areas.csv", "areas" },
		{ "events.csv", "events" },   { "labels.csv", "labels" },
	};
	static const char indexes[] =
		"CREATE INDEX events_person ON events(person_id);"
		"CREATE INDEX events_ts ON events(ts);"
		"CREATE INDEX labels_person ON labels(person_id);"
		"CREATE INDEX labels_ts ON labels(ts);"
		"CREATE UNIQUE INDEX persons_id ON persons(person_id);";
	struct vs_outfile *of = NULL;
	sqlite3 *db = NULL;
	int rc;

	/* an empty temporary fileio removes on error, exit or signal; SQLite fills it */
	if ((rc = vs_outfile_open(&of, path, 0644)))
		goto out;
	if (sqlite3_open(vs_outfile_temp_path(of), &db) != SQLITE_OK) {
		rc = db_fail(db, path, "cannot create");
		goto out;
	}
	if (sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", NULL,
			 NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, path, "begin");
		goto out;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if ((rc = import_csv(db, path, dir, files[i][0], files[i][1])))
			goto out;
	if (sqlite3_exec(db, indexes, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_fail(db, path, "commit");
		goto out;
	}
	if (sqlite3_close(db) != SQLITE_OK) {
		rc = db_fail(db, path, "close");
		db = NULL;
		goto out;
	}
	db = NULL;
	rc = vs_outfile_commit(of);
	of = NULL;
out:
	if (db)
		sqlite3_close(db);
	vs_outfile_abort(of);
	return rc;
}

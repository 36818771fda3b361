/*
 * The simulator's output (sim_int.h): the rows workers produce, written by the dataset
 * module's writers (vs_event_write, vs_label_write: one formatter and one set of checks
 * for every dataset venuescan writes) into per-block memory streams, copied to the
 * dataset's files in block order through streams that hash what they write (sha256.h,
 * on the writer thread while the workers simulate, rather than reading gigabytes back);
 * the manifest (vs_manifest_write_fields, with the scenario's keys) and the optional
 * SQLite copy.
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "venuescan/csv.h"
#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/time.h"
#include "sim_int.h"

#define FILE_BUFFER (1u << 20)
#define SINK_BUFFER (1u << 16)

static ssize_t bytes_write(void *cookie, const char *data, size_t n)
{
	struct sim_bytes *b = cookie;

	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n)
			cap *= 2;
		b->p = vs_xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return (ssize_t)n;
}

static FILE *bytes_stream(struct sim_bytes *b)
{
	static const cookie_io_functions_t io = { NULL, bytes_write, NULL, NULL };
	FILE *f = fopencookie(b, "w", io);

	if (f)
		setvbuf(f, NULL, _IOFBF, SINK_BUFFER);
	return f;
}

int sim_sink_init(struct sim_sink *k, int offset_min)
{
	memset(k, 0, sizeof(*k));
	k->offset_min = offset_min;
	k->ef = bytes_stream(&k->events);
	k->lf = bytes_stream(&k->labels);
	if (!k->ef || !k->lf) {
		sim_sink_release(k);
		return vs_error_set(VS_ENOMEM, "cannot open a memory stream");
	}
	return 0;
}

void sim_sink_release(struct sim_sink *k)
{
	if (k->ef)
		fclose(k->ef);
	if (k->lf)
		fclose(k->lf);
	free(k->events.p);
	free(k->labels.p);
	memset(k, 0, sizeof(*k));
}

void sim_sink_reset(struct sim_sink *k)
{
	k->events.len = k->labels.len = 0;
	k->nevents = k->nlabels = 0;
}

void sim_sink_flush(struct sim_sink *k)
{
	fflush(k->ef);
	fflush(k->lf);
}

void sim_sink_event(struct sim_sink *k, struct vs_event *ev, const char *cause)
{
	int rc;

	if (k->rc)
		return;
	ev->offset_min = k->offset_min;
	rc = vs_event_write(k->ef, ev);
	if (!rc)
		k->nevents++;
	if (!rc && cause) {
		rc = vs_label_write(k->lf, ev->ts, k->offset_min, ev->person_id, cause);
		k->nlabels += !rc;
	}
	if (rc) {
		k->rc = rc;
		snprintf(k->msg, sizeof(k->msg), "%s", vs_error_message());
	}
}

/* The files' stream: bytes go to the file descriptor and into the digest. */
static ssize_t file_write(void *cookie, const char *data, size_t n)
{
	struct sim_file *sf = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(sf->fd, data + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	vs_sha256_update(&sf->sha, data, n);
	sf->bytes += n;
	return (ssize_t)n;
}

int sim_file_write(struct sim_file *sf, const void *data, size_t len, uint64_t rows)
{
	if (len && fwrite(data, 1, len, sf->f) != len)
		return vs_error_set(VS_EIO, "'%s': cannot write: %s", sf->path, strerror(errno));
	sf->rows += rows;
	return 0;
}

int sim_file_open(struct sim_file *sf, const char *dir, const char *name)
{
	static const cookie_io_functions_t io = { NULL, file_write, NULL, NULL };
	int rc;

	memset(sf, 0, sizeof(*sf));
	sf->name = name;
	sf->path = vs_xasprintf("%s/%s", dir, name);
	if ((rc = vs_sha256_init(&sf->sha)))
		goto fail;
	sf->fd = open(sf->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (sf->fd < 0) {
		rc = vs_error_set(VS_EIO, "'%s': cannot create: %s", sf->path, strerror(errno));
		goto fail;
	}
	if (!(sf->f = fopencookie(sf, "w", io))) {
		rc = vs_error_set(VS_ENOMEM, "'%s': cannot open a stream", sf->path);
		close(sf->fd);
		goto fail;
	}
	setvbuf(sf->f, NULL, _IOFBF, FILE_BUFFER);
	return 0;
fail:
	free(sf->path);
	sf->path = NULL;
	return rc;
}

int sim_file_close(struct sim_file *sf)
{
	unsigned char md[VS_SHA256_BYTES];
	int rc = 0;

	if (!sf->f)
		return 0;
	/* the staging folder is synced as a whole when it is committed (vs_outdir_sync) */
	if (fflush(sf->f) || ferror(sf->f))
		rc = vs_error_set(VS_EIO, "'%s': cannot write: %s", sf->path, strerror(errno));
	fclose(sf->f);
	sf->f = NULL;
	if (close(sf->fd) && !rc)
		rc = vs_error_set(VS_EIO, "'%s': cannot write: %s", sf->path, strerror(errno));
	vs_sha256_final(&sf->sha, md);
	vs_sha256_hex(md, sf->sha256);
	return rc;
}

void sim_file_abort(struct sim_file *sf)
{
	if (sf->f) {
		fclose(sf->f);
		close(sf->fd);
	}
	sf->f = NULL;
	free(sf->path);
	sf->path = NULL;
}

int sim_manifest_write(const char *dir, const struct vs_scenario *s, uint64_t seed,
		       uint64_t persons, const struct sim_file *files, size_t n)
{
	struct vs_manifest_file mf[8];
	struct vs_manifest_digest md[8];
	struct vs_manifest_field fields[4];
	char start[VS_TIME_TEXT_MAX];

	if (n > sizeof(mf) / sizeof(mf[0]))
		return vs_error_set(VS_EINVAL, "manifest: more than 8 files");
	vs_time_format(s->start, s->offset_min, start);
	fields[0] = (struct vs_manifest_field){ "scenario", s->name, 0 };
	fields[1] = (struct vs_manifest_field){ "persons", NULL, persons };
	fields[2] = (struct vs_manifest_field){ "days", NULL, s->days };
	fields[3] = (struct vs_manifest_field){ "start", start, 0 };
	for (size_t i = 0; i < n; i++) {
		mf[i].name = files[i].name;
		mf[i].rows = files[i].rows;
		md[i].bytes = files[i].bytes;
		memcpy(md[i].sha256, files[i].sha256, sizeof(md[i].sha256));
	}
	return vs_manifest_write_fields(dir, "venuescan simulate", VS_VERSION, seed, fields, 4, mf,
					md, n);
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

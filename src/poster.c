/*
 * Posters: sign a venue's code (payload.h) and render it (qr.h); a batch renders on several
 * threads, each taking every Nth row, into a staging folder beside the destination (fileio.h
 * vs_outdir), so that an error or an interrupt leaves no poster of the failed run behind.
 * Each poster depends only on its row, the key and the options, so the files are identical
 * to a serial run's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"
#include "venuescan/poster.h"

#define MAX_THREADS 64

int vs_poster_sign(const struct vs_venue *v, const struct vs_issuer_key *key,
		   const struct vs_poster_opts *o, char **payload)
{
	*payload = NULL;
	return vs_venue_code_sign_venue(v, key, o->iat, o->valid_for, payload);
}

int vs_poster_make(const struct vs_venue *v, const struct vs_issuer_key *key,
		   const struct vs_poster_opts *o, const char *path, char **payload)
{
	int rc = vs_poster_sign(v, key, o, payload);

	if (!rc)
		rc = vs_qr_render_file(*payload, strlen(*payload), &o->style, path);
	if (rc) {
		free(*payload);
		*payload = NULL;
	}
	return rc;
}

struct vs_poster_batch {
	const struct vs_poster_opts *o;
	const struct vs_issuer_key *key;
	const struct vs_venue_list *venues;
	struct vs_outdir *od;       /* the staging folder */
	const char *stage;          /* its path */
	char *dir;                  /* the destination */
	int dir_exists;
	char **payloads;            /* one per venue, filled by the workers */
	atomic_size_t first_failed; /* lowest row that failed so far; n when none */
};

struct worker {
	struct vs_poster_batch *b;
	size_t start;       /* rows start, start + threads, ... */
	pthread_t thread;
	int rc;
	size_t failed;      /* the row rc belongs to */
	char message[1024]; /* vs_error_message() is per thread: keep a copy */
};

static void note_failure(struct worker *w, size_t row, int rc)
{
	size_t seen = atomic_load(&w->b->first_failed);

	w->rc = rc;
	w->failed = row;
	snprintf(w->message, sizeof(w->message), "venue '%s': %s",
		 w->b->venues->items[row].id, vs_error_message());
	while (row < seen && !atomic_compare_exchange_weak(&w->b->first_failed, &seen, row))
		;
}

/*
 * Make every threads-th poster.  A worker stops at its first failure and skips rows after
 * the lowest failure any worker has seen, so the error reported is always the one of the
 * first bad row.
 */
static void *batch_worker(void *arg)
{
	struct worker *w = arg;
	struct vs_poster_batch *b = w->b;

	for (size_t i = w->start; i < b->venues->n; i += (size_t)b->o->threads) {
		const struct vs_venue *v = &b->venues->items[i];
		char *path;
		int rc;

		if (i > atomic_load(&b->first_failed))
			break;
		path = vs_xasprintf("%s/%s.%s", b->stage, v->id, b->o->format);
		rc = vs_poster_make(v, b->key, b->o, path, &b->payloads[i]);
		free(path);
		if (rc) {
			note_failure(w, i, rc);
			break;
		}
	}
	return NULL;
}

/* Move every staged poster into the existing folder dir. */
static int move_into(const struct vs_poster_batch *b, const char *dir)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < b->venues->n; i++) {
		const char *id = b->venues->items[i].id;
		char *from = vs_xasprintf("%s/%s.%s", b->stage, id, b->o->format);
		char *to = vs_xasprintf("%s/%s.%s", dir, id, b->o->format);

		if (rename(from, to) != 0)
			rc = vs_error_set(VS_EIO, "'%s': %s", to, strerror(errno));
		free(from);
		free(to);
	}
	return rc;
}

void vs_poster_batch_abort(struct vs_poster_batch *b)
{
	if (!b)
		return;
	vs_outdir_abort(b->od);
	for (size_t i = 0; i < b->venues->n; i++)
		free(b->payloads[i]);
	free(b->payloads);
	free(b->dir);
	free(b);
}

int vs_poster_batch_render(const struct vs_venue_list *venues, const struct vs_issuer_key *key,
			   const struct vs_poster_opts *o, const char *dir,
			   struct vs_poster_batch **out)
{
	struct worker workers[MAX_THREADS];
	struct vs_poster_batch *b;
	struct stat st;
	int rc, started = 0, nthreads = o->threads;

	*out = NULL;
	if (nthreads < 1 || nthreads > MAX_THREADS)
		return vs_error_set(VS_EINVAL, "%d threads: from 1 to %d", nthreads, MAX_THREADS);
	b = vs_xcalloc(1, sizeof(*b));
	b->o = o;
	b->key = key;
	b->venues = venues;
	b->dir = vs_xstrdup(dir);
	b->payloads = vs_xcalloc(venues->n ? venues->n : 1, sizeof(*b->payloads));
	atomic_init(&b->first_failed, venues->n);
	b->dir_exists = stat(dir, &st) == 0;
	if (b->dir_exists && !S_ISDIR(st.st_mode)) {
		rc = vs_error_set(VS_EINVAL, "'%s': exists and is not a folder", dir);
		goto out;
	}
	if ((rc = vs_outdir_open(&b->od, dir)) != 0)
		goto out;
	b->stage = vs_outdir_path(b->od);
	memset(workers, 0, sizeof(workers));
	for (int t = 0; t < nthreads; t++) {
		workers[t].b = b;
		workers[t].start = (size_t)t;
		if (pthread_create(&workers[t].thread, NULL, batch_worker, &workers[t]) != 0) {
			rc = vs_error_set(VS_EIO, "cannot start a rendering thread");
			break;
		}
		started++;
	}
	for (int t = 0; t < started; t++)
		pthread_join(workers[t].thread, NULL);
	for (int t = 0; !rc && t < nthreads; t++)
		if (workers[t].rc && workers[t].failed == atomic_load(&b->first_failed))
			rc = vs_error_set(workers[t].rc, "%s", workers[t].message);
out:
	if (rc) {
		vs_poster_batch_abort(b);
		return rc;
	}
	*out = b;
	return 0;
}

const char *vs_poster_batch_payload(const struct vs_poster_batch *b, size_t i)
{
	return b->payloads[i];
}

int vs_poster_batch_commit(struct vs_poster_batch *b)
{
	int rc;

	if (!b->dir_exists) {
		rc = vs_outdir_commit(b->od);
		b->od = NULL;
	} else if ((rc = vs_outdir_sync(b->od)) == 0) {
		rc = move_into(b, b->dir);
	}
	vs_poster_batch_abort(b); /* frees; for an existing dir removes the emptied staging folder */
	return rc;
}

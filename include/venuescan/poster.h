/*
 * Posters: a venue's signed code rendered as a QR image, one at a time or a whole venue
 * list at once on several threads.  A batch is all or nothing: the posters are staged in a
 * hidden folder and appear in the destination only when every one of them is written.
 */
#ifndef VENUESCAN_POSTER_H
#define VENUESCAN_POSTER_H

#include <stdint.h>

#include "venuescan/keys.h"
#include "venuescan/qr.h"
#include "venuescan/venues.h"

struct vs_poster_opts {
	struct vs_qr_style style;
	int64_t iat;        /* issue time, unix seconds */
	int64_t valid_for;  /* seconds until exp; 0: a static code without exp */
	const char *format; /* batch file extension: "png", "svg" or "pgm" */
	int threads;        /* batch rendering threads, >= 1 */
};

/* Sign v's code with key (which must hold its secret); *payload is the caller's to free. */
int vs_poster_sign(const struct vs_venue *v, const struct vs_issuer_key *key,
		   const struct vs_poster_opts *o, char **payload);

/* Sign and render to path (.png, .svg or .pgm) atomically; *payload as vs_poster_sign. */
int vs_poster_make(const struct vs_venue *v, const struct vs_issuer_key *key,
		   const struct vs_poster_opts *o, const char *path, char **payload);

/*
 * A batch: one poster per venue, named DIR/<venue_id>.<format>, made in two steps like an
 * output file.  vs_poster_batch_render() writes every poster into a staging folder (on
 * o->threads threads); on failure the error is the first failing row's, as in a serial
 * run, and nothing is left.  Then the caller may use the payloads, and
 * vs_poster_batch_commit() makes the posters appear: a DIR that does not exist is created
 * whole by renaming the staging folder; into an existing DIR the posters are moved (other
 * files there are kept).  Commit and abort free the batch; venues must outlive it.  Every
 * poster depends only on its row, the key and the options, so the files are the same for
 * any number of threads.
 */
struct vs_poster_batch;

int vs_poster_batch_render(const struct vs_venue_list *venues, const struct vs_issuer_key *key,
			   const struct vs_poster_opts *o, const char *dir,
			   struct vs_poster_batch **out);
/* Venue i's payload, owned by the batch. */
const char *vs_poster_batch_payload(const struct vs_poster_batch *b, size_t i);
int vs_poster_batch_commit(struct vs_poster_batch *b);
void vs_poster_batch_abort(struct vs_poster_batch *b);

#endif

/*
 * `venuescan venue make`: sign venue codes (payload.h) and render them as posters (qr.h),
 * one from flags or one per row of a venues.csv.  A batch is rendered on two threads, each
 * taking every other row, into a staging folder beside the destination; only when every
 * poster is written does the staging folder become the destination (if it did not exist)
 * or are its files moved into the existing destination.  So an error or an interrupt
 * leaves no poster from the failed run behind, and each poster depends only on its row,
 * the key and the time, so the files are identical to a serial run's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <uuid/uuid.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"
#include "venuescan/qr.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"
#include "cli.h"

#define CMD "venue make"
#define BATCH_THREADS 2
#define VALID_FOR_MAX 2147483647L

const char cmd_venue_make_help[] =
	"usage: venuescan venue make --name N --area A --lat X --lon Y [--id UUID] --key K\n"
	"                            --out FILE [--scale N] [--margin N] [--level L|M|Q|H]\n"
	"                            [--valid-for SECONDS] [--at TIME]\n"
	"       venuescan venue make --batch venues.csv --key K --out-dir D\n"
	"                            [--format png|svg|pgm] [--scale N] [--margin N]\n"
	"                            [--level L|M|Q|H] [--valid-for SECONDS] [--at TIME]\n"
	"\n"
	"Sign a venue code (SPEC section 4: VSC1 payload, Ed25519) with the issuer's secret key\n"
	"and render it as a QR poster: one venue from flags, written to FILE as PNG, SVG or PGM\n"
	"by its extension; or one poster per row of a venues.csv (venue_id,name,area,lat,lon),\n"
	"written to D/<venue_id>.<format> using both cores.  A batch is all or nothing: the\n"
	"posters are staged and moved into D only when every one of them is written.  For each\n"
	"code, one JSON line is printed:\n"
	"  {\"file\":...,\"venue_id\":...,\"payload\":\"VSC1....\"}\n"
	"\n"
	"options:\n"
	"  --name N           venue name, non-empty UTF-8\n"
	"  --area A           area path Province/City/District, e.g. Henan/Zhengzhou/Erqi\n"
	"  --lat X            latitude, -90 to 90\n"
	"  --lon Y            longitude, -180 to 180\n"
	"  --id UUID          venue id; default a new random UUID\n"
	"  --key K            the issuer's secret key file (from venuescan keygen)\n"
	"  --out FILE         the poster to write: .png, .svg or .pgm\n"
	"  --batch CSV        make one poster per row of this venues.csv\n"
	"  --out-dir D        folder for the batch's posters (created if missing)\n"
	"  --format F         batch poster format: png (default), svg or pgm\n"
	"  --scale N          pixels (SVG: units) per QR module, 1-100; default 4\n"
	"  --margin N         quiet zone in modules, 0-100; default 4\n"
	"  --level L          error correction level L, M (default), Q or H\n"
	"  --valid-for SECONDS  make a rotating code that expires SECONDS after it is issued\n"
	"  --at TIME          issue time (ISO 8601 or unix seconds); default now\n"
	"  --help             show this help\n";

/* Everything the flags say, checked. */
struct make_opts {
	const char *name, *area, *id, *key_path, *out, *batch, *out_dir, *format, *at;
	double lat, lon;
	int has_lat, has_lon;
	struct vs_qr_style style;
	long valid_for; /* 0: no exp */
	int64_t iat;
};

/* Sign one venue's code with key; *payload is the caller's. */
static int sign_venue(const struct vs_venue *v, const struct make_opts *o,
		      const struct vs_issuer_key *key, char **payload)
{
	struct vs_venue_claims c;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, v->id, sizeof(c.id));
	c.name = v->name;
	c.area = v->area;
	c.lat = v->lat;
	c.lon = v->lon;
	c.iss = (char *)key->issuer;
	c.iat = o->iat;
	c.has_exp = o->valid_for > 0;
	c.exp = o->iat + o->valid_for;
	return vs_venue_code_sign(&c, key, payload); /* c borrows its strings: not released */
}

static void print_code(const char *file, const char *id, const char *payload)
{
	struct vs_buf line = VS_BUF_INIT;

	vs_buf_adds(&line, "{\"file\":");
	vs_buf_add_json_string(&line, file, strlen(file));
	vs_buf_addf(&line, ",\"venue_id\":\"%s\",\"payload\":", id);
	vs_buf_add_json_string(&line, payload, strlen(payload));
	vs_buf_adds(&line, "}\n");
	fputs(line.data, stdout);
	vs_buf_release(&line);
}

/* --- one venue ---------------------------------------------------------------------- */

static int make_one(const struct make_opts *o, const struct vs_issuer_key *key)
{
	struct vs_venue v;
	char *payload = NULL;
	int rc;

	memset(&v, 0, sizeof(v));
	if (o->id) {
		for (size_t i = 0; i < 36; i++) {
			char ch = o->id[i];
			v.id[i] = (char)(ch >= 'A' && ch <= 'F' ? ch + 32 : ch);
		}
	} else {
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, v.id);
	}
	v.name = (char *)o->name;
	v.area = (char *)o->area;
	v.lat = o->lat;
	v.lon = o->lon;
	rc = sign_venue(&v, o, key, &payload);
	if (!rc)
		rc = vs_qr_render_file(payload, strlen(payload), &o->style, o->out);
	if (!rc)
		print_code(o->out, v.id, payload);
	free(payload);
	return rc;
}

/* --- a batch ------------------------------------------------------------------------ */

struct batch {
	const struct make_opts *o;
	const struct vs_issuer_key *key;
	const struct vs_venue_list *venues;
	const char *stage;   /* staging folder */
	char **payloads;     /* one per venue, filled by the workers */
	atomic_size_t first_failed; /* lowest row that failed so far; n when none */
};

struct worker {
	struct batch *b;
	size_t start;         /* rows start, start + BATCH_THREADS, ... */
	pthread_t thread;
	int rc;
	size_t failed;        /* the row rc belongs to */
	char message[1024];   /* vs_error_message() is per thread: keep a copy */
};

static void note_failure(struct worker *w, size_t row, int rc)
{
	size_t seen = atomic_load(&w->b->first_failed);

	w->rc = rc;
	w->failed = row;
	snprintf(w->message, sizeof(w->message), "'%s': venue '%s': %s", w->b->o->batch,
		 w->b->venues->items[row].id, vs_error_message());
	while (row < seen && !atomic_compare_exchange_weak(&w->b->first_failed, &seen, row))
		;
}

/*
 * Make every BATCH_THREADS-th poster.  A worker stops at its first failure and skips rows
 * after the lowest failure any worker has seen, so the error reported is always the one
 * of the first bad row, as in a serial run.
 */
static void *batch_worker(void *arg)
{
	struct worker *w = arg;
	struct batch *b = w->b;

	for (size_t i = w->start; i < b->venues->n; i += BATCH_THREADS) {
		const struct vs_venue *v = &b->venues->items[i];
		char *path;
		int rc;

		if (i > atomic_load(&b->first_failed))
			break;
		rc = sign_venue(v, b->o, b->key, &b->payloads[i]);
		if (!rc) {
			path = vs_xasprintf("%s/%s.%s", b->stage, v->id, b->o->format);
			rc = vs_qr_render_file(b->payloads[i], strlen(b->payloads[i]), &b->o->style,
					       path);
			free(path);
		}
		if (rc) {
			note_failure(w, i, rc);
			break;
		}
	}
	return NULL;
}

/* Move every staged poster into the existing folder dir. */
static int move_into(const struct batch *b, const char *dir)
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

static int make_batch(const struct make_opts *o, const struct vs_issuer_key *key)
{
	struct vs_venue_list venues = VS_VENUE_LIST_INIT;
	struct worker workers[BATCH_THREADS];
	struct vs_outdir *od = NULL;
	struct batch b;
	struct stat st;
	int rc, exists, started = 0;

	memset(&b, 0, sizeof(b));
	memset(workers, 0, sizeof(workers));
	exists = stat(o->out_dir, &st) == 0;
	if (exists && !S_ISDIR(st.st_mode)) {
		rc = vs_error_set(VS_EINVAL, "'%s': exists and is not a folder", o->out_dir);
		goto out;
	}
	rc = vs_venues_read(o->batch, &venues);
	if (rc)
		goto out;
	rc = vs_outdir_open(&od, o->out_dir);
	if (rc)
		goto out;
	b.o = o;
	b.key = key;
	b.venues = &venues;
	b.stage = vs_outdir_path(od);
	b.payloads = vs_xcalloc(venues.n ? venues.n : 1, sizeof(*b.payloads));
	atomic_init(&b.first_failed, venues.n);
	for (int t = 0; t < BATCH_THREADS; t++) {
		workers[t].b = &b;
		workers[t].start = (size_t)t;
		if (pthread_create(&workers[t].thread, NULL, batch_worker, &workers[t]) != 0) {
			rc = vs_error_set(VS_EIO, "cannot start a rendering thread");
			break;
		}
		started++;
	}
	for (int t = 0; t < started; t++)
		pthread_join(workers[t].thread, NULL);
	if (rc)
		goto out;
	for (int t = 0; t < BATCH_THREADS; t++)
		if (workers[t].rc && workers[t].failed == atomic_load(&b.first_failed)) {
			rc = vs_error_set(workers[t].rc, "%s", workers[t].message);
			goto out;
		}
	if (!exists) {
		rc = vs_outdir_commit(od);
		od = NULL;
	} else {
		rc = move_into(&b, o->out_dir);
		vs_outdir_abort(od); /* the staging folder, empty now unless a move failed */
		od = NULL;
	}
	if (rc)
		goto out;
	/* printed last: a reader of this output (or SIGPIPE) cannot stop the commit */
	for (size_t i = 0; i < venues.n; i++) {
		char *file = vs_xasprintf("%s/%s.%s", o->out_dir, venues.items[i].id, o->format);
		print_code(file, venues.items[i].id, b.payloads[i]);
		free(file);
	}
out:
	vs_outdir_abort(od);
	for (size_t i = 0; b.payloads && i < venues.n; i++)
		free(b.payloads[i]);
	free(b.payloads);
	vs_venue_list_release(&venues);
	return rc;
}

/* --- flags -------------------------------------------------------------------------- */

/* Check that the flags make one of the two forms; usage errors are printed here. */
static int check_opts(struct make_opts *o)
{
	const char *ext;

	if (!o->key_path)
		return vs_cli_usage(CMD, "needs --key");
	if (o->batch) {
		const char *single = o->name ? "--name" : o->area ? "--area"
				   : o->has_lat ? "--lat" : o->has_lon ? "--lon"
				   : o->id ? "--id" : o->out ? "--out" : NULL;
		if (single)
			return vs_cli_usage(CMD, "'%s' does not go with --batch", single);
		if (!o->out_dir)
			return vs_cli_usage(CMD, "--batch needs --out-dir");
		if (!o->format)
			o->format = "png";
		if (strcmp(o->format, "png") && strcmp(o->format, "svg") &&
		    strcmp(o->format, "pgm"))
			return vs_cli_usage(CMD, "option '--format': '%s' is not png, svg or pgm",
					    o->format);
		return 0;
	}
	if (o->out_dir || o->format)
		return vs_cli_usage(CMD, "'%s' needs --batch",
				    o->out_dir ? "--out-dir" : "--format");
	if (!o->name || !o->area || !o->has_lat || !o->has_lon || !o->out)
		return vs_cli_usage(CMD, "needs %s (or --batch)",
				    !o->name ? "--name" : !o->area ? "--area"
				    : !o->has_lat ? "--lat" : !o->has_lon ? "--lon" : "--out");
	if (!o->name[0] || !vs_utf8_valid(o->name, strlen(o->name)))
		return vs_cli_usage(CMD, "option '--name': not a non-empty UTF-8 text");
	if (!vs_area_valid(o->area))
		return vs_cli_usage(CMD, "option '--area': '%s' is not an area path like "
					 "Province/City/District", o->area);
	if (o->id && !vs_uuid_valid(o->id))
		return vs_cli_usage(CMD, "option '--id': '%s' is not a UUID", o->id);
	ext = vs_image_extension(o->out);
	if (strcasecmp(ext, "png") && strcasecmp(ext, "svg") && strcasecmp(ext, "pgm"))
		return vs_cli_usage(CMD, "option '--out': '%s' does not end in .png, .svg or .pgm",
				    o->out);
	return 0;
}

int cmd_venue_make(int argc, char **argv)
{
	enum { O_NAME = 256, O_AREA, O_LAT, O_LON, O_ID, O_KEY, O_OUT, O_BATCH, O_OUT_DIR,
	       O_FORMAT, O_SCALE, O_MARGIN, O_LEVEL, O_VALID_FOR, O_AT };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, O_NAME },
		{ "area", required_argument, NULL, O_AREA },
		{ "lat", required_argument, NULL, O_LAT },
		{ "lon", required_argument, NULL, O_LON },
		{ "id", required_argument, NULL, O_ID },
		{ "key", required_argument, NULL, O_KEY },
		{ "out", required_argument, NULL, O_OUT },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "out-dir", required_argument, NULL, O_OUT_DIR },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "scale", required_argument, NULL, O_SCALE },
		{ "margin", required_argument, NULL, O_MARGIN },
		{ "level", required_argument, NULL, O_LEVEL },
		{ "valid-for", required_argument, NULL, O_VALID_FOR },
		{ "at", required_argument, NULL, O_AT },
		{ NULL, 0, NULL, 0 },
	};
	struct make_opts o;
	struct vs_qr_style style = VS_QR_STYLE_DEFAULT;
	struct vs_issuer_key key;
	long n;
	int c, rc;

	memset(&o, 0, sizeof(o));
	memset(&key, 0, sizeof(key));
	o.style = style;
	while ((c = vs_cli_getopt(CMD, argc, argv, "", opts)) != -1) {
		switch (c) {
		case O_NAME: o.name = optarg; break;
		case O_AREA: o.area = optarg; break;
		case O_LAT:
			if (vs_cli_double(CMD, "--lat", optarg, -90, 90, &o.lat))
				return VS_EXIT_ERROR;
			o.has_lat = 1;
			break;
		case O_LON:
			if (vs_cli_double(CMD, "--lon", optarg, -180, 180, &o.lon))
				return VS_EXIT_ERROR;
			o.has_lon = 1;
			break;
		case O_ID: o.id = optarg; break;
		case O_KEY: o.key_path = optarg; break;
		case O_OUT: o.out = optarg; break;
		case O_BATCH: o.batch = optarg; break;
		case O_OUT_DIR: o.out_dir = optarg; break;
		case O_FORMAT: o.format = optarg; break;
		case O_SCALE:
			if (vs_cli_long(CMD, "--scale", optarg, 1, 100, &n))
				return VS_EXIT_ERROR;
			o.style.scale = (int)n;
			break;
		case O_MARGIN:
			if (vs_cli_long(CMD, "--margin", optarg, 0, 100, &n))
				return VS_EXIT_ERROR;
			o.style.margin = (int)n;
			break;
		case O_LEVEL:
			if (vs_qr_level_parse(optarg, &o.style.level))
				return vs_cli_usage(CMD, "option '--level': %s",
						    vs_error_message());
			break;
		case O_VALID_FOR:
			if (vs_cli_long(CMD, "--valid-for", optarg, 1, VALID_FOR_MAX, &o.valid_for))
				return VS_EXIT_ERROR;
			break;
		case O_AT: o.at = optarg; break;
		default:
			return VS_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return vs_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (check_opts(&o))
		return VS_EXIT_ERROR;
	if (o.at) {
		if (vs_time_parse_any(o.at, &o.iat))
			return vs_cli_usage(CMD, "option '--at': %s", vs_error_message());
	} else {
		o.iat = vs_time_now();
	}

	rc = vs_key_load_secret(o.key_path, &key);
	if (!rc)
		rc = o.batch ? make_batch(&o, &key) : make_one(&o, &key);
	vs_key_release(&key);
	return rc ? vs_cli_fail() : VS_EXIT_OK;
}

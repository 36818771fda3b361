/*
 * `venuescan venue make`: flags in, posters out (poster.h does the work), one JSON line per
 * code.  The lines are composed before the posters are committed and printed after, so a
 * failure can never come between a poster landing and its line being printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/poster.h"
#include "venuescan/qr.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"
#include "cli.h"

#define CMD "venue make"
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
	"written to D/<venue_id>.<format> using every core.  A batch is all or nothing: the\n"
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

static void add_code_line(struct vs_buf *out, const char *file, const char *id,
			  const char *payload)
{
	vs_buf_adds(out, "{\"file\":");
	vs_buf_add_json_string(out, file, strlen(file));
	vs_buf_addf(out, ",\"venue_id\":\"%s\",\"payload\":", id);
	vs_buf_add_json_string(out, payload, strlen(payload));
	vs_buf_adds(out, "}\n");
}

/* One rendering thread per online core, at most 16. */
static int batch_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

static void poster_opts(const struct make_opts *o, struct vs_poster_opts *po)
{
	po->style = o->style;
	po->iat = o->iat;
	po->valid_for = o->valid_for;
	po->format = o->format;
	po->threads = batch_threads(); /* the files do not depend on it */
}

static int make_one(const struct make_opts *o, const struct vs_issuer_key *key)
{
	struct vs_poster_opts po;
	struct vs_buf line = VS_BUF_INIT;
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
	poster_opts(o, &po);
	rc = vs_poster_sign(&v, key, &po, &payload);
	if (rc)
		goto out;
	add_code_line(&line, o->out, v.id, payload);
	rc = vs_qr_render_file(payload, strlen(payload), &po.style, o->out);
	if (!rc)
		fputs(line.data, stdout);
out:
	free(payload);
	vs_buf_release(&line);
	return rc;
}

static int make_batch(const struct make_opts *o, const struct vs_issuer_key *key)
{
	struct vs_venue_list venues = VS_VENUE_LIST_INIT;
	struct vs_poster_batch *batch = NULL;
	struct vs_poster_opts po;
	struct vs_buf lines = VS_BUF_INIT;
	int rc;

	if ((rc = vs_venues_read(o->batch, &venues)) != 0)
		return rc;
	poster_opts(o, &po);
	if ((rc = vs_poster_batch_render(&venues, key, &po, o->out_dir, &batch)) != 0) {
		vs_error_prefix("'%s'", o->batch);
		goto out;
	}
	/* the lines are composed before the commit: nothing may fail after it */
	for (size_t i = 0; i < venues.n; i++) {
		char *file = vs_xasprintf("%s/%s.%s", o->out_dir, venues.items[i].id, o->format);
		add_code_line(&lines, file, venues.items[i].id, vs_poster_batch_payload(batch, i));
		free(file);
	}
	rc = vs_poster_batch_commit(batch);
	if (!rc && lines.data)
		fputs(lines.data, stdout);
out:
	vs_buf_release(&lines);
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

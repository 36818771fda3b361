/*
 * The demo: the Zhengzhou case of June 2022 end to end, as files and a page a class can
 * look at.  It strings the library's steps together — keys, poster, photo, scan, sim,
 * detect, report — and adds one thing of its own: the case page, which picks from the
 * detector's findings two people of one household who scanned the station's code and got
 * different colours, and shows their records from the dataset beside the verdict.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/codec.h"
#include "venuescan/dataset.h"
#include "venuescan/demo.h"
#include "venuescan/detect.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/photo.h"
#include "venuescan/poster.h"
#include "venuescan/qr.h"
#include "venuescan/report.h"
#include "venuescan/scan.h"
#include "venuescan/scenario.h"
#include "venuescan/sim.h"
#include "venuescan/time.h"

#define STATION_NAME "郑州车站西南出口"
#define ISSUER "henan"
#define PHOTO_LEVEL 2
#define PHOTO_SEED 11
#define MAX_CANDIDATES 512 /* discordant households looked at for the page */
#define MAX_CODES 6       /* code changes shown per person */

struct code_change {
	int64_t ts;
	int offset;
	enum vs_color color;
	char reason[160], authority[48];
};

/* What the page shows of one person, gathered in one pass over events.csv. */
struct person_record {
	long index;             /* in the person table; -1 when unknown */
	int has_scan;           /* scanned the station's code */
	int64_t scan_ts;
	int scan_offset;
	char scan_area[128];
	double scan_km;         /* device to venue */
	size_t ncodes;
	struct code_change codes[MAX_CODES];
};

struct pair {
	const char *household_id;
	const char *ids[2];     /* [0] the one who turned red, [1] the housemate who stayed green */
	int64_t ts;
	int offset;
	struct person_record rec[2];
};

static void say(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(FILE *log, const char *fmt, ...)
{
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vfprintf(log, fmt, ap);
	va_end(ap);
	fputc('\n', log);
	fflush(log);
}

static const struct vs_venue *find_station(const struct vs_scenario *s)
{
	for (size_t i = 0; i < s->venues.n; i++)
		if (!strcmp(s->venues.items[i].name, STATION_NAME))
			return &s->venues.items[i];
	return s->venues.n ? &s->venues.items[0] : NULL;
}

/* Decode the image at path and return the scan status of its first code. */
static int scan_status(const char *path, const struct vs_trust_set *trust, int64_t now,
		       char status[16])
{
	struct vs_qr_decoder *d = NULL;
	struct vs_qr_symbol *syms = NULL;
	struct vs_image img = { 0, 0, NULL };
	struct vs_buf json = VS_BUF_INIT;
	enum vs_code_status st;
	size_t n = 0;
	int rc;

	snprintf(status, 16, "none");
	if ((rc = vs_image_read(path, &img)) != 0 || (rc = vs_qr_decoder_new(&d)) != 0 ||
	    (rc = vs_qr_decode(d, &img, &syms, &n)) != 0)
		goto out;
	if (n > 0 && (rc = vs_scan_describe(path, syms[0].data, syms[0].len, trust, now, &json,
					    &st)) == 0)
		snprintf(status, 16, "%s", vs_code_status_name(st));
out:
	vs_qr_symbols_free(syms, n);
	vs_qr_decoder_free(d);
	vs_image_release(&img);
	vs_buf_release(&json);
	return rc;
}

/* The discordant households the page may show: red holder, green housemate. */
static size_t candidates(const struct vs_findings *f, struct pair *pairs)
{
	size_t n = 0;

	for (size_t i = 0; i < vs_findings_count(f) && n < MAX_CANDIDATES; i++) {
		const struct vs_finding *x = vs_findings_get(f, i);
		if (x->kind != VS_FIND_HOUSEHOLD_DISCORDANCE || x->u.household.colors[0] != VS_RED ||
		    x->u.household.colors[1] != VS_GREEN)
			continue;
		memset(&pairs[n], 0, sizeof(pairs[n]));
		pairs[n].household_id = x->u.household.household_id;
		pairs[n].ids[0] = x->u.household.persons[0];
		pairs[n].ids[1] = x->u.household.persons[1];
		pairs[n].ts = x->ts;
		pairs[n].offset = x->offset_min;
		n++;
	}
	return n;
}

static void record_event(struct person_record *r, const struct vs_event *ev,
			 const struct vs_venue *station)
{
	if (ev->kind == VS_EVENT_SCAN && !strcmp(ev->venue_id, station->id) && !r->has_scan) {
		r->has_scan = 1;
		r->scan_ts = ev->ts;
		r->scan_offset = ev->offset_min;
		snprintf(r->scan_area, sizeof(r->scan_area), "%s", ev->area);
		r->scan_km = ev->has_pos ? vs_distance_km(ev->lat, ev->lon, station->lat, station->lon)
					 : NAN;
	} else if (ev->kind == VS_EVENT_CODE && r->ncodes < MAX_CODES) {
		struct code_change *c = &r->codes[r->ncodes++];
		c->ts = ev->ts;
		c->offset = ev->offset_min;
		c->color = ev->color;
		snprintf(c->reason, sizeof(c->reason), "%s", ev->reason);
		snprintf(c->authority, sizeof(c->authority), "%s", ev->authority);
	}
}

/*
 * How well a pair tells the seeds' story: both scanned the station's code, within hours of
 * each other, and the one who turned red did it from far away (a forwarded photo).
 */
static size_t pair_score(const struct pair *p)
{
	const struct person_record *red = &p->rec[0], *green = &p->rec[1];
	size_t score = 0;

	if (!red->has_scan || !green->has_scan)
		return 0;
	score += 1;
	if (llabs(red->scan_ts - green->scan_ts) < 6 * 3600)
		score += 2;
	if (red->scan_km > 50)
		score += 1;
	return score;
}

/*
 * Fill the candidates' records in one pass over events.csv and return the pair that tells
 * the story best (pair_score; the first on ties), or NULL if there is none.
 */
static int pick_pair(const char *dataset, const struct vs_person_table *persons,
		     const struct vs_venue *station, struct pair *pairs, size_t n,
		     struct pair **chosen)
{
	struct person_record **by_person = vs_xcalloc(persons->n ? persons->n : 1, sizeof(*by_person));
	struct vs_event_reader *r = NULL;
	struct vs_event ev;
	char *path = vs_xasprintf("%s/events.csv", dataset);
	int rc;

	*chosen = NULL;
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++) {
			pairs[i].rec[k].index = vs_person_table_find(persons, pairs[i].ids[k]);
			if (pairs[i].rec[k].index >= 0)
				by_person[pairs[i].rec[k].index] = &pairs[i].rec[k];
		}
	if ((rc = vs_events_open(&r, path, persons)) != 0)
		goto out;
	while ((rc = vs_events_next(r, &ev)) == 1)
		if (ev.person != VS_PERSON_NONE && by_person[ev.person])
			record_event(by_person[ev.person], &ev, station);
	if (rc < 0)
		goto out;
	rc = 0;
	for (size_t i = 0, best = 0; i < n; i++) {
		size_t score = pair_score(&pairs[i]);
		if (!*chosen || score > best) {
			*chosen = &pairs[i];
			best = score;
		}
	}
out:
	vs_events_close(r);
	free(path);
	free(by_person);
	return rc;
}

/* ---- the page ----------------------------------------------------------------------- */

static const char page_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>Red codes from the sky: Zhengzhou, June 2022</title>\n<style>\n"
	"body{font:16px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;"
	"color:#1d2330;background:#fafafb}\n"
	"h1{font-size:2rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:1px solid #ddd}\n"
	".lead{color:#555;margin-top:0}.row{display:flex;gap:1.5rem;flex-wrap:wrap}\n"
	".card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1rem;flex:1 1 20rem}\n"
	".card img{width:100%;max-width:300px;image-rendering:pixelated;display:block;margin:auto}\n"
	".badge{display:inline-block;padding:.1rem .7rem;border-radius:1rem;color:#fff;"
	"font-weight:600}\n.red{background:#c62828}.green{background:#2e7d32}"
	".yellow{background:#f9a825;color:#222}\n"
	"table{border-collapse:collapse;width:100%;font-size:.92rem}"
	"td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;vertical-align:top}\n"
	".verdict{background:#fdecea;border-left:6px solid #c62828;padding:1rem;font-size:1.1rem}\n"
	".ok{background:#e8f5e9;border-left:6px solid #2e7d32;padding:1rem;font-size:1.1rem}\n"
	"code{background:#f0f0f3;padding:0 .3rem;border-radius:3px}\n"
	"</style></head><body>\n";

static int add_image(struct vs_buf *b, const char *stage, const char *name, const char *alt)
{
	struct vs_buf png;
	char *path = vs_xasprintf("%s/%s", stage, name);
	char *b64;
	int rc = vs_file_read_all(path, VS_IMAGE_MAX_PIXELS, &png);

	free(path);
	if (rc)
		return rc;
	b64 = vs_base64_encode(png.data, png.len);
	vs_buf_addf(b, "<img alt=\"");
	vs_buf_add_html(b, alt);
	vs_buf_addf(b, "\" src=\"data:image/png;base64,%s\">", b64);
	free(b64);
	vs_buf_release(&png);
	return 0;
}

static void add_time(struct vs_buf *b, int64_t ts, int offset)
{
	char t[VS_TIME_TEXT_MAX];

	vs_time_format(ts, offset, t);
	t[10] = ' '; /* 2022-06-11 20:15:00+08:00 */
	vs_buf_add_html(b, t);
}

static void add_badge(struct vs_buf *b, enum vs_color c)
{
	vs_buf_addf(b, "<span class=\"badge %s\">%s</span>", vs_color_name(c), vs_color_name(c));
}

static void add_person(struct vs_buf *b, const struct vs_person_table *t,
		       const struct person_record *r, const char *id, enum vs_color now,
		       const char *role)
{
	vs_buf_adds(b, "<div class=\"card\"><h3>");
	vs_buf_add_html(b, role);
	vs_buf_adds(b, " ");
	add_badge(b, now);
	vs_buf_adds(b, "</h3><p><code>");
	vs_buf_add_html(b, id);
	vs_buf_adds(b, "</code><br>");
	if (r->index >= 0) {
		const struct vs_person *p = &t->items[r->index];
		vs_buf_adds(b, "home: ");
		vs_buf_add_html(b, p->home_area);
		vs_buf_adds(b, "<br>attributes: ");
		for (uint32_t a = 0; a < p->nattrs; a++) {
			const struct vs_attr *x = &t->attrs[p->attr_first + a];
			vs_buf_adds(b, a ? ", <code>" : "<code>");
			vs_buf_add_html(b, x->key);
			vs_buf_adds(b, "=");
			vs_buf_add_html(b, x->value);
			vs_buf_adds(b, "</code>");
		}
	}
	vs_buf_adds(b, "</p>");
	if (r->has_scan) {
		vs_buf_adds(b, "<p>scanned the station's code at ");
		add_time(b, r->scan_ts, r->scan_offset);
		vs_buf_adds(b, " with the phone in ");
		vs_buf_add_html(b, r->scan_area);
		if (!isnan(r->scan_km))
			vs_buf_addf(b, ", <b>%.0f km</b> from the station", r->scan_km);
		vs_buf_adds(b, "</p>");
	}
	vs_buf_adds(b, "<table><tr><th>time</th><th>code</th><th>shown reason</th>"
		       "<th>pushed by</th></tr>");
	for (size_t i = 0; i < r->ncodes; i++) {
		vs_buf_adds(b, "<tr><td>");
		add_time(b, r->codes[i].ts, r->codes[i].offset);
		vs_buf_adds(b, "</td><td>");
		add_badge(b, r->codes[i].color);
		vs_buf_adds(b, "</td><td>");
		vs_buf_add_html(b, r->codes[i].reason);
		vs_buf_adds(b, "</td><td>");
		vs_buf_add_html(b, r->codes[i].authority);
		vs_buf_adds(b, "</td></tr>");
	}
	if (!r->ncodes)
		vs_buf_adds(b, "<tr><td colspan=\"4\">no code change: green throughout</td></tr>");
	vs_buf_adds(b, "</table></div>\n");
}

/* Name the attributes none of whose values was flagged: they were tested and cleared. */
static void add_unflagged(struct vs_buf *b, const struct vs_findings *f)
{
	size_t n = vs_findings_count(f), shown = 0;

	for (size_t i = 0; i < n; i++) {
		const struct vs_finding *x = vs_findings_get(f, i);
		int seen = 0, flagged = 0;
		if (x->kind != VS_FIND_ASSOCIATION)
			continue;
		for (size_t j = 0; j < n && !seen; j++) {
			const struct vs_finding *y = vs_findings_get(f, j);
			if (y->kind != VS_FIND_ASSOCIATION || strcmp(y->u.assoc.attribute, x->u.assoc.attribute))
				continue;
			seen = j < i;   /* named already */
			flagged |= y->u.assoc.flagged;
		}
		if (seen || flagged)
			continue;
		vs_buf_adds(b, shown++ ? ", <code>" : "<p>Tested and not flagged: <code>");
		vs_buf_add_html(b, x->u.assoc.attribute);
		vs_buf_adds(b, "</code>");
	}
	if (shown)
		vs_buf_adds(b, " &mdash; in the strata of what was flagged, their holders were no more "
			       "often turned red than anyone else.</p>\n");
}

static void add_verdict(struct vs_buf *b, const struct vs_findings *f)
{
	const struct vs_detect_summary *s = vs_findings_summary(f);

	if (s->nflagged)
		vs_buf_adds(b, "<p class=\"verdict\"><b>Flagged.</b> Code changes follow who people "
			       "are, not where they were or what they were exposed to.</p>\n");
	else
		vs_buf_adds(b, "<p class=\"ok\">Nothing flagged.</p>\n");
	vs_buf_addf(b, "<p>The detector was not told which attribute to suspect. Of %llu changes to "
		       "red or yellow among %llu persons, <b>%llu</b> (of %llu persons) are explained "
		       "by no published rule. It tested every attribute value, stratified by where "
		       "the person was, and flagged:</p>\n<table><tr><th>attribute value</th>"
		       "<th>unexplained with it</th><th>without it</th><th>odds ratio (95%% CI)</th>"
		       "<th>tested within</th></tr>\n",
		    (unsigned long long)s->changes_red_yellow, (unsigned long long)s->persons,
		    (unsigned long long)s->unexplained, (unsigned long long)s->unexplained_persons);
	for (size_t i = 0; i < vs_findings_count(f); i++) {
		const struct vs_finding *x = vs_findings_get(f, i);
		const struct vs_association *a = &x->u.assoc;
		if (x->kind != VS_FIND_ASSOCIATION || !a->flagged)
			continue;
		vs_buf_adds(b, "<tr><td><code>");
		vs_buf_add_html(b, a->attribute);
		vs_buf_adds(b, "=");
		vs_buf_add_html(b, a->value);
		vs_buf_addf(b, "</code></td><td>%llu of %llu</td><td>%llu of %llu</td><td>",
			    (unsigned long long)a->outcomes_with, (unsigned long long)a->persons_with,
			    (unsigned long long)a->outcomes_without,
			    (unsigned long long)a->persons_without);
		if (a->mh.odds_ratio_defined && a->mh.ci_defined)
			vs_buf_addf(b, "%.4g (%.4g&ndash;%.4g)", a->mh.odds_ratio, a->mh.ci_low,
				    a->mh.ci_high);
		else
			vs_buf_adds(b, "no one without it in the same strata was affected");
		vs_buf_addf(b, "</td><td>area%s", a->nconditioned ? " &times; " : "");
		for (size_t c = 0; c < a->nconditioned; c++) {
			vs_buf_adds(b, c ? ", " : "");
			vs_buf_add_html(b, a->conditioned_on[c]);
		}
		vs_buf_adds(b, "</td></tr>\n");
	}
	vs_buf_adds(b, "</table>\n");
	add_unflagged(b, f);
	vs_buf_addf(b, "<p>The same run found %llu scans made far from "
		       "the venue (forwarded photos), %llu same-house pairs with different colours, "
		       "%llu bursts of changes no risk change explains, and %llu kind%s of action "
		       "followed by a change of colour far more often than chance. <a href=\"report.html\">The "
		       "full report</a> has every finding.</p>\n",
		    (unsigned long long)s->count[VS_FIND_REMOTE_SCAN],
		    (unsigned long long)s->count[VS_FIND_HOUSEHOLD_DISCORDANCE],
		    (unsigned long long)s->count[VS_FIND_BURST],
		    (unsigned long long)s->count[VS_FIND_ACTION_TRIGGERED],
		    s->count[VS_FIND_ACTION_TRIGGERED] == 1 ? "" : "s");
}

static int write_page(const char *stage, const struct vs_venue *station,
		      const struct vs_demo_result *res, const struct vs_person_table *persons,
		      const struct pair *p, const struct vs_findings *f)
{
	struct vs_buf b = VS_BUF_INIT;
	char *path;
	int rc = 0;

	vs_buf_adds(&b, page_head);
	vs_buf_adds(&b, "<h1>Red codes from the sky</h1>\n<p class=\"lead\">人在家中坐，红码天上来 — "
			"Zhengzhou, June 2022, reproduced by <code>venuescan demo</code></p>\n"
			"<p>From the evening of 11 June 2022, bank depositors who scanned the venue "
			"code of Zhengzhou railway station's south-west exit turned red — many of them "
			"after scanning a photo of the code forwarded in a chat group, at home in "
			"another province. Family members living with them, with the same itinerary, "
			"scanned the same code and stayed green. An official inquiry later counted "
			"1,317 depositors given red codes: 446 who scanned in Zhengzhou and 871 who "
			"never came. This page replays the case on a simulated population.</p>\n");

	vs_buf_adds(&b, "<h2>1. The venue code, and a photo of it</h2>\n<div class=\"row\">"
			"<div class=\"card\"><h3>The poster at the station</h3>");
	if ((rc = add_image(&b, stage, "station.png", "the station's venue code")) != 0)
		goto out;
	vs_buf_adds(&b, "<p>");
	vs_buf_add_html(&b, station->name);
	vs_buf_adds(&b, " (");
	vs_buf_add_html(&b, station->area);
	vs_buf_addf(&b, "), signed by issuer <code>%s</code>. Scanned: <b>%s</b>.</p></div>"
			"<div class=\"card\"><h3>The photo forwarded to a chat group</h3>",
		    ISSUER, res->poster_status);
	if ((rc = add_image(&b, stage, "station-forwarded.png", "a forwarded photo of the code")) != 0)
		goto out;
	vs_buf_addf(&b, "<p>Scanned from a phone hundreds of kilometres away: <b>%s</b>. A static "
			"code reads the same from a photo; the scan alone cannot tell presence from "
			"a forwarded picture. A rotating code with an expiry time can.</p></div></div>\n",
		    res->photo_status);

	vs_buf_adds(&b, "<h2>2. One house, one code, two colours</h2>\n");
	if (p) {
		vs_buf_adds(&b, "<p>Household <code>");
		vs_buf_add_html(&b, p->household_id);
		vs_buf_adds(&b, "</code>: at ");
		add_time(&b, p->ts, p->offset);
		vs_buf_adds(&b, " one of them turned red while the other, living in the same house "
				"with the same itinerary over the 14 days before, stayed green.</p>\n"
				"<div class=\"row\">");
		add_person(&b, persons, &p->rec[0], p->ids[0], VS_RED, "Turned red");
		add_person(&b, persons, &p->rec[1], p->ids[1], VS_GREEN, "Stayed green");
		vs_buf_adds(&b, "</div>\n");
	} else {
		vs_buf_adds(&b, "<p>No such household in this run.</p>\n");
	}

	vs_buf_adds(&b, "<h2>3. The detector's verdict</h2>\n");
	add_verdict(&b, f);
	vs_buf_adds(&b, "<h2>4. Do it yourself</h2>\n<pre>venuescan demo --out demo\n"
			"venuescan detect demo/dataset --format text\nvenuescan eval demo/dataset"
			"</pre>\n</body></html>\n");
	path = vs_xasprintf("%s/index.html", stage);
	rc = vs_file_write_atomic(path, b.data, b.len, 0644);
	free(path);
out:
	vs_buf_release(&b);
	return rc;
}

/* Write findings in fmt to stage/name. */
static int write_report(const char *stage, const char *name, const struct vs_findings *f,
			enum vs_report_format fmt)
{
	struct vs_outfile *out;
	char *path = vs_xasprintf("%s/%s", stage, name);
	int rc = vs_outfile_open(&out, path, 0644);

	if (!rc) {
		rc = vs_report_write(vs_outfile_stream(out), f, fmt, "the simulated Zhengzhou case");
		if (rc)
			vs_outfile_abort(out);
		else
			rc = vs_outfile_commit(out);
	}
	free(path);
	return rc;
}

/* The first steps: key, poster, photo, and both scanned. */
static int make_codes(const char *stage, const struct vs_scenario *s,
		      const struct vs_venue *station, struct vs_demo_result *res, FILE *log)
{
	struct vs_issuer_key key;
	struct vs_trust_set *trust = vs_trust_set_new();
	struct vs_poster_opts po = { VS_QR_STYLE_DEFAULT, 0, 0, "png", 1 };
	struct vs_image poster = { 0, 0, NULL }, photo = { 0, 0, NULL };
	char *keys = vs_xasprintf("%s/keys", stage);
	char *path = vs_xasprintf("%s/keys/%s.key", stage, ISSUER);
	char *pub = vs_xasprintf("%s/keys/%s.pub", stage, ISSUER);
	char *poster_path = vs_xasprintf("%s/station.png", stage);
	char *photo_path = vs_xasprintf("%s/station-forwarded.png", stage);
	char *payload = NULL;
	int rc;

	memset(&key, 0, sizeof(key));
	po.iat = s->start + 10 * 86400 + 8 * 3600; /* 11 June, 08:00 local */
	if ((rc = vs_keygen(ISSUER, keys)) != 0 || (rc = vs_key_load_secret(path, &key)) != 0 ||
	    (rc = vs_trust_set_add_file(trust, pub)) != 0)
		goto out;
	say(log, "1. an issuer key: keys/%s.key, keys/%s.pub", ISSUER, ISSUER);
	if ((rc = vs_poster_make(station, &key, &po, poster_path, &payload)) != 0 ||
	    (rc = scan_status(poster_path, trust, po.iat + 3600, res->poster_status)) != 0)
		goto out;
	say(log, "2. the station's venue code, signed: station.png (scan: %s)", res->poster_status);
	if ((rc = vs_image_read(poster_path, &poster)) != 0 ||
	    (rc = vs_photo_degrade(&poster, PHOTO_LEVEL, PHOTO_SEED, &photo)) != 0 ||
	    (rc = vs_image_write(photo_path, &photo)) != 0 ||
	    (rc = scan_status(photo_path, trust, po.iat + 86400, res->photo_status)) != 0)
		goto out;
	say(log, "3. a forwarded photo of it: station-forwarded.png (scan: %s)", res->photo_status);
out:
	vs_key_release(&key);
	vs_trust_set_free(trust);
	vs_image_release(&poster);
	vs_image_release(&photo);
	free(payload);
	free(keys);
	free(path);
	free(pub);
	free(poster_path);
	free(photo_path);
	return rc;
}

static int write_demo_manifest(const char *stage, const struct vs_scenario *s, uint64_t seed)
{
	struct vs_buf b = VS_BUF_INIT;
	char *path = vs_xasprintf("%s/manifest.json", stage);
	int rc;

	vs_buf_addf(&b, "{\n  \"generator\": \"venuescan demo\",\n  \"version\": \"%s\",\n"
			"  \"scenario\": ", VS_VERSION);
	vs_buf_add_json_string(&b, s->name, strlen(s->name));
	vs_buf_addf(&b, ",\n  \"seed\": %llu,\n  \"files\": [\"index.html\", \"report.html\", "
			"\"findings.jsonl\", \"station.png\", \"station-forwarded.png\", \"keys/\", "
			"\"dataset/\"]\n}\n", (unsigned long long)seed);
	rc = vs_file_write_atomic(path, b.data, b.len, 0644);
	vs_buf_release(&b);
	free(path);
	return rc;
}

int vs_demo_run(const struct vs_demo_options *o, const char *out_dir, FILE *log,
		struct vs_demo_result *res)
{
	struct vs_scenario *s = NULL;
	struct vs_outdir *od = NULL;
	struct vs_findings *f = NULL;
	struct vs_person_table persons = VS_PERSON_TABLE_INIT;
	struct vs_sim_options so;
	struct vs_sim_stats stats;
	struct vs_detect_options dopt = { NULL, NULL, VS_DETECT_ALPHA_DEFAULT,
					  VS_DETECT_REMOTE_KM_DEFAULT };
	struct pair *pairs = vs_xcalloc(MAX_CANDIDATES, sizeof(*pairs)), *chosen = NULL;
	const struct vs_venue *station;
	const struct vs_detect_summary *sum;
	char *dataset = NULL, *persons_path = NULL;
	const char *stage;
	size_t n;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = vs_scenario_load(o->scenario, &s)) != 0)
		goto out;
	if (!(station = find_station(s))) {
		rc = vs_error_set(VS_EINVAL, "'%s': the scenario has no venues", o->scenario);
		goto out;
	}
	if ((rc = vs_outdir_open(&od, out_dir)) != 0)
		goto out;
	stage = vs_outdir_path(od);
	if ((rc = make_codes(stage, s, station, res, log)) != 0)
		goto out;

	memset(&so, 0, sizeof(so));
	so.seed = o->seed;
	so.has_seed = o->has_seed;
	so.persons = o->persons;
	dataset = vs_xasprintf("%s/dataset", stage);
	if ((rc = vs_simulate(s, &so, dataset, &stats)) != 0)
		goto out;
	say(log, "4. simulated '%s': %llu persons, %llu events: dataset/", s->name,
	    (unsigned long long)stats.persons, (unsigned long long)stats.events);

	dopt.rules = s->rules;
	dopt.rules_name = s->rules_path;
	if ((rc = vs_detect_run(dataset, &dopt, &f)) != 0 ||
	    (rc = write_report(stage, "report.html", f, VS_REPORT_HTML)) != 0 ||
	    (rc = write_report(stage, "findings.jsonl", f, VS_REPORT_JSONL)) != 0)
		goto out;
	sum = vs_findings_summary(f);
	res->persons = sum->persons;
	res->events = sum->events;
	res->unexplained = sum->unexplained;
	res->unexplained_persons = sum->unexplained_persons;
	res->flagged = sum->nflagged;
	say(log, "5. detector: %llu unexplained changes to red/yellow; %zu attribute value%s "
		 "flagged: report.html, findings.jsonl", (unsigned long long)sum->unexplained,
	    sum->nflagged, sum->nflagged == 1 ? "" : "s");

	persons_path = vs_xasprintf("%s/persons.csv", dataset);
	n = candidates(f, pairs);
	if ((rc = vs_persons_read(persons_path, &persons)) != 0 ||
	    (rc = pick_pair(dataset, &persons, station, pairs, n, &chosen)) != 0 ||
	    (rc = write_page(stage, station, res, &persons, chosen, f)) != 0 ||
	    (rc = write_demo_manifest(stage, s, o->has_seed ? o->seed : s->seed)) != 0)
		goto out;
	res->pair_found = chosen != NULL;
	rc = vs_outdir_commit(od);
	od = NULL;
	if (!rc)
		say(log, "6. the case page: %s/index.html", out_dir);
out:
	vs_outdir_abort(od);
	vs_findings_free(f);
	vs_person_table_release(&persons);
	vs_scenario_free(s);
	free(pairs);
	free(dataset);
	free(persons_path);
	return rc;
}

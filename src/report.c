/*
 * The detector's findings as JSON lines, text and HTML (report.h).  Each writer walks the
 * findings in their stable order; numbers go through vs_stats_add_json_number (10
 * significant digits, null when undefined) or fixed printf formats, so the same findings
 * give the same bytes.  The HTML page is one file: inline CSS, an inline SVG chart of
 * changes per hour, every string escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/report.h"
#include "venuescan/stats.h"
#include "venuescan/time.h"

#define TEXT_LIST_MAX 20
#define HTML_LIST_MAX 200

int vs_report_format_parse(const char *s, enum vs_report_format *out)
{
	if (!strcmp(s, "text"))
		*out = VS_REPORT_TEXT;
	else if (!strcmp(s, "jsonl"))
		*out = VS_REPORT_JSONL;
	else if (!strcmp(s, "html"))
		*out = VS_REPORT_HTML;
	else
		return vs_error_set(VS_EINVAL, "unknown format '%s' (text, jsonl or html)", s);
	return 0;
}

static int flush(FILE *out, struct vs_buf *b)
{
	if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
		return vs_error_set(VS_EIO, "error writing the report: %s", strerror(errno));
	vs_buf_reset(b);
	return 0;
}

static void add_time(struct vs_buf *b, int64_t ts, int offset_min)
{
	char t[VS_TIME_TEXT_MAX];

	vs_time_format(ts, offset_min, t);
	vs_buf_adds(b, t);
}

/* ---- JSON lines --------------------------------------------------------------------- */

static void jkey(struct vs_buf *b, const char *key)
{
	vs_buf_addf(b, ",\"%s\":", key);
}

/* A JSON string literal of s, without a key. */
static void jraw(struct vs_buf *b, const char *s)
{
	vs_buf_add_json_string(b, s, strlen(s));
}

static void jstr(struct vs_buf *b, const char *key, const char *s)
{
	jkey(b, key);
	vs_buf_add_json_string(b, s, strlen(s));
}

static void jnum(struct vs_buf *b, const char *key, double x, bool defined)
{
	jkey(b, key);
	vs_stats_add_json_number(b, x, defined);
}

static void jint(struct vs_buf *b, const char *key, uint64_t n)
{
	vs_buf_addf(b, ",\"%s\":%" PRIu64, key, n);
}

static void jbool(struct vs_buf *b, const char *key, bool v)
{
	vs_buf_addf(b, ",\"%s\":%s", key, v ? "true" : "false");
}

static void jtime(struct vs_buf *b, const char *key, int64_t ts, int offset_min)
{
	jkey(b, key);
	vs_buf_addc(b, '"');
	add_time(b, ts, offset_min);
	vs_buf_addc(b, '"');
}

/* A ',' joined list as a JSON array of strings. */
static void jlist(struct vs_buf *b, const char *key, const char *joined)
{
	jkey(b, key);
	vs_buf_addc(b, '[');
	for (const char *s = joined; *s;) {
		size_t n = strcspn(s, ",");
		if (s != joined)
			vs_buf_addc(b, ',');
		vs_buf_add_json_string(b, s, n);
		s += n;
		if (*s)
			s++;
	}
	vs_buf_addc(b, ']');
}

static double ratio(uint64_t a, uint64_t n)
{
	return n ? (double)a / (double)n : NAN;
}

static void json_finding(struct vs_buf *b, const struct vs_finding *x)
{
	vs_buf_adds(b, "{\"kind\":");
	jraw(b, vs_finding_kind_name(x->kind));
	switch (x->kind) {
	case VS_FIND_ASSOCIATION: {
		const struct vs_association *a = &x->u.assoc;
		jstr(b, "attribute", a->attribute);
		jstr(b, "value", a->value);
		jint(b, "persons_with", a->persons_with);
		jint(b, "persons_without", a->persons_without);
		jnum(b, "rate_with", ratio(a->outcomes_with, a->persons_with), a->persons_with);
		jnum(b, "rate_without", ratio(a->outcomes_without, a->persons_without),
		     a->persons_without);
		jint(b, "strata", a->strata);
		jnum(b, "mh_odds_ratio", a->mh.odds_ratio, a->mh.odds_ratio_defined);
		jnum(b, "ci_low", a->mh.ci_low, a->mh.ci_defined);
		jnum(b, "ci_high", a->mh.ci_high, a->mh.ci_defined);
		jnum(b, "mh_chi2", a->mh.statistic, a->mh.statistic_defined);
		jnum(b, "p_value", a->mh.p_value, a->mh.statistic_defined);
		jnum(b, "q_value", a->q_value, !isnan(a->q_value));
		jkey(b, "conditioned_on");
		vs_buf_addc(b, '[');
		for (size_t i = 0; i < a->nconditioned; i++) {
			if (i)
				vs_buf_addc(b, ',');
			jraw(b, a->conditioned_on[i]);
		}
		vs_buf_addc(b, ']');
		jbool(b, "flagged", a->flagged);
		/* beyond the contract, after its keys: the counts behind the rates, the round */
		jint(b, "outcomes_with", a->outcomes_with);
		jint(b, "outcomes_without", a->outcomes_without);
		jint(b, "round", a->round);
		break;
	}
	case VS_FIND_UNEXPLAINED_CODE:
		jstr(b, "person_id", x->person_id);
		jtime(b, "ts", x->ts, x->offset_min);
		jstr(b, "color", vs_color_name(x->u.code.color));
		jstr(b, "reason", x->u.code.reason);
		jstr(b, "authority", x->u.code.authority);
		jbool(b, "flagged", x->u.code.flagged);
		jlist(b, "checked", x->u.code.checked);
		break;
	case VS_FIND_REASON_MISMATCH:
		jstr(b, "person_id", x->person_id);
		jtime(b, "ts", x->ts, x->offset_min);
		jstr(b, "color", vs_color_name(x->u.mismatch.color));
		jstr(b, "reason", x->u.mismatch.reason);
		jstr(b, "authority", x->u.mismatch.authority);
		jlist(b, "claimed", x->u.mismatch.claimed);
		jlist(b, "unsupported", x->u.mismatch.unsupported);
		break;
	case VS_FIND_HOUSEHOLD_DISCORDANCE:
		jstr(b, "household_id", x->u.household.household_id);
		jkey(b, "persons");
		vs_buf_addc(b, '[');
		jraw(b, x->u.household.persons[0]);
		vs_buf_addc(b, ',');
		jraw(b, x->u.household.persons[1]);
		vs_buf_addc(b, ']');
		jtime(b, "ts", x->ts, x->offset_min);
		vs_buf_addf(b, ",\"colors\":[\"%s\",\"%s\"]",
			    vs_color_name(x->u.household.colors[0]),
			    vs_color_name(x->u.household.colors[1]));
		break;
	case VS_FIND_REMOTE_SCAN:
		jstr(b, "person_id", x->person_id);
		jtime(b, "ts", x->ts, x->offset_min);
		jstr(b, "venue_id", x->u.remote.venue_id);
		jstr(b, "venue_name", x->u.remote.venue_name);
		jstr(b, "venue_area", x->u.remote.venue_area);
		jstr(b, "device_area", x->u.remote.device_area);
		jnum(b, "lat", x->u.remote.lat, true);
		jnum(b, "lon", x->u.remote.lon, true);
		jnum(b, "distance_km", x->u.remote.distance_km, true);
		break;
	case VS_FIND_BURST:
		jtime(b, "start", x->ts, x->offset_min);
		jtime(b, "end", x->u.burst.end, x->u.burst.end_offset_min);
		jstr(b, "direction", x->u.burst.to_red ? "to_red" : "to_green");
		jint(b, "changes", x->u.burst.changes);
		jnum(b, "expected", x->u.burst.expected, true);
		jnum(b, "p_value", x->u.burst.p_value, true);
		break;
	case VS_FIND_ACTION_TRIGGERED:
		jstr(b, "action", x->u.action.action);
		jstr(b, "color", vs_color_name(x->u.action.color));
		jint(b, "count", x->u.action.count);
		jnum(b, "median_delay_s", x->u.action.median_delay_s, true);
		jint(b, "actions", x->u.action.actions);
		jnum(b, "expected", x->u.action.expected, true);
		jnum(b, "p_value", x->u.action.p_value, true);
		break;
	}
	vs_buf_adds(b, "}\n");
}

static void json_summary(struct vs_buf *b, const struct vs_detect_summary *s)
{
	vs_buf_adds(b, "{\"kind\":\"summary\"");
	jstr(b, "rules", s->rules_name);
	jnum(b, "alpha", s->alpha, true);
	jnum(b, "remote_km", s->remote_km, true);
	jint(b, "persons", s->persons);
	jint(b, "households", s->households);
	jint(b, "events", s->events);
	jbool(b, "time_ordered", s->sorted_path);
	jint(b, "persons_out_of_order", s->persons_out_of_order);
	jint(b, "code_events", s->code_events);
	jint(b, "changes_red_yellow", s->changes_red_yellow);
	jint(b, "unexplained", s->unexplained);
	jint(b, "unexplained_persons", s->unexplained_persons);
	jkey(b, "flagged_values");
	vs_buf_addc(b, '[');
	for (size_t i = 0; i < s->nflagged; i++) {
		if (i)
			vs_buf_addc(b, ',');
		vs_buf_add_json_string(b, s->flagged_values[i], strlen(s->flagged_values[i]));
	}
	vs_buf_addc(b, ']');
	jkey(b, "counts");
	vs_buf_addc(b, '{');
	for (int k = 0; k <= VS_FIND_BURST; k++)
		vs_buf_addf(b, "%s\"%s\":%" PRIu64, k ? "," : "", vs_finding_kind_name(k),
			    s->count[k]);
	vs_buf_addc(b, '}');
	jkey(b, "household_tests");
	vs_buf_addc(b, '[');
	for (size_t i = 0; i < s->nhousehold_tests; i++) {
		const struct vs_household_test *t = &s->household_tests[i];
		vs_buf_adds(b, i ? ",{\"attribute\":" : "{\"attribute\":");
		vs_buf_add_json_string(b, t->attribute, strlen(t->attribute));
		jstr(b, "value", t->value);
		jint(b, "holder_worse", t->with_redder);
		jint(b, "housemate_worse", t->without_redder);
		jnum(b, "mcnemar_chi2", t->res.statistic, t->res.statistic_defined);
		jnum(b, "p_value", t->res.p_value, t->res.statistic_defined);
		vs_buf_addc(b, '}');
	}
	vs_buf_addc(b, ']');
	jbool(b, "flagged", s->anything_flagged);
	vs_buf_adds(b, "}\n");
}

static int write_jsonl(FILE *out, const struct vs_findings *f)
{
	struct vs_buf b = VS_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < vs_findings_count(f) && !rc; i++) {
		json_finding(&b, vs_findings_get(f, i));
		if (b.len > 65536)
			rc = flush(out, &b);
	}
	if (!rc) {
		json_summary(&b, vs_findings_summary(f));
		rc = flush(out, &b);
	}
	vs_buf_release(&b);
	return rc;
}

/* ---- text --------------------------------------------------------------------------- */

static void fmt_num(struct vs_buf *b, double x, bool defined)
{
	if (!defined || !isfinite(x))
		vs_buf_adds(b, "-");
	else if (x == 0)
		vs_buf_adds(b, "0"); /* a p below the smallest double is shown as < 1e-300 below */
	else
		vs_buf_addf(b, "%.4g", x);
}

/* A p- or q-value: one that underflowed to 0 is shown as what it is, below 1e-300. */
static void fmt_p(struct vs_buf *b, double p, bool defined)
{
	if (defined && p == 0)
		vs_buf_adds(b, "<1e-300");
	else
		fmt_num(b, p, defined);
}

/* 100 * a / n, or 0 for nobody. */
static double percent(uint64_t a, uint64_t n)
{
	return n ? 100.0 * (double)a / (double)n : 0.0;
}

static void text_assoc(struct vs_buf *b, const struct vs_association *a)
{
	vs_buf_addf(b, "  %s %s=%s: %" PRIu64 "/%" PRIu64 " (%.1f%%) with, %" PRIu64 "/%" PRIu64
		    " (%.1f%%) without; MH OR ", a->flagged ? "FLAGGED" : "       ", a->attribute,
		    a->value, a->outcomes_with, a->persons_with,
		    percent(a->outcomes_with, a->persons_with), a->outcomes_without,
		    a->persons_without, percent(a->outcomes_without, a->persons_without));
	fmt_num(b, a->mh.odds_ratio, a->mh.odds_ratio_defined);
	vs_buf_adds(b, " [");
	fmt_num(b, a->mh.ci_low, a->mh.ci_defined);
	vs_buf_adds(b, ", ");
	fmt_num(b, a->mh.ci_high, a->mh.ci_defined);
	vs_buf_adds(b, "], X2 ");
	fmt_num(b, a->mh.statistic, a->mh.statistic_defined);
	vs_buf_adds(b, ", p ");
	fmt_p(b, a->mh.p_value, a->mh.statistic_defined);
	vs_buf_adds(b, ", q ");
	fmt_p(b, a->q_value, !isnan(a->q_value));
	vs_buf_addf(b, ", %zu strata", a->strata);
	if (a->nconditioned) {
		vs_buf_adds(b, ", within ");
		for (size_t i = 0; i < a->nconditioned; i++)
			vs_buf_addf(b, "%s%s", i ? " x " : "", a->conditioned_on[i]);
	}
	vs_buf_adds(b, "\n");
}

static int write_text(FILE *out, const struct vs_findings *f, const char *title)
{
	const struct vs_detect_summary *s = vs_findings_summary(f);
	struct vs_buf b = VS_BUF_INIT;
	size_t n = vs_findings_count(f);
	int rc;

	vs_buf_addf(&b, "venuescan detect: %s\n", title ? title : "");
	vs_buf_addf(&b, "rules %s; alpha %g; remote scans beyond %g km\n", s->rules_name, s->alpha,
		    s->remote_km);
	vs_buf_addf(&b, "%" PRIu64 " persons in %" PRIu64 " households, %" PRIu64 " events%s",
		    s->persons, s->households, s->events,
		    s->sorted_path ? ""
		    : " (some persons' events out of time order: sorted in memory)");
	vs_buf_addf(&b, "\n\n%" PRIu64 " changes to red or yellow, %" PRIu64 " explained by no "
		    "published rule (%" PRIu64 " persons)\n", s->changes_red_yellow, s->unexplained,
		    s->unexplained_persons);

	vs_buf_adds(&b, "\nIdentity association (stepwise Mantel-Haenszel by area, "
		    "BH q <= alpha):\n");
	for (size_t i = 0; i < n; i++) {
		const struct vs_finding *x = vs_findings_get(f, i);
		if (x->kind == VS_FIND_ASSOCIATION && x->u.assoc.flagged)
			text_assoc(&b, &x->u.assoc);
	}
	if (!s->nflagged)
		vs_buf_adds(&b, "  no attribute value flagged\n");
	vs_buf_addf(&b, "  (%" PRIu64 " values tested; the others:)\n",
		    s->count[VS_FIND_ASSOCIATION]);
	{
		uint64_t shown = 0, others = s->count[VS_FIND_ASSOCIATION] - s->nflagged;
		for (size_t i = 0; i < n && shown < 2 * TEXT_LIST_MAX; i++) {
			const struct vs_finding *x = vs_findings_get(f, i);
			if (x->kind == VS_FIND_ASSOCIATION && !x->u.assoc.flagged) {
				text_assoc(&b, &x->u.assoc);
				shown++;
			}
		}
		if (others > shown)
			vs_buf_addf(&b, "  ... and %" PRIu64 " more (--format jsonl lists all)\n",
				    others - shown);
	}
	if ((rc = flush(out, &b)) != 0)
		goto out;

	static const struct {
		enum vs_finding_kind kind;
		const char *title;
	} sections[] = {
		{ VS_FIND_UNEXPLAINED_CODE, "Changes no published rule explains" },
		{ VS_FIND_REASON_MISMATCH, "Reasons the facts contradict" },
		{ VS_FIND_HOUSEHOLD_DISCORDANCE, "Same house, same places, different colour" },
		{ VS_FIND_REMOTE_SCAN, "Scans far from the venue (forwarded photos?)" },
		{ VS_FIND_BURST, "Bursts of changes" },
		{ VS_FIND_ACTION_TRIGGERED, "Changes that follow a non-health action" },
	};
	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		uint64_t total = s->count[sections[k].kind], shown = 0;
		vs_buf_addf(&b, "\n%s: %" PRIu64 "\n", sections[k].title, total);
		for (size_t i = 0; i < n && shown < TEXT_LIST_MAX; i++) {
			const struct vs_finding *x = vs_findings_get(f, i);
			if (x->kind != sections[k].kind)
				continue;
			shown++;
			vs_buf_adds(&b, "  ");
			if (x->kind != VS_FIND_ACTION_TRIGGERED) {
				add_time(&b, x->ts, x->offset_min);
				vs_buf_adds(&b, "  ");
			}
			switch (x->kind) {
			case VS_FIND_UNEXPLAINED_CODE:
				vs_buf_addf(&b, "%s -> %s by '%s': \"%s\"%s", x->person_id,
					    vs_color_name(x->u.code.color), x->u.code.authority,
					    x->u.code.reason,
					    x->u.code.flagged ? " [flagged group]" : "");
				break;
			case VS_FIND_REASON_MISMATCH:
				vs_buf_addf(&b, "%s -> %s: \"%s\" claims %s; no fact supports %s",
					    x->person_id, vs_color_name(x->u.mismatch.color),
					    x->u.mismatch.reason, x->u.mismatch.claimed,
					    x->u.mismatch.unsupported);
				break;
			case VS_FIND_HOUSEHOLD_DISCORDANCE:
				vs_buf_addf(&b, "household %s: %s %s, %s %s",
					    x->u.household.household_id, x->u.household.persons[0],
					    vs_color_name(x->u.household.colors[0]),
					    x->u.household.persons[1],
					    vs_color_name(x->u.household.colors[1]));
				break;
			case VS_FIND_REMOTE_SCAN:
				vs_buf_addf(&b, "%s scanned %s (%s, %s) from %s, %.1f km away",
					    x->person_id, x->u.remote.venue_name,
					    x->u.remote.venue_id, x->u.remote.venue_area,
					    x->u.remote.device_area, x->u.remote.distance_km);
				break;
			case VS_FIND_BURST:
				vs_buf_adds(&b, "to ");
				add_time(&b, x->u.burst.end, x->u.burst.end_offset_min);
				vs_buf_addf(&b, ": %" PRIu64 " changes %s, %.3g expected",
					    x->u.burst.changes,
					    x->u.burst.to_red ? "to red" : "to green",
					    x->u.burst.expected);
				break;
			case VS_FIND_ACTION_TRIGGERED:
				vs_buf_addf(&b, "'%s' then %s: %" PRIu64 " of %" PRIu64 " actions "
					    "(%.3g expected by chance), median delay %.0f s",
					    x->u.action.action, vs_color_name(x->u.action.color),
					    x->u.action.count, x->u.action.actions,
					    x->u.action.expected, x->u.action.median_delay_s);
				break;
			default:
				break;
			}
			vs_buf_adds(&b, "\n");
		}
		if (total > shown)
			vs_buf_addf(&b, "  ... and %" PRIu64 " more (--format jsonl lists all)\n",
				    total - shown);
		if (sections[k].kind == VS_FIND_HOUSEHOLD_DISCORDANCE && s->nhousehold_tests) {
			vs_buf_adds(&b, "  McNemar over discordant pairs, by attribute value:\n");
			for (size_t i = 0; i < s->nhousehold_tests; i++) {
				const struct vs_household_test *t = &s->household_tests[i];
				vs_buf_addf(&b, "    %s=%s: holder worse %" PRIu64 ", housemate worse %"
					    PRIu64 ", p ", t->attribute, t->value, t->with_redder,
					    t->without_redder);
				fmt_p(&b, t->res.p_value, t->res.statistic_defined);
				vs_buf_adds(&b, "\n");
			}
		}
		if ((rc = flush(out, &b)) != 0)
			goto out;
	}
	vs_buf_addf(&b, "\nVerdict: %s\n", s->anything_flagged
		    ? "FLAGGED: code changes follow identity, not the published rules"
		    : "nothing flagged");
	rc = flush(out, &b);
out:
	vs_buf_release(&b);
	return rc;
}

/* ---- HTML --------------------------------------------------------------------------- */

static void h(struct vs_buf *b, const char *s)
{
	vs_buf_add_html(b, s);
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>venuescan detect</title>\n<style>\n"
	"body{font:17px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',"
	"'Noto Sans CJK SC',sans-serif;max-width:80rem;margin:2rem auto;padding:0 1.2rem;"
	"color:#1d2330;background:#fbfbfd}\n"
	"h1{font-size:1.9rem;margin-bottom:.2rem}\n"
	"h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:2px solid #dde1ea;"
	"padding-bottom:.2rem}\n"
	".sub{color:#5a6375}\n"
	".verdict{font-size:1.3rem;padding:1rem 1.2rem;border-radius:.6rem;margin:1.2rem 0}\n"
	".bad{background:#fde8e8;border-left:.5rem solid #c62828}\n"
	".good{background:#e7f6ea;border-left:.5rem solid #2e7d32}\n"
	".cards{display:flex;flex-wrap:wrap;gap:.8rem}\n"
	".card{background:#fff;border:1px solid #dde1ea;border-radius:.6rem;"
	"padding:.7rem 1rem;min-width:9rem}\n"
	".card b{display:block;font-size:1.6rem}\n"
	"table{border-collapse:collapse;width:100%;background:#fff;font-size:.92rem;"
	"display:block;overflow-x:auto}\n"
	"th,td{border-bottom:1px solid #e4e7ee;padding:.35rem .5rem;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#f1f3f8}\n"
	"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.t{white-space:nowrap}\n"
	"tr.flag td{background:#fff4f4;font-weight:600}\n"
	".red{color:#c62828;font-weight:700}.yellow{color:#b28704;font-weight:700}\n"
	".green{color:#2e7d32;font-weight:700}\n"
	".bar{display:inline-block;height:.8rem;background:#c62828;vertical-align:middle}\n"
	".bar.o{background:#9aa3b5}\n"
	".note{color:#5a6375;font-size:.92rem}\n"
	"svg{background:#fff;border:1px solid #dde1ea;border-radius:.4rem}\n"
	"</style>\n</head>\n<body>\n";

static void html_num(struct vs_buf *b, double x, bool defined)
{
	fmt_num(b, x, defined);
}

static void html_color(struct vs_buf *b, enum vs_color c)
{
	vs_buf_addf(b, "<span class=\"%s\">%s</span>", vs_color_name(c), vs_color_name(c));
}

static void html_chart(struct vs_buf *b, const struct vs_findings *f, int offset_min)
{
	int64_t start, bin_s;
	const uint32_t *red, *green;
	size_t n = vs_findings_bins(f, &start, &bin_s, &red, &green), lo = 0, hi, span;
	uint32_t max = 1;
	const double w = 1000, hgt = 220;

	/* show from a day before the first change counted to a day after the last */
	while (lo < n && !red[lo] && !green[lo])
		lo++;
	if (lo == n)
		return;
	hi = n;
	while (hi > lo && !red[hi - 1] && !green[hi - 1])
		hi--;
	lo = lo > (size_t)(86400 / bin_s) ? lo - (size_t)(86400 / bin_s) : 0;
	hi = hi + (size_t)(86400 / bin_s) < n ? hi + (size_t)(86400 / bin_s) : n;
	span = hi - lo;
	for (size_t i = lo; i < hi; i++) {
		if (red[i] > max)
			max = red[i];
		if (green[i] > max)
			max = green[i];
	}
	vs_buf_addf(b, "<h2>Changes over time</h2>\n<p class=\"note\">Red bars: changes to red no "
		    "rule explains. Green bars: changes back to green that undo them, or that no "
		    "release explains. Each bar is %s; a burst is one far above the usual.</p>\n",
		    bin_s == 3600 ? "one hour" : "one period");
	vs_buf_addf(b, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" "
		    "aria-label=\"changes over time\">\n", w, hgt + 30);
	for (size_t i = lo; i < hi; i++) {
		double x = w * (double)(i - lo) / (double)span, bw = w / (double)span;
		double half = bw > 1.5 ? bw / 2 : 0.75;
		if (red[i]) {
			double hh = hgt * red[i] / max;
			vs_buf_addf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				    "fill=\"#c62828\"><title>%u to red</title></rect>\n", x, hgt - hh,
				    half, hh, red[i]);
		}
		if (green[i]) {
			double hh = hgt * green[i] / max;
			vs_buf_addf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				    "fill=\"#2e7d32\"><title>%u to green</title></rect>\n",
				    x + (bw > 1.5 ? bw / 2 : 0), hgt - hh, half, hh, green[i]);
		}
	}
	/* a tick at each midnight of the offset shown */
	for (size_t i = lo; i < hi; i++) {
		int64_t t = start + (int64_t)i * bin_s, local = t + offset_min * 60;
		char day[VS_TIME_TEXT_MAX];
		if (((local % 86400) + 86400) % 86400 >= bin_s)
			continue;
		vs_time_format(t, offset_min, day);
		day[10] = '\0';
		double x = w * (double)(i - lo) / (double)span;
		vs_buf_addf(b, "<line x1=\"%.2f\" y1=\"0\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"#e4e7ee\"/>"
			    "<text x=\"%.2f\" y=\"%.0f\" font-size=\"12\" fill=\"#5a6375\">%s</text>\n",
			    x, x, hgt, x + 2, hgt + 18, day + 5);
	}
	vs_buf_addf(b, "<line x1=\"0\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#5a6375\"/>\n",
		    hgt, w, hgt);
	vs_buf_addf(b, "<text x=\"4\" y=\"16\" font-size=\"14\" fill=\"#5a6375\">highest: %u in "
		    "one bar</text>\n</svg>\n", max);
}

/* "What was found": one plain sentence per kind of evidence. */
static void html_story(struct vs_buf *b, const struct vs_findings *f)
{
	const struct vs_detect_summary *s = vs_findings_summary(f);
	size_t n = vs_findings_count(f);

	vs_buf_adds(b, "<h2>What was found</h2>\n<ul>\n");
	vs_buf_addf(b, "<li>%" PRIu64 " changes to red or yellow; <b>%" PRIu64 "</b> of them (%"
		    PRIu64 " people) have no fact behind them that a published rule names.</li>\n",
		    s->changes_red_yellow, s->unexplained, s->unexplained_persons);
	for (size_t i = 0; i < n; i++) {
		const struct vs_finding *x = vs_findings_get(f, i);
		if (x->kind == VS_FIND_ASSOCIATION && x->u.assoc.flagged) {
			const struct vs_association *a = &x->u.assoc;
			vs_buf_adds(b, "<li><b>");
			h(b, a->attribute);
			vs_buf_adds(b, "=");
			h(b, a->value);
			vs_buf_addf(b, "</b>: %.1f%% of the %" PRIu64 " people who hold it got such a "
				    "change, against %.1f%% of everyone else, comparing people in the same "
				    "places.</li>\n", percent(a->outcomes_with, a->persons_with),
				    a->persons_with, percent(a->outcomes_without, a->persons_without));
		} else if (x->kind == VS_FIND_BURST) {
			vs_buf_addf(b, "<li>A burst: <b>%" PRIu64 "</b> changes to %s between ",
				    x->u.burst.changes, x->u.burst.to_red ? "red" : "green");
			add_time(b, x->ts, x->offset_min);
			vs_buf_adds(b, " and ");
			add_time(b, x->u.burst.end, x->u.burst.end_offset_min);
			vs_buf_addf(b, " (about %.0f expected).</li>\n", x->u.burst.expected);
		} else if (x->kind == VS_FIND_ACTION_TRIGGERED) {
			vs_buf_adds(b, "<li>After <b>");
			h(b, x->u.action.action);
			vs_buf_addf(b, "</b>, the code turned %s within minutes %" PRIu64 " times out of %"
				    PRIu64 " (%.2g expected by chance).</li>\n",
				    vs_color_name(x->u.action.color), x->u.action.count,
				    x->u.action.actions, x->u.action.expected);
		}
	}
	const struct vs_finding *house = NULL, *remote = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct vs_finding *x = vs_findings_get(f, i);
		if (!house && x->kind == VS_FIND_HOUSEHOLD_DISCORDANCE)
			house = x;
		if (!remote && x->kind == VS_FIND_REMOTE_SCAN)
			remote = x;
	}
	if (house) {
		vs_buf_addf(b, "<li><b>%" PRIu64 "</b> times, two people of one household who had "
			    "been in exactly the same places got different colours. The first: at ",
			    s->count[VS_FIND_HOUSEHOLD_DISCORDANCE]);
		add_time(b, house->ts, house->offset_min);
		vs_buf_adds(b, ", <b>");
		h(b, house->u.household.persons[0]);
		vs_buf_adds(b, "</b> turned ");
		html_color(b, house->u.household.colors[0]);
		vs_buf_adds(b, " while <b>");
		h(b, house->u.household.persons[1]);
		vs_buf_adds(b, "</b>, who lives with them, was ");
		html_color(b, house->u.household.colors[1]);
		vs_buf_adds(b, ".</li>\n");
	}
	if (remote) {
		vs_buf_addf(b, "<li><b>%" PRIu64 "</b> scans were made more than %g km from the venue "
			    "scanned: photos of its code, sent on. The first: <b>",
			    s->count[VS_FIND_REMOTE_SCAN], s->remote_km);
		h(b, remote->person_id);
		vs_buf_adds(b, "</b> scanned the code of <b>");
		h(b, remote->u.remote.venue_name);
		vs_buf_adds(b, "</b> (");
		h(b, remote->u.remote.venue_area);
		vs_buf_adds(b, ") from ");
		h(b, remote->u.remote.device_area);
		vs_buf_addf(b, ", %.0f km away.</li>\n", remote->u.remote.distance_km);
	}
	if (s->count[VS_FIND_REASON_MISMATCH])
		vs_buf_addf(b, "<li><b>%" PRIu64 "</b> changes showed a reason (entry from abroad, a "
			    "high-risk area, ...) that the person's own records contradict.</li>\n",
			    s->count[VS_FIND_REASON_MISMATCH]);
	vs_buf_adds(b, "</ul>\n");
}

/* The UTC offset to draw times in: that of the first timed finding, else UTC. */
static int chart_offset(const struct vs_findings *f)
{
	for (size_t i = 0; i < vs_findings_count(f); i++)
		if (vs_findings_get(f, i)->ts)
			return vs_findings_get(f, i)->offset_min;
	return 0;
}

static int write_html(FILE *out, const struct vs_findings *f, const char *title)
{
	const struct vs_detect_summary *s = vs_findings_summary(f);
	struct vs_buf b = VS_BUF_INIT;
	size_t n = vs_findings_count(f);
	int rc;

	vs_buf_adds(&b, html_head);
	vs_buf_adds(&b, "<h1>Do code colours follow the rules, or the person?</h1>\n<p class=\"sub\">");
	vs_buf_adds(&b, "Dataset <b>");
	h(&b, title ? title : "");
	vs_buf_adds(&b, "</b> checked against the published rules <b>");
	h(&b, s->rules_name);
	vs_buf_addf(&b, "</b> by venuescan detect.</p>\n<div class=\"verdict %s\">%s</div>\n",
		    s->anything_flagged ? "bad" : "good",
		    s->anything_flagged ? "<b>Flagged.</b> Some code changes follow who people are, "
		    "not where they were or what they were exposed to."
		    : "<b>Nothing flagged.</b> Every pattern found is within what the published "
		    "rules and chance explain.");
	vs_buf_adds(&b, "<div class=\"cards\">");
	vs_buf_addf(&b, "<div class=\"card\"><b>%" PRIu64 "</b>persons</div>", s->persons);
	vs_buf_addf(&b, "<div class=\"card\"><b>%" PRIu64 "</b>events</div>", s->events);
	vs_buf_addf(&b, "<div class=\"card\"><b>%" PRIu64 "</b>changes to red/yellow</div>",
		    s->changes_red_yellow);
	vs_buf_addf(&b, "<div class=\"card\"><b>%" PRIu64 "</b>explained by no rule</div>",
		    s->unexplained);
	vs_buf_addf(&b, "<div class=\"card\"><b>%" PRIu64 "</b>household pairs</div>",
		    s->count[VS_FIND_HOUSEHOLD_DISCORDANCE]);
	vs_buf_addf(&b, "<div class=\"card\"><b>%" PRIu64 "</b>remote scans</div>",
		    s->count[VS_FIND_REMOTE_SCAN]);
	vs_buf_adds(&b, "</div>\n");
	html_story(&b, f);

	/* association */
	vs_buf_adds(&b, "<h2>Which identity do the unexplained changes follow?</h2>\n<p class=\"note\">"
		    "For every attribute value: the share of its holders who got a change to red or "
		    "yellow that no published rule explains, against everyone else, compared "
		    "within the same area (Mantel&ndash;Haenszel). The strongest significant excess "
		    "is flagged, then the others are tested again within it, so a value that only "
		    "rides along (an age band beside depositors) is not flagged.</p>\n"
		    "<table><tr><th>attribute value</th><th>with it: unexplained</th><th>without "
		    "it</th><th>odds ratio [95% CI]</th><th>p</th><th>q</th><th>tested within</th>"
		    "<th>verdict</th></tr>\n");
	uint64_t rows = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct vs_finding *x = vs_findings_get(f, i);
			const struct vs_association *a = &x->u.assoc;
			double rw, ro;
			if (x->kind != VS_FIND_ASSOCIATION || a->flagged != (pass == 0))
				continue;
			if (pass == 1 && rows++ >= HTML_LIST_MAX)
				continue;
			rw = percent(a->outcomes_with, a->persons_with) / 100;
			ro = percent(a->outcomes_without, a->persons_without) / 100;
			vs_buf_addf(&b, "<tr%s><td>", a->flagged ? " class=\"flag\"" : "");
			h(&b, a->attribute);
			vs_buf_adds(&b, "=");
			h(&b, a->value);
			vs_buf_addf(&b, "</td><td class=\"n\">%" PRIu64 " / %" PRIu64 " (%.1f%%) "
				    "<span class=\"bar\" style=\"width:%.1fpx\"></span></td>"
				    "<td class=\"n\">%" PRIu64 " / %" PRIu64 " (%.1f%%) <span class=\"bar o\" "
				    "style=\"width:%.1fpx\"></span></td><td class=\"n\">",
				    a->outcomes_with, a->persons_with, 100 * rw, 80 * rw,
				    a->outcomes_without, a->persons_without, 100 * ro, 80 * ro);
			html_num(&b, a->mh.odds_ratio, a->mh.odds_ratio_defined);
			vs_buf_adds(&b, " [");
			html_num(&b, a->mh.ci_low, a->mh.ci_defined);
			vs_buf_adds(&b, ", ");
			html_num(&b, a->mh.ci_high, a->mh.ci_defined);
			vs_buf_adds(&b, "]</td><td class=\"n\">");
			if (a->mh.statistic_defined && a->mh.p_value == 0)
				vs_buf_adds(&b, "&lt;1e-300");
			else
				html_num(&b, a->mh.p_value, a->mh.statistic_defined);
			vs_buf_adds(&b, "</td><td class=\"n\">");
			if (!isnan(a->q_value) && a->q_value == 0)
				vs_buf_adds(&b, "&lt;1e-300");
			else
				html_num(&b, a->q_value, !isnan(a->q_value));
			vs_buf_adds(&b, "</td><td>");
			vs_buf_addf(&b, "area (%zu strata)", a->strata);
			for (size_t c = 0; c < a->nconditioned; c++) {
				vs_buf_adds(&b, " &times; ");
				h(&b, a->conditioned_on[c]);
			}
			vs_buf_addf(&b, "</td><td>%s</td></tr>\n",
				    a->flagged ? "FLAGGED" : "&ndash;");
		}
	vs_buf_adds(&b, "</table>\n");
	if (rows > HTML_LIST_MAX)
		vs_buf_addf(&b, "<p class=\"note\">&hellip; and %" PRIu64 " more values, none flagged "
			    "(<code>venuescan detect --format jsonl</code> lists every one).</p>\n",
			    rows - HTML_LIST_MAX);
	if ((rc = flush(out, &b)) != 0)
		goto out;
	html_chart(&b, f, chart_offset(f));

	static const struct {
		enum vs_finding_kind kind;
		const char *title, *note;
	} sections[] = {
		{ VS_FIND_HOUSEHOLD_DISCORDANCE, "Same house, same places, different colour",
		  "Two people of one household who were in exactly the same areas over the 14 days "
		  "before, yet one got a change no rule explains and the other did not." },
		{ VS_FIND_REMOTE_SCAN, "Scans far from the venue",
		  "The phone was far from the venue it scanned: a photo of the code, forwarded." },
		{ VS_FIND_BURST, "Bursts", "Many changes in one hour with nothing in the rules to "
		  "explain them." },
		{ VS_FIND_ACTION_TRIGGERED, "Changes that follow an action, not health",
		  "Colour changes that come within minutes of a non-health act far more often than "
		  "chance." },
		{ VS_FIND_REASON_MISMATCH, "Reasons the facts contradict",
		  "The reason shown names a category (entry, high-risk area, contact, positive "
		  "test) that no fact of the person supports." },
		{ VS_FIND_UNEXPLAINED_CODE, "Changes no published rule explains",
		  "Every change to red or yellow with no fact within the rule's window." },
	};
	for (size_t k = 0; k < sizeof(sections) / sizeof(sections[0]); k++) {
		uint64_t total = s->count[sections[k].kind], shown = 0;
		vs_buf_addf(&b, "<h2>%s: %" PRIu64 "</h2>\n<p class=\"note\">%s</p>\n",
			    sections[k].title, total, sections[k].note);
		if (!total)
			continue;
		vs_buf_adds(&b, "<table>\n");
		switch (sections[k].kind) {
		case VS_FIND_HOUSEHOLD_DISCORDANCE:
			vs_buf_adds(&b, "<tr><th>time</th><th>household</th><th>changed</th>"
				    "<th>housemate</th></tr>\n");
			break;
		case VS_FIND_REMOTE_SCAN:
			vs_buf_adds(&b, "<tr><th>time</th><th>person</th><th>venue</th>"
				    "<th>phone in</th><th>distance</th></tr>\n");
			break;
		case VS_FIND_BURST:
			vs_buf_adds(&b, "<tr><th>from</th><th>to</th><th>direction</th>"
				    "<th>changes</th><th>expected</th></tr>\n");
			break;
		case VS_FIND_ACTION_TRIGGERED:
			vs_buf_adds(&b, "<tr><th>action</th><th>then</th><th>times</th>"
				    "<th>expected by chance</th><th>median delay</th></tr>\n");
			break;
		case VS_FIND_REASON_MISMATCH:
			vs_buf_adds(&b, "<tr><th>time</th><th>person</th><th>reason shown</th>"
				    "<th>claims</th><th>unsupported</th></tr>\n");
			break;
		default:
			vs_buf_adds(&b, "<tr><th>time</th><th>person</th><th>colour</th>"
				    "<th>reason shown</th><th>by</th><th>flagged group</th></tr>\n");
		}
		for (size_t i = 0; i < n && shown < HTML_LIST_MAX; i++) {
			const struct vs_finding *x = vs_findings_get(f, i);
			if (x->kind != sections[k].kind)
				continue;
			shown++;
			vs_buf_adds(&b, "<tr>");
			if (x->kind != VS_FIND_ACTION_TRIGGERED) {
				vs_buf_adds(&b, "<td class=\"t\">");
				add_time(&b, x->ts, x->offset_min);
				vs_buf_adds(&b, "</td>");
			}
			switch (x->kind) {
			case VS_FIND_HOUSEHOLD_DISCORDANCE:
				vs_buf_adds(&b, "<td>");
				h(&b, x->u.household.household_id);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.household.persons[0]);
				vs_buf_adds(&b, " ");
				html_color(&b, x->u.household.colors[0]);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.household.persons[1]);
				vs_buf_adds(&b, " ");
				html_color(&b, x->u.household.colors[1]);
				vs_buf_adds(&b, "</td>");
				break;
			case VS_FIND_REMOTE_SCAN:
				vs_buf_adds(&b, "<td>");
				h(&b, x->person_id);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.remote.venue_name);
				vs_buf_adds(&b, " (");
				h(&b, x->u.remote.venue_area);
				vs_buf_adds(&b, ")</td><td>");
				h(&b, x->u.remote.device_area);
				vs_buf_addf(&b, "</td><td class=\"n\">%.1f km</td>",
					    x->u.remote.distance_km);
				break;
			case VS_FIND_BURST:
				vs_buf_adds(&b, "<td class=\"t\">");
				add_time(&b, x->u.burst.end, x->u.burst.end_offset_min);
				vs_buf_addf(&b, "</td><td>%s</td><td class=\"n\">%" PRIu64 "</td>"
					    "<td class=\"n\">%.3g</td>", x->u.burst.to_red ?
					    "<span class=\"red\">to red</span>" :
					    "<span class=\"green\">to green</span>",
					    x->u.burst.changes, x->u.burst.expected);
				break;
			case VS_FIND_ACTION_TRIGGERED:
				vs_buf_adds(&b, "<td>");
				h(&b, x->u.action.action);
				vs_buf_adds(&b, "</td><td>");
				html_color(&b, x->u.action.color);
				vs_buf_addf(&b, "</td><td class=\"n\">%" PRIu64 " of %" PRIu64 "</td>"
					    "<td class=\"n\">%.3g</td><td class=\"n\">%.0f s</td>",
					    x->u.action.count, x->u.action.actions, x->u.action.expected,
					    x->u.action.median_delay_s);
				break;
			case VS_FIND_REASON_MISMATCH:
				vs_buf_adds(&b, "<td>");
				h(&b, x->person_id);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.mismatch.reason);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.mismatch.claimed);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.mismatch.unsupported);
				vs_buf_adds(&b, "</td>");
				break;
			default:
				vs_buf_adds(&b, "<td>");
				h(&b, x->person_id);
				vs_buf_adds(&b, "</td><td>");
				html_color(&b, x->u.code.color);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.code.reason);
				vs_buf_adds(&b, "</td><td>");
				h(&b, x->u.code.authority);
				vs_buf_addf(&b, "</td><td>%s</td>", x->u.code.flagged ? "yes" : "");
			}
			vs_buf_adds(&b, "</tr>\n");
		}
		vs_buf_adds(&b, "</table>\n");
		if (total > shown)
			vs_buf_addf(&b, "<p class=\"note\">&hellip; and %" PRIu64 " more "
				    "(<code>venuescan detect --format jsonl</code> lists every one).</p>\n",
				    total - shown);
		if ((rc = flush(out, &b)) != 0)
			goto out;
	}
	vs_buf_adds(&b, "<h2>What this cannot see</h2>\n<p class=\"note\">Only what the logs "
		    "hold: a fact that never reached the logs looks like no fact, an attribute "
		    "not in persons.csv cannot be named, and an association is evidence of "
		    "targeting, not proof of intent. docs/DETECTOR.md gives every definition and "
		    "threshold.</p>\n</body>\n</html>\n");
	rc = flush(out, &b);
out:
	vs_buf_release(&b);
	return rc;
}

int vs_report_write(FILE *out, const struct vs_findings *f, enum vs_report_format fmt,
		    const char *title)
{
	switch (fmt) {
	case VS_REPORT_JSONL:
		return write_jsonl(out, f);
	case VS_REPORT_HTML:
		return write_html(out, f, title);
	default:
		return write_text(out, f, title);
	}
}

/* ---- eval's scores --------------------------------------------------------------- */

static void eval_num(struct vs_buf *b, double x)
{
	vs_stats_add_json_number(b, x, !isnan(x));
}

static int eval_json(FILE *out, const struct vs_eval *e)
{
	struct vs_buf b = VS_BUF_INIT;
	int rc;

	vs_buf_addf(&b, "{\"changes\":%" PRIu64 ",\"tp\":%" PRIu64 ",\"fp\":%" PRIu64
		    ",\"fn\":%" PRIu64 ",\"tn\":%" PRIu64 ",\"precision\":", e->changes, e->tp,
		    e->fp, e->fn, e->tn);
	eval_num(&b, e->precision);
	vs_buf_adds(&b, ",\"recall\":");
	eval_num(&b, e->recall);
	vs_buf_addf(&b, ",\"unlabelled\":%" PRIu64 ",\"labels\":%" PRIu64 ",\"misuse_labels\":%"
		    PRIu64 ",\"misuse_not_scored\":%" PRIu64 ",\"misuse_rules\":[", e->unlabelled,
		    e->labels, e->misuse_labels, e->misuse_not_scored);
	for (size_t i = 0; i < e->nrules; i++) {
		vs_buf_adds(&b, i ? ",{\"rule\":" : "{\"rule\":");
		vs_buf_add_json_string(&b, e->rules[i].name, strlen(e->rules[i].name));
		vs_buf_addf(&b, ",\"persons\":%" PRIu64 ",\"value\":", e->rules[i].persons);
		vs_buf_add_json_string(&b, e->rules[i].value, strlen(e->rules[i].value));
		vs_buf_addc(&b, '}');
	}
	vs_buf_addf(&b, "],\"attributes\":{\"tp\":%" PRIu64 ",\"fp\":%" PRIu64 ",\"fn\":%" PRIu64
		    ",\"values\":[", e->attr_tp, e->attr_fp, e->attr_fn);
	for (size_t i = 0; i < e->nvalues; i++) {
		const struct vs_eval_value *v = &e->values[i];
		vs_buf_adds(&b, i ? ",{\"value\":" : "{\"value\":");
		vs_buf_add_json_string(&b, v->value, strlen(v->value));
		vs_buf_addf(&b, ",\"flagged\":%s,\"expected\":%s,\"holders\":%" PRIu64
			    ",\"misuse_holders\":%" PRIu64 "}", v->flagged ? "true" : "false",
			    v->expected ? "true" : "false", v->holders, v->misuse_holders);
	}
	vs_buf_adds(&b, "]}}\n");
	rc = flush(out, &b);
	vs_buf_release(&b);
	return rc;
}

static int eval_text(FILE *out, const struct vs_eval *e, const char *dir)
{
	fprintf(out, "venuescan eval: %s\n\n", dir);
	fprintf(out, "changes to red or yellow: %" PRIu64 " (%" PRIu64 " without a label row)\n",
	       e->changes, e->unlabelled);
	fprintf(out, "                      label misuse   label published\n");
	fprintf(out, "  unexplained     %14" PRIu64 " %17" PRIu64 "\n", e->tp, e->fp);
	fprintf(out, "  explained       %14" PRIu64 " %17" PRIu64 "\n", e->fn, e->tn);
	fprintf(out, "precision %.4f  recall %.4f\n", e->precision, e->recall);
	fprintf(out, "(%" PRIu64 " misuse labels are on settings that are not changes to red or yellow:\n"
	       " a colour set again, or a change to green; they are not scored)\n",
	       e->misuse_not_scored);
	fprintf(out, "\nmisuse rules and the attribute value each used:\n");
	for (size_t i = 0; i < e->nrules; i++)
		fprintf(out, "  misuse:%s  %" PRIu64 " persons  %s\n", e->rules[i].name,
		       e->rules[i].persons,
		       *e->rules[i].value ? e->rules[i].value
		       : e->rules[i].persons ? "(no value held by 95% of them)"
		       : "(labels no change to red or yellow)");
	fprintf(out, "\nattribute values: %" PRIu64 " flagged and used, %" PRIu64 " flagged but not "
	       "used, %" PRIu64 " used but not flagged\n", e->attr_tp, e->attr_fp, e->attr_fn);
	for (size_t i = 0; i < e->nvalues; i++) {
		const struct vs_eval_value *v = &e->values[i];
		if (!v->flagged && !v->expected)
			continue;
		fprintf(out, "  %-40s %s %s\n", v->value, v->flagged ? "flagged" : "missed ",
		       v->expected ? "(used by a misuse rule)" : "(NOT used by any misuse rule)");
	}
	if (fflush(out) != 0 || ferror(out))
		return vs_error_set(VS_EIO, "error writing the scores: %s", strerror(errno ? errno : EIO));
	return 0;
}

int vs_report_write_eval(FILE *out, const struct vs_eval *e, int json, const char *title)
{
	return json ? eval_json(out, e) : eval_text(out, e, title);
}

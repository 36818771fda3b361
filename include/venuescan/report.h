/*
 * Rendering the detector's findings: JSON lines (the contract of SPEC §7, one object per
 * finding and a final summary), plain text for a person at a terminal, and one
 * self-contained HTML page (inline CSS and SVG, no external assets) that an educator can
 * show to a class.  Output is byte-identical for identical findings.
 */
#ifndef VENUESCAN_REPORT_H
#define VENUESCAN_REPORT_H

#include <stdio.h>

#include "venuescan/detect.h"

enum vs_report_format { VS_REPORT_TEXT, VS_REPORT_JSONL, VS_REPORT_HTML };

/* "text", "jsonl" or "html"; VS_EINVAL otherwise. */
int vs_report_format_parse(const char *s, enum vs_report_format *out);

/*
 * Write the findings to out in format fmt; title names the dataset (e.g. its folder) in
 * the text and HTML forms.  Fails with VS_EIO when writing fails.
 */
int vs_report_write(FILE *out, const struct vs_findings *f, enum vs_report_format fmt,
		    const char *title);

/*
 * Write eval's scores (vs_eval_score) to out: text for people, or one JSON object when
 * json is set; title names the dataset.  Fails with VS_EIO when writing fails.
 */
int vs_report_write_eval(FILE *out, const struct vs_eval *e, int json, const char *title);

#endif

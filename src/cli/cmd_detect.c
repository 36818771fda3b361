/*
 * `venuescan detect DIR`: audit a dataset for code changes that follow identity instead
 * of location or exposure (SPEC §7).  The detector is detect.h, the rendering report.h;
 * this file parses flags, loads the rules, writes the report (to standard output, or
 * atomically to --out) and turns the verdict into the exit status.
 */
#include <stdio.h>
#include <string.h>

#include "venuescan/detect.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/report.h"
#include "venuescan/rules.h"
#include "cli.h"

const char cmd_detect_help[] =
	"usage: venuescan detect DIR [--format text|jsonl|html] [--rules FILE] [--alpha A]\n"
	"                       [--remote-km KM] [--out FILE]\n"
	"\n"
	"Audit the dataset in folder DIR (persons.csv, events.csv; venues.csv and areas.csv\n"
	"when present) for code changes that follow a person's identity instead of their\n"
	"location or exposure.  Every change to red or yellow is checked against the\n"
	"published rules; every attribute value in persons.csv is tested, stepwise, for an\n"
	"excess of unexplained changes within the areas where people were (Mantel-Haenszel,\n"
	"Benjamini-Hochberg); same-household pairs with the same places and different\n"
	"colours, scans far from their venue, bursts of changes and changes that follow a\n"
	"non-health action are reported too.  labels.csv is never read.  docs/DETECTOR.md\n"
	"defines every finding.\n"
	"\n"
	"options:\n"
	"  --format F      text (default, for people), jsonl (one JSON object per finding\n"
	"                  and a final summary: the stable contract) or html (one\n"
	"                  self-contained page)\n"
	"  --rules FILE    the published rules to check against (docs/RULES.md); default\n"
	"                  the Henan 2021 rules (fixtures/rules/henan-2021.rules)\n"
	"  --alpha A       significance level for flagging, after Benjamini-Hochberg\n"
	"                  (default 0.01)\n"
	"  --remote-km KM  a scan with the phone this far from the venue is remote\n"
	"                  (default 5)\n"
	"  --out FILE      write the report to FILE (atomically) instead of standard output\n"
	"\n"
	"exit status: 0 nothing flagged; 1 something flagged (an attribute value, a\n"
	"household pair, a reason mismatch, a remote scan, a burst or an action-triggered\n"
	"change); 2 usage or input error (one line naming file, line and field; no output).\n";

int cmd_detect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		VS_CLI_DETECT_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	enum vs_report_format fmt = VS_REPORT_TEXT;
	const char *out_path = NULL;
	struct vs_cli_detect d;
	struct vs_outfile *of = NULL;
	int c, rc, status = VS_EXIT_ERROR;

	vs_cli_detect_init(&d, "detect");
	while ((c = vs_cli_getopt("detect", argc, argv, "", longopts)) != -1) {
		if (c == 'f') {
			if (vs_report_format_parse(optarg, &fmt) != 0) {
				vs_cli_usage("detect", "option '--format': %s", vs_error_message());
				goto out;
			}
		} else if (c == 'o') {
			out_path = optarg;
		} else if (vs_cli_detect_option(&d, c, optarg) != 0) {
			goto out;
		}
	}
	if ((status = vs_cli_detect_run(&d, argc, argv)) != 0)
		goto out;
	if (out_path) {
		rc = vs_outfile_open(&of, out_path, 0644);
		if (!rc && (rc = vs_report_write(vs_outfile_stream(of), d.findings, fmt, d.dir)) == 0) {
			rc = vs_outfile_commit(of);
			of = NULL;
		}
	} else {
		rc = vs_report_write(stdout, d.findings, fmt, d.dir);
	}
	if (rc)
		status = vs_cli_fail();
	else
		status = vs_findings_summary(d.findings)->anything_flagged ? VS_EXIT_FOUND
									  : VS_EXIT_OK;
out:
	vs_outfile_abort(of);
	vs_cli_detect_release(&d);
	return status;
}

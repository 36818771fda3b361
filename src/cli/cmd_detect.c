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
#include "venuescan/serve.h"
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
		{ "rules", required_argument, NULL, 'r' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "remote-km", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_detect_options opt = { NULL, NULL, VS_DETECT_ALPHA_DEFAULT,
					 VS_DETECT_REMOTE_KM_DEFAULT };
	enum vs_report_format fmt = VS_REPORT_TEXT;
	const char *rules_path = NULL, *out_path = NULL, *dir;
	struct vs_rule_set *rules = NULL;
	struct vs_findings *f = NULL;
	struct vs_outfile *of = NULL;
	int c, status = VS_EXIT_ERROR;

	while ((c = vs_cli_getopt("detect", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'f':
			if (vs_report_format_parse(optarg, &fmt) != 0) {
				vs_cli_usage("detect", "option '--format': %s", vs_error_message());
				goto out;
			}
			break;
		case 'r':
			rules_path = optarg;
			break;
		case 'a':
			if (vs_cli_double("detect", "--alpha", optarg, 1e-300, 0.5,
					  &opt.alpha) != 0)
				goto out;
			break;
		case 'k':
			if (vs_cli_double("detect", "--remote-km", optarg, 0.001, 20040,
					  &opt.remote_km) != 0)
				goto out;
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			goto out;
		}
	}
	if (optind >= argc) {
		vs_cli_usage("detect", "no dataset folder given");
		goto out;
	}
	if (optind + 1 < argc) {
		vs_cli_usage("detect", "one dataset folder only ('%s' is extra)", argv[optind + 1]);
		goto out;
	}
	dir = argv[optind];
	if ((rules_path ? vs_rules_load(rules_path, &rules)
			: vs_serve_default_rules(&rules)) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	opt.rules = rules;
	opt.rules_name = rules_path ? rules_path : "henan-2021 (built in)";
	if (vs_detect_run(dir, &opt, &f) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	if (out_path) {
		if (vs_outfile_open(&of, out_path, 0644) != 0 ||
		    vs_report_write(vs_outfile_stream(of), f, fmt, dir) != 0) {
			status = vs_cli_fail();
			goto out;
		}
		c = vs_outfile_commit(of);
		of = NULL;
		if (c != 0) {
			status = vs_cli_fail();
			goto out;
		}
	} else if (vs_report_write(stdout, f, fmt, dir) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	status = vs_findings_summary(f)->anything_flagged ? VS_EXIT_FOUND : VS_EXIT_OK;
out:
	vs_outfile_abort(of);
	vs_findings_free(f);
	vs_rules_free(rules);
	return status;
}

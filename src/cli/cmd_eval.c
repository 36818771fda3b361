/*
 * `venuescan eval DIR`: run the detector on a simulated dataset and score it against the
 * dataset's ground truth, DIR/labels.csv (detect.h: vs_eval_score), printed by report.h
 * as text or one JSON object.
 */
#include <stdio.h>
#include <string.h>

#include "venuescan/detect.h"
#include "venuescan/report.h"
#include "cli.h"

const char cmd_eval_help[] =
	"usage: venuescan eval DIR [--format text|json] [--rules FILE] [--alpha A]\n"
	"                     [--remote-km KM]\n"
	"\n"
	"Run detect on the dataset in folder DIR and score it against DIR/labels.csv, the\n"
	"simulator's ground truth: precision and recall of the changes to red or yellow it\n"
	"found unexplained (a true positive is one labelled misuse:*), a confusion table,\n"
	"and the attribute values it flagged against those the misuse rules used (inferred\n"
	"from which persons each misuse rule labelled; see docs/DETECTOR.md).\n"
	"\n"
	"options:\n"
	"  --format F      text (default) or json (one object)\n"
	"  --rules FILE    the published rules, as for detect\n"
	"  --alpha A       significance level, as for detect (default 0.01)\n"
	"  --remote-km KM  remote-scan distance, as for detect (default 5)\n"
	"\n"
	"exit status: 0 scored; 2 usage or input error (a bad or missing labels.csv too).\n";

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		VS_CLI_DETECT_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct vs_cli_detect d;
	struct vs_eval e;
	int c, json = 0, have_eval = 0, status = VS_EXIT_ERROR;

	vs_cli_detect_init(&d, "eval");
	while ((c = vs_cli_getopt("eval", argc, argv, "", longopts)) != -1) {
		if (c == 'f') {
			if (!strcmp(optarg, "json")) {
				json = 1;
			} else if (strcmp(optarg, "text")) {
				vs_cli_usage("eval", "option '--format': unknown format '%s' "
					     "(text or json)", optarg);
				goto out;
			}
		} else if (vs_cli_detect_option(&d, c, optarg) != 0) {
			goto out;
		}
	}
	if ((status = vs_cli_detect_run(&d, argc, argv)) != 0)
		goto out;
	if (vs_eval_score(d.dir, d.findings, &e) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	have_eval = 1;
	status = vs_report_write_eval(stdout, &e, json, d.dir) ? vs_cli_fail() : VS_EXIT_OK;
out:
	if (have_eval)
		vs_eval_release(&e);
	vs_cli_detect_release(&d);
	return status;
}

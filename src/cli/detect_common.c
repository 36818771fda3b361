/*
 * The part of the command line that detect and eval share: the detector's flags, the
 * dataset folder argument, the rules (a file or the built-in published ones), and the run.
 */
#include <stdio.h>

#include "venuescan/detect.h"
#include "venuescan/rules.h"
#include "cli.h"

void vs_cli_detect_init(struct vs_cli_detect *d, const char *cmd)
{
	d->cmd = cmd;
	d->rules_path = NULL;
	d->alpha = VS_DETECT_ALPHA_DEFAULT;
	d->remote_km = VS_DETECT_REMOTE_KM_DEFAULT;
	d->dir = NULL;
	d->rules = NULL;
	d->findings = NULL;
}

int vs_cli_detect_option(struct vs_cli_detect *d, int c, const char *arg)
{
	switch (c) {
	case 'r':
		d->rules_path = arg;
		return 0;
	case 'a':
		return vs_cli_double(d->cmd, "--alpha", arg, 1e-300, 0.5, &d->alpha) ? -1 : 0;
	case 'k':
		return vs_cli_double(d->cmd, "--remote-km", arg, 0.001, 20040, &d->remote_km) ? -1 : 0;
	}
	return 1;
}

int vs_cli_detect_run(struct vs_cli_detect *d, int argc, char **argv)
{
	struct vs_detect_options opt;

	if (optind >= argc)
		return vs_cli_usage(d->cmd, "no dataset folder given");
	if (optind + 1 < argc)
		return vs_cli_usage(d->cmd, "one dataset folder only ('%s' is extra)",
				    argv[optind + 1]);
	d->dir = argv[optind];
	if ((d->rules_path ? vs_rules_load(d->rules_path, &d->rules)
			   : vs_rules_default(&d->rules)) != 0)
		return vs_cli_fail();
	opt.rules = d->rules;
	opt.rules_name = d->rules_path ? d->rules_path : VS_RULES_DEFAULT_NAME;
	opt.alpha = d->alpha;
	opt.remote_km = d->remote_km;
	if (vs_detect_run(d->dir, &opt, &d->findings) != 0)
		return vs_cli_fail();
	return 0;
}

void vs_cli_detect_release(struct vs_cli_detect *d)
{
	vs_findings_free(d->findings);
	vs_rules_free(d->rules);
	d->findings = NULL;
	d->rules = NULL;
}

/*
 * `venuescan demo`: the Zhengzhou case end to end (demo.h does it), with the reference
 * scenario found in the source tree or where `make install` put it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "venuescan/demo.h"
#include "venuescan/error.h"
#include "cli.h"

#define CMD "demo"
#define SCENARIO "scenarios/zhengzhou-2022-06.ini"

const char cmd_demo_help[] =
	"usage: venuescan demo [--out DIR] [--scenario FILE] [--seed N] [--persons N]\n"
	"\n"
	"Reproduce the Zhengzhou case of June 2022 end to end and write it to DIR: an issuer\n"
	"key; the signed venue code of the railway station's south-west exit as a poster and as\n"
	"a forwarded photo, both scanned; the reference scenario simulated (dataset/); the\n"
	"detector's findings (findings.jsonl, report.html); and index.html, a page for a class:\n"
	"the code, the photo, two people of one house who scanned the same code and got\n"
	"different colours, and the detector's verdict.  DIR is written whole or not at all.\n"
	"\n"
	"options:\n"
	"  --out DIR        folder to write (default: demo); replaced if it is an earlier demo\n"
	"  --scenario FILE  the scenario (default: fixtures/" SCENARIO " in the source tree,\n"
	"                   else " VS_DATADIR "/" SCENARIO ")\n"
	"  --seed N         the simulation's seed (default: the scenario's)\n"
	"  --persons N      population size (default: the scenario's)\n"
	"  --help           show this help\n"
	"\n"
	"exit status: 0 done, 2 error.\n";

static const char *default_scenario(void)
{
	static const char *const places[] = { "fixtures/" SCENARIO, VS_DATADIR "/" SCENARIO };

	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (access(places[i], R_OK) == 0)
			return places[i];
	return places[0]; /* the error will name it */
}

int cmd_demo(int argc, char **argv)
{
	enum { O_OUT = 256, O_SCENARIO, O_SEED, O_PERSONS };
	static const struct option opts[] = {
		{ "out", required_argument, NULL, O_OUT },
		{ "scenario", required_argument, NULL, O_SCENARIO },
		{ "seed", required_argument, NULL, O_SEED },
		{ "persons", required_argument, NULL, O_PERSONS },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_demo_options o = { NULL, 0, 0, 0 };
	struct vs_demo_result res;
	const char *out = "demo";
	int c;

	while ((c = vs_cli_getopt(CMD, argc, argv, "", opts)) != -1) {
		switch (c) {
		case O_OUT: out = optarg; break;
		case O_SCENARIO: o.scenario = optarg; break;
		case O_SEED:
			if (vs_cli_u64(CMD, "--seed", optarg, &o.seed))
				return VS_EXIT_ERROR;
			o.has_seed = 1;
			break;
		case O_PERSONS:
			if (vs_cli_u64(CMD, "--persons", optarg, &o.persons))
				return VS_EXIT_ERROR;
			break;
		default:
			return VS_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return vs_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!o.scenario)
		o.scenario = default_scenario();
	if (vs_demo_run(&o, out, stdout, &res) != 0)
		return vs_cli_fail();
	return VS_EXIT_OK;
}

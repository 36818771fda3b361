/*
 * `venuescan simulate`: load a scenario (scenario.h) and write its dataset (sim.h).  The
 * command parses flags, prints a one-line summary on stdout and leaves the work to the
 * library; a bad scenario is one "FILE:LINE: ..." line on stderr, exit 2, no output folder.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "venuescan/error.h"
#include "venuescan/scenario.h"
#include "venuescan/sim.h"
#include "cli.h"

#define CMD "simulate"

const char cmd_simulate_help[] =
	"usage: venuescan simulate --scenario FILE [--seed N] [--persons N] --out DIR\n"
	"                          [--threads N] [--sqlite FILE] [--quiet]\n"
	"\n"
	"Simulate a population scanning venue codes under the published rules and the\n"
	"scenario's misuse rules (docs/SCENARIOS.md), and write a dataset v1 folder: persons.csv,\n"
	"venues.csv, areas.csv, events.csv, labels.csv (which rule caused each code change) and\n"
	"manifest.json.  The same scenario and seed give byte-identical files for any thread\n"
	"count.  The folder is written whole or not at all.  On success one line is printed:\n"
	"persons, households, events, labels and bytes written.  A progress line is shown on\n"
	"standard error when it is a terminal.\n"
	"\n"
	"options:\n"
	"  --scenario FILE    the scenario, e.g. fixtures/scenarios/zhengzhou-2022-06.ini\n"
	"  --seed N           random seed (default: the scenario's seed)\n"
	"  --persons N        population size (default: the scenario's persons)\n"
	"  --out DIR          the dataset folder to write (replaced if it holds a dataset)\n"
	"  --threads N        worker threads, 1-64 (default: VS_SIM_THREADS or 2)\n"
	"  --sqlite FILE      also write the tables into this SQLite database\n"
	"  --quiet            no progress line even on a terminal\n"
	"  --help             show this help\n"
	"\n"
	"exit status: 0 written, 2 usage error or bad scenario (nothing written).\n";

int cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "persons", required_argument, NULL, 'p' },
		{ "out", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "sqlite", required_argument, NULL, 'q' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_sim_options o = { 0 };
	struct vs_sim_stats st;
	struct vs_scenario *s = NULL;
	const char *scenario = NULL, *out = NULL;
	long n;
	int c, quiet = 0, status = VS_EXIT_OK;

	while ((c = vs_cli_getopt(CMD, argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'c':
			scenario = optarg;
			break;
		case 's':
			if (vs_cli_u64(CMD, "--seed", optarg, &o.seed))
				return VS_EXIT_ERROR;
			o.has_seed = 1;
			break;
		case 'p':
			if (vs_cli_long(CMD, "--persons", optarg, 1, 100000000, &n))
				return VS_EXIT_ERROR;
			o.persons = (uint64_t)n;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (vs_cli_long(CMD, "--threads", optarg, 1, 64, &n))
				return VS_EXIT_ERROR;
			o.threads = (unsigned)n;
			break;
		case 'q':
			o.sqlite_path = optarg;
			break;
		case 'Q':
			quiet = 1;
			break;
		default:
			return VS_EXIT_ERROR;
		}
	}
	if (optind != argc)
		return vs_cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!scenario)
		return vs_cli_usage(CMD, "needs --scenario FILE");
	if (!out)
		return vs_cli_usage(CMD, "needs --out DIR");
	o.progress = !quiet && isatty(2);
	if (vs_scenario_load(scenario, &s) != 0 || vs_simulate(s, &o, out, &st) != 0) {
		status = vs_cli_fail();
	} else {
		printf("%s: %" PRIu64 " persons, %" PRIu64 " households, %" PRIu64 " events, %" PRIu64
		       " labels, %" PRIu64 " bytes\n", out, st.persons, st.households, st.events,
		       st.labels, st.bytes);
	}
	vs_scenario_free(s);
	return status;
}

/*
 * `venuescan replay`: drive a code service with a dataset's scans and check every answer
 * against the published rules.  Parses flags, calls vs_replay_run, prints the report.
 */
#include <stdio.h>
#include <string.h>

#include "venuescan/replay.h"
#include "cli.h"

const char cmd_replay_help[] =
	"usage: venuescan replay DIR --target URL [--concurrency N] [--rate R] [OPTIONS]\n"
	"       venuescan replay --get PATH --target URL [--requests N] [OPTIONS]\n"
	"\n"
	"Post the scans of dataset DIR to the code service at URL (POST URL/v1/scan) in time\n"
	"order, each with a venue code signed by its issuer's key, N requests in flight on\n"
	"kept-alive connections.  Prints scans/s, errors by kind, latency percentiles (a\n"
	"log-bucketed histogram), and how many answered colours disagree with the published\n"
	"rules run locally on the same scans, with examples.  With --rate, latency is measured\n"
	"from each request's intended send time, so a stalled server cannot hide its latency\n"
	"(coordinated omission).  With --get, GET PATH repeatedly instead (no dataset): the\n"
	"load generator's own ceiling, to compare with wrk.\n"
	"\n"
	"options:\n"
	"  --target URL        base URL of the service, e.g. http://127.0.0.1:8080\n"
	"  --concurrency N     requests in flight (default 32)\n"
	"  --threads N         driving threads sharing them, persons split between them\n"
	"                      (default 1)\n"
	"  --rate R            send R requests per second on a fixed schedule (default: as\n"
	"                      fast as answers come)\n"
	"  --duration S        stop sending after S seconds (default: when the scans end)\n"
	"  --requests N        send at most N requests (default: every scan; --get: 100000)\n"
	"  --token T           send 'Authorization: Bearer T' with every request\n"
	"  --keys DIR          issuer secret keys (*.key) to sign venue codes with (default\n"
	"                      DIR/keys); a venue uses the only key, or its province's\n"
	"  --rules FILE        rules to check answers against (default: the published rules)\n"
	"  --get PATH          GET PATH instead of posting scans\n"
	"  --format FORMAT     text (default) or json\n"
	"\n"
	"exit status: 0 every answered colour agrees with the rules; 1 some disagree; 2 usage\n"
	"or input error, or no request was answered at all.\n";

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'j' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "token", required_argument, NULL, 'T' },
		{ "keys", required_argument, NULL, 'k' },
		{ "rules", required_argument, NULL, 'R' },
		{ "get", required_argument, NULL, 'g' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_replay_config cfg = { 0 };
	struct vs_replay_result res;
	const char *format = "text";
	long v;
	int c, status;

	while ((c = vs_cli_getopt("replay", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 't': cfg.target = optarg; break;
		case 'c':
			if (vs_cli_long("replay", "--concurrency", optarg, 1, 10000, &v))
				return VS_EXIT_ERROR;
			cfg.concurrency = (unsigned)v;
			break;
		case 'j':
			if (vs_cli_long("replay", "--threads", optarg, 1, 64, &v))
				return VS_EXIT_ERROR;
			cfg.threads = (unsigned)v;
			break;
		case 'r':
			if (vs_cli_double("replay", "--rate", optarg, 0.001, 1e7, &cfg.rate))
				return VS_EXIT_ERROR;
			break;
		case 'd':
			if (vs_cli_double("replay", "--duration", optarg, 0.001, 1e6,
					  &cfg.duration_s))
				return VS_EXIT_ERROR;
			break;
		case 'n':
			if (vs_cli_u64("replay", "--requests", optarg, &cfg.max_requests))
				return VS_EXIT_ERROR;
			break;
		case 'T': cfg.token = optarg; break;
		case 'k': cfg.keys_dir = optarg; break;
		case 'R': cfg.rules_path = optarg; break;
		case 'g':
			if (optarg[0] != '/')
				return vs_cli_usage("replay", "option '--get': '%s' does not start"
						    " with '/'", optarg);
			cfg.get_path = optarg;
			break;
		case 'f': format = optarg; break;
		default: return VS_EXIT_ERROR;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json"))
		return vs_cli_usage("replay", "option '--format': '%s' is not text or json", format);
	if (!cfg.target)
		return vs_cli_usage("replay", "--target URL is required");
	if (optind < argc)
		cfg.dir = argv[optind++];
	if (optind < argc)
		return vs_cli_usage("replay", "unexpected argument '%s'", argv[optind]);
	if (!cfg.dir && !cfg.get_path)
		return vs_cli_usage("replay", "a dataset folder DIR is required");
	if (cfg.dir && cfg.get_path)
		return vs_cli_usage("replay", "--get takes no dataset folder");
	if (vs_replay_run(&cfg, &res) != 0)
		return vs_cli_fail();
	if (!strcmp(format, "json"))
		vs_replay_print_json(stdout, &cfg, &res);
	else
		vs_replay_print_text(stdout, &cfg, &res);
	if (res.sent && !res.answered) {
		fprintf(stderr, "venuescan: target '%s': no request was answered\n", cfg.target);
		status = VS_EXIT_ERROR;
	} else {
		status = res.disagree ? VS_EXIT_FOUND : VS_EXIT_OK;
	}
	vs_replay_result_release(&res);
	return status;
}

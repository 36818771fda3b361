/*
 * `venuescan serve`: run the reference code service until SIGTERM or SIGINT.  Parses the
 * flags into a vs_serve_config and calls vs_serve_run, which prints the bound address as
 * one line on standard output once the audit chain has been verified and the socket is
 * listening (tests start it on port 0 and read the port from that line).
 */
#include <stdio.h>
#include <stdlib.h>

#include "venuescan/serve.h"
#include "cli.h"

const char cmd_serve_help[] =
	"usage: venuescan serve --db FILE [--listen ADDR:PORT] [--rules FILE] [--areas FILE]\n"
	"                       [--trust PUB]... [OPTIONS]\n"
	"\n"
	"Run the reference code service: POST /v1/scan, GET /v1/code/ID, POST /v1/assign,\n"
	"GET /v1/audit, GET /healthz, GET /metrics (docs/SERVICE.md).  State lives in the\n"
	"SQLite database FILE (created if missing); every colour change is appended to its\n"
	"hash-chained audit log, which is verified before the service listens.  A request is\n"
	"answered only after its write is committed.  Prints 'listening on ADDR:PORT' once\n"
	"ready; SIGTERM or SIGINT drains the requests in flight and exits 0.\n"
	"\n"
	"options:\n"
	"  --db FILE          the service's SQLite database\n"
	"  --listen ADDR:PORT numeric address to listen on (default 127.0.0.1:8080; port 0\n"
	"                     picks a free port; [::1]:PORT for IPv6)\n"
	"  --rules FILE       rules file (default: the published Henan 2021 rules)\n"
	"  --areas FILE       areas.csv of risk levels to use (stored in the database;\n"
	"                     default: the areas stored before)\n"
	"  --trust PUB        public key of a venue-code issuer to accept (repeatable)\n"
	"  --authority NAME   authority named on rule-driven colours (default venuescan)\n"
	"  --threads N        HTTP threads (default: one per core)\n"
	"  --timeout S        close connections idle or stalled for S seconds (default 10)\n"
	"  --body-max BYTES   largest request body accepted; larger is 413 (default 16384)\n"
	"  --batch-max N      most requests committed in one transaction (default 4096)\n"
	"\n"
	"exit status: 0 stopped by a signal after draining; 2 usage error, a database that\n"
	"cannot be used, or an audit chain that does not verify.\n";

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "rules", required_argument, NULL, 'r' },
		{ "areas", required_argument, NULL, 'a' },
		{ "trust", required_argument, NULL, 't' },
		{ "authority", required_argument, NULL, 'A' },
		{ "threads", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "body-max", required_argument, NULL, 'b' },
		{ "batch-max", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_serve_config cfg = { 0 };
	const char **trust = calloc((size_t)argc + 1, sizeof(*trust));
	long v;
	int c, status = VS_EXIT_ERROR;

	if (!trust)
		return VS_EXIT_ERROR;
	cfg.trust_paths = trust;
	while ((c = vs_cli_getopt("serve", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'd': cfg.db_path = optarg; break;
		case 'l': cfg.listen = optarg; break;
		case 'r': cfg.rules_path = optarg; break;
		case 'a': cfg.areas_path = optarg; break;
		case 't': trust[cfg.ntrust++] = optarg; break;
		case 'A': cfg.authority = optarg; break;
		case 'T':
			if (vs_cli_long("serve", "--threads", optarg, 1, 256, &v))
				goto out;
			cfg.threads = (unsigned)v;
			break;
		case 'o':
			if (vs_cli_long("serve", "--timeout", optarg, 1, 3600, &v))
				goto out;
			cfg.timeout_s = (unsigned)v;
			break;
		case 'b':
			if (vs_cli_long("serve", "--body-max", optarg, 256, 1 << 24, &v))
				goto out;
			cfg.body_max = (size_t)v;
			break;
		case 'B':
			if (vs_cli_long("serve", "--batch-max", optarg, 1, 1 << 20, &v))
				goto out;
			cfg.batch_max = (size_t)v;
			break;
		default: goto out;
		}
	}
	if (optind < argc) {
		vs_cli_usage("serve", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!cfg.db_path) {
		vs_cli_usage("serve", "--db FILE is required");
		goto out;
	}
	if (vs_serve_run(&cfg, stdout) != 0) {
		vs_cli_fail();
		goto out;
	}
	status = VS_EXIT_OK;
out:
	free(trust);
	return status;
}

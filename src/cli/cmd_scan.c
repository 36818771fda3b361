/*
 * `venuescan scan`: decode every QR code in the images named, verify venue codes against
 * the trusted issuer keys, and print one JSON line per code in the order the images were
 * given.  The decoding, the worker processes and the JSON live in scan.c; this file
 * parses flags, prints, and turns the per-file outcomes into the exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "venuescan/error.h"
#include "venuescan/keys.h"
#include "venuescan/scan.h"
#include "venuescan/time.h"
#include "cli.h"

const char cmd_scan_help[] =
	"usage: venuescan scan [--trust PUB]... [--at TIME] [--jobs N] [--timeout S] IMAGE...\n"
	"\n"
	"Decode every QR code in each image (PNG or PGM, recognised by content), verify\n"
	"venue codes (VSC1) against the trusted issuer keys, and print one JSON object per\n"
	"code on standard output, images in the order given:\n"
	"  {\"file\":...,\"payload\":...,\"valid\":true|false,\"status\":...,\"claims\":{...}}\n"
	"status is ok, bad_signature, unknown_issuer, expired, malformed or foreign.  A\n"
	"foreign code keeps its raw text as payload, with \"format\" and \"fields\" when it is\n"
	"a known check-in format (nzcovidtracer, ukc19tracing, hc1).  A payload that is not\n"
	"UTF-8 is shown with U+FFFD for bad bytes and given exactly as \"payload_base64\".\n"
	"Images are decoded in worker processes so that a hostile image that hangs or\n"
	"crashes the decoder costs only that image.\n"
	"\n"
	"options:\n"
	"  --trust PUB     trust the issuer public key in file PUB (NAME.pub from keygen);\n"
	"                  repeat for more issuers.  Without it no code is valid.\n"
	"  --at TIME       judge expiry at TIME (ISO 8601 with offset, or unix seconds)\n"
	"                  instead of now (SOURCE_DATE_EPOCH when set)\n"
	"  --jobs N        decode with N worker processes (default: the online cores);\n"
	"                  1 decodes in the venuescan process itself, with no time limit\n"
	"  --timeout S     give up on an image after S seconds (default 10) and replace\n"
	"                  its worker\n"
	"\n"
	"An image without any QR code prints nothing on standard output and one line on\n"
	"standard error.  An image that cannot be read (missing, not PNG/PGM, truncated) or\n"
	"that stops its decoder prints one line on standard error naming the file.\n"
	"\n"
	"exit status: 0 every image held at least one valid code; 1 some image held none;\n"
	"2 usage error or an image could not be read or decoded (takes precedence).\n";

struct scan_tally {
	int unreadable;     /* some image could not be read or decoded */
	int without_valid;  /* some image held no valid code */
};

static int print_file(void *ctx, size_t index, const char *file,
		      const struct vs_scan_file_result *r)
{
	struct scan_tally *t = ctx;

	(void)index;
	if (r->outcome != VS_SCAN_DECODED) {
		fprintf(stderr, "venuescan: %s\n", r->message);
		t->unreadable = 1;
		return 0;
	}
	if (r->ncodes == 0)
		fprintf(stderr, "venuescan: '%s': no QR code found\n", file);
	if (r->nvalid == 0)
		t->without_valid = 1;
	if (r->json_len && fwrite(r->json, 1, r->json_len, stdout) != r->json_len)
		return vs_error_set(VS_EIO, "error writing standard output: %s", strerror(errno));
	return 0;
}

static long online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > VS_SCAN_JOBS_MAX ? VS_SCAN_JOBS_MAX : n;
}

int cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "at", required_argument, NULL, 'a' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_trust_set *trust = vs_trust_set_new();
	struct vs_scan_options opt;
	struct scan_tally tally = { 0, 0 };
	long jobs = online_cores();
	int c, status = VS_EXIT_ERROR, have_at = 0;

	opt.now = 0;
	opt.timeout = VS_SCAN_TIMEOUT_DEFAULT;
	while ((c = vs_cli_getopt("scan", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 't':
			if (vs_trust_set_add_file(trust, optarg) != 0) {
				status = vs_cli_fail();
				goto out;
			}
			break;
		case 'a':
			if (vs_time_parse_any(optarg, &opt.now) != 0) {
				vs_cli_usage("scan", "option '--at': %s", vs_error_message());
				goto out;
			}
			have_at = 1;
			break;
		case 'j':
			if (vs_cli_long("scan", "--jobs", optarg, 1, VS_SCAN_JOBS_MAX, &jobs) != 0)
				goto out;
			break;
		case 'T':
			if (vs_cli_double("scan", "--timeout", optarg, 0.001, 86400, &opt.timeout) != 0)
				goto out;
			break;
		default:
			goto out;
		}
	}
	if (optind >= argc) {
		vs_cli_usage("scan", "no image given");
		goto out;
	}
	if (!have_at)
		opt.now = vs_time_now();
	opt.trust = trust;
	opt.jobs = (int)jobs;
	if (vs_scan_files((const char *const *)argv + optind, (size_t)(argc - optind), &opt,
			  print_file, &tally) != 0) {
		status = vs_cli_fail();
		goto out;
	}
	status = tally.unreadable ? VS_EXIT_ERROR
		 : tally.without_valid ? VS_EXIT_FOUND
		 : VS_EXIT_OK;
out:
	vs_trust_set_free(trust);
	return status;
}

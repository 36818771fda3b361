/*
 * `venuescan venue photo IN OUT [--level 0-5] [--seed N]`: turn a poster into what a
 * forwarded phone photo of it looks like (photo.h), to test scanners against the photos
 * of venue codes that circulated in the June 2022 chat groups.
 */
#include <stdint.h>
#include <stdio.h>

#include "venuescan/error.h"
#include "venuescan/image.h"
#include "venuescan/photo.h"
#include "cli.h"

#define CMD "venue photo"

const char cmd_venue_photo_help[] =
	"usage: venuescan venue photo IN OUT [--level 0-5] [--seed N]\n"
	"\n"
	"Degrade the poster image IN (PNG or PGM) the way a phone photo of it, forwarded in a\n"
	"chat group, is degraded, and write the result to OUT (.png or .pgm): the poster on a\n"
	"background, rotated and seen in perspective, downscaled, blurred, unevenly lit, with\n"
	"sensor noise and JPEG-like 8x8 block quantisation.  The same IN, level and seed give\n"
	"the same pixels every time.  docs/PHOTO.md lists how often each level still scans.\n"
	"\n"
	"options:\n"
	"  --level N      degradation from 0 (an exact copy) to 5 (rarely readable); default 2\n"
	"  --seed N       random seed, a whole number from 0 to 2^64-1; default 1\n"
	"  --help         show this help\n";

int cmd_venue_photo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_image in = { 0, 0, NULL }, out = { 0, 0, NULL };
	uint64_t seed = 1;
	long level = 2;
	int c, status = VS_EXIT_OK;

	while ((c = vs_cli_getopt(CMD, argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'l':
			if (vs_cli_long(CMD, "--level", optarg, 0, VS_PHOTO_LEVEL_MAX, &level))
				return VS_EXIT_ERROR;
			break;
		case 's':
			if (vs_cli_u64(CMD, "--seed", optarg, &seed))
				return VS_EXIT_ERROR;
			break;
		default:
			return VS_EXIT_ERROR;
		}
	}
	if (argc - optind != 2)
		return vs_cli_usage(CMD, "needs an input and an output image (got %d argument%s)",
				    argc - optind, argc - optind == 1 ? "" : "s");
	if (vs_image_read(argv[optind], &in) != 0 ||
	    vs_photo_degrade(&in, (int)level, seed, &out) != 0 ||
	    vs_image_write(argv[optind + 1], &out) != 0)
		status = vs_cli_fail();
	vs_image_release(&in);
	vs_image_release(&out);
	return status;
}

/*
 * `venuescan keygen`: make an issuer's Ed25519 key pair.  The command only parses its
 * flags and calls vs_keygen_flags(), which refuses to replace an existing key unless
 * told to, and writes both files atomically; the secret never reaches the terminal.
 */
#include <stdio.h>

#include "venuescan/keys.h"
#include "cli.h"

const char cmd_keygen_help[] =
	"usage: venuescan keygen --issuer NAME --out DIR [--force]\n"
	"\n"
	"Make an Ed25519 key pair for a venue-code issuer: DIR/NAME.key (the secret key,\n"
	"mode 0600; venue make signs with it) and DIR/NAME.pub (the public key, mode 0644;\n"
	"scan --trust verifies with it).  DIR is created if missing.  Prints the two paths.\n"
	"\n"
	"options:\n"
	"  --issuer NAME   issuer name written into the keys and into every code signed:\n"
	"                  1-64 characters of A-Z a-z 0-9 . _ -\n"
	"  --out DIR       folder to write NAME.key and NAME.pub in\n"
	"  --force         replace an existing key pair of that name (the old key is lost)\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "issuer", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *issuer = NULL, *dir = NULL;
	unsigned flags = 0;
	int c;

	while ((c = vs_cli_getopt("keygen", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'i': issuer = optarg; break;
		case 'o': dir = optarg; break;
		case 'f': flags |= VS_KEYGEN_OVERWRITE; break;
		default: return VS_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return vs_cli_usage("keygen", "unexpected argument '%s'", argv[optind]);
	if (!issuer)
		return vs_cli_usage("keygen", "--issuer NAME is required");
	if (!dir)
		return vs_cli_usage("keygen", "--out DIR is required");
	if (!vs_issuer_name_valid(issuer))
		return vs_cli_usage("keygen", "option '--issuer': '%s' is not a valid issuer name "
					      "(1-%d characters of A-Z a-z 0-9 . _ -)", issuer,
				    VS_ISSUER_MAX);
	if (vs_keygen_flags(issuer, dir, flags) != 0)
		return vs_cli_fail();
	printf("%s/%s.key\n%s/%s.pub\n", dir, issuer, dir, issuer);
	return VS_EXIT_OK;
}

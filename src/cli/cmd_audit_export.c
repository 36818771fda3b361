/*
 * `venuescan audit export`: write the code service's scans and audit log as a dataset v1
 * folder that `detect` reads.
 */
#include <stdio.h>

#include "venuescan/audit.h"
#include "cli.h"

const char cmd_audit_export_help[] =
	"usage: venuescan audit export --db FILE --out DIR [--persons FILE]\n"
	"\n"
	"Write the code service's log as a dataset v1 folder (SPEC §5): one scan event per\n"
	"stored scan, one code event per audit entry (colour, reason, authority), the venues\n"
	"seen, the areas' risk levels, and persons.csv.  The audit chain is verified first; a\n"
	"broken chain exports nothing.  DIR is written atomically.\n"
	"\n"
	"options:\n"
	"  --db FILE        the service's SQLite database\n"
	"  --out DIR        dataset folder to write\n"
	"  --persons FILE   persons.csv of the service's registry: household, home area and\n"
	"                   attributes of each person (without it each person is their own\n"
	"                   household, with no attributes)\n"
	"\n"
	"exit status: 0 written; 2 usage error, unreadable database or broken chain.\n";

int cmd_audit_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "persons", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL, *persons = NULL;
	int c;

	while ((c = vs_cli_getopt("audit export", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': out = optarg; break;
		case 'p': persons = optarg; break;
		default: return VS_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return vs_cli_usage("audit export", "unexpected argument '%s'", argv[optind]);
	if (!db)
		return vs_cli_usage("audit export", "--db FILE is required");
	if (!out)
		return vs_cli_usage("audit export", "--out DIR is required");
	if (vs_audit_export(db, persons, out) != 0)
		return vs_cli_fail();
	return VS_EXIT_OK;
}

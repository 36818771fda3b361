/*
 * `venuescan audit verify`: recompute the code service's audit hash chain and report the
 * first entry that does not verify.
 */
#include <stdio.h>

#include "venuescan/audit.h"
#include "cli.h"

const char cmd_audit_verify_help[] =
	"usage: venuescan audit verify --db FILE [--checkpoint SEQ:HASH]\n"
	"\n"
	"Recompute the hash chain of the code service's audit log in FILE: every entry's\n"
	"hash over its predecessor's and its own canonical form, seq continuity from 1, and\n"
	"the stored head (last seq and hash), so an entry edited, deleted, reordered or cut\n"
	"from the end is found.  Prints 'intact: N entries, head SEQ HASH', or the first bad\n"
	"seq and why.  Safe to run while the service is running.  The head row alone cannot\n"
	"tell a cut tail from a log that was never longer if the head was forged too: keep\n"
	"the printed head somewhere the service cannot write, and pass it back later.\n"
	"\n"
	"options:\n"
	"  --db FILE               the service's SQLite database\n"
	"  --checkpoint SEQ:HASH   a head printed earlier: entry SEQ must still have HASH\n"
	"\n"
	"exit status: 0 intact; 1 an entry does not verify (its seq is printed); 2 usage\n"
	"error or a database that cannot be read.\n";

int cmd_audit_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct vs_audit_verdict v;
	const char *db = NULL, *cp = NULL;
	int c;

	while ((c = vs_cli_getopt("audit verify", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'c': cp = optarg; break;
		default: return VS_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return vs_cli_usage("audit verify", "unexpected argument '%s'", argv[optind]);
	if (!db)
		return vs_cli_usage("audit verify", "--db FILE is required");
	if (vs_audit_verify(db, cp, &v) != 0)
		return vs_cli_fail();
	if (v.first_bad) {
		printf("broken: seq %lld: %s (%lld entries verified before it)\n",
		       (long long)v.first_bad, v.what, (long long)v.head_seq);
		return VS_EXIT_FOUND;
	}
	printf("intact: %lld entries, head %lld:%s\n", (long long)v.entries,
	       (long long)v.head_seq, v.head_hex);
	return VS_EXIT_OK;
}

/*
 * `venuescan token add`: make an operator token for the code service.  The token is
 * printed once on standard output; the database keeps only its SHA-256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/serve.h"
#include "cli.h"

const char cmd_token_add_help[] =
	"usage: venuescan token add --db FILE --operator NAME --role assign|read\n"
	"\n"
	"Make a bearer token for an operator of the code service and print it once (it\n"
	"cannot be shown again: the database stores only its SHA-256).  A token of role\n"
	"'assign' may POST /v1/assign; 'read' may not.  The database is created if missing.\n"
	"\n"
	"options:\n"
	"  --db FILE         the service's SQLite database\n"
	"  --operator NAME   the operator's name, recorded in every audit entry they cause\n"
	"  --role ROLE       assign or read\n"
	"\n"
	"exit status: 0 token made; 2 usage or database error.\n";

int cmd_token_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "operator", required_argument, NULL, 'o' },
		{ "role", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *op = NULL, *role = NULL;
	char *token = NULL;
	int c;

	while ((c = vs_cli_getopt("token add", argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'o': op = optarg; break;
		case 'r': role = optarg; break;
		default: return VS_EXIT_ERROR;
		}
	}
	if (optind < argc)
		return vs_cli_usage("token add", "unexpected argument '%s'", argv[optind]);
	if (!db)
		return vs_cli_usage("token add", "--db FILE is required");
	if (!op || !*op)
		return vs_cli_usage("token add", "--operator NAME is required");
	if (!role)
		return vs_cli_usage("token add", "--role assign|read is required");
	if (strcmp(role, "assign") && strcmp(role, "read"))
		return vs_cli_usage("token add", "option '--role': '%s' is not assign or read",
				    role);
	if (vs_serve_token_add(db, op, role, &token) != 0)
		return vs_cli_fail();
	printf("%s\n", token);
	memset(token, 0, strlen(token));
	free(token);
	return VS_EXIT_OK;
}

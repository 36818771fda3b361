/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_audit_verify_help[] = "usage: venuescan audit verify\n";
int cmd_audit_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: audit verify: not written yet\n");
	return VS_EXIT_ERROR;
}

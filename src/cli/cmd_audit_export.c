/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_audit_export_help[] = "usage: venuescan audit export\n";
int cmd_audit_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: audit export: not written yet\n");
	return VS_EXIT_ERROR;
}

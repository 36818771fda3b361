/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_scan_help[] = "usage: venuescan scan\n";
int cmd_scan(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: scan: not written yet\n");
	return VS_EXIT_ERROR;
}

/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_venue_make_help[] = "usage: venuescan venue_make\n";
int cmd_venue_make(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: venue_make: not written yet\n");
	return VS_EXIT_ERROR;
}

/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_venue_photo_help[] = "usage: venuescan venue_photo\n";
int cmd_venue_photo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: venue_photo: not written yet\n");
	return VS_EXIT_ERROR;
}

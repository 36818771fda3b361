/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_keygen_help[] = "usage: venuescan keygen\n";
int cmd_keygen(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: keygen: not written yet\n");
	return VS_EXIT_ERROR;
}

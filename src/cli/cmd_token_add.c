/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_token_add_help[] = "usage: venuescan token add\n";
int cmd_token_add(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: token add: not written yet\n");
	return VS_EXIT_ERROR;
}

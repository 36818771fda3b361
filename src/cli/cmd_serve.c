/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_serve_help[] = "usage: venuescan serve\n";
int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: serve: not written yet\n");
	return VS_EXIT_ERROR;
}

/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_simulate_help[] = "usage: venuescan simulate\n";
int cmd_simulate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: simulate: not written yet\n");
	return VS_EXIT_ERROR;
}

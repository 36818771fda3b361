/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_demo_help[] = "usage: venuescan demo\n";
int cmd_demo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: demo: not written yet\n");
	return VS_EXIT_ERROR;
}

/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_eval_help[] = "usage: venuescan eval\n";
int cmd_eval(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: eval: not written yet\n");
	return VS_EXIT_ERROR;
}

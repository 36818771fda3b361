/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_detect_help[] = "usage: venuescan detect\n";
int cmd_detect(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: detect: not written yet\n");
	return VS_EXIT_ERROR;
}

/* Placeholder while the command is being written; replaced by its owner. */
#include <stdio.h>
#include "cli.h"
const char cmd_replay_help[] = "usage: venuescan replay\n";
int cmd_replay(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "venuescan: replay: not written yet\n");
	return VS_EXIT_ERROR;
}

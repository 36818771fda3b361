/*
 * venuescan's entry point: the command table, lookup by exact name, and the work every
 * subcommand shares — --help, --version, usage errors, and checking that standard output
 * was really written before reporting success.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "cli.h"

static const struct vs_cmd commands[] = {
#define VS_X_ENTRY(name, ident, summary) { name, cmd_##ident, summary, cmd_##ident##_help },
	VS_CLI_COMMANDS(VS_X_ENTRY)
#undef VS_X_ENTRY
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char main_usage[] =
	"usage: venuescan COMMAND [OPTIONS] [ARGS]\n"
	"       venuescan --version\n"
	"       venuescan COMMAND --help\n";

static void print_main_help(void)
{
	fputs(main_usage, stdout);
	fputs("\nMake and scan signed venue QR codes, simulate a population scanning them under\n"
	      "a health-code system, and audit the logs for code colours that follow identity\n"
	      "instead of location or exposure.\n\ncommands:\n", stdout);
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-14s %s\n", commands[i].name, commands[i].summary);
	fputs("\nexit status: 0 success (detect: nothing flagged); 1 detect flagged something or\n"
	      "scan found no valid code; 2 usage or input error.\n"
	      "See venuescan(1) for details.\n", stdout);
}

int vs_cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "venuescan%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; try 'venuescan%s%s --help'\n", cmd ? " " : "", cmd ? cmd : "");
	return VS_EXIT_ERROR;
}

int vs_cli_fail(void)
{
	fprintf(stderr, "venuescan: %s\n", vs_error_message());
	return VS_EXIT_ERROR;
}

int vs_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		  const struct option *longopts)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?' || c == ':') {
		const char *arg = argv[optind - 1];
		if (optopt && !strchr(arg, '-'))
			vs_cli_usage(cmd, "unknown option '-%c'", optopt);
		else if (c == ':' || (optopt && strchr(shortopts, optopt)))
			vs_cli_usage(cmd, "option '%s' needs a value", arg);
		else {
			const struct option *o;
			size_t len = strcspn(arg, "=");
			for (o = longopts; o && o->name; o++)
				if (strlen(o->name) == len - 2 && !strncmp(arg + 2, o->name, len - 2))
					break;
			if (o && o->name && o->has_arg == required_argument)
				vs_cli_usage(cmd, "option '%s' needs a value", arg);
			else if (o && o->name)
				vs_cli_usage(cmd, "option '--%s' takes no value", o->name);
			else
				vs_cli_usage(cmd, "unknown option '%.*s'", (int)len, arg);
		}
		return '?';
	}
	return c;
}

int vs_cli_double(const char *cmd, const char *flag, const char *s, double min, double max,
		  double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		vs_cli_usage(cmd, "option '%s': '%s' is not a number from %g to %g", flag, s, min,
			     max);
		return -1;
	}
	*out = v;
	return 0;
}

int vs_cli_long(const char *cmd, const char *flag, const char *s, long min, long max,
		long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		vs_cli_usage(cmd, "option '%s': '%s' is not a whole number from %ld to %ld", flag,
			     s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int vs_cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		vs_cli_usage(cmd, "option '%s': '%s' is not a whole number from 0 to %llu", flag,
			     s, (unsigned long long)UINT64_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

static const struct vs_cmd *find_command(int argc, char **argv, int *words)
{
	char two[128];

	if (argc >= 2) {
		snprintf(two, sizeof(two), "%s %s", argv[0], argv[1]);
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (!strcmp(commands[i].name, two)) {
				*words = 2;
				return &commands[i];
			}
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, argv[0])) {
			*words = 1;
			return &commands[i];
		}
	return NULL;
}

/* A group word such as "venue" alone: list its subcommands. */
static int group_usage(const char *group, int is_help)
{
	size_t glen = strlen(group);
	FILE *out = is_help ? stdout : stderr;
	int any = 0;

	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strncmp(commands[i].name, group, glen) && commands[i].name[glen] == ' ') {
			if (!any)
				fprintf(out, "%svenuescan %s: needs a subcommand:\n",
					is_help ? "" : "error: ", group);
			fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
			any = 1;
		}
	if (!any)
		return -1;
	return is_help ? VS_EXIT_OK : VS_EXIT_ERROR;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/*
 * A command that succeeded has not succeeded until its output is written.  One that
 * failed has said why already: its output is flushed quietly, so the error stays one line.
 */
static int finish_stdout(int status)
{
	if (status == VS_EXIT_ERROR) {
		fflush(stdout);
		return status;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "venuescan: error writing standard output: %s\n", strerror(errno));
		return VS_EXIT_ERROR;
	}
	return status;
}

int main(int argc, char **argv)
{
	const struct vs_cmd *cmd;
	int words = 0, status;

	if (argc < 2) {
		fputs(main_usage, stderr);
		return VS_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_main_help();
		return finish_stdout(VS_EXIT_OK);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("venuescan %s\n", VS_VERSION);
		return finish_stdout(VS_EXIT_OK);
	}
	cmd = find_command(argc - 1, argv + 1, &words);
	if (!cmd) {
		int help = argc > 2 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"));
		if ((status = group_usage(argv[1], help)) >= 0)
			return finish_stdout(status);
		if (argv[1][0] == '-')
			return vs_cli_usage(NULL, "unknown option '%s'", argv[1]);
		return vs_cli_usage(NULL, "unknown command '%s'", argv[1]);
	}
	argc -= words;
	argv += words;
	if (wants_help(argc, argv)) {
		fputs(cmd->help, stdout);
		return finish_stdout(VS_EXIT_OK);
	}
	status = cmd->fn(argc, argv);
	return finish_stdout(status);
}

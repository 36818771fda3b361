/*
 * The command line's shared pieces: exit statuses, the command table entry, and the few
 * helpers every subcommand uses to parse flags and report errors the same way.  The CLI
 * includes only public library headers; it parses, calls the library, and prints.
 */
#ifndef VS_CLI_H
#define VS_CLI_H

#include <getopt.h>
#include <stdint.h>

/* Exit statuses (SPEC §3), documented in the man page and asserted by the tests. */
enum vs_exit {
	VS_EXIT_OK = 0,    /* success; for detect: nothing flagged */
	VS_EXIT_FOUND = 1, /* detect flagged something; scan found no valid code */
	VS_EXIT_ERROR = 2, /* usage or input error */
};

/* One subcommand.  name may be two words ("venue make"); lookup is by exact name. */
struct vs_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the last word of name */
	const char *summary;              /* one line for `venuescan --help` */
	const char *help;                 /* the whole --help text, usage line first */
};

/* Print "venuescan CMD: MESSAGE; try 'venuescan CMD --help'" on stderr; returns VS_EXIT_ERROR. */
int vs_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "venuescan: " + the library's last error message on stderr; returns VS_EXIT_ERROR. */
int vs_cli_fail(void);

/*
 * getopt_long with errors reported through vs_cli_usage: returns the option character,
 * -1 at the end of options, or '?' after printing the error (the caller returns 2).
 */
int vs_cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
		  const struct option *longopts);

/* Parse a flag's value as a number in [min, max]; on failure print a usage error and return -1. */
int vs_cli_double(const char *cmd, const char *flag, const char *s, double min, double max,
		  double *out);
int vs_cli_long(const char *cmd, const char *flag, const char *s, long min, long max,
		long *out);
int vs_cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);

/*
 * What detect and eval share (detect_common.c): the flags --rules, --alpha and --remote-km,
 * the one dataset folder, and running the detector.
 */
struct vs_rule_set;
struct vs_findings;

struct vs_cli_detect {
	const char *cmd;          /* "detect" or "eval", for messages */
	const char *rules_path;   /* NULL: the built-in published rules */
	double alpha, remote_km;
	const char *dir;          /* the dataset folder */
	struct vs_rule_set *rules;
	struct vs_findings *findings;
};

#define VS_CLI_DETECT_OPTIONS                                                       \
	{ "rules", required_argument, NULL, 'r' },                                   \
	{ "alpha", required_argument, NULL, 'a' },                                   \
	{ "remote-km", required_argument, NULL, 'k' }

void vs_cli_detect_init(struct vs_cli_detect *d, const char *cmd);
/* Take option c (from VS_CLI_DETECT_OPTIONS): 0 taken, 1 not one of ours, -1 usage error. */
int vs_cli_detect_option(struct vs_cli_detect *d, int c, const char *arg);
/* Check the one folder argument, load the rules, run the detector: 0, or an exit status. */
int vs_cli_detect_run(struct vs_cli_detect *d, int argc, char **argv);
void vs_cli_detect_release(struct vs_cli_detect *d);

/* The subcommands (one file each: cmd_<name>.c). */
#define VS_CLI_COMMANDS(X)                                                          \
	X("keygen", keygen, "make an Ed25519 key pair for a venue-code issuer")        \
	X("venue make", venue_make, "make signed venue QR codes (PNG, SVG or PGM)")    \
	X("venue photo", venue_photo, "degrade a poster as a forwarded phone photo is") \
	X("scan", scan, "decode and verify every QR code in images")                  \
	X("simulate", simulate, "simulate a population scanning venue codes; write a dataset") \
	X("detect", detect, "audit a dataset for code changes that follow identity")   \
	X("eval", eval, "score detect against a simulated dataset's labels")           \
	X("serve", serve, "run the reference code service (HTTP, SQLite, audit log)")  \
	X("token add", token_add, "make an operator token for the code service")      \
	X("audit verify", audit_verify, "check the code service's hash-chained audit log") \
	X("audit export", audit_export, "write the code service's log as a dataset")   \
	X("replay", replay, "drive a code service with a dataset's scans and check answers") \
	X("demo", demo, "the Zhengzhou case end to end, as files and an HTML report")

#define VS_X_DECLARE(name, ident, summary)                                          \
	int cmd_##ident(int argc, char **argv);                                         \
	extern const char cmd_##ident##_help[];
VS_CLI_COMMANDS(VS_X_DECLARE)
#undef VS_X_DECLARE

#endif

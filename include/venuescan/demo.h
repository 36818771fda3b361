/*
 * The Zhengzhou case end to end, for a class: an issuer key, the station's signed venue
 * code as a poster, a forwarded photo of it, both scanned; the reference scenario
 * simulated; the detector run over it; and a page (index.html) that shows the code, the
 * photo, two people of one house who scanned the same code and got different colours, and
 * the detector's verdict, beside the detector's full report (report.html).
 */
#ifndef VENUESCAN_DEMO_H
#define VENUESCAN_DEMO_H

#include <stdint.h>
#include <stdio.h>

struct vs_demo_options {
	const char *scenario;   /* the reference scenario file */
	uint64_t seed;          /* used when has_seed; else the scenario's */
	int has_seed;
	uint64_t persons;       /* 0: the scenario's default */
};

/* What the run found, for the caller to print. */
struct vs_demo_result {
	char poster_status[16]; /* scan status of the poster, e.g. "ok" */
	char photo_status[16];  /* ... and of the forwarded photo */
	uint64_t persons, events, unexplained, unexplained_persons;
	size_t flagged;         /* attribute values the detector flagged */
	int pair_found;         /* a same-house, same-code, different-colour pair was shown */
};

/*
 * Run the case and write out_dir atomically (staged, renamed on success; an existing
 * out_dir is replaced only if it is an earlier output).  Progress lines go to log (may be
 * NULL).  Errors are those of the steps (scenario, simulation, detector, files).
 */
int vs_demo_run(const struct vs_demo_options *o, const char *out_dir, FILE *log,
		struct vs_demo_result *res);

#endif

/*
 * The simulator's private pieces shared by sim.c (population, days, misuse scripts) and
 * sim_output.c (the dataset files): the "event sink" — the rows one block of persons
 * produced for one day, formatted into memory by workers with the dataset module's
 * writers and written in block order by the writer — and the output files.
 */
#ifndef VS_SIM_INT_H
#define VS_SIM_INT_H

#include <stdint.h>
#include <stdio.h>

#include "venuescan/dataset.h"
#include "venuescan/mem.h"
#include "venuescan/rules.h"
#include "venuescan/scenario.h"
#include "venuescan/sha256.h"
#include "venuescan/sim.h"

/* Bytes a sink's stream has written (unbounded: the simulator's own rows, not input). */
struct sim_bytes {
	char *p;
	size_t len, cap;
};

/*
 * The rows of one block for one day: events and labels written by dataset.c's writers
 * (vs_event_write, vs_label_write) into streams that append to memory, so workers format
 * in parallel and the writer copies finished blocks to the files in block order.
 */
struct sim_sink {
	struct sim_bytes events, labels;
	FILE *ef, *lf;               /* streams appending to events and labels */
	uint64_t nevents, nlabels;
	int offset_min;
	int rc;                      /* the first error of a writer, with its message */
	char msg[256];
};

/* Open the sink's streams (fails with VS_ENOMEM). */
int sim_sink_init(struct sim_sink *k, int offset_min);
void sim_sink_release(struct sim_sink *k);
/*
 * Write ev (its offset_min is set to the sink's) and, for a code event, its label cause.
 * A writer's error is kept in k->rc and k->msg; later events are dropped.
 */
void sim_sink_event(struct sim_sink *k, struct vs_event *ev, const char *cause);
/* Push what the streams hold into events and labels (at the end of a block). */
void sim_sink_flush(struct sim_sink *k);
/* Empty the sink for the next block. */
void sim_sink_reset(struct sim_sink *k);

/*
 * An output CSV being written: a stream whose bytes go to the file and into its running
 * SHA-256 (sha256.h) on the way, its data rows and bytes.  After close, sha256 holds the
 * digest, so the manifest need not read the files back.
 */
struct sim_file {
	const char *name;
	char *path;
	FILE *f;
	int fd;
	struct vs_sha256 sha;
	uint64_t rows, bytes;
	char sha256[65];
};

/* Create dir/name (inside the output's staging folder). */
int sim_file_open(struct sim_file *sf, const char *dir, const char *name);
/* Append len bytes holding rows rows. */
int sim_file_write(struct sim_file *sf, const void *data, size_t len, uint64_t rows);
/* Flush, close and finish the digest. */
int sim_file_close(struct sim_file *sf);
void sim_file_abort(struct sim_file *sf);

/* manifest.json: the dataset manifest of docs/FORMAT.md plus scenario, persons, days and
 * start (vs_manifest_write_fields). */
int sim_manifest_write(const char *dir, const struct vs_scenario *s, uint64_t seed,
		       uint64_t persons, const struct sim_file *files, size_t n);
/* Load the dataset's CSV files in dir into a new SQLite file at path (atomically). */
int sim_sqlite_write(const char *dir, const char *path);

#endif

/*
 * The simulator's private pieces shared by sim.c (population, days, misuse scripts) and
 * sim_output.c (the dataset files): per-person compact state and the "event sink" — the
 * rows one block of persons produced for one day, formatted into memory by workers and
 * written in block order by the writer.
 */
#ifndef VS_SIM_INT_H
#define VS_SIM_INT_H

#include <stdint.h>
#include <stdio.h>

#include "venuescan/mem.h"
#include "venuescan/rules.h"
#include "venuescan/scenario.h"
#include "venuescan/sha256.h"
#include "venuescan/sim.h"

/* One event as the day loop produces it; strings are borrowed. */
struct sim_event {
	int64_t ts;
	const char *person_id;
	const char *kind;      /* a dataset v1 kind */
	const char *venue_id;  /* or NULL */
	const char *area;      /* or NULL */
	int has_pos;
	double lat, lon;
	const char *value;     /* or NULL */
	const char *reason;    /* or NULL */
	const char *authority; /* or NULL */
	const char *cause;     /* code events: the label, "published:R" or "misuse:R" */
};

/* Bytes being formatted (unbounded: the simulator's own rows, not input). */
struct sim_bytes {
	char *p;
	size_t len, cap;
};

/* Make room for more bytes. */
void sim_bytes_reserve(struct sim_bytes *b, size_t more);

/* The rows of one block for one day. */
struct sim_sink {
	struct sim_bytes events, labels;
	uint64_t nevents, nlabels;
	int offset_min;
	int ts_valid;
	int64_t ts_day;              /* the local day ts_text's date is (days since 1970) */
	char ts_text[32];
};

/* Append s as one CSV field (quoted only when it needs to be; NULL or "" adds nothing). */
void sim_csv_field(struct sim_bytes *b, const char *s);

void sim_sink_init(struct sim_sink *k, int offset_min);
void sim_sink_release(struct sim_sink *k);
void sim_sink_reset(struct sim_sink *k);
/* Format ev as an events.csv row (and a labels.csv row for code events). */
void sim_sink_event(struct sim_sink *k, const struct sim_event *ev);

/* An output CSV being written: a stream, its running SHA-256, rows and bytes. */
struct sim_file {
	const char *name;
	char *path;
	FILE *f;
	struct vs_sha256 sha;
	uint64_t rows, bytes;
};

int sim_file_open(struct sim_file *sf, const char *dir, const char *name, const char *header);
int sim_file_write(struct sim_file *sf, const void *data, size_t len, uint64_t rows);
/* Write one row of fields (RFC 4180 quoting) and count it. */
int sim_file_row(struct sim_file *sf, const char *const *fields, size_t n);
int sim_file_close(struct sim_file *sf);
void sim_file_abort(struct sim_file *sf);

/* manifest.json: the dataset manifest of docs/FORMAT.md plus scenario, persons and days. */
int sim_manifest_write(const char *dir, const struct vs_scenario *s, uint64_t seed,
		       uint64_t persons, struct sim_file *files, size_t n);
/* Load the dataset's CSV files in dir into a new SQLite file at path (atomically). */
int sim_sqlite_write(const char *dir, const char *path);

#endif

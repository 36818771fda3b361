/*
 * The simulator: a synthetic population (persons, households from China's 2020 census,
 * home areas, identity attributes) living through a scenario's days — itineraries, venue
 * scans, tests, entries from abroad, close contacts, risk areas — under the published rules
 * (rules.h), plus the scenario's misuse rules, which change colours by identity instead of
 * exposure.  The result is a dataset v1 folder (SPEC §5) with labels.csv, the ground truth
 * of which rule caused each code change, and manifest.json.
 *
 * Every random draw comes from rng.h keyed by (seed, person, day, purpose), persons are
 * simulated in fixed blocks on worker threads and written in block order, so the files are
 * byte-identical for any thread count.  Per-person state is a few dozen bytes; events are
 * streamed to disk as blocks complete.  docs/SCENARIOS.md describes the model.
 */
#ifndef VENUESCAN_SIM_H
#define VENUESCAN_SIM_H

#include <stdint.h>

#include "venuescan/scenario.h"

struct vs_sim_options {
	uint64_t seed;           /* used when has_seed; else the scenario's seed */
	int has_seed;
	uint64_t persons;        /* 0: the scenario's default */
	unsigned threads;        /* worker threads; 0: VS_SIM_THREADS from the environment, else 2 */
	const char *sqlite_path; /* also write the tables into this SQLite file, or NULL */
	int progress;            /* print a progress line on stderr after each day */
};

struct vs_sim_stats {
	uint64_t persons, households, events, labels;
	uint64_t bytes;          /* bytes of CSV written */
	uint64_t misuse_reds;    /* persons turned red by a misuse scan or action rule */
};

/*
 * Simulate scenario s and write the dataset folder out_dir atomically (staged, renamed on
 * success; nothing is left behind on error).  An existing out_dir is replaced only if it
 * is empty or a previous dataset.  stats (may be NULL) receives the counts.  Errors:
 * VS_EFORMAT for counts the scenario cannot meet at this size ("FILE:LINE: ..."),
 * VS_EIO, VS_EDB (SQLite).
 */
int vs_simulate(const struct vs_scenario *s, const struct vs_sim_options *o, const char *out_dir,
		struct vs_sim_stats *stats);

/* The size (1-8) of household index under seed, drawn from the 2020 census shares
 * (1: 25.39%, 2: 29.68%, 3: 20.99%, 4: 13.17%, 5: 6.19%, 6: 2.83%, 7+: 1.75% split as
 * 7: 1.2%, 8: 0.55%). */
unsigned vs_sim_household_size(uint64_t seed, uint64_t household);

#endif

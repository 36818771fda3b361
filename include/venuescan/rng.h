/*
 * Counter-based random numbers: every draw is a pure function of a key — (seed, person,
 * day, purpose) — and a counter, so a simulated person's day is the same whichever thread
 * simulates it, in whatever order, and adding a draw for one purpose never shifts another.
 * The mixer is splitmix64's finaliser (Steele, Lea and Flood 2014) applied to the key words
 * in turn and then to the counter; it passes the uniformity checks of test_rng.c.  Only
 * integer arithmetic and exact conversions are used, so the numbers are the same on every
 * machine.
 */
#ifndef VENUESCAN_RNG_H
#define VENUESCAN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* One stream of draws: a key and the index of the next draw.  Plain value, no resources. */
struct vs_rng {
	uint64_t key;
	uint64_t ctr;
};

/* splitmix64's finaliser: a bijection of 64-bit words with full avalanche. */
uint64_t vs_rng_mix(uint64_t z);

/* Start the stream keyed by (seed, person, day, purpose) at draw 0. */
void vs_rng_init(struct vs_rng *r, uint64_t seed, uint64_t person, uint32_t day,
		 uint32_t purpose);
/* The draw at index of the stream keyed as above, without a stream object. */
uint64_t vs_rng_at(uint64_t seed, uint64_t person, uint32_t day, uint32_t purpose,
		   uint64_t index);

/* The next 64 random bits. */
uint64_t vs_rng_next(struct vs_rng *r);
/* A uniform double in [0, 1) with 53 random bits. */
double vs_rng_uniform(struct vs_rng *r);
/* A uniform integer in [0, n) without modulo bias (n > 0; n == 0 returns 0). */
uint64_t vs_rng_below(struct vs_rng *r, uint64_t n);
/* A uniform integer in [lo, hi] (lo <= hi). */
int64_t vs_rng_range(struct vs_rng *r, int64_t lo, int64_t hi);
/* 1 with probability p (p <= 0 never, p >= 1 always). */
int vs_rng_chance(struct vs_rng *r, double p);
/*
 * An index in [0, n) drawn with probability proportional to weights[i] (non-negative, not
 * all zero).  cumulative, if not NULL, holds the running sums of weights (n values), which
 * turns the linear scan into a binary search.
 */
size_t vs_rng_pick(struct vs_rng *r, const double *weights, const double *cumulative, size_t n);
/* 16 random bytes formatted as a version-4 UUID (lowercase, 36 characters and a NUL). */
void vs_rng_uuid(struct vs_rng *r, char out[37]);

#endif

/*
 * Counter-based random numbers (rng.h): a key mixed from (seed, person, day, purpose),
 * then one mix of key + counter per draw.  Stateless apart from the counter, so streams
 * can be created anywhere, on any thread, and give the same numbers.
 */
#include <string.h>

#include <uuid/uuid.h>

#include "venuescan/rng.h"

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

uint64_t vs_rng_mix(uint64_t z)
{
	z += GOLDEN;
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t make_key(uint64_t seed, uint64_t person, uint32_t day, uint32_t purpose)
{
	uint64_t k = vs_rng_mix(seed ^ UINT64_C(0x5643414e53494d31)); /* "VSCANSIM1" */

	k = vs_rng_mix(k ^ person);
	k = vs_rng_mix(k ^ (((uint64_t)day << 32) | purpose));
	return k;
}

void vs_rng_init(struct vs_rng *r, uint64_t seed, uint64_t person, uint32_t day,
		 uint32_t purpose)
{
	r->key = make_key(seed, person, day, purpose);
	r->ctr = 0;
}

uint64_t vs_rng_at(uint64_t seed, uint64_t person, uint32_t day, uint32_t purpose,
		   uint64_t index)
{
	return vs_rng_mix(make_key(seed, person, day, purpose) + index * GOLDEN);
}

uint64_t vs_rng_next(struct vs_rng *r)
{
	return vs_rng_mix(r->key + (r->ctr++) * GOLDEN);
}

double vs_rng_uniform(struct vs_rng *r)
{
	return (double)(vs_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t vs_rng_below(struct vs_rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	/* Lemire's multiply-shift with rejection of the biased low range. */
	for (;;) {
		uint64_t x = vs_rng_next(r);
		unsigned __int128 m = (unsigned __int128)x * n;
		uint64_t low = (uint64_t)m;
		if (low >= n || low >= (-n) % n)
			return (uint64_t)(m >> 64);
	}
}

int64_t vs_rng_range(struct vs_rng *r, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)vs_rng_below(r, (uint64_t)(hi - lo) + 1);
}

int vs_rng_chance(struct vs_rng *r, double p)
{
	if (p <= 0)
		return 0;
	if (p >= 1)
		return 1;
	return vs_rng_uniform(r) < p;
}

size_t vs_rng_pick(struct vs_rng *r, const double *weights, const double *cumulative, size_t n)
{
	double total = 0, u;

	if (n <= 1)
		return 0;
	if (cumulative) {
		size_t lo = 0, hi = n - 1;
		u = vs_rng_uniform(r) * cumulative[n - 1];
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (u < cumulative[mid])
				hi = mid;
			else
				lo = mid + 1;
		}
		return lo;
	}
	for (size_t i = 0; i < n; i++)
		total += weights[i];
	u = vs_rng_uniform(r) * total;
	for (size_t i = 0; i < n; i++) {
		if (u < weights[i])
			return i;
		u -= weights[i];
	}
	for (size_t i = n; i-- > 0;)
		if (weights[i] > 0)
			return i;
	return n - 1;
}

void vs_rng_uuid(struct vs_rng *r, char out[37])
{
	unsigned char u[16];
	uint64_t a = vs_rng_next(r), b = vs_rng_next(r);

	for (int i = 0; i < 8; i++) {
		u[i] = (unsigned char)(a >> (56 - 8 * i));
		u[8 + i] = (unsigned char)(b >> (56 - 8 * i));
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	uuid_unparse_lower(u, out);
}

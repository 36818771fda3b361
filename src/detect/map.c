/*
 * A map from 64-bit keys to dense indices 0, 1, 2, ... in the order keys were added (open
 * addressing, linear probing, grown at half load).  The detector keys it by pairs of
 * 32-bit ids: (value, stratum), (stratum, flag), (person, authority).
 */
#include <stdlib.h>
#include <string.h>

#include "venuescan/mem.h"
#include "detect_int.h"

void vs_u64map_init(struct vs_u64map *m, size_t expect)
{
	m->nslots = 64;
	while (m->nslots < expect * 2)
		m->nslots *= 2;
	m->keys = vs_xcalloc(m->nslots, sizeof(*m->keys));
	m->vals = vs_xcalloc(m->nslots, sizeof(*m->vals));
	m->n = 0;
}

void vs_u64map_release(struct vs_u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static size_t u64_slot(const struct vs_u64map *m, uint64_t key)
{
	uint64_t h = (key + 1) * UINT64_C(0x9E3779B97F4A7C15);
	size_t i = (size_t)(h ^ (h >> 32)) & (m->nslots - 1);

	while (m->keys[i] && m->keys[i] != key + 1)
		i = (i + 1) & (m->nslots - 1);
	return i;
}

/* The index of key, adding it (with index m->n) if new; *added tells which. */
uint32_t vs_u64map_add(struct vs_u64map *m, uint64_t key, int *added)
{
	size_t i = u64_slot(m, key);

	*added = 0;
	if (m->keys[i])
		return m->vals[i];
	if ((m->n + 1) * 2 > m->nslots) {
		uint64_t *ok = m->keys;
		uint32_t *ov = m->vals;
		size_t on = m->nslots;
		m->nslots *= 2;
		m->keys = vs_xcalloc(m->nslots, sizeof(*m->keys));
		m->vals = vs_xcalloc(m->nslots, sizeof(*m->vals));
		for (size_t k = 0; k < on; k++)
			if (ok[k]) {
				size_t j = u64_slot(m, ok[k] - 1);
				m->keys[j] = ok[k];
				m->vals[j] = ov[k];
			}
		free(ok);
		free(ov);
		i = u64_slot(m, key);
	}
	m->keys[i] = key + 1;
	m->vals[i] = (uint32_t)m->n++;
	*added = 1;
	return m->vals[i];
}


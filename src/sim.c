/*
 * The simulator (sim.h): population, misuse scripts and the day loop.
 *
 * Population.  Households are drawn from the 2020 census sizes; a scenario group's
 * members are household heads (a depositor usually lives with family who are not
 * depositors); group and ordinary households are interleaved by a seeded draw, so persons
 * of one household are contiguous.  Each person keeps a 16-byte record and one int32 per
 * rule (the rule engine's latest-trigger times, in seconds from a base): about 36 bytes.
 *
 * Misuse scripts.  The persons a misuse rule acts on are chosen once, with exact counts,
 * and given a role (in person, forwarded photo, companion, family, actor...).  A role's
 * whole timeline — arrival, scan, red, flip, release, mirror — is a pure function of the
 * seed and the person (rng.h, day 0), recomputed whenever a day needs it, so no pending
 * events are carried from day to day.
 *
 * Days.  Persons are cut into blocks at household boundaries; for each day, worker
 * threads take blocks in order and format their rows into the block's sink (sim_int.h);
 * the calling thread writes finished blocks in block order.  A person's day is a small
 * list of moments (facts, scripted misuse, colour checks) sorted by time: facts feed the
 * rule engine, and a check some minutes later turns a change of the published colour into
 * a code event.  Output order: day, block, person, time.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/rng.h"
#include "venuescan/sim.h"
#include "venuescan/time.h"
#include "sim_int.h"

#define DAY INT64_C(86400)
#define HOUR INT64_C(3600)
#define MIN INT64_C(60)
#define NONE64 INT64_MAX
#define NO_AREA UINT16_MAX
#define BLOCK_PERSONS 2048
#define MOMENTS_MAX 96
#define THREADS_MAX 64
#define MISUSE_MAX 32
#define HOUSEHOLD_MAX 8 /* vs_sim_household_size's largest */

/* Purposes of random streams (rng.h): one per kind of draw. */
enum {
	P_PERSON_ID = 1, P_HH_ID, P_HH_SIZE, P_GROUP_SIZE, P_HOME, P_ORDER, P_SELECT, P_SCRIPT,
	P_DAY, P_TRIP, P_POSITIVE, P_ACTION_SCAN, P_ATTR = 64,
};

enum role { R_NONE, R_IN_PERSON, R_PHOTO, R_BEFORE, R_COMPANION, R_FAMILY, R_ACTOR };
#define F_FLIP 1

struct person {
	uint32_t household;
	uint16_t home;      /* area index */
	uint16_t attrs;     /* attribute set index */
	uint16_t trip_area; /* NO_AREA at home */
	uint8_t trip_end;   /* day of return */
	uint8_t color;      /* the colour last pushed by the home authority */
	uint8_t role;
	uint8_t rule;       /* misuse rule of the role */
	uint8_t flags;
	uint8_t group;      /* 1 + the scenario group of a group household's head, else 0 */
};

/* A role's timeline; NONE64 for what does not happen. */
struct script {
	int64_t arrive, leave; /* in the trip area during [arrive, leave) */
	size_t trip_area;      /* SIZE_MAX: no trip */
	int64_t scan;          /* scans the rule's venue */
	int scan_red;          /* the place code shows red at that scan */
	int photo;             /* scan from home (device far away) */
	int64_t action;        /* action event (actor, flip) */
	const char *action_token;
	size_t action_venue;   /* SIZE_MAX: at home, no venue */
	int64_t red, flip_action, flip_green, flip_red, release, mirror_red, mirror_green;
	const char *reason, *authority;
	size_t rule, flip_rule, mirror_rule, release_rule; /* SIZE_MAX when none */
};

struct ctx {
	const struct vs_scenario *s;
	uint64_t seed;
	size_t nrules;
	int64_t base;            /* rule state times are seconds from here */
	struct person *persons;
	int32_t *rstate;         /* persons * nrules */
	uint64_t npersons, nhouseholds;
	size_t *block_start;     /* nblocks + 1 */
	size_t nblocks;
	char **attr_text;        /* attribute sets */
	uint32_t *attr_who;      /* misuse rules whose who the set matches */
	size_t nattr, attr_alloc;
	char **province;         /* per area: its first component */
	size_t **city_areas;     /* per area: areas with venues in the same city */
	size_t *ncity;
	struct vs_risk_map *risk;
	uint8_t *risky;          /* per area: some zone covers it (else always low) */
	uint32_t blocked_mask;   /* scan rules: their venue is not a random pick for who */
	long flip_of[MISUSE_MAX], mirror_of[MISUSE_MAX], release_of[MISUSE_MAX];
	char *cause_pub[VS_RULES_MAX], *cause_misuse[MISUSE_MAX];
	uint64_t misuse_reds;
	/* threads */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sim_sink *slots;
	int *slot_done;
	size_t nslots, next_block, written;
	unsigned day;
};

/* ---- small helpers -------------------------------------------------------------------- */

unsigned vs_sim_household_size(uint64_t seed, uint64_t household)
{
	static const double cum[] = { 0.2539, 0.5507, 0.7606, 0.8923, 0.9542, 0.9825, 0.9945, 1.0 };
	struct vs_rng r;
	double u;

	vs_rng_init(&r, seed, household, 0, P_HH_SIZE);
	u = vs_rng_uniform(&r);
	for (unsigned i = 0; i < 8; i++)
		if (u < cum[i])
			return i + 1;
	return 8;
}

static unsigned group_household_size(uint64_t seed, size_t g, uint64_t i)
{
	return vs_sim_household_size(seed ^ UINT64_C(0x47524f5550), ((uint64_t)g << 40) | i);
}

static int64_t local_tod(const struct vs_scenario *s, int64_t t)
{
	int64_t x = (t + s->offset_min * MIN) % DAY;
	return x < 0 ? x + DAY : x;
}

/* A time in [lo, hi] whose local time of day is in [from, to) (a few tries, then any). */
static int64_t daytime_in(struct vs_rng *r, const struct vs_scenario *s, int64_t lo, int64_t hi,
			  int64_t from, int64_t to)
{
	int64_t t = lo;

	for (int i = 0; i < 16; i++) {
		t = vs_rng_range(r, lo, hi);
		int64_t tod = local_tod(s, t);
		if (tod >= from && tod < to)
			break;
	}
	return t;
}

static int64_t in_range(struct vs_rng *r, struct vs_scn_range x)
{
	return vs_rng_range(r, x.lo, x.hi);
}

static const char *pick_text(struct vs_rng *r, char *const *v, size_t n)
{
	return n ? v[vs_rng_below(r, n)] : "";
}

static int same_city(const char *a, const char *b)
{
	const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
	if (!sa || !sb)
		return 0;
	sa = strchr(sa + 1, '/');
	sb = strchr(sb + 1, '/');
	size_t la = sa ? (size_t)(sa - a) : strlen(a), lb = sb ? (size_t)(sb - b) : strlen(b);
	return la == lb && !memcmp(a, b, la);
}

static enum vs_risk_level risk_at(const struct ctx *c, size_t area, int64_t t)
{
	if (!c->risky[area])
		return VS_RISK_LOW;
	return vs_risk_map_level(c->risk, c->s->areas[area].path, t);
}

/* ---- attribute sets ------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Intern the set of "k=v" items (sorted by key, later duplicates of a key win). */
static long attr_intern(struct ctx *c, char **items, size_t n)
{
	struct vs_buf b = VS_BUF_INIT;
	uint32_t who = 0;
	char *text;

	qsort(items, n, sizeof(*items), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (b.len)
			vs_buf_addc(&b, ';');
		vs_buf_adds(&b, items[i]);
		for (size_t m = 0; m < c->s->nmisuse; m++)
			if (c->s->misuse[m].who && !strcmp(c->s->misuse[m].who, items[i]))
				who |= 1u << m;
	}
	text = vs_buf_detach(&b, NULL);
	if (!text)
		text = vs_xstrdup("");
	for (size_t i = 0; i < c->nattr; i++)
		if (!strcmp(c->attr_text[i], text)) {
			free(text);
			return (long)i;
		}
	if (c->nattr == UINT16_MAX) {
		free(text);
		return vs_error_set(VS_EFORMAT, "%s: more than %u distinct attribute sets",
				    c->s->path, UINT16_MAX);
	}
	VS_ALLOC_GROW(c->attr_text, c->nattr + 1, c->attr_alloc);
	c->attr_who = vs_xreallocarray(c->attr_who, c->attr_alloc, sizeof(*c->attr_who));
	c->attr_text[c->nattr] = text;
	c->attr_who[c->nattr] = who;
	return (long)c->nattr++;
}

/* Draw person p's attributes; group g (or SIZE_MAX) adds its own. */
static long person_attrs(struct ctx *c, uint64_t p, size_t g)
{
	const struct vs_scenario *s = c->s;
	char *items[128];
	size_t n = 0;
	long rc;

	for (size_t a = 0; a < s->nattributes && n < 64; a++) {
		const struct vs_scn_attribute *at = &s->attributes[a];
		int skip = 0;
		if (g != SIZE_MAX) {
			for (size_t k = 0; k < s->groups[g].nattrs; k++)
				skip |= !strcmp(s->groups[g].attrs[k].key, at->name);
			for (size_t k = 0; k < s->groups[g].ndraws; k++)
				skip |= !strcmp(s->groups[g].draw_keys[k], at->name);
		}
		if (skip)
			continue;
		struct vs_rng r;
		vs_rng_init(&r, c->seed, p, 0, P_ATTR + (uint32_t)a);
		size_t v = vs_rng_pick(&r, at->values.weights, at->values.cumulative, at->values.n);
		items[n++] = vs_xasprintf("%s=%s", at->name, at->values.labels[v]);
	}
	if (g != SIZE_MAX) {
		const struct vs_scn_group *gr = &s->groups[g];
		for (size_t k = 0; k < gr->nattrs && n < 127; k++)
			items[n++] = vs_xasprintf("%s=%s", gr->attrs[k].key, gr->attrs[k].value);
		for (size_t k = 0; k < gr->ndraws && n < 127; k++) {
			struct vs_rng r;
			vs_rng_init(&r, c->seed, p, 0, P_ATTR + 32 + (uint32_t)k);
			size_t v = vs_rng_pick(&r, gr->draws[k].weights, gr->draws[k].cumulative,
					       gr->draws[k].n);
			items[n++] = vs_xasprintf("%s=%s", gr->draw_keys[k], gr->draws[k].labels[v]);
		}
	}
	rc = attr_intern(c, items, n);
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	return rc;
}

/* ---- population ----------------------------------------------------------------------- */

struct household_plan {
	uint32_t size;
	uint32_t group; /* UINT32_MAX: ordinary */
	uint32_t home;
};

static int build_population(struct ctx *c, uint64_t target)
{
	const struct vs_scenario *s = c->s;
	struct household_plan *gh = NULL, *oh = NULL, *all = NULL;
	size_t ngh = 0, noh = 0, alloc = 0;
	uint64_t gpersons = 0, left;
	int rc = 0;

	for (size_t g = 0; g < s->ngroups; g++) {
		const struct vs_scn_group *gr = &s->groups[g];
		gh = vs_xreallocarray(gh, ngh + gr->count, sizeof(*gh));
		for (uint64_t i = 0; i < gr->count; i++) {
			struct vs_rng r;
			vs_rng_init(&r, c->seed, ((uint64_t)g << 40) | i, 0, P_HOME);
			size_t h = vs_rng_pick(&r, gr->homes.weights, gr->homes.cumulative, gr->homes.n);
			gh[ngh].size = group_household_size(c->seed, g, i);
			gh[ngh].group = (uint32_t)g;
			gh[ngh].home = (uint32_t)gr->home_area[h];
			gpersons += gh[ngh++].size;
		}
	}
	if (gpersons > target) {
		rc = vs_error_set(VS_EFORMAT, "%s:%lu: the groups' households hold %" PRIu64
				  " persons, more than the %" PRIu64 " simulated; use --persons %"
				  PRIu64 " or more", s->path, s->groups[0].line, gpersons, target,
				  gpersons * 2);
		goto out;
	}
	left = target - gpersons;
	for (uint64_t i = 0; left; i++) {
		struct vs_rng r;
		uint32_t size = vs_sim_household_size(c->seed, i);
		if (size > left)
			size = (uint32_t)left;
		VS_ALLOC_GROW(oh, noh + 1, alloc);
		vs_rng_init(&r, c->seed, i, 0, P_HOME);
		oh[noh].size = size;
		oh[noh].group = UINT32_MAX;
		oh[noh].home = (uint32_t)vs_rng_pick(&r, NULL, s->home_cumulative, s->nareas);
		noh++;
		left -= size;
	}
	/* Interleave: each slot takes a group household with probability remaining share. */
	c->nhouseholds = ngh + noh;
	all = vs_xcalloc(c->nhouseholds ? c->nhouseholds : 1, sizeof(*all));
	{
		size_t gi = 0, oi = 0;
		for (size_t h = 0; h < c->nhouseholds; h++) {
			struct vs_rng r;
			vs_rng_init(&r, c->seed, h, 0, P_ORDER);
			uint64_t rem_g = ngh - gi, rem_o = noh - oi;
			if (rem_g && (!rem_o || vs_rng_below(&r, rem_g + rem_o) < rem_g))
				all[h] = gh[gi++];
			else
				all[h] = oh[oi++];
		}
	}
	c->npersons = target;
	c->persons = vs_xcalloc(target, sizeof(*c->persons));
	c->rstate = vs_xmalloc(target * c->nrules * sizeof(int32_t));
	for (uint64_t i = 0; i < target * c->nrules; i++)
		c->rstate[i] = INT32_MIN;
	c->block_start = vs_xmalloc((target / BLOCK_PERSONS + 2) * sizeof(size_t));
	c->nblocks = 0;
	{
		uint64_t p = 0;
		for (size_t h = 0; h < c->nhouseholds; h++) {
			if (p == 0 || p - c->block_start[c->nblocks - 1] >= BLOCK_PERSONS)
				c->block_start[c->nblocks++] = p;
			for (uint32_t k = 0; k < all[h].size; k++, p++) {
				struct person *pp = &c->persons[p];
				size_t g = k == 0 && all[h].group != UINT32_MAX ? all[h].group : SIZE_MAX;
				long a = person_attrs(c, p, g);
				if (a < 0) {
					rc = (int)a;
					goto out;
				}
				pp->household = (uint32_t)h;
				pp->home = (uint16_t)all[h].home;
				pp->attrs = (uint16_t)a;
				pp->trip_area = NO_AREA;
				pp->rule = UINT8_MAX;
				pp->group = g == SIZE_MAX ? 0 : (uint8_t)(g + 1);
			}
		}
		c->block_start[c->nblocks] = p;
	}
out:
	free(gh);
	free(oh);
	free(all);
	return rc;
}

/* ---- misuse scripts ------------------------------------------------------------------- */

static int is_head_of_group(const struct ctx *c, uint64_t p, size_t g)
{
	return c->persons[p].group == g + 1;
}

static void script_of(const struct ctx *c, uint64_t p, struct script *sc);

/* The timeline of person p's role. */
static void script_of(const struct ctx *c, uint64_t p, struct script *sc)
{
	const struct vs_scenario *s = c->s;
	const struct person *pp = &c->persons[p];
	const struct vs_scn_misuse *m;
	struct vs_rng r;

	memset(sc, 0, sizeof(*sc));
	sc->arrive = sc->leave = sc->scan = sc->action = sc->red = NONE64;
	sc->flip_action = sc->flip_green = sc->flip_red = sc->release = NONE64;
	sc->mirror_red = sc->mirror_green = NONE64;
	sc->trip_area = sc->action_venue = SIZE_MAX;
	sc->rule = sc->flip_rule = sc->mirror_rule = sc->release_rule = SIZE_MAX;
	if (pp->role == R_NONE)
		return;
	if (pp->role == R_COMPANION || pp->role == R_FAMILY) {
		struct script head;
		script_of(c, p - 1, &head);
		vs_rng_init(&r, c->seed, p, 0, P_SCRIPT);
		sc->rule = pp->rule;
		sc->arrive = head.arrive;
		sc->leave = head.leave;
		sc->trip_area = head.trip_area;
		sc->photo = head.photo;
		sc->scan = head.scan + vs_rng_range(&r, pp->role == R_FAMILY ? 2 * MIN : 30,
						    pp->role == R_FAMILY ? 15 * MIN : 4 * MIN);
		return;
	}
	m = &s->misuse[pp->rule];
	sc->rule = pp->rule;
	vs_rng_init(&r, c->seed, p, 0, P_SCRIPT);
	sc->reason = pick_text(&r, m->reasons, m->nreasons);
	sc->authority = pick_text(&r, m->authorities, m->nauthorities);
	if (pp->role == R_IN_PERSON || pp->role == R_BEFORE) {
		const struct vs_venue *v = &s->venues.items[m->venue];
		long va = vs_scenario_area(s, v->area);
		int64_t lo = pp->role == R_IN_PERSON ? m->window.lo : s->start + DAY;
		int64_t hi = pp->role == R_IN_PERSON ? m->window.hi - HOUR : m->window.lo - 2 * HOUR;
		int64_t nights = in_range(&r, m->stay) / DAY;
		int64_t arrive = daytime_in(&r, s, lo, hi, 6 * HOUR, 23 * HOUR);
		sc->scan = arrive + vs_rng_range(&r, 30, 4 * MIN);
		sc->scan_red = pp->role == R_IN_PERSON;
		if (!same_city(s->areas[pp->home].path, v->area)) {
			int64_t midnight = arrive - local_tod(s, arrive);
			sc->arrive = arrive;
			sc->trip_area = (size_t)va;
			sc->leave = midnight + nights * DAY + vs_rng_range(&r, 8 * HOUR, 18 * HOUR);
		}
	} else if (pp->role == R_PHOTO) {
		double u = vs_rng_uniform(&r);
		int64_t span = m->window.hi - HOUR - m->window.lo;
		int64_t t = m->window.lo + (int64_t)((double)span * u * u);
		int64_t tod = local_tod(s, t);
		if (tod < 7 * HOUR)
			t += 7 * HOUR - tod + vs_rng_range(&r, 0, 3 * HOUR);
		sc->scan = t;
		sc->scan_red = 1;
		sc->photo = 1;
	} else if (pp->role == R_ACTOR) {
		sc->action = daytime_in(&r, s, m->action_window.lo, m->action_window.hi, 8 * HOUR,
					18 * HOUR);
		sc->action_token = m->action;
		if (m->action_venue != SIZE_MAX &&
		    same_city(s->areas[pp->home].path, s->venues.items[m->action_venue].area))
			sc->action_venue = m->action_venue;
	}
	if (pp->role == R_BEFORE)
		return;
	if (pp->role == R_ACTOR) {
		sc->red = daytime_in(&r, s, m->window.lo, m->window.hi, 7 * HOUR, 22 * HOUR);
		if (sc->red <= sc->action)
			sc->red = sc->action + in_range(&r, m->delay);
	} else {
		sc->red = sc->scan + in_range(&r, m->delay);
	}
	if ((pp->flags & F_FLIP) && c->flip_of[pp->rule] >= 0) {
		const struct vs_scn_misuse *f = &s->misuse[c->flip_of[pp->rule]];
		sc->flip_rule = (size_t)c->flip_of[pp->rule];
		sc->flip_action = daytime_in(&r, s, f->action_window.lo, f->action_window.hi,
					     7 * HOUR, 22 * HOUR);
		if (sc->flip_action <= sc->red)
			sc->flip_action = sc->red + 10 * MIN + vs_rng_range(&r, 0, HOUR);
		sc->flip_green = sc->flip_action + in_range(&r, f->green_delay);
		sc->flip_red = sc->flip_green + in_range(&r, f->red_delay);
		if (f->red_window.hi) {
			int64_t t = in_range(&r, f->red_window);
			sc->flip_red = t > sc->flip_green ? t : sc->flip_green + 10 * MIN;
		}
		if (sc->leave != NONE64 && sc->leave <= sc->flip_red)
			sc->leave = sc->flip_red + vs_rng_range(&r, HOUR, 4 * HOUR);
	}
	if (c->release_of[pp->rule] >= 0) {
		const struct vs_scn_misuse *rl = &s->misuse[c->release_of[pp->rule]];
		int64_t last = sc->flip_red != NONE64 ? sc->flip_red : sc->red;
		sc->release_rule = (size_t)c->release_of[pp->rule];
		sc->release = vs_rng_chance(&r, rl->share)
				      ? in_range(&r, rl->window)
				      : daytime_in(&r, s, rl->late.lo, rl->late.hi, 8 * HOUR, 21 * HOUR);
		if (sc->release <= last)
			sc->release = last + vs_rng_range(&r, HOUR, 3 * HOUR);
	}
	if (c->mirror_of[pp->rule] >= 0) {
		const struct vs_scn_misuse *mr = &s->misuse[c->mirror_of[pp->rule]];
		size_t alen = strcspn(sc->authority, "/");
		const char *home = c->province[pp->home];
		if (strlen(home) != alen || strncmp(home, sc->authority, alen)) {
			sc->mirror_rule = (size_t)c->mirror_of[pp->rule];
			sc->mirror_red = sc->red + in_range(&r, mr->lag);
			if (sc->release != NONE64) {
				sc->mirror_green = sc->release + in_range(&r, mr->lag);
				if (sc->mirror_green <= sc->mirror_red)
					sc->mirror_green = sc->mirror_red + vs_rng_range(&r, 10 * MIN, HOUR);
			}
		}
	}
}

/* The colour misuse imposes at t, or -1 when it imposes none. */
static int override_at(const struct script *sc, int64_t t)
{
	if (sc->red == NONE64 || t < sc->red || t >= sc->release)
		return -1;
	if (t >= sc->flip_green && t < sc->flip_red)
		return VS_GREEN;
	return VS_RED;
}

/* Shuffle the first k of v (Fisher-Yates, keyed draws). */
static void shuffle(uint64_t seed, uint64_t key, uint64_t *v, size_t n)
{
	struct vs_rng r;

	vs_rng_init(&r, seed, key, 0, P_SELECT);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)vs_rng_below(&r, i);
		uint64_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static int misuse_err(const struct ctx *c, const struct vs_scn_misuse *m, const char *what,
		      uint64_t want, uint64_t have)
{
	return vs_error_set(VS_EFORMAT, "%s:%lu: [misuse %s]: needs %" PRIu64 " %s but the "
			    "population has %" PRIu64, c->s->path, m->line, m->name, want, what, have);
}

static void set_role(struct ctx *c, uint64_t p, enum role role, size_t m)
{
	c->persons[p].role = (uint8_t)role;
	c->persons[p].rule = (uint8_t)m;
}

/* A co-resident of head p without a role, or UINT64_MAX. */
static uint64_t coresident(const struct ctx *c, uint64_t p)
{
	if (p + 1 < c->npersons && c->persons[p + 1].household == c->persons[p].household &&
	    c->persons[p + 1].role == R_NONE)
		return p + 1;
	return UINT64_MAX;
}

static int assign_roles(struct ctx *c)
{
	const struct vs_scenario *s = c->s;
	uint64_t *cand = NULL;
	size_t ncand;
	int rc = 0;

	for (size_t mi = 0; mi < s->nmisuse; mi++) {
		const struct vs_scn_misuse *m = &s->misuse[mi];
		if (m->type != VS_MISUSE_SCAN && m->type != VS_MISUSE_ACTION)
			continue;
		ncand = 0;
		free(cand);
		cand = vs_xmalloc((c->npersons + 1) * sizeof(*cand));
		for (uint64_t p = 0; p < c->npersons; p++)
			if (c->persons[p].role == R_NONE && is_head_of_group(c, p, m->group))
				cand[ncand++] = p;
		shuffle(c->seed, mi, cand, ncand);
		if (m->type == VS_MISUSE_ACTION) {
			if (ncand < m->count) {
				rc = misuse_err(c, m, "actors", m->count, ncand);
				goto out;
			}
			for (uint64_t i = 0; i < m->count; i++)
				set_role(c, cand[i], R_ACTOR, mi);
			continue;
		}
		/* Photo scanners live outside the venue's city; they are taken first. */
		const char *varea = s->venues.items[m->venue].area;
		uint64_t got = 0;
		for (size_t i = 0; i < ncand && got < m->photo; i++)
			if (!same_city(s->areas[c->persons[cand[i]].home].path, varea)) {
				set_role(c, cand[i], R_PHOTO, mi);
				got++;
			}
		if (got < m->photo) {
			rc = misuse_err(c, m, "members living outside the venue's city", m->photo, got);
			goto out;
		}
		got = 0;
		uint64_t before = 0;
		for (size_t i = 0; i < ncand && (got < m->in_person || before < m->before); i++) {
			if (c->persons[cand[i]].role != R_NONE)
				continue;
			if (got < m->in_person) {
				set_role(c, cand[i], R_IN_PERSON, mi);
				got++;
			} else {
				set_role(c, cand[i], R_BEFORE, mi);
				before++;
			}
		}
		if (got < m->in_person || before < m->before) {
			rc = misuse_err(c, m, "members", m->in_person + m->photo + m->before,
					ncand);
			goto out;
		}
	}
	/* Companions, family members, flips (in candidate order, so exact and seeded). */
	for (size_t mi = 0; mi < s->nmisuse; mi++) {
		const struct vs_scn_misuse *m = &s->misuse[mi];
		uint64_t flips = 0, want = 0;
		if (c->flip_of[mi] >= 0)
			want = s->misuse[c->flip_of[mi]].count;
		ncand = 0;
		for (uint64_t p = 0; p < c->npersons; p++)
			if (c->persons[p].rule == mi)
				cand[ncand++] = p;
		shuffle(c->seed, 1000 + mi, cand, ncand);
		for (size_t i = 0; i < ncand; i++) {
			uint64_t p = cand[i], q;
			struct vs_rng r;
			vs_rng_init(&r, c->seed, p, 0, P_SELECT);
			if (c->persons[p].role == R_IN_PERSON && vs_rng_chance(&r, m->companion) &&
			    (q = coresident(c, p)) != UINT64_MAX)
				set_role(c, q, R_COMPANION, mi);
			if (c->persons[p].role == R_PHOTO && vs_rng_chance(&r, m->family) &&
			    (q = coresident(c, p)) != UINT64_MAX)
				set_role(c, q, R_FAMILY, mi);
			if (flips < want && (c->persons[p].role == R_ACTOR ||
					     (c->persons[p].role == R_IN_PERSON &&
					      c->persons[p].flags == 0))) {
				const struct vs_scn_misuse *f = &s->misuse[c->flip_of[mi]];
				struct script sc;
				script_of(c, p, &sc);
				/* red well before the flip window closes; in the city at the flip */
				if (sc.red < f->action_window.hi - HOUR &&
				    (c->persons[p].role == R_ACTOR || sc.trip_area != SIZE_MAX ||
				     same_city(s->areas[c->persons[p].home].path,
					       s->venues.items[m->venue].area))) {
					c->persons[p].flags |= F_FLIP;
					flips++;
				}
			}
		}
		if (flips < want) {
			rc = misuse_err(c, &s->misuse[c->flip_of[mi]], "persons red in time to flip",
					want, flips);
			goto out;
		}
	}
out:
	free(cand);
	return rc;
}

/* ---- one person's day ----------------------------------------------------------------- */

enum moment_kind {
	M_LOCATE, M_SCAN, M_TEST, M_ENTRY, M_CONTACT, M_ACTION, M_SCRIPT_SCAN, /* facts */
	M_ACTION_SCAN, /* the scan of the action's venue, a few minutes before the action */
	M_MISUSE, M_CHECK, M_MIRROR,
};

struct moment {
	int64_t t;
	uint8_t kind;
	uint8_t order; /* ties: facts, then misuse, checks, mirrors */
	uint16_t seq;
	int arg;       /* M_TEST: positive; M_MISUSE: which step; M_MIRROR: colour */
};

enum { STEP_RED, STEP_FLIP_GREEN, STEP_FLIP_RED, STEP_RELEASE };

struct dayplan {
	uint16_t start_area;  /* where the day starts */
	uint16_t next_area;   /* where the person is after change */
	int64_t change;       /* NONE64: no move today */
	int64_t positive;     /* positive test time, or NONE64 */
};

struct worker {
	struct ctx *c;
	int64_t st[VS_RULES_MAX];
	struct moment mo[MOMENTS_MAX];
	size_t nmo;
	uint16_t seq;
};

static void add_moment(struct worker *w, int64_t t, enum moment_kind kind, int arg)
{
	struct moment *m;
	size_t i;

	if (w->nmo == MOMENTS_MAX)
		return;
	m = &w->mo[w->nmo];
	m->t = t;
	m->kind = (uint8_t)kind;
	m->order = kind < M_MISUSE ? 0 : kind == M_MISUSE ? 1 : kind == M_CHECK ? 2 : 3;
	m->seq = w->seq++;
	m->arg = arg;
	/* keep mo[] sorted by (t, order, seq): insertion from the end */
	for (i = w->nmo; i > 0; i--) {
		const struct moment *q = &w->mo[i - 1];
		if (q->t < t || (q->t == t && (q->order < m->order ||
					      (q->order == m->order && q->seq < m->seq))))
			break;
	}
	if (i != w->nmo) {
		struct moment tmp = *m;
		memmove(&w->mo[i + 1], &w->mo[i], (w->nmo - i) * sizeof(*m));
		w->mo[i] = tmp;
	}
	w->nmo++;
}

/* Where p is at t today. */
static size_t area_at(const struct dayplan *dp, const struct script *sc, int64_t t,
		      const struct person *pp)
{
	if (sc->trip_area != SIZE_MAX && t >= sc->arrive && t < sc->leave)
		return sc->trip_area;
	if (dp->change != NONE64 && t >= dp->change)
		return dp->next_area;
	if (sc->trip_area != SIZE_MAX)
		return pp->home;
	return dp->start_area;
}

/* Pass 1: trips (updating the person) and a positive test, for the household pass. */
static void plan_day(struct ctx *c, uint64_t p, unsigned d, int64_t day0, struct dayplan *dp)
{
	const struct vs_scenario *s = c->s;
	struct person *pp = &c->persons[p];
	struct vs_rng r;

	dp->start_area = pp->trip_area != NO_AREA ? pp->trip_area : pp->home;
	dp->next_area = dp->start_area;
	dp->change = dp->positive = NONE64;
	vs_rng_init(&r, c->seed, p, d + 1, P_TRIP);
	if (pp->role != R_NONE) {
		/* scripted persons travel only as their script says */
	} else if (pp->trip_area != NO_AREA) {
		if (pp->trip_end <= d) {
			dp->change = day0 + vs_rng_range(&r, 12 * HOUR, 20 * HOUR);
			dp->next_area = pp->home;
			pp->trip_area = NO_AREA;
		}
	} else if (d + 1 < s->days && vs_rng_chance(&r, s->trip)) {
		size_t to = vs_rng_pick(&r, NULL, s->home_cumulative, s->nareas);
		size_t k = vs_rng_pick(&r, s->trip_days.weights, s->trip_days.cumulative,
				       s->trip_days.n);
		if (to != pp->home &&
		    risk_at(c, to, day0) == VS_RISK_LOW) {
			dp->change = day0 + vs_rng_range(&r, 7 * HOUR, 11 * HOUR);
			dp->next_area = (uint16_t)to;
			pp->trip_area = (uint16_t)to;
			pp->trip_end = (uint8_t)(d + (unsigned)atoi(s->trip_days.labels[k]));
		}
	}
	if (s->positive > 0 && c->s->nzones) {
		int64_t noon = day0 + 12 * HOUR;
		size_t a = dp->change != NONE64 && noon >= dp->change ? dp->next_area : dp->start_area;
		vs_rng_init(&r, c->seed, p, d + 1, P_POSITIVE);
		if (risk_at(c, a, noon) == VS_RISK_HIGH &&
		    vs_rng_chance(&r, s->positive))
			dp->positive = day0 + vs_rng_range(&r, 8 * HOUR, 12 * HOUR);
	}
}

struct emit {
	struct sim_sink *k;
	const char *pid;
};

static void emit_code(struct emit *e, int64_t t, enum vs_color col, const char *reason,
		      const char *authority, const char *cause)
{
	struct vs_event ev = { 0 };

	ev.ts = t;
	ev.person_id = e->pid;
	ev.kind = VS_EVENT_CODE;
	ev.value = vs_color_name(col);
	ev.reason = reason;
	ev.authority = authority;
	sim_sink_event(e->k, &ev, cause);
}

static void jitter(struct vs_rng *r, double lat, double lon, double span, double *olat,
		   double *olon)
{
	*olat = lat + (vs_rng_uniform(r) - 0.5) * span;
	*olon = lon + (vs_rng_uniform(r) - 0.5) * span;
}

/*
 * The scan of an actor's action venue: a moment of its own (so it is written in time order
 * with the day's other moments, possibly on the day before the action) on its own stream,
 * which *r is left at for the scan's position.
 */
static int64_t action_scan_at(const struct ctx *c, uint64_t p, const struct script *sc,
			      struct vs_rng *r)
{
	vs_rng_init(r, c->seed, p, 0, P_ACTION_SCAN);
	return sc->action - vs_rng_range(r, 2 * MIN, 20 * MIN);
}

/* Pass 2: the events of p's day. */
static void person_day(struct worker *w, struct sim_sink *k, uint64_t p, unsigned d,
		       int64_t day0, const struct dayplan *dp, int64_t hh_positive)
{
	struct ctx *c = w->c;
	const struct vs_scenario *s = c->s;
	struct person *pp = &c->persons[p];
	int32_t *rs = &c->rstate[p * c->nrules];
	int64_t day1 = day0 + DAY, release = vs_rules_release(s->rules);
	struct script sc;
	struct vs_rng r;
	char pid[37];
	struct emit e = { k, pid };
	const char *home_prov = c->province[pp->home];
	uint32_t who = c->attr_who[pp->attrs];

	{
		struct vs_rng idr;
		vs_rng_init(&idr, c->seed, p, 0, P_PERSON_ID);
		vs_rng_uuid(&idr, pid);
	}
	for (size_t i = 0; i < c->nrules; i++)
		w->st[i] = rs[i] == INT32_MIN ? VS_NEVER : c->base + rs[i];
	script_of(c, p, &sc);
	vs_rng_init(&r, c->seed, p, d + 1, P_DAY);
	w->nmo = 0;
	w->seq = 0;

	/* scripted moments */
#define IN_DAY(t) ((t) != NONE64 && (t) >= day0 && (t) < day1)
	if (IN_DAY(sc.scan))
		add_moment(w, sc.scan, M_SCRIPT_SCAN, 0);
	if (IN_DAY(sc.action))
		add_moment(w, sc.action, M_ACTION, 0);
	if (sc.action != NONE64 && sc.action_venue != SIZE_MAX) {
		struct vs_rng ar;
		int64_t t = action_scan_at(c, p, &sc, &ar);
		if (IN_DAY(t))
			add_moment(w, t, M_ACTION_SCAN, 0);
	}
	if (IN_DAY(sc.flip_action))
		add_moment(w, sc.flip_action, M_ACTION, 1);
	if (IN_DAY(sc.red))
		add_moment(w, sc.red, M_MISUSE, STEP_RED);
	if (IN_DAY(sc.flip_green))
		add_moment(w, sc.flip_green, M_MISUSE, STEP_FLIP_GREEN);
	if (IN_DAY(sc.flip_red))
		add_moment(w, sc.flip_red, M_MISUSE, STEP_FLIP_RED);
	if (IN_DAY(sc.release))
		add_moment(w, sc.release, M_MISUSE, STEP_RELEASE);
	if (IN_DAY(sc.mirror_red))
		add_moment(w, sc.mirror_red, M_MIRROR, VS_RED);
	if (IN_DAY(sc.mirror_green))
		add_moment(w, sc.mirror_green, M_MIRROR, VS_GREEN);
	if (IN_DAY(sc.arrive))
		add_moment(w, sc.arrive, M_LOCATE, 0);
	if (IN_DAY(sc.leave)) {
		int64_t t = sc.leave + vs_rng_range(&r, 2 * HOUR, 6 * HOUR);
		add_moment(w, t < day1 ? t : day1 - 1, M_LOCATE, 0);
	}
	if (dp->change != NONE64) {
		int64_t t = dp->change + vs_rng_range(&r, HOUR, 4 * HOUR);
		add_moment(w, t < day1 ? t : day1 - 1, M_LOCATE, 0);
	}

	/* honest moments */
	if (vs_rng_chance(&r, s->locate))
		add_moment(w, day0 + vs_rng_range(&r, 6 * HOUR, 23 * HOUR), M_LOCATE, 0);
	{
		size_t n = (size_t)atoi(s->scans.labels[vs_rng_pick(&r, s->scans.weights,
								     s->scans.cumulative, s->scans.n)]);
		for (size_t i = 0; i < n; i++)
			add_moment(w, day0 + vs_rng_range(&r, 7 * HOUR, 21 * HOUR + 30 * MIN), M_SCAN,
				   0);
	}
	if (dp->positive != NONE64)
		add_moment(w, dp->positive, M_TEST, 1);
	else if (vs_rng_chance(&r, s->tests))
		add_moment(w, day0 + vs_rng_range(&r, 7 * HOUR, 12 * HOUR), M_TEST, 0);
	if (pp->role == R_NONE && vs_rng_chance(&r, s->entries))
		add_moment(w, day0 + vs_rng_range(&r, 6 * HOUR, 22 * HOUR), M_ENTRY, 0);
	if (hh_positive != NONE64 && dp->positive == NONE64 && vs_rng_chance(&r, s->contact_share)) {
		int64_t t = hh_positive + vs_rng_range(&r, 2 * HOUR, 8 * HOUR);
		add_moment(w, t < day1 ? t : day1 - 1, M_CONTACT, 0);
	}
	for (size_t i = 0; i < c->nrules; i++)
		if (w->st[i] != VS_NEVER && IN_DAY(w->st[i] + release))
			add_moment(w, w->st[i] + release, M_CHECK, 0);

	int commute = pp->role == R_NONE && vs_rng_chance(&r, s->commute);
	size_t commute_area = SIZE_MAX;
	for (size_t i = 0; i < w->nmo; i++) {
		struct moment mo = w->mo[i];
		struct vs_event ev = { 0 };
		size_t a = area_at(dp, &sc, mo.t, pp);
		uint64_t hit = 0;
		int ov;
		enum vs_color shown;

		ev.ts = mo.t;
		ev.person_id = pid;
		ov = override_at(&sc, mo.t);
		shown = ov >= 0 ? (enum vs_color)ov : (enum vs_color)pp->color;
		switch ((enum moment_kind)mo.kind) {
		case M_LOCATE:
			ev.kind = VS_EVENT_LOCATE;
			ev.area = s->areas[a].path;
			ev.has_pos = 1;
			jitter(&r, s->areas[a].lat, s->areas[a].lon, 0.02, &ev.lat, &ev.lon);
			hit = vs_rules_observe(s->rules, w->st, VS_FACT_PRESENCE,
					       vs_risk_level_name(risk_at(c, a, mo.t)), mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		case M_SCAN:
		case M_SCRIPT_SCAN: {
			const struct vs_venue *v;
			size_t va = a, ea = a;
			if (mo.kind == M_SCAN) {
				if (a != pp->home)
					va = c->city_areas[a][vs_rng_below(&r, c->ncity[a])];
				else if (commute) {
					if (commute_area == SIZE_MAX)
						commute_area = c->city_areas[a][vs_rng_below(&r, c->ncity[a])];
					va = commute_area;
				}
				/* nobody goes into a medium- or high-risk area they do not live in */
				if (va != a && risk_at(c, va, mo.t) != VS_RISK_LOW)
					va = a;
				if (!s->areas[va].nvenues)
					va = a;
				if (!s->areas[va].nvenues)
					break;
				v = &s->venues.items[s->areas[va].venues[vs_rng_below(
					&r, s->areas[va].nvenues)]];
				if ((who & c->blocked_mask) || pp->role != R_NONE) {
					int blocked = 0;
					for (size_t m = 0; m < s->nmisuse; m++)
						if (s->misuse[m].type == VS_MISUSE_SCAN &&
						    v == &s->venues.items[s->misuse[m].venue])
							blocked = 1;
					if (blocked)
						break;
				}
				ev.area = v->area;
				ea = va;
				jitter(&r, v->lat, v->lon, 0.001, &ev.lat, &ev.lon);
			} else {
				v = &s->venues.items[s->misuse[sc.rule].venue];
				if (sc.photo) {
					ea = pp->home;
					ev.area = s->areas[pp->home].path;
					jitter(&r, s->areas[pp->home].lat, s->areas[pp->home].lon, 0.02,
					       &ev.lat, &ev.lon);
				} else {
					ea = (size_t)vs_scenario_area(s, v->area);
					ev.area = v->area;
					jitter(&r, v->lat, v->lon, 0.001, &ev.lat, &ev.lon);
				}
				if (sc.scan_red)
					shown = VS_RED;
			}
			ev.kind = VS_EVENT_SCAN;
			ev.venue_id = v->id;
			ev.has_pos = 1;
			ev.value = vs_color_name(shown);
			hit = vs_rules_observe(s->rules, w->st, VS_FACT_PRESENCE,
					       vs_risk_level_name(risk_at(c, ea, mo.t)), mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		}
		case M_TEST:
			ev.kind = VS_EVENT_TEST;
			ev.area = s->areas[a].path;
			ev.value = mo.arg ? "positive" : "negative";
			hit = vs_rules_observe(s->rules, w->st, VS_FACT_TEST, ev.value, mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		case M_ENTRY:
			ev.kind = VS_EVENT_ENTRY;
			ev.area = s->areas[pp->home].path;
			hit = vs_rules_observe(s->rules, w->st, VS_FACT_ENTRY, NULL, mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		case M_CONTACT:
			ev.kind = VS_EVENT_CONTACT;
			hit = vs_rules_observe(s->rules, w->st, VS_FACT_CONTACT, NULL, mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		case M_ACTION_SCAN: {
			const struct vs_venue *v = &s->venues.items[sc.action_venue];
			struct vs_rng ar;
			long va = vs_scenario_area(s, v->area);
			(void)action_scan_at(c, p, &sc, &ar);
			ev.kind = VS_EVENT_SCAN;
			ev.venue_id = v->id;
			ev.area = v->area;
			ev.has_pos = 1;
			jitter(&ar, v->lat, v->lon, 0.001, &ev.lat, &ev.lon);
			ev.value = vs_color_name(shown);
			if (va >= 0)
				hit = vs_rules_observe(s->rules, w->st, VS_FACT_PRESENCE,
						       vs_risk_level_name(risk_at(c, (size_t)va, mo.t)),
						       mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		}
		case M_ACTION: {
			const char *token = mo.arg ? s->misuse[sc.flip_rule].action : sc.action_token;
			ev.kind = VS_EVENT_ACTION;
			ev.area = s->areas[a].path;
			ev.value = token;
			hit = vs_rules_observe(s->rules, w->st, VS_FACT_ACTION, token, mo.t);
			sim_sink_event(k, &ev, NULL);
			break;
		}
		case M_MISUSE: {
			size_t rule = mo.arg == STEP_RED ? sc.rule
				      : mo.arg == STEP_RELEASE ? sc.release_rule : sc.flip_rule;
			const char *reason = mo.arg == STEP_RELEASE ? s->release_reason : sc.reason;
			const char *cause = c->cause_misuse[rule];
			enum vs_color now;
			int pub_rule;
			if (mo.arg == STEP_RELEASE) {
				/* back to what the published rules give: if that is not green, they
				 * explain the change and the label names their rule */
				now = vs_rules_color_at(s->rules, w->st, mo.t, &pub_rule);
				if (now != VS_GREEN) {
					reason = s->rule_reasons[pub_rule];
					cause = c->cause_pub[pub_rule];
				}
			} else {
				now = (enum vs_color)override_at(&sc, mo.t);
			}
			if (mo.arg == STEP_FLIP_GREEN)
				reason = s->release_reason;
			/* a push is written even when the colour is already red */
			if (now != pp->color || mo.arg == STEP_RED) {
				emit_code(&e, mo.t, now, reason, sc.authority, cause);
				pp->color = (uint8_t)now;
			}
			break;
		}
		case M_CHECK: {
			int rule;
			enum vs_color pub = vs_rules_color_at(s->rules, w->st, mo.t, &rule);
			enum vs_color now = ov >= 0 ? (enum vs_color)ov : pub;
			if (now != pp->color && ov < 0) {
				if (now == VS_GREEN)
					emit_code(&e, mo.t, now, s->release_reason, home_prov,
						  "published:release");
				else
					emit_code(&e, mo.t, now, s->rule_reasons[rule], home_prov,
						  c->cause_pub[rule]);
				pp->color = (uint8_t)now;
			}
			break;
		}
		case M_MIRROR: {
			/* the copy of the release, like the release, goes back to the published
			 * colour, labelled by the published rule when that is not green */
			int pub_rule;
			enum vs_color pub = vs_rules_color_at(s->rules, w->st, mo.t, &pub_rule);
			if (mo.arg == VS_RED)
				emit_code(&e, mo.t, VS_RED, s->misuse[sc.mirror_rule].reasons[0],
					  home_prov, c->cause_misuse[sc.mirror_rule]);
			else if (pub != VS_GREEN)
				emit_code(&e, mo.t, pub, s->rule_reasons[pub_rule], home_prov,
					  c->cause_pub[pub_rule]);
			else
				emit_code(&e, mo.t, VS_GREEN, s->release_reason, home_prov,
					  c->cause_misuse[sc.mirror_rule]);
			break;
		}
		}
		if (hit) {
			int64_t t = mo.t + vs_rng_range(&r, 2 * MIN, 40 * MIN);
			add_moment(w, t < day1 ? t : day1 - 1, M_CHECK, 0);
		}
	}
#undef IN_DAY
	for (size_t i = 0; i < c->nrules; i++)
		rs[i] = w->st[i] == VS_NEVER ? INT32_MIN : (int32_t)(w->st[i] - c->base);
}

static void simulate_block(struct worker *w, size_t b, unsigned d, struct sim_sink *k)
{
	struct ctx *c = w->c;
	int64_t day0 = c->s->start + (int64_t)d * DAY;
	struct dayplan plans[HOUSEHOLD_MAX];
	size_t p = c->block_start[b], end = c->block_start[b + 1];

	while (p < end) {
		size_t q = p, n;
		while (q < end && q - p < HOUSEHOLD_MAX &&
		       c->persons[q].household == c->persons[p].household)
			q++;
		n = q - p;
		for (size_t i = 0; i < n; i++)
			plan_day(c, p + i, d, day0, &plans[i]);
		for (size_t i = 0; i < n; i++) {
			/* the earliest positive of another member makes a contact */
			int64_t other = NONE64;
			for (size_t j = 0; j < n; j++)
				if (j != i && plans[j].positive < other)
					other = plans[j].positive;
			person_day(w, k, p + i, d, day0, &plans[i], other);
		}
		p = q;
	}
}

/* ---- threads and files ---------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ctx *c = w->c;

	for (;;) {
		size_t b;
		pthread_mutex_lock(&c->lock);
		while (c->next_block < c->nblocks && c->next_block - c->written >= c->nslots)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->next_block >= c->nblocks) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		b = c->next_block++;
		pthread_mutex_unlock(&c->lock);
		simulate_block(w, b, c->day, &c->slots[b % c->nslots]);
		sim_sink_flush(&c->slots[b % c->nslots]);
		pthread_mutex_lock(&c->lock);
		c->slot_done[b % c->nslots] = 1;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
}

static int write_persons(struct ctx *c, struct sim_file *f)
{
	int rc = vs_persons_write_header(f->f);

	for (uint64_t p = 0; !rc && p < c->npersons; p++) {
		const struct person *pp = &c->persons[p];
		char id[37], household[37];
		struct vs_rng r;
		vs_rng_init(&r, c->seed, p, 0, P_PERSON_ID);
		vs_rng_uuid(&r, id);
		vs_rng_init(&r, c->seed, pp->household, 0, P_HH_ID);
		vs_rng_uuid(&r, household);
		rc = vs_person_write_row(f->f, id, household, c->s->areas[pp->home].path,
					 c->attr_text[pp->attrs]);
	}
	f->rows = c->npersons;
	return rc;
}

static int write_small_files(struct ctx *c, struct sim_file *venues, struct sim_file *areas)
{
	const struct vs_scenario *s = c->s;
	int rc = vs_venues_write(venues->f, &s->venues);

	venues->rows = s->venues.n;
	if (!rc)
		rc = vs_areas_write_header(areas->f);
	for (size_t i = 0; !rc && i < s->nzones; i++) {
		const struct vs_scn_zone *z = &s->zones[i];
		rc = vs_area_level_write(areas->f, s->areas[z->area].path, z->level, z->start,
					 z->end, s->offset_min);
	}
	areas->rows = s->nzones;
	return rc;
}

static unsigned thread_count(const struct vs_sim_options *o)
{
	const char *env = getenv("VS_SIM_THREADS");
	long n = 2;

	if (o && o->threads)
		n = o->threads;
	else if (env && *env)
		n = strtol(env, NULL, 10);
	if (n < 1)
		n = 1;
	if (n > THREADS_MAX)
		n = THREADS_MAX;
	return (unsigned)n;
}

static int prepare(struct ctx *c)
{
	const struct vs_scenario *s = c->s;
	int rc = 0;

	if (s->nmisuse > MISUSE_MAX)
		return vs_error_set(VS_EFORMAT, "%s: more than %d misuse rules", s->path, MISUSE_MAX);
	if (s->ngroups > 254)
		return vs_error_set(VS_EFORMAT, "%s: more than 254 groups", s->path);
	if (s->nareas >= NO_AREA)
		return vs_error_set(VS_EFORMAT, "%s: more than %u areas", s->path, NO_AREA - 1);
	c->nrules = vs_rules_count(s->rules);
	c->base = s->start - 60 * DAY;
	for (size_t i = 0; i < c->nrules; i++)
		c->cause_pub[i] = vs_xasprintf("published:%s", vs_rules_name(s->rules, i));
	for (size_t m = 0; m < MISUSE_MAX; m++)
		c->flip_of[m] = c->mirror_of[m] = c->release_of[m] = -1;
	for (size_t m = 0; m < s->nmisuse; m++) {
		const struct vs_scn_misuse *mu = &s->misuse[m];
		c->cause_misuse[m] = vs_xasprintf("misuse:%s", mu->name);
		if (mu->type == VS_MISUSE_FLIP)
			c->flip_of[mu->among] = (long)m;
		for (size_t i = 0; i < mu->nof; i++) {
			if (mu->type == VS_MISUSE_MIRROR)
				c->mirror_of[mu->of[i]] = (long)m;
			else
				c->release_of[mu->of[i]] = (long)m;
		}
		if (mu->type == VS_MISUSE_SCAN)
			c->blocked_mask |= 1u << m;
	}
	c->province = vs_xcalloc(s->nareas, sizeof(*c->province));
	c->city_areas = vs_xcalloc(s->nareas, sizeof(*c->city_areas));
	c->ncity = vs_xcalloc(s->nareas, sizeof(*c->ncity));
	for (size_t a = 0; a < s->nareas; a++) {
		c->province[a] = vs_xstrndup(s->areas[a].path, strcspn(s->areas[a].path, "/"));
		c->city_areas[a] = vs_xcalloc(s->nareas, sizeof(size_t));
		for (size_t b = 0; b < s->nareas; b++)
			if (s->areas[b].nvenues && same_city(s->areas[a].path, s->areas[b].path))
				c->city_areas[a][c->ncity[a]++] = b;
		if (!c->ncity[a])
			c->city_areas[a][c->ncity[a]++] = a;
	}
	c->risky = vs_xcalloc(s->nareas, 1);
	for (size_t a = 0; a < s->nareas; a++)
		for (size_t z = 0; z < s->nzones; z++) {
			const char *zp = s->areas[s->zones[z].area].path, *ap = s->areas[a].path;
			size_t n = strlen(zp);
			if (!strncmp(ap, zp, n) && (ap[n] == 0 || ap[n] == '/'))
				c->risky[a] = 1;
		}
	c->risk = vs_risk_map_new();
	for (size_t i = 0; !rc && i < s->nzones; i++)
		rc = vs_risk_map_add(c->risk, s->areas[s->zones[i].area].path, s->zones[i].level,
				     s->zones[i].start, s->zones[i].end);
	return rc;
}

static void ctx_release(struct ctx *c)
{
	const struct vs_scenario *s = c->s;

	free(c->persons);
	free(c->rstate);
	free(c->block_start);
	for (size_t i = 0; i < c->nattr; i++)
		free(c->attr_text[i]);
	free(c->attr_text);
	free(c->attr_who);
	if (c->province)
		for (size_t a = 0; a < s->nareas; a++) {
			free(c->province[a]);
			free(c->city_areas[a]);
		}
	free(c->province);
	free(c->city_areas);
	free(c->ncity);
	for (size_t i = 0; i < VS_RULES_MAX; i++)
		free(c->cause_pub[i]);
	for (size_t i = 0; i < MISUSE_MAX; i++)
		free(c->cause_misuse[i]);
	if (c->risk)
		vs_risk_map_free(c->risk);
	free(c->risky);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { F_PERSONS, F_VENUES, F_AREAS, F_EVENTS, F_LABELS, NFILES };

int vs_simulate(const struct vs_scenario *s, const struct vs_sim_options *o, const char *out_dir,
		struct vs_sim_stats *stats)
{
	struct ctx c;
	struct vs_outdir *od = NULL;
	struct sim_file files[NFILES];
	struct worker workers[THREADS_MAX];
	pthread_t tids[THREADS_MAX];
	unsigned nthreads = thread_count(o);
	uint64_t target = o && o->persons ? o->persons : s->persons;
	const char *dir;
	double t0 = now_s();
	int rc;

	memset(&c, 0, sizeof(c));
	memset(files, 0, sizeof(files));
	c.s = s;
	c.seed = o && o->has_seed ? o->seed : s->seed;
	if ((rc = prepare(&c)) || (rc = build_population(&c, target)) || (rc = assign_roles(&c)))
		goto out;
	if ((rc = vs_outdir_open(&od, out_dir)))
		goto out;
	dir = vs_outdir_path(od);
	if ((rc = sim_file_open(&files[F_PERSONS], dir, VS_DATASET_PERSONS)) ||
	    (rc = sim_file_open(&files[F_VENUES], dir, VS_DATASET_VENUES)) ||
	    (rc = sim_file_open(&files[F_AREAS], dir, VS_DATASET_AREAS)) ||
	    (rc = sim_file_open(&files[F_EVENTS], dir, VS_DATASET_EVENTS)) ||
	    (rc = sim_file_open(&files[F_LABELS], dir, VS_DATASET_LABELS)) ||
	    (rc = vs_events_write_header(files[F_EVENTS].f)) ||
	    (rc = vs_labels_write_header(files[F_LABELS].f)))
		goto out;
	if ((rc = write_persons(&c, &files[F_PERSONS])) ||
	    (rc = write_small_files(&c, &files[F_VENUES], &files[F_AREAS])))
		goto out;

	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	c.nslots = 4 * (size_t)nthreads;
	c.slots = vs_xcalloc(c.nslots, sizeof(*c.slots));
	c.slot_done = vs_xcalloc(c.nslots, sizeof(*c.slot_done));
	for (size_t i = 0; i < c.nslots && !rc; i++)
		rc = sim_sink_init(&c.slots[i], s->offset_min);
	for (unsigned d = 0; d < s->days && !rc; d++) {
		c.day = d;
		c.next_block = c.written = 0;
		for (unsigned i = 0; i < nthreads; i++) {
			workers[i].c = &c;
			if (pthread_create(&tids[i], NULL, worker_main, &workers[i])) {
				/* run what could not be started on the threads already running */
				nthreads = i ? i : 1;
				if (!i)
					worker_main(&workers[0]);
				break;
			}
		}
		for (size_t b = 0; b < c.nblocks; b++) {
			struct sim_sink *k = &c.slots[b % c.nslots];
			pthread_mutex_lock(&c.lock);
			while (!c.slot_done[b % c.nslots])
				pthread_cond_wait(&c.cond, &c.lock);
			pthread_mutex_unlock(&c.lock);
			if (!rc && k->rc)
				rc = vs_error_set(k->rc, "%s", k->msg);
			if (!rc)
				rc = sim_file_write(&files[F_EVENTS], k->events.p, k->events.len,
						    k->nevents);
			if (!rc)
				rc = sim_file_write(&files[F_LABELS], k->labels.p, k->labels.len,
						    k->nlabels);
			sim_sink_reset(k);
			pthread_mutex_lock(&c.lock);
			c.slot_done[b % c.nslots] = 0;
			c.written++;
			pthread_cond_broadcast(&c.cond);
			pthread_mutex_unlock(&c.lock);
		}
		for (unsigned i = 0; i < nthreads; i++)
			pthread_join(tids[i], NULL);
		if (o && o->progress) {
			double el = now_s() - t0;
			double rate = el > 0 ? (double)files[F_EVENTS].rows / el : 0;
			fprintf(stderr, "\rsimulate: day %u/%u, %" PRIu64 " persons, %.0f events/s, "
				"ETA %.0f s   ", d + 1, s->days, c.npersons, rate,
				el / (d + 1) * (s->days - d - 1));
			if (d + 1 == s->days)
				fputc('\n', stderr);
		}
	}
	for (size_t i = 0; i < c.nslots; i++)
		sim_sink_release(&c.slots[i]);
	free(c.slots);
	free(c.slot_done);
	pthread_mutex_destroy(&c.lock);
	pthread_cond_destroy(&c.cond);
	if (rc)
		goto out;
	for (size_t i = 0; i < NFILES; i++)
		if ((rc = sim_file_close(&files[i])))
			goto out;
	if ((rc = sim_manifest_write(dir, s, c.seed, c.npersons, files, NFILES)))
		goto out;
	if (o && o->sqlite_path && (rc = sim_sqlite_write(dir, o->sqlite_path)))
		goto out;
	if (stats) {
		memset(stats, 0, sizeof(*stats));
		stats->persons = c.npersons;
		stats->households = c.nhouseholds;
		stats->events = files[F_EVENTS].rows;
		stats->labels = files[F_LABELS].rows;
		for (size_t i = 0; i < NFILES; i++)
			stats->bytes += files[i].bytes;
	}
	rc = vs_outdir_commit(od);
	od = NULL;
out:
	for (size_t i = 0; i < NFILES; i++)
		sim_file_abort(&files[i]);
	if (od)
		vs_outdir_abort(od);
	ctx_release(&c);
	return rc;
}

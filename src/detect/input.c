/*
 * Reading a dataset for the detector: persons.csv into compact per-person records with
 * interned attribute values, venues.csv and areas.csv into lookup tables, and events.csv
 * as one stream handed event by event to the conformance pass.  Events that are
 * time-ordered per person (the usual case, whatever the order across persons) are handled
 * as they are read, in memory proportional to persons.  A person whose events turn out
 * not to be in order is set aside: what was kept about them is dropped after the pass, and
 * a second read collects their events alone into compact records, sorted by (person,
 * time, facts before code settings, row) and replayed through the same handler, so the
 * findings are those of a sorted file.
 *
 * The files are read and validated by dataset.h (every error names file, line and
 * field); this layer looks person ids up itself (with a hint, see find_person) and interns
 * what the detector keeps: areas, attribute values, venue ids, reason and authority
 * texts, action tokens.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/venues.h"
#include "detect_int.h"

/* ---- interning ---------------------------------------------------------------------- */

/* A word-at-a-time multiplicative hash: area paths and venue ids are hashed per event. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ len;

	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(0xFF51AFD7ED558CCD);
		h ^= h >> 32;
		s += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * UINT64_C(0xC4CEB9FE1A85EC53);
	}
	h ^= h >> 29;
	h *= UINT64_C(0xBF58476D1CE4E5B9);
	return h ^ (h >> 32);
}

void vs_intern_init(struct vs_intern *t)
{
	memset(t, 0, sizeof(*t));
	t->nslots = 64;
	t->slots = vs_xcalloc(t->nslots, sizeof(*t->slots));
}

void vs_intern_release(struct vs_intern *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->text[i]);
	free(t->text);
	free(t->len);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static size_t slot_of(const struct vs_intern *t, const char *s, size_t len)
{
	size_t i = (size_t)hash_bytes(s, len) & (t->nslots - 1);

	while (t->slots[i]) {
		uint32_t id = t->slots[i] - 1;
		if (t->len[id] == len && !memcmp(t->text[id], s, len))
			return i;
		i = (i + 1) & (t->nslots - 1);
	}
	return i;
}

uint32_t vs_intern_find(const struct vs_intern *t, const char *s, size_t len)
{
	size_t i = slot_of(t, s, len);

	return t->slots[i] ? t->slots[i] - 1 : VS_NONE;
}

uint32_t vs_intern_add(struct vs_intern *t, const char *s, size_t len)
{
	size_t i = slot_of(t, s, len);

	if (t->slots[i])
		return t->slots[i] - 1;
	if ((t->n + 1) * 2 > t->nslots) {
		uint32_t *old = t->slots;
		size_t oldn = t->nslots;
		t->nslots *= 2;
		t->slots = vs_xcalloc(t->nslots, sizeof(*t->slots));
		for (size_t k = 0; k < oldn; k++)
			if (old[k]) {
				uint32_t id = old[k] - 1;
				t->slots[slot_of(t, t->text[id], t->len[id])] = old[k];
			}
		free(old);
		i = slot_of(t, s, len);
	}
	if (t->n + 1 > t->alloc) {
		size_t a = t->alloc;
		VS_ALLOC_GROW(t->text, t->n + 1, a);
		t->len = vs_xreallocarray(t->len, a, sizeof(*t->len));
		t->alloc = a;
	}
	t->text[t->n] = vs_xstrndup(s, len);
	t->len[t->n] = (uint32_t)len;
	t->slots[i] = (uint32_t)++t->n;
	return (uint32_t)(t->n - 1);
}

const char *vs_text(const struct vs_intern *t, uint32_t id)
{
	return id == VS_NONE || id >= t->n ? "" : t->text[id];
}

/* ---- helpers ------------------------------------------------------------------------ */

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	return vs_xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

static uint32_t intern_opt(struct vs_intern *t, const char *s)
{
	return s && *s ? vs_intern_add(t, s, strlen(s)) : VS_NONE;
}

const char *vs_person_id(const struct vs_findings *f, uint32_t p)
{
	return p < f->ptable.n ? f->ptable.items[p].id : "";
}

/* ---- persons, venues, areas --------------------------------------------------------- */

/*
 * Person ids are looked up here rather than by the event reader: files list a person's
 * events together and persons in persons.csv order more often than not, so the previous
 * person and the next few are tried before the hash, which keeps the lookup in cache.
 */
static void index_persons(struct vs_findings *f)
{
	size_t n = 64;

	while (n < f->npersons * 2)
		n *= 2;
	f->nperson_slots = n;
	f->person_slots = vs_xcalloc(n, sizeof(*f->person_slots));
	for (size_t i = 0; i < f->npersons; i++) {
		const char *id = f->ptable.items[i].id;
		uint64_t h = hash_bytes(id, strlen(id));
		size_t k = (size_t)h & (n - 1);
		while (f->person_slots[k])
			k = (k + 1) & (n - 1);
		f->person_slots[k] = (h >> 32) << 32 | (uint64_t)(i + 1);
	}
	f->last_person = VS_NONE;
}

static void *index_persons_thread(void *arg)
{
	index_persons(arg);
	return NULL;
}

static uint32_t find_person(struct vs_findings *f, const char *id)
{
	uint32_t last = f->last_person;
	size_t len, k;
	uint64_t h;

	if (last != VS_NONE) {
		if (!strcmp(f->ptable.items[last].id, id))
			return last;
		for (uint32_t next = last + 1; next <= last + 4 && next < f->npersons; next++)
			if (!strcmp(f->ptable.items[next].id, id))
				return f->last_person = next;
	}
	len = strlen(id);
	h = hash_bytes(id, len);
	for (k = (size_t)h & (f->nperson_slots - 1); f->person_slots[k];
	     k = (k + 1) & (f->nperson_slots - 1)) {
		uint64_t slot = f->person_slots[k];
		uint32_t i = (uint32_t)(slot & UINT32_MAX) - 1;
		if (slot >> 32 == h >> 32 && !strcmp(f->ptable.items[i].id, id))
			return f->last_person = i;
	}
	return VS_NONE;
}

static int read_persons(struct vs_findings *f, const char *path)
{
	struct vs_buf kv = VS_BUF_INIT;
	pthread_t indexer;
	int rc, threaded;

	if ((rc = vs_persons_read(path, &f->ptable)) != 0)
		return rc;
	f->npersons = f->ptable.n;
	/*
	 * The id index is built on a second thread while this one interns the attributes: it
	 * only reads the person table and writes person_slots, which nothing here touches.
	 */
	threaded = pthread_create(&indexer, NULL, index_persons_thread, f) == 0;
	f->persons = vs_xcalloc(f->npersons + 1, sizeof(*f->persons));
	f->attr_values = vs_xcalloc(f->ptable.nattrs + 1, sizeof(*f->attr_values));
	f->aattr_values = f->ptable.nattrs + 1;
	for (size_t i = 0; i < f->npersons; i++) {
		const struct vs_person *src = &f->ptable.items[i];
		struct person *p = &f->persons[i];
		p->household = intern_opt(&f->households, src->household_id);
		p->home_area = intern_opt(&f->areas, src->home_area);
		p->attr_first = (uint32_t)f->nattr_values;
		p->nattrs = (uint16_t)(src->nattrs > UINT16_MAX ? UINT16_MAX : src->nattrs);
		for (uint32_t j = 0; j < p->nattrs; j++) {
			const struct vs_attr *a = &f->ptable.attrs[src->attr_first + j];
			uint32_t key = vs_intern_add(&f->keys, a->key, strlen(a->key)), v;
			vs_buf_reset(&kv);
			vs_buf_adds(&kv, a->key);
			vs_buf_add(&kv, "=", 1);
			vs_buf_adds(&kv, a->value);
			v = vs_intern_add(&f->values, kv.data, kv.len);
			if (v >= f->avalue_key) {
				size_t al = f->avalue_key;
				VS_ALLOC_GROW(f->value_key, v + 1, al);
				f->avalue_key = al;
			}
			f->value_key[v] = key;
			f->attr_values[f->nattr_values++] = v;
		}
	}
	vs_buf_release(&kv);
	if (threaded)
		pthread_join(indexer, NULL);
	else
		index_persons(f);
	return 0;
}

static int read_venues(struct vs_findings *f, const char *path)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	int rc;

	if ((rc = vs_venues_read(path, &list)) != 0)
		return rc;
	for (size_t i = 0; i < list.n; i++) {
		const struct vs_venue *v = &list.items[i];
		uint32_t id = vs_intern_add(&f->venue_ids, v->id, strlen(v->id));
		if (id >= f->avenues) {
			size_t old = f->avenues;
			VS_ALLOC_GROW(f->venues, id + 1, f->avenues);
			memset(f->venues + old, 0, (f->avenues - old) * sizeof(*f->venues));
		}
		f->venues[id].lat = v->lat;
		f->venues[id].lon = v->lon;
		f->venues[id].area = intern_opt(&f->areas, v->area);
		f->venues[id].name = intern_opt(&f->texts, v->name);
		f->venues[id].known = true;
	}
	vs_venue_list_release(&list);
	return 0;
}

/* ---- events.csv --------------------------------------------------------------------- */

/* Fail as the event reader would for an event about someone persons.csv does not list. */
static int unknown_person(const char *path, const struct vs_event *in)
{
	return vs_error_set(VS_EFORMAT, "%s:%lu: field 'person_id': unknown person '%.64s'", path,
			    in->line, in->person_id);
}

/*
 * A front for an intern table during one read of events.csv: the text of an event field
 * -> its id, in a direct-mapped table indexed by the text's first and last eight bytes
 * and checked byte for byte.  Areas and venue ids repeat from event to event, so most
 * look-ups end here without hashing the whole text and probing the table.  A miss goes to
 * vs_intern_add, so ids are given in the same order as without the front.
 */
#define FRONT_SLOTS 4096
#define FRONT_TEXT 48

struct front {
	uint32_t id[FRONT_SLOTS]; /* VS_NONE: empty */
	uint8_t len[FRONT_SLOTS];
	char text[FRONT_SLOTS][FRONT_TEXT];
};

struct fronts {
	struct front areas, venues;
};

static struct fronts *fronts_new(void)
{
	struct fronts *fr = vs_xmalloc(sizeof(*fr));

	memset(fr->areas.id, 0xff, sizeof(fr->areas.id));
	memset(fr->venues.id, 0xff, sizeof(fr->venues.id));
	return fr;
}

static size_t front_slot(const char *s, size_t len)
{
	uint64_t a = 0, b = 0;

	if (len >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
	} else {
		memcpy(&a, s, len);
	}
	return (size_t)(((a * UINT64_C(0x9E3779B97F4A7C15)) ^ (b * UINT64_C(0xC2B2AE3D27D4EB4F)) ^
			 len) >> 52) & (FRONT_SLOTS - 1);
}

/* The id of s in t; lower folds ASCII to lowercase first (venue ids).  s holds len < 64. */
static uint32_t front_intern(struct front *fr, struct vs_intern *t, const char *s, size_t len,
			     int lower)
{
	const char *raw = s;
	size_t k;
	char low[64];
	uint32_t id;

	if (len >= FRONT_TEXT) {
		k = FRONT_SLOTS;
	} else {
		k = front_slot(s, len);
		if (fr->id[k] != VS_NONE && fr->len[k] == len && !memcmp(fr->text[k], s, len))
			return fr->id[k];
	}
	if (lower) {
		low[0] = '\0';
		for (size_t i = 0; i < len; i++)
			low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
		s = low;
	}
	id = vs_intern_add(t, s, len);
	if (k < FRONT_SLOTS) {
		fr->id[k] = id;
		fr->len[k] = (uint8_t)len;
		memcpy(fr->text[k], raw, len); /* keyed by the text as written */
	}
	return id;
}

/* The reader's event as the detector keeps it; e->person is already set. */
static void convert_event(struct vs_findings *f, struct fronts *fr, const struct vs_event *in,
			  uint64_t seq, struct event *e)
{
	uint32_t person = e->person;

	memset(e, 0, sizeof(*e));
	e->person = person;
	e->seq = seq;
	e->ts = in->ts;
	e->offset_min = (int16_t)in->offset_min;
	e->kind = (uint8_t)in->kind;
	e->area = VS_NONE;
	if (*in->area) {
		size_t n = strlen(in->area);
		e->area = n < 64 ? front_intern(&fr->areas, &f->areas, in->area, n, 0)
				 : vs_intern_add(&f->areas, in->area, n);
	}
	e->venue = VS_NONE;
	e->reason = e->authority = VS_NONE;
	e->lat = e->lon = NAN;
	switch (in->kind) {
	case VS_EVENT_CODE:
		e->value = (uint32_t)in->color;
		e->reason = intern_opt(&f->texts, in->reason);
		e->authority = intern_opt(&f->texts, in->authority);
		break;
	case VS_EVENT_TEST:
		e->value = !strcmp(in->value, "positive");
		break;
	case VS_EVENT_ACTION:
		e->value = vs_intern_add(&f->tokens, in->value, strlen(in->value));
		break;
	case VS_EVENT_SCAN:
		if (*in->venue_id && in->has_pos && f->avenues) { /* only a distance needs it */
			size_t n = strlen(in->venue_id);
			if (n < 64)
				e->venue = front_intern(&fr->venues, &f->venue_ids, in->venue_id, n, 1);
		}
		if (in->has_pos) {
			e->lat = in->lat;
			e->lon = in->lon;
		}
		break;
	default:
		break;
	}
}

static void reset_person(struct vs_findings *f, size_t i)
{
	struct person *p = &f->persons[i];

	free(p->visits);
	p->visits = NULL;
	p->nvisits = p->avisits = 0;
	p->color = VS_GREEN;
	p->outcome = p->last_was_code = p->seen = 0;
	p->cur_area = p->outcome_area = p->last_action = VS_NONE;
	p->last_ts = p->last_action_ts = 0;
	vs_rules_state_init(f->rules, f->rule_state + i * f->nrules);
}

/* Forget what the first pass kept about persons whose events came out of order. */
static void drop_disordered(struct vs_findings *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->ncodes; i++)
		if (!f->persons[f->codes[i].person].disordered)
			f->codes[n++] = f->codes[i];
	f->ncodes = n;
	n = 0;
	for (size_t i = 0; i < f->nremotes; i++)
		if (!f->persons[f->remotes[i].person].disordered)
			f->remotes[n++] = f->remotes[i];
	f->nremotes = n;
	n = 0;
	for (size_t i = 0; i < f->nactions; i++)
		if (!f->persons[f->actions[i].person].disordered)
			f->actions[n++] = f->actions[i];
	f->nactions = n;
	for (size_t i = 0; i < f->npersons; i++)
		if (f->persons[i].disordered)
			reset_person(f, i);
	for (size_t k = 0; k < f->auth_map.nslots; k++)
		if (f->auth_map.keys[k] &&
		    f->persons[(f->auth_map.keys[k] - 1) >> 32].disordered)
			f->auth_state[f->auth_map.vals[k]] = VS_GREEN;
}

static void note_event(struct vs_findings *f, const struct event *e)
{
	f->summary.events++;
	if (e->ts < f->ts_min)
		f->ts_min = e->ts;
	if (e->ts > f->ts_max)
		f->ts_max = e->ts;
}

/* Is e out of order for its person (earlier, or a fact after a code setting at the same second)? */
static int out_of_order(const struct vs_findings *f, const struct event *e)
{
	const struct person *p = &f->persons[e->person];

	return p->seen && (e->ts < p->last_ts ||
			   (e->ts == p->last_ts && p->last_was_code && e->kind != EV_CODE));
}

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int xc = x->kind == EV_CODE, yc = y->kind == EV_CODE;

	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (xc != yc)
		return xc - yc;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The first pass: every event counted, those of persons in time order handled.  A person
 * whose events turn out not to be in order is marked and skipped from then on; *late
 * receives how many persons were marked.
 */
static int events_streaming(struct vs_findings *f, const char *path, uint64_t *late)
{
	struct vs_event_reader *r = NULL;
	struct fronts *fr = fronts_new();
	struct vs_event in;
	struct event e;
	uint64_t seq = 0;
	int rc;

	*late = 0;
	if ((rc = vs_events_open(&r, path, NULL)) != 0)
		goto out;
	while ((rc = vs_events_next(r, &in)) == 1) {
		if ((e.person = find_person(f, in.person_id)) == VS_NONE) {
			rc = unknown_person(path, &in);
			goto out;
		}
		convert_event(f, fr, &in, seq++, &e);
		note_event(f, &e);
		if (f->persons[e.person].disordered)
			continue;
		if (out_of_order(f, &e)) {
			f->persons[e.person].disordered = 1;
			(*late)++;
			continue;
		}
		vs_conformance_event(f, &e);
	}
out:
	free(fr);
	vs_events_close(r);
	return rc;
}

/* The second pass: the events of the marked persons, sorted in memory and replayed. */
static int events_sorted(struct vs_findings *f, const char *path)
{
	struct vs_event_reader *r = NULL;
	struct fronts *fr = fronts_new();
	struct vs_event in;
	struct event *ev = NULL;
	size_t n = 0, alloc = 0;
	uint64_t seq = 0;
	int rc;

	if ((rc = vs_events_open(&r, path, NULL)) != 0)
		goto out;
	while ((rc = vs_events_next(r, &in)) == 1) {
		uint32_t p = find_person(f, in.person_id);
		if (p == VS_NONE || !f->persons[p].disordered) { /* unknown: seen in pass 1 */
			seq++;
			continue;
		}
		VS_ALLOC_GROW(ev, n + 1, alloc);
		ev[n].person = p;
		convert_event(f, fr, &in, seq++, &ev[n]);
		n++;
	}
	if (rc < 0)
		goto out;
	qsort(ev, n, sizeof(*ev), event_cmp);
	for (size_t i = 0; i < n; i++)
		vs_conformance_event(f, &ev[i]);
out:
	free(fr);
	free(ev);
	vs_events_close(r);
	return rc;
}

static int action_cmp(const void *a, const void *b)
{
	const struct action_rec *x = a, *y = b;

	if (x->person != y->person)
		return x->person < y->person ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->token < y->token ? -1 : x->token > y->token;
}

int vs_detect_read(struct vs_findings *f, const char *dir)
{
	char *path = NULL;
	int rc;

	path = join_path(dir, VS_DATASET_PERSONS);
	if ((rc = read_persons(f, path)) != 0)
		goto out;
	free(path);
	path = join_path(dir, VS_DATASET_VENUES);
	if (!vs_dataset_optional_absent(path) && (rc = read_venues(f, path)) != 0)
		goto out;
	free(path);
	path = join_path(dir, VS_DATASET_AREAS);
	if ((rc = vs_areas_read(path, f->risk, 1)) != 0)
		goto out;
	free(path);
	f->rule_state = vs_xcalloc(f->npersons ? f->npersons * f->nrules : 1,
				   sizeof(*f->rule_state));
	for (size_t i = 0; i < f->npersons; i++)
		reset_person(f, i);
	f->ts_min = INT64_MAX;
	f->ts_max = INT64_MIN;
	path = join_path(dir, VS_DATASET_EVENTS);
	if ((rc = events_streaming(f, path, &f->summary.persons_out_of_order)) != 0)
		goto out;
	f->summary.sorted_path = f->summary.persons_out_of_order == 0;
	if (!f->summary.sorted_path) {
		/* some persons' events out of order: read again, sort theirs in memory */
		drop_disordered(f);
		if ((rc = events_sorted(f, path)) != 0)
			goto out;
	}
	/* one order for actions whichever path was taken, so that sums over them agree */
	if (f->nactions)
		qsort(f->actions, f->nactions, sizeof(*f->actions), action_cmp);
out:
	free(path);
	return rc < 0 ? rc : 0;
}

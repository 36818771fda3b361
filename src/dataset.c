/*
 * Dataset v1: reading and writing persons.csv, events.csv, areas.csv, venues.csv,
 * labels.csv and manifest.json (SPEC §5; every rule is in docs/FORMAT.md).  Readers map
 * columns by header name, so any column order works and unknown extra columns are ignored;
 * each field is checked and the first bad one ends the read with "FILE:LINE: field 'F':".
 * Writers apply the same checks before writing, so a dataset this module wrote is always
 * one it can read.  Persons live in one table with a string pool and an id hash; events
 * are streamed and never accumulated.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "venuescan/csv.h"
#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/mem.h"
#include "venuescan/sha256.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"

#define POOL_BLOCK_SIZE (64u * 1024)

/* ---- string pool ---------------------------------------------------------------------- */

struct vs_pool_block {
	struct vs_pool_block *next;
	size_t used, cap;
	char data[];
};

/* Copy s[0..len) and a NUL into the pool. */
static const char *pool_strndup(struct vs_pool_block **pool, const char *s, size_t len)
{
	struct vs_pool_block *b = *pool;
	char *p;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > POOL_BLOCK_SIZE / 4 ? len + 1 : POOL_BLOCK_SIZE;

		b = vs_xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		if (*pool && cap != POOL_BLOCK_SIZE) {
			/* A big string gets a block of its own, behind the one being filled. */
			b->next = (*pool)->next;
			(*pool)->next = b;
		} else {
			b->next = *pool;
			*pool = b;
		}
	}
	p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

static void pool_free(struct vs_pool_block *b)
{
	while (b) {
		struct vs_pool_block *next = b->next;
		free(b);
		b = next;
	}
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* ---- persons -------------------------------------------------------------------------- */

enum person_field { PF_ID, PF_HOUSEHOLD, PF_HOME, PF_ATTRS };
static const char *const person_columns[] = { "person_id", "household_id", "home_area", "attrs",
					      NULL };

void vs_person_table_release(struct vs_person_table *t)
{
	free(t->items);
	free(t->attrs);
	free(t->slot);
	pool_free(t->pool);
	*t = (struct vs_person_table)VS_PERSON_TABLE_INIT;
}

long vs_person_table_find(const struct vs_person_table *t, const char *id)
{
	size_t mask, k;

	if (!t->slot_cap)
		return -1;
	mask = t->slot_cap - 1;
	for (k = hash_str(id) & mask; t->slot[k]; k = (k + 1) & mask)
		if (!strcmp(t->items[t->slot[k] - 1].id, id))
			return (long)t->slot[k] - 1;
	return -1;
}

static void person_index_insert(struct vs_person_table *t, uint32_t idx)
{
	size_t mask, k;

	if (2 * (t->n + 1) > t->slot_cap) {
		size_t ncap = t->slot_cap ? t->slot_cap * 2 : 1024;
		uint32_t *nslot = vs_xcalloc(ncap, sizeof(*nslot));

		for (size_t j = 0; j < t->slot_cap; j++) {
			if (!t->slot[j])
				continue;
			k = hash_str(t->items[t->slot[j] - 1].id) & (ncap - 1);
			while (nslot[k])
				k = (k + 1) & (ncap - 1);
			nslot[k] = t->slot[j];
		}
		free(t->slot);
		t->slot = nslot;
		t->slot_cap = ncap;
	}
	mask = t->slot_cap - 1;
	for (k = hash_str(t->items[idx].id) & mask; t->slot[k]; k = (k + 1) & mask)
		;
	t->slot[k] = idx + 1;
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* 1 if s is a non-empty [a-z0-9_]+ token. */
static int token_valid(const char *s, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!key_char(s[i]))
			return 0;
	return 1;
}

/* Parse "k=v;k=v" onto the end of t->attrs; on failure the attrs added are dropped. */
static int parse_attrs(struct vs_person_table *t, const char *s, uint32_t *first,
		       uint32_t *count)
{
	size_t start = t->nattrs;
	const char *p = s;
	int rc = 0;

	*first = (uint32_t)start;
	*count = 0;
	if (!s || !*s)
		return 0;
	for (;;) {
		const char *end = strchr(p, ';'), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p), klen;

		eq = memchr(p, '=', len);
		if (!len) {
			rc = vs_error_set(VS_EFORMAT, "empty attribute in '%.64s'", s);
			goto out;
		}
		if (!eq) {
			rc = vs_error_set(VS_EFORMAT, "attribute '%.*s' is not key=value", (int)len,
					  p);
			goto out;
		}
		klen = (size_t)(eq - p);
		if (!token_valid(p, klen)) {
			rc = vs_error_set(VS_EFORMAT, "attribute key '%.*s' is not [a-z0-9_]+",
					  (int)klen, p);
			goto out;
		}
		if (eq + 1 == p + len) {
			rc = vs_error_set(VS_EFORMAT, "attribute '%.*s' has an empty value",
					  (int)klen, p);
			goto out;
		}
		for (size_t i = start; i < t->nattrs; i++) {
			if (strlen(t->attrs[i].key) == klen && !memcmp(t->attrs[i].key, p, klen)) {
				rc = vs_error_set(VS_EFORMAT, "duplicate attribute '%.*s'",
						  (int)klen, p);
				goto out;
			}
		}
		VS_ALLOC_GROW(t->attrs, t->nattrs + 1, t->attrs_alloc);
		t->attrs[t->nattrs].key = pool_strndup(&t->pool, p, klen);
		t->attrs[t->nattrs].value = pool_strndup(&t->pool, eq + 1, len - klen - 1);
		t->nattrs++;
		if (!end)
			break;
		p = end + 1;
	}
	*count = (uint32_t)(t->nattrs - start);
out:
	if (rc)
		t->nattrs = start;
	return rc;
}

/* Add a person; on failure *field says which field was bad and the message is unprefixed. */
static int person_add(struct vs_person_table *t, const char *id, const char *household,
		      const char *home, const char *attrs, enum person_field *field)
{
	struct vs_person p;
	int rc;

	*field = PF_ID;
	if (!id || !*id)
		return vs_error_set(VS_EFORMAT, "empty");
	if (vs_person_table_find(t, id) >= 0)
		return vs_error_set(VS_EFORMAT, "duplicate person '%.64s'", id);
	if (t->n >= UINT32_MAX - 1)
		return vs_error_set(VS_ETOOBIG, "more than %" PRIu32 " persons", UINT32_MAX - 1);
	*field = PF_HOME;
	if (!home || !vs_area_valid(home))
		return vs_error_set(VS_EFORMAT, "not an area path '%.64s'", home ? home : "");
	*field = PF_ATTRS;
	rc = parse_attrs(t, attrs, &p.attr_first, &p.nattrs);
	if (rc)
		return rc;
	p.id = pool_strndup(&t->pool, id, strlen(id));
	p.household_id = pool_strndup(&t->pool, household ? household : "",
				      household ? strlen(household) : 0);
	p.home_area = pool_strndup(&t->pool, home, strlen(home));
	VS_ALLOC_GROW(t->items, t->n + 1, t->alloc);
	t->items[t->n] = p;
	person_index_insert(t, (uint32_t)t->n);
	t->n++;
	return 0;
}

int vs_person_table_add(struct vs_person_table *t, const char *id, const char *household_id,
			const char *home_area, const char *attrs)
{
	enum person_field field;
	int rc = person_add(t, id, household_id, home_area, attrs, &field);

	if (rc)
		vs_error_prefix("person '%.64s': field '%s'", id ? id : "", person_columns[field]);
	return rc;
}

const char *vs_person_attr(const struct vs_person_table *t, size_t i, const char *key)
{
	const struct vs_person *p = &t->items[i];

	for (uint32_t k = 0; k < p->nattrs; k++)
		if (!strcmp(t->attrs[p->attr_first + k].key, key))
			return t->attrs[p->attr_first + k].value;
	return NULL;
}

int vs_persons_read(const char *path, struct vs_person_table *t)
{
	struct vs_csv_reader *r = NULL;
	int col[4], rc;

	rc = vs_csv_open(&r, path);
	if (rc)
		goto out;
	rc = vs_csv_require(r, person_columns);
	if (rc)
		goto out;
	for (size_t i = 0; i < 4; i++)
		col[i] = vs_csv_column(r, person_columns[i]);
	while ((rc = vs_csv_next(r)) == 1) {
		enum person_field field;

		rc = person_add(t, vs_csv_field(r, (size_t)col[PF_ID]),
				vs_csv_field(r, (size_t)col[PF_HOUSEHOLD]),
				vs_csv_field(r, (size_t)col[PF_HOME]),
				vs_csv_field(r, (size_t)col[PF_ATTRS]), &field);
		if (rc) {
			vs_csv_field_wrap(r, (size_t)col[field], rc);
			goto out;
		}
	}
out:
	vs_csv_close(r);
	if (rc < 0)
		vs_person_table_release(t);
	return rc < 0 ? rc : 0;
}

int vs_persons_write_header(FILE *out)
{
	return vs_csv_write_row(out, person_columns, 4);
}

int vs_person_write_row(FILE *out, const char *id, const char *household_id,
			const char *home_area, const char *attrs)
{
	const char *row[4] = { id, household_id, home_area, attrs };

	if (!id || !*id)
		return vs_error_set(VS_EINVAL, "person: empty id");
	if (!home_area || !vs_area_valid(home_area))
		return vs_error_set(VS_EINVAL, "person '%.64s': not an area path '%.64s'", id,
				    home_area ? home_area : "");
	return vs_csv_write_row(out, row, 4);
}

int vs_person_write(FILE *out, const struct vs_person_table *t, size_t i)
{
	const struct vs_person *p = &t->items[i];
	struct vs_buf attrs = VS_BUF_INIT;
	int rc = 0;

	for (uint32_t k = 0; k < p->nattrs; k++) {
		const struct vs_attr *a = &t->attrs[p->attr_first + k];
		vs_buf_addf(&attrs, "%s%s=%s", k ? ";" : "", a->key, a->value);
	}
	rc = vs_person_write_row(out, p->id, p->household_id, p->home_area,
				 attrs.data ? attrs.data : "");
	vs_buf_release(&attrs);
	return rc;
}

/* ---- events --------------------------------------------------------------------------- */

enum event_field {
	EF_TS, EF_PERSON, EF_KIND, EF_VENUE, EF_AREA, EF_LAT, EF_LON, EF_VALUE, EF_REASON,
	EF_AUTHORITY, EF_COUNT
};
static const char *const event_columns[] = { "ts", "person_id", "kind", "venue_id", "area",
					     "lat", "lon", "value", "reason", "authority", NULL };
static const char *const kind_names[VS_EVENT_KINDS] = { "locate", "scan", "code", "test",
							"contact", "entry", "action" };

const char *vs_event_kind_name(enum vs_event_kind k)
{
	return (unsigned)k < VS_EVENT_KINDS ? kind_names[k] : "?";
}

int vs_event_kind_parse(const char *s, enum vs_event_kind *out)
{
	for (int i = 0; i < VS_EVENT_KINDS; i++) {
		if (!strcmp(s, kind_names[i])) {
			*out = (enum vs_event_kind)i;
			return 0;
		}
	}
	return vs_error_set(VS_EFORMAT, "unknown kind '%.64s'", s);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/*
 * The rules an event obeys beyond each field's own syntax: which fields its kind requires
 * and what its value may be.  Sets *field and an unprefixed message on failure.
 */
static int event_check(const struct vs_event *ev, enum event_field *field)
{
	const char *value = nz(ev->value);

	*field = EF_PERSON;
	if (!*nz(ev->person_id))
		return vs_error_set(VS_EFORMAT, "empty");
	*field = EF_KIND;
	if ((unsigned)ev->kind >= VS_EVENT_KINDS)
		return vs_error_set(VS_EFORMAT, "unknown kind %d", (int)ev->kind);
	*field = EF_VENUE;
	if (*nz(ev->venue_id) && !vs_uuid_valid(ev->venue_id))
		return vs_error_set(VS_EFORMAT, "not a UUID '%.64s'", ev->venue_id);
	if (ev->kind == VS_EVENT_SCAN && !*nz(ev->venue_id))
		return vs_error_set(VS_EFORMAT, "required for a 'scan' event");
	*field = EF_AREA;
	if (*nz(ev->area) && !vs_area_valid(ev->area))
		return vs_error_set(VS_EFORMAT, "not an area path '%.64s'", ev->area);
	if (ev->kind == VS_EVENT_LOCATE && !*nz(ev->area))
		return vs_error_set(VS_EFORMAT, "required for a 'locate' event");
	if (ev->has_pos) {
		*field = EF_LAT;
		if (!(ev->lat >= -90 && ev->lat <= 90))
			return vs_error_set(VS_EFORMAT, "out of range [-90, 90]");
		*field = EF_LON;
		if (!(ev->lon >= -180 && ev->lon <= 180))
			return vs_error_set(VS_EFORMAT, "out of range [-180, 180]");
	}
	*field = EF_VALUE;
	switch (ev->kind) {
	case VS_EVENT_SCAN:
	case VS_EVENT_CODE:
		/* A scan may leave the place-code colour unrecorded; a code change may not. */
		if ((*value || ev->kind == VS_EVENT_CODE) && !ev->has_color)
			return vs_error_set(VS_EFORMAT,
					    "not a colour '%.64s' (green, yellow or red)", value);
		break;
	case VS_EVENT_TEST:
		if (strcmp(value, "negative") && strcmp(value, "positive"))
			return vs_error_set(VS_EFORMAT,
					    "not a test result '%.64s' (negative or positive)",
					    value);
		break;
	case VS_EVENT_ACTION:
		if (!token_valid(value, strlen(value)))
			return vs_error_set(VS_EFORMAT, "not an action token [a-z0-9_]+ '%.64s'",
					    value);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Events are parsed on a second thread, a batch of rows ahead of the caller: the reader
 * thread runs read_event() into batches, copying each row's text into the batch once, and
 * vs_events_next() hands the events out in file order.  The caller sees the same events,
 * in the same order, with the same error at the same row as a reader on its own thread
 * (the error's message is carried over in the batch).  VS_EVENTS_THREAD=0 in the
 * environment parses on the caller's thread instead, for comparing the two.
 */
#define BATCH_EVENTS 4096
#define NBATCHES 4

struct event_batch {
	struct vs_event ev[BATCH_EVENTS];
	size_t n;
	char *text;          /* the events' strings, each NUL-terminated */
	size_t text_len, text_cap;
	int end;             /* after these events: 0 more, 1 end of file, < 0 this error */
	char *msg;           /* the error's message */
};

struct vs_event_reader {
	struct vs_csv_reader *csv;
	int col[EF_COUNT];
	const struct vs_person_table *persons;
	size_t ncols;
	size_t (*at)[6];           /* batch_fill's offsets, BATCH_EVENTS rows of them */
	const char *row;           /* the current row's text (read_event), row_len bytes */
	size_t row_len;
	char area[64];             /* the last area the fast path found valid (reader thread) */
	size_t area_len;           /* 0: none */
	int threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct event_batch *batch; /* NBATCHES, a ring */
	uint64_t filled, taken;    /* batches published by the thread, released by the caller */
	int stop;                  /* the caller closes: the thread ends */
	struct event_batch *cur;   /* the caller's batch and its next event */
	size_t next;
};

/*
 * The reader's fast paths.  Each takes the common, simple form of a field and decides it
 * exactly as the general check would; anything else (or anything wrong) makes it return 0,
 * and the row is then read again by events_full(), whose checks and messages are the
 * definition.  So a fast path may decline what is valid, but never accepts what is not,
 * and what it accepts it parses to the same bits.
 */

/* All eight bytes of w are ASCII hex digits, either case (word arithmetic: every byte
 * is below 0x80 before the additions, so no carry crosses a byte). */
static int hex8(uint64_t w)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
	uint64_t l, digit, alpha;

	if (w & highs)
		return 0;
	l = w | ones * 0x20; /* 'A'-'F' to 'a'-'f' (and nothing else into a-f) */
#define GE(x, c) (((x) + ones * (0x80 - (c))) & highs)
	digit = GE(w, '0') & ~GE(w, '9' + 1);
	alpha = GE(l, 'a') & ~GE(l, 'f' + 1);
#undef GE
	return (digit | alpha) == highs;
}

/* vs_uuid_valid: 8-4-4-4-12 hex digits, either case, checked as four words of eight. */
static int uuid_fast(const char *s, size_t len)
{
	uint32_t a, b;
	uint64_t w0, w1, w2, w3;

	if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return 0;
	memcpy(&w0, s, 8);
	memcpy(&a, s + 9, 4);
	memcpy(&b, s + 14, 4);
	w1 = a | (uint64_t)b << 32;
	memcpy(&a, s + 19, 4);
	memcpy(&b, s + 24, 4);
	w2 = a | (uint64_t)b << 32;
	memcpy(&w3, s + 28, 8);
	return hex8(w0) && hex8(w1) && hex8(w2) && hex8(w3);
}

/* vs_area_valid for ASCII text (other text is left to vs_area_valid): 1-3 non-empty
 * parts, no control character, no part beginning or ending with a space. */
static int area_fast(const char *s, size_t len)
{
	size_t part = 0, parts = 1;

	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '/';

		if (c == '/') {
			if (i == part || s[part] == ' ' || s[i - 1] == ' ')
				return 0;
			if (i < len && ++parts > 3)
				return 0;
			part = i + 1;
		} else if (c < 0x20 || c >= 0x7f) {
			return c >= 0x80 ? vs_area_valid(s) : 0;
		}
	}
	return 1;
}

/* Two decimal digits at s, or -1. */
static inline int two_digits(const char *s)
{
	unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';

	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/*
 * vs_time_parse for the layouts writers use, YYYY-MM-DDTHH:MM:SS(Z|+HH:MM|-HH:MM), with
 * the same calendar rules (docs/FORMAT.md §2) and days-from-civil arithmetic as time.c.
 */
static int time_fast(const char *s, size_t len, int64_t *ts, int *offset_min)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y1, y2, mon, day, hour, min, sec, off = 0;
	int64_t y, era, yoe, doy, doe;

	if ((len != 25 && len != 20) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	y1 = two_digits(s);
	y2 = two_digits(s + 2);
	mon = two_digits(s + 5);
	day = two_digits(s + 8);
	hour = two_digits(s + 11);
	min = two_digits(s + 14);
	sec = two_digits(s + 17);
	if ((y1 | y2 | mon | day | hour | min | sec) < 0)
		return 0;
	if (len == 20) {
		if (s[19] != 'Z')
			return 0;
	} else {
		int oh = two_digits(s + 20), om = two_digits(s + 23);

		if ((s[19] != '+' && s[19] != '-') || s[22] != ':' || oh < 0 || om < 0 || om > 59)
			return 0;
		off = oh * 60 + om;
		if (off > 18 * 60)
			return 0;
		if (s[19] == '-')
			off = -off;
	}
	y = y1 * 100 + y2;
	if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 59)
		return 0;
	if (day > mdays[mon - 1] &&
	    !(mon == 2 && day == 29 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	y -= mon <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*ts = (era * 146097 + doe - 719468) * 86400 + hour * 3600 + min * 60 + sec -
	      (int64_t)off * 60;
	*offset_min = off;
	return 1;
}

/*
 * vs_number_parse for [-]D+[.D+] with at most 15 digits in all: the digits are an integer
 * m < 2^53 and the value is m / 10^k with k <= 15, both exact doubles, so one IEEE
 * division rounds it correctly — the bits strtod gives (Clinger's fast path).  Out of
 * range values go to the general check for its message.  Only where double arithmetic
 * is plain IEEE double (FLT_EVAL_METHOD 0); elsewhere strtod decides every number.
 */
static int number_fast(const char *s, size_t len, double min, double max, double *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
	static const double pow10[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
					  1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	const char *p = s, *end = s + len;
	uint64_t m = 0;
	size_t nint = 0, nfrac = 0;
	double v;

	if (p < end && *p == '-')
		p++;
	for (; p < end && (unsigned)(*p - '0') < 10u; p++, nint++)
		m = m * 10 + (uint64_t)(*p - '0');
	if (!nint || nint > 15)
		return 0;
	if (p < end) {
		if (*p != '.')
			return 0;
		nfrac = (size_t)(end - ++p);
		if (nfrac == 0 || nint + nfrac > 15)
			return 0;
		for (; p < end; p++) {
			if ((unsigned)(*p - '0') >= 10u)
				return 0;
			m = m * 10 + (uint64_t)(*p - '0');
		}
	}
	v = (double)m / pow10[nfrac];
	if (*s == '-')
		v = -v;
	if (!(v >= min && v <= max))
		return 0;
	*out = v;
	return 1;
#else
	return 0;
#endif
}

/* vs_color_parse without the message. */
static int color_fast(const char *s, size_t len, enum vs_color *c)
{
	if (len == 5 && !memcmp(s, "green", 5))
		*c = VS_GREEN;
	else if (len == 6 && !memcmp(s, "yellow", 6))
		*c = VS_YELLOW;
	else if (len == 3 && !memcmp(s, "red", 3))
		*c = VS_RED;
	else
		return 0;
	return 1;
}

/* vs_event_kind_parse without the message. */
static int kind_fast(const char *s, size_t len, enum vs_event_kind *k)
{
	int i;

	switch (s[0]) {
	case 'l': i = VS_EVENT_LOCATE; break;
	case 's': i = VS_EVENT_SCAN; break;
	case 'c': i = len == 4 ? VS_EVENT_CODE : VS_EVENT_CONTACT; break;
	case 't': i = VS_EVENT_TEST; break;
	case 'e': i = VS_EVENT_ENTRY; break;
	case 'a': i = VS_EVENT_ACTION; break;
	default: return 0;
	}
	if (len != strlen(kind_names[i]) || memcmp(s, kind_names[i], len))
		return 0;
	*k = (enum vs_event_kind)i;
	return 1;
}

/*
 * The whole row by the fast paths: 1 with ev filled exactly as events_full would fill it,
 * or 0 when events_full must decide.  ev's strings are already set.
 */
static int event_fast(struct vs_event_reader *r, const char *const *f, const size_t *len,
		      struct vs_event *ev)
{
	if (!time_fast(f[EF_TS], len[EF_TS], &ev->ts, &ev->offset_min) ||
	    !kind_fast(f[EF_KIND], len[EF_KIND], &ev->kind) || !len[EF_PERSON])
		return 0;
	if (len[EF_LAT] || len[EF_LON]) {
		if (!number_fast(f[EF_LAT], len[EF_LAT], -90, 90, &ev->lat) ||
		    !number_fast(f[EF_LON], len[EF_LON], -180, 180, &ev->lon))
			return 0;
		ev->has_pos = 1;
	}
	if (len[EF_VENUE] ? !uuid_fast(f[EF_VENUE], len[EF_VENUE]) : ev->kind == VS_EVENT_SCAN)
		return 0;
	if (len[EF_AREA]) {
		/* areas repeat: one seen valid just before needs no second look */
		if (len[EF_AREA] != r->area_len || memcmp(f[EF_AREA], r->area, len[EF_AREA])) {
			if (!area_fast(f[EF_AREA], len[EF_AREA]))
				return 0;
			if (len[EF_AREA] < sizeof(r->area)) {
				memcpy(r->area, f[EF_AREA], len[EF_AREA]);
				r->area_len = len[EF_AREA];
			}
		}
	} else if (ev->kind == VS_EVENT_LOCATE) {
		return 0;
	}
	switch (ev->kind) {
	case VS_EVENT_SCAN:
	case VS_EVENT_CODE:
		if (len[EF_VALUE]) {
			if (!color_fast(f[EF_VALUE], len[EF_VALUE], &ev->color))
				return 0;
			ev->has_color = 1;
		} else if (ev->kind == VS_EVENT_CODE) {
			return 0;
		}
		break;
	case VS_EVENT_TEST:
		if (strcmp(f[EF_VALUE], "negative") && strcmp(f[EF_VALUE], "positive"))
			return 0;
		break;
	case VS_EVENT_ACTION:
		if (!token_valid(f[EF_VALUE], len[EF_VALUE]))
			return 0;
		break;
	default:
		break;
	}
	if (r->persons) {
		long idx = vs_person_table_find(r->persons, ev->person_id);

		if (idx < 0)
			return 0;
		ev->person = (uint32_t)idx;
	}
	return 1;
}

/* The row by the general checks, which define what is valid and say what is not. */
static int event_full(struct vs_event_reader *r, const char *const *f, struct vs_event *ev)
{
	struct vs_csv_reader *csv = r->csv;
	enum event_field field;
	int rc;

	field = EF_TS;
	if ((rc = vs_time_parse(f[EF_TS], &ev->ts, &ev->offset_min)) != 0)
		goto bad;
	field = EF_KIND;
	if ((rc = vs_event_kind_parse(f[EF_KIND], &ev->kind)) != 0)
		goto bad;
	if (*f[EF_LAT] || *f[EF_LON]) {
		field = *f[EF_LAT] ? EF_LON : EF_LAT;
		if (!*f[EF_LAT] || !*f[EF_LON]) {
			rc = vs_error_set(VS_EFORMAT, "required when '%s' is given",
					  event_columns[field == EF_LAT ? EF_LON : EF_LAT]);
			goto bad;
		}
		field = EF_LAT;
		if ((rc = vs_number_parse(f[EF_LAT], -90, 90, &ev->lat)) != 0)
			goto bad;
		field = EF_LON;
		if ((rc = vs_number_parse(f[EF_LON], -180, 180, &ev->lon)) != 0)
			goto bad;
		ev->has_pos = 1;
	}
	if ((ev->kind == VS_EVENT_SCAN || ev->kind == VS_EVENT_CODE) && *ev->value)
		ev->has_color = vs_color_parse(ev->value, &ev->color) == 0;
	if ((rc = event_check(ev, &field)) != 0)
		goto bad;
	if (r->persons) {
		long idx = vs_person_table_find(r->persons, ev->person_id);

		field = EF_PERSON;
		if (idx < 0) {
			rc = vs_error_set(VS_EFORMAT, "unknown person '%.64s'", ev->person_id);
			goto bad;
		}
		ev->person = (uint32_t)idx;
	}
	return 1;
bad:
	return vs_csv_field_wrap(csv, (size_t)r->col[field], rc);
}

/* One event from the CSV reader, on whichever thread parses. */
static int read_event(struct vs_event_reader *r, struct vs_event *ev)
{
	struct vs_csv_reader *csv = r->csv;
	const char *f[EF_COUNT];
	size_t len[EF_COUNT];
	const char *const *fields;
	const size_t *lens;
	int rc = vs_csv_next(csv);

	if (rc != 1)
		return rc;
	fields = vs_csv_fields(csv, &lens);
	for (size_t i = 0; i < EF_COUNT; i++) {
		f[i] = fields[r->col[i]];
		len[i] = lens[r->col[i]];
	}
	/* the row's text, one block (csv.h), for the reader thread to keep in one copy */
	r->row = fields[0];
	r->row_len = (size_t)(fields[r->ncols - 1] - fields[0]) + lens[r->ncols - 1] + 1;
	memset(ev, 0, sizeof(*ev));
	ev->line = vs_csv_line(csv);
	ev->person_id = f[EF_PERSON];
	ev->venue_id = f[EF_VENUE];
	ev->area = f[EF_AREA];
	ev->value = f[EF_VALUE];
	ev->reason = f[EF_REASON];
	ev->authority = f[EF_AUTHORITY];
	ev->person = VS_PERSON_NONE;
	if (event_fast(r, f, len, ev))
		return 1;
	/* start again from the reader's state: the fast path may have set some fields */
	ev->ts = 0;
	ev->offset_min = 0;
	ev->kind = 0;
	ev->has_pos = ev->has_color = 0;
	ev->lat = ev->lon = 0;
	ev->color = 0;
	ev->person = VS_PERSON_NONE;
	return event_full(r, f, ev);
}

/* Find the columns of events.csv (after the header was read). */
static int event_columns_found(struct vs_event_reader *r)
{
	int rc = vs_csv_require(r->csv, event_columns);

	for (size_t i = 0; !rc && i < EF_COUNT; i++)
		r->col[i] = vs_csv_column(r->csv, event_columns[i]);
	r->ncols = vs_csv_ncolumns(r->csv);
	return rc;
}

/* Room for n more bytes in the batch's text. */
static void batch_room(struct event_batch *b, size_t n)
{
	if (b->text_cap - b->text_len < n) {
		while (b->text_cap - b->text_len < n)
			b->text_cap = b->text_cap ? b->text_cap * 2 : 1u << 20;
		b->text = vs_xrealloc(b->text, b->text_cap);
	}
}

#define KEEP_FIELDS 6 /* the strings of a vs_event: person_id ... authority */

/*
 * Parse up to BATCH_EVENTS events into b.  Each event's row is copied whole into the
 * batch's text and its strings are kept as offsets there, turned into pointers once the
 * text stops moving.
 */
static void batch_fill(struct vs_event_reader *r, struct event_batch *b)
{
	size_t (*at)[KEEP_FIELDS] = r->at;
	int rc = 0;

	b->n = 0;
	b->text_len = 0;
	b->end = 0;
	free(b->msg);
	b->msg = NULL;
	while (b->n < BATCH_EVENTS && (rc = read_event(r, &b->ev[b->n])) == 1) {
		struct vs_event *e = &b->ev[b->n];
		const char *keep[KEEP_FIELDS] = { e->person_id, e->venue_id, e->area, e->value,
						  e->reason, e->authority };
		size_t base = b->text_len;

		batch_room(b, r->row_len);
		memcpy(b->text + base, r->row, r->row_len);
		b->text_len += r->row_len;
		for (size_t k = 0; k < KEEP_FIELDS; k++)
			at[b->n][k] = base + (size_t)(keep[k] - r->row);
		b->n++;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct vs_event *e = &b->ev[i];

		e->person_id = b->text + at[i][0];
		e->venue_id = b->text + at[i][1];
		e->area = b->text + at[i][2];
		e->value = b->text + at[i][3];
		e->reason = b->text + at[i][4];
		e->authority = b->text + at[i][5];
	}
	if (rc == 0)
		b->end = 1;
	else if (rc < 0) {
		b->end = rc;
		b->msg = vs_xstrdup(vs_error_message());
	}
}

static void *reader_thread(void *arg)
{
	struct vs_event_reader *r = arg;
	int end = 0;

	while (!end) {
		struct event_batch *b;

		pthread_mutex_lock(&r->mu);
		while (r->filled - r->taken == NBATCHES && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		b = &r->batch[r->filled % NBATCHES];
		pthread_mutex_unlock(&r->mu);
		batch_fill(r, b);
		end = b->end;
		pthread_mutex_lock(&r->mu);
		r->filled++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

int vs_events_open(struct vs_event_reader **out, const char *path,
		   const struct vs_person_table *persons)
{
	struct vs_event_reader *r = vs_xcalloc(1, sizeof(*r));
	const char *env = getenv("VS_EVENTS_THREAD");
	int rc;

	*out = NULL;
	r->persons = persons;
	rc = vs_csv_open(&r->csv, path);
	if (rc)
		goto out;
	rc = event_columns_found(r);
	if (rc)
		goto out;
	if (env && !strcmp(env, "0"))
		goto out;
	r->batch = vs_xcalloc(NBATCHES, sizeof(*r->batch));
	r->at = vs_xcalloc(BATCH_EVENTS, sizeof(*r->at));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->threaded = 1;
	if (pthread_create(&r->thread, NULL, reader_thread, r) != 0)
		r->threaded = 0; /* no thread to be had: parse on the caller's */
out:
	if (rc) {
		vs_events_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void vs_events_close(struct vs_event_reader *r)
{
	if (!r)
		return;
	if (r->threaded) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	if (r->batch) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		for (size_t i = 0; i < NBATCHES; i++) {
			free(r->batch[i].text);
			free(r->batch[i].msg);
		}
		free(r->batch);
		free(r->at);
	}
	vs_csv_close(r->csv);
	free(r);
}

int vs_events_next(struct vs_event_reader *r, struct vs_event *ev)
{
	if (!r->threaded)
		return read_event(r, ev);
	for (;;) {
		struct event_batch *b = r->cur;

		if (b && r->next < b->n) {
			*ev = b->ev[r->next++];
			return 1;
		}
		if (b && b->end == 1)
			return 0;
		if (b && b->end < 0)
			return vs_error_set(b->end, "%s", b->msg);
		pthread_mutex_lock(&r->mu);
		if (b) {
			r->taken++; /* the last event's strings are no longer needed */
			pthread_cond_broadcast(&r->cv);
		}
		while (r->filled == r->taken)
			pthread_cond_wait(&r->cv, &r->mu);
		r->cur = &r->batch[r->taken % NBATCHES];
		r->next = 0;
		pthread_mutex_unlock(&r->mu);
	}
}

int vs_events_write_header(FILE *out)
{
	return vs_csv_write_row(out, event_columns, EF_COUNT);
}

/*
 * A latitude or longitude with six decimals, as printf's "%.6f" writes it, from integers
 * (snprintf was a third of the simulator's time): x * 1e6 is rounded to the nearest
 * integer, and printf decides the rare values within a hair of a half.
 */
static void coord_text(double x, char out[32])
{
	double y = x * 1e6, t;
	uint64_t a;
	uint32_t frac;
	char tmp[24];
	int n = 0, k = 0;

	if (!(y > -1e15 && y < 1e15)) {
		snprintf(out, 32, "%.6f", x);
		return;
	}
	t = y < 0 ? -y : y;
	a = (uint64_t)t;
	if (t - (double)a > 0.5 - 1e-6 && t - (double)a < 0.5 + 1e-6) {
		snprintf(out, 32, "%.6f", x);
		return;
	}
	a += t - (double)a > 0.5;
	/* the six decimals in 32-bit arithmetic, then the (short) integer part */
	frac = (uint32_t)(a % 1000000);
	a /= 1000000;
	for (int i = 0; i < 6; i++, frac /= 10)
		tmp[n++] = (char)('0' + frac % 10);
	tmp[n++] = '.';
	do {
		tmp[n++] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	memcpy(&a, &x, sizeof(a)); /* the sign bit, as printf writes "-0.000000" */
	if (a >> 63)
		out[k++] = '-';
	while (n)
		out[k++] = tmp[--n];
	out[k] = 0;
}

/*
 * vs_time_format for a writer's rows, which come in long runs of the same local day: the
 * date and offset are formatted once per day and thread, the time of day patched in.
 * Times outside years 1970-9999 or offsets outside +-18:00 go to vs_time_format whole.
 */
static void row_time(int64_t ts, int offset_min, char out[VS_TIME_TEXT_MAX])
{
	static _Thread_local struct {
		int64_t day;
		int offset_min, valid;
		char text[VS_TIME_TEXT_MAX];
	} last;
	int64_t local = ts + (int64_t)offset_min * 60, day;
	int tod;

	if (local < 0 || local >= INT64_C(253402300800) || offset_min < -18 * 60 ||
	    offset_min > 18 * 60) {
		vs_time_format(ts, offset_min, out);
		return;
	}
	day = local / 86400;
	tod = (int)(local % 86400);
	if (!last.valid || last.day != day || last.offset_min != offset_min) {
		vs_time_format(ts, offset_min, last.text);
		last.day = day;
		last.offset_min = offset_min;
		last.valid = 1;
	}
	memcpy(out, last.text, VS_TIME_TEXT_MAX);
	out[11] = (char)('0' + tod / 36000);
	out[12] = (char)('0' + tod / 3600 % 10);
	out[14] = (char)('0' + tod % 3600 / 600);
	out[15] = (char)('0' + tod % 600 / 60);
	out[17] = (char)('0' + tod % 60 / 10);
	out[18] = (char)('0' + tod % 10);
}

/* Append plain text (a field the checks made safe and bounded) to a row's segment. */
static size_t seg_add(char *seg, size_t n, const char *s)
{
	size_t len = strlen(s);

	memcpy(seg + n, s, len);
	return n + len;
}

/* Write the segment so far and empty it. */
static int seg_flush(FILE *out, const char *seg, size_t *n)
{
	if (*n && fwrite(seg, 1, *n, out) != *n)
		return vs_error_set(VS_EIO, "cannot write: %s", strerror(errno));
	*n = 0;
	return 0;
}

int vs_event_write(FILE *out, const struct vs_event *ev)
{
	char ts[VS_TIME_TEXT_MAX], lat[32] = "", lon[32] = "", seg[192];
	enum event_field field;
	struct vs_event check = *ev;
	size_t n = 0;
	int rc;

	/* A colour given only as ev->color is written as its name. */
	if ((ev->kind == VS_EVENT_SCAN || ev->kind == VS_EVENT_CODE) && ev->has_color &&
	    !*nz(ev->value))
		check.value = vs_color_name(ev->color);
	if ((check.kind == VS_EVENT_SCAN || check.kind == VS_EVENT_CODE) && *nz(check.value))
		check.has_color = vs_color_parse(check.value, &check.color) == 0;
	rc = event_check(&check, &field);
	if (rc) {
		vs_error_prefix("event of person '%.64s': field '%s'", nz(ev->person_id),
				event_columns[field]);
		return VS_EINVAL;
	}
	row_time(ev->ts, ev->offset_min, ts);
	if (ev->has_pos) {
		coord_text(ev->lat, lat);
		coord_text(ev->lon, lon);
	}
	/*
	 * The row as vs_csv_write_row would write it, in few calls (this is the simulator's
	 * hot path): fields the checks made plain and short (time, kind, venue UUID, lat, lon,
	 * the values of scan, code and test) are gathered in seg and written at once; free
	 * text goes through vs_csv_write_field, which quotes it when it needs to be.
	 */
	flockfile(out);
	n = seg_add(seg, n, ts);
	seg[n++] = ',';
	if ((rc = seg_flush(out, seg, &n)) || (rc = vs_csv_write_field(out, nz(ev->person_id))))
		goto out;
	seg[n++] = ',';
	n = seg_add(seg, n, vs_event_kind_name(ev->kind));
	seg[n++] = ',';
	n = seg_add(seg, n, nz(ev->venue_id));
	seg[n++] = ',';
	if ((rc = seg_flush(out, seg, &n)) || (rc = vs_csv_write_field(out, nz(ev->area))))
		goto out;
	seg[n++] = ',';
	n = seg_add(seg, n, lat);
	seg[n++] = ',';
	n = seg_add(seg, n, lon);
	seg[n++] = ',';
	if (ev->kind == VS_EVENT_SCAN || ev->kind == VS_EVENT_CODE || ev->kind == VS_EVENT_TEST)
		n = seg_add(seg, n, nz(check.value));
	else if ((rc = seg_flush(out, seg, &n)) || (rc = vs_csv_write_field(out, nz(check.value))))
		goto out;
	seg[n++] = ',';
	if (*nz(ev->reason) &&
	    ((rc = seg_flush(out, seg, &n)) || (rc = vs_csv_write_field(out, ev->reason))))
		goto out;
	seg[n++] = ',';
	if (*nz(ev->authority) &&
	    ((rc = seg_flush(out, seg, &n)) || (rc = vs_csv_write_field(out, ev->authority))))
		goto out;
	seg[n++] = '\n';
	rc = seg_flush(out, seg, &n);
out:
	funlockfile(out);
	return rc;
}

/* ---- areas ---------------------------------------------------------------------------- */

static const char *const area_columns[] = { "area", "level", "start", "end", NULL };

int vs_dataset_optional_absent(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT;
	return S_ISREG(st.st_mode) && st.st_size == 0;
}

int vs_areas_read(const char *path, struct vs_risk_map *m, int optional)
{
	struct vs_csv_reader *r = NULL;
	int col[4], rc;

	if (optional && vs_dataset_optional_absent(path))
		return 0;
	rc = vs_csv_open(&r, path);
	if (rc)
		goto out;
	rc = vs_csv_require(r, area_columns);
	if (rc)
		goto out;
	for (size_t i = 0; i < 4; i++)
		col[i] = vs_csv_column(r, area_columns[i]);
	while ((rc = vs_csv_next(r)) == 1) {
		const char *area = vs_csv_field(r, (size_t)col[0]);
		enum vs_risk_level level;
		int64_t start, end;

		if (!vs_area_valid(area)) {
			rc = vs_csv_field_error(r, (size_t)col[0], "not an area path '%.64s'",
						area);
			goto out;
		}
		if ((rc = vs_risk_level_parse(vs_csv_field(r, (size_t)col[1]), &level)) != 0) {
			vs_csv_field_wrap(r, (size_t)col[1], rc);
			goto out;
		}
		if ((rc = vs_time_parse(vs_csv_field(r, (size_t)col[2]), &start, NULL)) != 0) {
			vs_csv_field_wrap(r, (size_t)col[2], rc);
			goto out;
		}
		if ((rc = vs_time_parse(vs_csv_field(r, (size_t)col[3]), &end, NULL)) != 0) {
			vs_csv_field_wrap(r, (size_t)col[3], rc);
			goto out;
		}
		if (end <= start) {
			rc = vs_csv_field_error(r, (size_t)col[3], "not after start '%s'",
						vs_csv_field(r, (size_t)col[2]));
			goto out;
		}
		rc = vs_risk_map_add(m, area, level, start, end);
		if (rc) {
			vs_csv_field_wrap(r, (size_t)col[0], rc);
			goto out;
		}
	}
out:
	vs_csv_close(r);
	return rc < 0 ? rc : 0;
}

int vs_areas_write_header(FILE *out)
{
	return vs_csv_write_row(out, area_columns, 4);
}

int vs_area_level_write(FILE *out, const char *area, enum vs_risk_level level, int64_t start,
			int64_t end, int offset_min)
{
	char s[VS_TIME_TEXT_MAX], e[VS_TIME_TEXT_MAX];
	const char *row[4];

	if (!vs_area_valid(area))
		return vs_error_set(VS_EINVAL, "area level: not an area path '%.64s'", area);
	if (end <= start)
		return vs_error_set(VS_EINVAL, "area level of '%.64s': end not after start", area);
	vs_time_format(start, offset_min, s);
	vs_time_format(end, offset_min, e);
	row[0] = area;
	row[1] = vs_risk_level_name(level);
	row[2] = s;
	row[3] = e;
	return vs_csv_write_row(out, row, 4);
}

/* ---- venues and labels ---------------------------------------------------------------- */

int vs_venues_write(FILE *out, const struct vs_venue_list *list)
{
	static const char *const header[] = { "venue_id", "name", "area", "lat", "lon" };
	int rc = vs_csv_write_row(out, header, 5);

	for (size_t i = 0; !rc && i < list->n; i++) {
		const struct vs_venue *v = &list->items[i];
		char lat[32], lon[32];
		const char *row[5] = { v->id, v->name, v->area, lat, lon };

		coord_text(v->lat, lat);
		coord_text(v->lon, lon);
		rc = vs_csv_write_row(out, row, 5);
	}
	return rc;
}

static const char *const label_columns[] = { "ts", "person_id", "cause", NULL };

int vs_labels_write_header(FILE *out)
{
	return vs_csv_write_row(out, label_columns, 3);
}

int vs_label_write(FILE *out, int64_t ts, int offset_min, const char *person_id,
		   const char *cause)
{
	char t[VS_TIME_TEXT_MAX];
	const char *row[3];

	if ((strncmp(cause, "published:", 10) || !cause[10]) &&
	    (strncmp(cause, "misuse:", 7) || !cause[7]))
		return vs_error_set(VS_EINVAL, "label of person '%.64s': cause '%.64s' is not "
				    "published:RULE or misuse:RULE", person_id, cause);
	row_time(ts, offset_min, t);
	row[0] = t;
	row[1] = person_id;
	row[2] = cause;
	return vs_csv_write_row(out, row, 3);
}

/* ---- manifest ------------------------------------------------------------------------- */

/* SHA-256 and size of a file. */
static int file_digest(const char *path, char hex[65], uint64_t *bytes)
{
	struct vs_sha256 st;
	unsigned char md[VS_SHA256_BYTES];
	unsigned char *buf = vs_xmalloc(1 << 16);
	uint64_t total = 0;
	int fd, rc = 0;
	ssize_t n;

	if ((rc = vs_sha256_init(&st)))
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = vs_error_set(errno == ENOENT ? VS_ENOTFOUND : VS_EIO, "cannot open '%s': %s",
				  path, strerror(errno));
		goto out;
	}
	while ((n = read(fd, buf, 1 << 16)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = vs_error_set(VS_EIO, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
		vs_sha256_update(&st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (rc)
		goto out;
	vs_sha256_final(&st, md);
	vs_sha256_hex(md, hex);
	if (bytes)
		*bytes = total;
out:
	free(buf);
	return rc;
}

int vs_file_sha256(const char *path, char hex[65])
{
	return file_digest(path, hex, NULL);
}

int vs_manifest_write(const char *dir, const char *generator, const char *version,
		      uint64_t seed, const struct vs_manifest_file *files, size_t n)
{
	return vs_manifest_write_fields(dir, generator, version, seed, NULL, 0, files, NULL, n);
}

int vs_manifest_write_fields(const char *dir, const char *generator, const char *version,
			     uint64_t seed, const struct vs_manifest_field *fields,
			     size_t nfields, const struct vs_manifest_file *files,
			     const struct vs_manifest_digest *digests, size_t n)
{
	struct vs_buf b = VS_BUF_INIT;
	char *path = NULL;
	int rc = 0;

	vs_buf_adds(&b, "{\n  \"format\": \"venuescan-dataset\",\n  \"format_version\": 1,\n"
			"  \"generator\": ");
	vs_buf_add_json_string(&b, nz(generator), strlen(nz(generator)));
	vs_buf_adds(&b, ",\n  \"version\": ");
	vs_buf_add_json_string(&b, nz(version), strlen(nz(version)));
	vs_buf_addf(&b, ",\n  \"seed\": %" PRIu64, seed);
	for (size_t i = 0; i < nfields; i++) {
		vs_buf_adds(&b, ",\n  ");
		vs_buf_add_json_string(&b, fields[i].key, strlen(fields[i].key));
		vs_buf_adds(&b, ": ");
		if (fields[i].text)
			vs_buf_add_json_string(&b, fields[i].text, strlen(fields[i].text));
		else
			vs_buf_addf(&b, "%" PRIu64, fields[i].number);
	}
	vs_buf_adds(&b, ",\n  \"files\": {");
	for (size_t i = 0; i < n; i++) {
		char hex[65];
		uint64_t bytes;

		if (digests) {
			memcpy(hex, digests[i].sha256, sizeof(hex));
			hex[64] = 0;
			bytes = digests[i].bytes;
		} else {
			free(path);
			path = vs_xasprintf("%s/%s", dir, files[i].name);
			if ((rc = file_digest(path, hex, &bytes)))
				goto out;
		}
		vs_buf_adds(&b, i ? ",\n    " : "\n    ");
		vs_buf_add_json_string(&b, files[i].name, strlen(files[i].name));
		vs_buf_addf(&b, ": {\"rows\": %" PRIu64 ", \"bytes\": %" PRIu64
				", \"sha256\": \"%s\"}",
			    files[i].rows, bytes, hex);
	}
	vs_buf_adds(&b, n ? "\n  }\n}\n" : "}\n}\n");
	free(path);
	path = vs_xasprintf("%s/%s", dir, VS_DATASET_MANIFEST);
	rc = vs_file_write_atomic(path, b.data, b.len, 0644);
out:
	free(path);
	vs_buf_release(&b);
	return rc;
}

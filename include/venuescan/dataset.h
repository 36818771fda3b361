/*
 * Dataset v1 (SPEC §5, docs/FORMAT.md): the folder of CSV files the simulator and the code
 * service's audit export write and the detector, eval and replay read.  This module reads
 * each file with full validation (errors "events.csv:LINE: field 'F': ..."), writes each
 * with RFC 4180 quoting, and writes manifest.json with every file's row count and SHA-256.
 *
 * Persons are read whole into a vs_person_table that interns person ids to dense indices
 * 0..n-1, so later modules keep per-person arrays; events are streamed one at a time and
 * never held, so a dataset of tens of millions of events reads in constant memory.
 */
#ifndef VENUESCAN_DATASET_H
#define VENUESCAN_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "venuescan/rules.h"
#include "venuescan/venues.h"

/* File names inside a dataset folder. */
#define VS_DATASET_PERSONS "persons.csv"
#define VS_DATASET_VENUES "venues.csv"
#define VS_DATASET_AREAS "areas.csv"
#define VS_DATASET_EVENTS "events.csv"
#define VS_DATASET_LABELS "labels.csv"
#define VS_DATASET_MANIFEST "manifest.json"

#define VS_PERSON_NONE UINT32_MAX /* vs_event.person when no person table was given */

/*
 * 1 when an optional dataset file (venues.csv, areas.csv, labels.csv) counts as absent:
 * it does not exist or has zero bytes.  A file with only a header row is present and empty.
 */
int vs_dataset_optional_absent(const char *path);

/* ---- persons -------------------------------------------------------------------------- */

/* One identity attribute, "key=value" in persons.csv's attrs. */
struct vs_attr {
	const char *key;   /* [a-z0-9_]+ */
	const char *value; /* non-empty, no ';' */
};

struct vs_person {
	const char *id;           /* non-empty, unique */
	const char *household_id; /* "" when the person lives alone / is not known to share */
	const char *home_area;    /* an area path */
	uint32_t attr_first;      /* attrs are table->attrs[attr_first .. attr_first + nattrs) */
	uint32_t nattrs;          /* in the order written */
};

/*
 * Persons by dense index.  The table owns every string (in an internal pool); pointers
 * stay valid until vs_person_table_release().  Index i is the (i+1)th row of persons.csv.
 */
struct vs_person_table {
	struct vs_person *items;
	size_t n, alloc;
	struct vs_attr *attrs;
	size_t nattrs, attrs_alloc;
	uint32_t *slot; /* id hash: index + 1, 0 empty */
	size_t slot_cap;
	struct vs_pool_block *pool;
};

#define VS_PERSON_TABLE_INIT { NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL }

void vs_person_table_release(struct vs_person_table *t);
/*
 * Add a person (strings copied; attrs is the attrs text "k=v;k=v", may be "" or NULL).
 * Fails with VS_EFORMAT and a message without file or line (readers add those) for an
 * empty or duplicate id ("duplicate person 'ID'"), a bad home area or bad attrs.
 */
int vs_person_table_add(struct vs_person_table *t, const char *id, const char *household_id,
			const char *home_area, const char *attrs);
/* The dense index of person id, or -1. */
long vs_person_table_find(const struct vs_person_table *t, const char *id);
/* The value of attribute key for person i, or NULL. */
const char *vs_person_attr(const struct vs_person_table *t, size_t i, const char *key);

/* Read persons.csv into an empty table t; on failure t is released. */
int vs_persons_read(const char *path, struct vs_person_table *t);
int vs_persons_write_header(FILE *out);
/* Write person i of t as one row. */
int vs_person_write(FILE *out, const struct vs_person_table *t, size_t i);
/*
 * Write one persons.csv row from its fields (attrs as persons.csv writes it, "k=v;k=v",
 * may be ""; household_id may be "").  An empty id or a home_area that is not an area
 * path fails with VS_EINVAL; attrs are written as given.
 */
int vs_person_write_row(FILE *out, const char *id, const char *household_id,
			const char *home_area, const char *attrs);

/* ---- events --------------------------------------------------------------------------- */

enum vs_event_kind {
	VS_EVENT_LOCATE,  /* seen in area (itinerary) */
	VS_EVENT_SCAN,    /* scanned venue_id; device at area/lat/lon; value = place-code colour */
	VS_EVENT_CODE,    /* personal code set to value (colour), with reason and authority */
	VS_EVENT_TEST,    /* value negative|positive */
	VS_EVENT_CONTACT, /* designated close contact */
	VS_EVENT_ENTRY,   /* arrived from abroad */
	VS_EVENT_ACTION,  /* a non-health act; value a token [a-z0-9_]+ */
};
#define VS_EVENT_KINDS 7

/*
 * One row of events.csv.  From the reader, strings point into the reader's current row and
 * stay valid until the next vs_events_next(); empty fields are "" (never NULL).  For the
 * writer, NULL strings are written as empty fields.
 */
struct vs_event {
	int64_t ts;              /* unix seconds */
	int offset_min;          /* the UTC offset ts was written with */
	enum vs_event_kind kind;
	uint32_t person;         /* dense index in the person table, or VS_PERSON_NONE */
	const char *person_id;
	const char *venue_id;    /* a UUID, required for scan; "" otherwise allowed */
	const char *area;        /* an area path or ""; required for locate */
	int has_pos;             /* lat and lon are set (both fields present) */
	double lat, lon;
	const char *value;       /* see the kinds; "" when unused */
	enum vs_color color;     /* parsed value of code, and of scan when has_color */
	int has_color;
	const char *reason;      /* free text (code events) */
	const char *authority;   /* who pushed a code change, e.g. "Henan/Zhengzhou" */
	unsigned long line;      /* line in events.csv where the row starts (reader only) */
};

const char *vs_event_kind_name(enum vs_event_kind k); /* "locate", ..., "?" out of range */
int vs_event_kind_parse(const char *s, enum vs_event_kind *out); /* VS_EFORMAT "unknown kind 'S'" */

struct vs_event_reader;

/*
 * Open an events.csv for streaming.  persons, if not NULL, must outlive the reader: each
 * event's person id is looked up in it, and an id not there fails with "FILE:LINE: field
 * 'person_id': unknown person 'ID'".  Without persons, vs_event.person is VS_PERSON_NONE.
 */
int vs_events_open(struct vs_event_reader **out, const char *path,
		   const struct vs_person_table *persons);
/* The next event: 1 (ev filled), 0 at end of file, or a negative error (sticky). */
int vs_events_next(struct vs_event_reader *r, struct vs_event *ev);
void vs_events_close(struct vs_event_reader *r);

int vs_events_write_header(FILE *out);
/* Check ev by the reader's rules and write it; an invalid event fails with VS_EINVAL. */
int vs_event_write(FILE *out, const struct vs_event *ev);

/* ---- areas, venues, labels ------------------------------------------------------------ */

/*
 * Read areas.csv (area,level,start,end; [start, end), start before end) into m.  A missing
 * or zero-byte file adds nothing and succeeds when optional is set.
 */
int vs_areas_read(const char *path, struct vs_risk_map *m, int optional);
int vs_areas_write_header(FILE *out);
/* One areas.csv row; times are written with the given UTC offset in minutes. */
int vs_area_level_write(FILE *out, const char *area, enum vs_risk_level level, int64_t start,
			int64_t end, int offset_min);

/* Write a whole venue list as venues.csv (header included). */
int vs_venues_write(FILE *out, const struct vs_venue_list *list);

int vs_labels_write_header(FILE *out);
/* One labels.csv row: cause is "published:RULE" or "misuse:RULE". */
int vs_label_write(FILE *out, int64_t ts, int offset_min, const char *person_id,
		   const char *cause);

/* ---- manifest ------------------------------------------------------------------------- */

struct vs_manifest_file {
	const char *name; /* e.g. "events.csv", inside dir */
	uint64_t rows;    /* data rows, header excluded */
};

/* An extra top-level manifest key: a JSON string when text is set, else number. */
struct vs_manifest_field {
	const char *key;
	const char *text;
	uint64_t number;
};

/*
 * Write dir/manifest.json (atomically): format "venuescan-dataset", format_version 1,
 * generator, version, seed, and per file its rows, bytes and SHA-256, read back from
 * dir.  No wall-clock time, so the same dataset gives the same bytes.
 */
int vs_manifest_write(const char *dir, const char *generator, const char *version,
		      uint64_t seed, const struct vs_manifest_file *files, size_t n);
/* A file's size and SHA-256 (sha256.h) taken while it was written. */
struct vs_manifest_digest {
	uint64_t bytes;
	char sha256[65]; /* lowercase hex */
};

/*
 * The same with nfields extra keys after "seed", in the order given (the simulator's
 * scenario, persons, days and start).  digests, if not NULL, gives each file's size and
 * digest as its writer computed them (n entries), instead of reading the files back.
 */
int vs_manifest_write_fields(const char *dir, const char *generator, const char *version,
			     uint64_t seed, const struct vs_manifest_field *fields,
			     size_t nfields, const struct vs_manifest_file *files,
			     const struct vs_manifest_digest *digests, size_t n);

/* The lowercase hex SHA-256 of a file (65 bytes with the NUL). */
int vs_file_sha256(const char *path, char hex[65]);

#endif

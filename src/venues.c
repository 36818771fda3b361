/*
 * Venue lists and the small validators every reader of places shares: venue ids (UUIDs),
 * area paths, coordinates, and the great-circle distance that tells a scan made at the
 * venue from one made 700 km away from a forwarded photo.  vs_venues_read checks every
 * field of every row and stops at the first bad one, naming file, line and field, so that
 * a poster is never printed for a venue whose list is half wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/venues.h"

#define EARTH_RADIUS_KM 6371.0088

int vs_uuid_valid(const char *s)
{
	static const int dash_at[] = { 8, 13, 18, 23 };
	size_t i, d = 0;

	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash_at[d]) {
			if (s[i] != '-')
				return 0;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return s[36] == '\0';
}

int vs_area_valid(const char *s)
{
	int parts = 1;
	const char *part = s;

	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - part);
			if (len == 0 || isspace((unsigned char)part[0]) ||
			    isspace((unsigned char)part[len - 1]))
				return 0;
			if (*p == '\0')
				break;
			if (++parts > 3)
				return 0;
			part = p + 1;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			return 0;
		}
	}
	return 1;
}

int vs_number_parse(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	/* strtod alone would take spaces, hex, "nan" and "inf": allow only decimal text. */
	if (!*s || strspn(s, "0123456789+-.eE") != strlen(s) || !strpbrk(s, "0123456789"))
		goto not_number;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || end == s || !isfinite(v) || errno == ERANGE)
		goto not_number;
	if (v < min || v > max)
		return vs_error_set(VS_EFORMAT, "out of range [%g, %g] '%.64s'", min, max, s);
	*out = v;
	return 0;
not_number:
	return vs_error_set(VS_EFORMAT, "not a number '%.64s'", s);
}

double vs_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
		   cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	if (a > 1)
		a = 1;
	return 2 * EARTH_RADIUS_KM * asin(sqrt(a));
}

void vs_venue_list_release(struct vs_venue_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->items[i].name);
		free(list->items[i].area);
	}
	free(list->items);
	list->items = NULL;
	list->n = list->alloc = 0;
}

/*
 * A set of venue ids seen so far (open addressing over indices into the list being
 * read), with the line each was on, for the duplicate check.
 */
struct id_set {
	size_t *slot;           /* index + 1, 0 for empty */
	unsigned long *line;    /* line of item i */
	size_t cap, line_alloc;
};

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Insert item i; if its id is already there, return the index + 1 of the first holder. */
static size_t id_set_insert(struct id_set *set, const struct vs_venue *items, size_t i)
{
	size_t mask, k;

	if (2 * (i + 1) > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 64;
		size_t *nslot = vs_xcalloc(ncap, sizeof(*nslot));

		for (size_t j = 0; j < set->cap; j++) {
			if (!set->slot[j])
				continue;
			k = hash_id(items[set->slot[j] - 1].id) & (ncap - 1);
			while (nslot[k])
				k = (k + 1) & (ncap - 1);
			nslot[k] = set->slot[j];
		}
		free(set->slot);
		set->slot = nslot;
		set->cap = ncap;
	}
	mask = set->cap - 1;
	for (k = hash_id(items[i].id) & mask; set->slot[k]; k = (k + 1) & mask)
		if (!strcmp(items[set->slot[k] - 1].id, items[i].id))
			return set->slot[k];
	set->slot[k] = i + 1;
	return 0;
}

static const char *const venue_columns[] = { "venue_id", "name", "area", "lat", "lon", NULL };

/* Validate the current row into v (name and area allocated only on success). */
static int parse_venue(struct vs_csv_reader *r, const int *col, struct vs_venue *v)
{
	const char *id = vs_csv_field(r, (size_t)col[0]);
	const char *name = vs_csv_field(r, (size_t)col[1]);
	const char *area = vs_csv_field(r, (size_t)col[2]);

	if (!vs_uuid_valid(id))
		return vs_csv_field_error(r, (size_t)col[0], "not a UUID '%.64s'", id);
	for (size_t i = 0; i < 36; i++)
		v->id[i] = (char)tolower((unsigned char)id[i]);
	v->id[36] = '\0';
	if (!*name)
		return vs_csv_field_error(r, (size_t)col[1], "empty");
	if (!vs_area_valid(area))
		return vs_csv_field_error(r, (size_t)col[2], "not an area path '%.64s'", area);
	if (vs_number_parse(vs_csv_field(r, (size_t)col[3]), -90, 90, &v->lat))
		return vs_csv_field_wrap(r, (size_t)col[3], VS_EFORMAT);
	if (vs_number_parse(vs_csv_field(r, (size_t)col[4]), -180, 180, &v->lon))
		return vs_csv_field_wrap(r, (size_t)col[4], VS_EFORMAT);
	v->name = vs_xstrdup(name);
	v->area = vs_xstrdup(area);
	return 0;
}

int vs_venues_read(const char *path, struct vs_venue_list *out)
{
	struct vs_venue_list list = VS_VENUE_LIST_INIT;
	struct id_set seen = { NULL, NULL, 0, 0 };
	struct vs_csv_reader *r = NULL;
	int col[5], rc;

	rc = vs_csv_open(&r, path);
	if (rc)
		goto out;
	rc = vs_csv_require(r, venue_columns);
	if (rc)
		goto out;
	for (size_t i = 0; i < 5; i++)
		col[i] = vs_csv_column(r, venue_columns[i]);
	while ((rc = vs_csv_next(r)) == 1) {
		struct vs_venue v;
		size_t first;

		rc = parse_venue(r, col, &v);
		if (rc)
			goto out;
		VS_ALLOC_GROW(list.items, list.n + 1, list.alloc);
		VS_ALLOC_GROW(seen.line, list.n + 1, seen.line_alloc);
		list.items[list.n] = v;
		seen.line[list.n] = vs_csv_line(r);
		list.n++;
		first = id_set_insert(&seen, list.items, list.n - 1);
		if (first) {
			rc = vs_csv_field_error(r, (size_t)col[0],
						"duplicate id '%s' (first on line %lu)", v.id,
						seen.line[first - 1]);
			goto out;
		}
	}
out:
	vs_csv_close(r);
	free(seen.slot);
	free(seen.line);
	if (rc < 0) {
		vs_venue_list_release(&list);
		return rc;
	}
	*out = list;
	return 0;
}

/*
 * Venue lists (venues.csv: venue_id,name,area,lat,lon — SPEC §5): reading them with full
 * validation, and area paths ("Province/City/District").
 */
#ifndef VENUESCAN_VENUES_H
#define VENUESCAN_VENUES_H

#include <stddef.h>

struct vs_venue {
	char id[37];  /* lowercase UUID */
	char *name;   /* UTF-8, non-empty */
	char *area;   /* Province/City/District */
	double lat;   /* -90..90 */
	double lon;   /* -180..180 */
};

struct vs_venue_list {
	struct vs_venue *items;
	size_t n;
	size_t alloc;
};

#define VS_VENUE_LIST_INIT { NULL, 0, 0 }

/*
 * Read a venues.csv (columns by header name, any order, extra columns ignored); the first
 * bad row fails with "FILE:LINE: field 'F': ...", and so does a duplicate id (ids compare
 * case-insensitively and are stored lowercase).  On success *out is overwritten with a
 * list the caller releases with vs_venue_list_release(); on failure it is left untouched.
 */
int vs_venues_read(const char *path, struct vs_venue_list *out);
void vs_venue_list_release(struct vs_venue_list *list);

/* 1 if s is a well-formed area path: 1-3 non-empty '/'-separated parts, no spaces at ends. */
int vs_area_valid(const char *s);
/* 1 if s is a UUID in canonical 8-4-4-4-12 hex form (case-insensitive). */
int vs_uuid_valid(const char *s);
/*
 * Parse a decimal number strictly ("34.7447", "-1e-3"; no spaces, hex, nan or inf, no
 * trailing text) that lies in [min, max].  Fails with VS_EFORMAT and "not a number 'S'"
 * or "out of range [MIN, MAX] 'S'" (callers prefix file, line and field).
 */
int vs_number_parse(const char *s, double min, double max, double *out);

/* Great-circle distance in kilometres (haversine, mean Earth radius 6371.0088 km). */
double vs_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif

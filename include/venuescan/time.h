/*
 * Times: ISO 8601 with a UTC offset ("2022-06-11T20:15:00+08:00", "...Z"), as datasets
 * store them, and unix seconds, as venue-code claims do.  Parsing is strict (real
 * calendar dates, hours 00-23, offsets within ±18:00) and independent of the TZ setting.
 */
#ifndef VENUESCAN_TIME_H
#define VENUESCAN_TIME_H

#include <stdint.h>

/* Longest text vs_time_format writes, NUL included. */
#define VS_TIME_TEXT_MAX 32

/*
 * Parse ISO 8601 "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)" into unix seconds (fraction
 * dropped) and the offset in minutes (may be NULL).  Years are 0000-9999, seconds 00-59
 * (no leap second), the fraction 1-9 digits after '.' or ','.  Fails with VS_EFORMAT and
 * the message "not an ISO 8601 time 'TEXT'".
 */
int vs_time_parse(const char *s, int64_t *unix_s, int *offset_min);

/* Parse either ISO 8601 (as above) or whole unix seconds ("1654950000", optionally
 * negative), both limited to years 0000-9999.  Fails with VS_EFORMAT. */
int vs_time_parse_any(const char *s, int64_t *unix_s);

/* Write t as "YYYY-MM-DDTHH:MM:SS±HH:MM" in the given offset (0 gives "+00:00").  Times
 * outside years 0000-9999 and offsets beyond ±18:00 are clamped to those ranges. */
void vs_time_format(int64_t unix_s, int offset_min, char out[VS_TIME_TEXT_MAX]);

/* The current time, or SOURCE_DATE_EPOCH when that is set (reproducible builds' convention). */
int64_t vs_time_now(void);

#endif

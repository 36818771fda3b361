/*
 * Times as datasets and venue codes write them.  Calendar arithmetic is done here, on
 * the proleptic Gregorian calendar with H. Hinnant's days-from-civil method, instead of
 * through mktime/timegm: the result must not depend on TZ, the C library or the locale,
 * and a parser that reads tens of millions of timestamps should not call into either.
 * Only years 0000-9999 exist in ISO 8601's basic form, so that is the range accepted.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "venuescan/error.h"
#include "venuescan/time.h"

#define SECS_PER_DAY 86400
#define OFFSET_MAX_MIN (18 * 60)
/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z in unix seconds. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX (253402300799LL)

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of a day count (inverse of days_from_civil). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Read exactly n decimal digits at *p into *v and advance; 0 if they are not there. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return 0;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return 1;
}

/* The parser proper: 1 on success, 0 on any deviation from the grammar or the calendar. */
static int parse_iso(const char *s, int64_t *unix_s, int *offset_min)
{
	const char *p = s;
	int year, mon, day, hour, min, sec = 0, off = 0;

	if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &mon) || *p++ != '-' ||
	    !digits(&p, 2, &day) || *p++ != 'T' || !digits(&p, 2, &hour) || *p++ != ':' ||
	    !digits(&p, 2, &min))
		return 0;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &sec))
			return 0;
		if (*p == '.' || *p == ',') {
			const char *frac = ++p;
			while (*p >= '0' && *p <= '9')
				p++;
			if (p == frac || p - frac > 9)
				return 0;
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || om > 59)
			return 0;
		off = sign * (oh * 60 + om);
		if (off > OFFSET_MAX_MIN || off < -OFFSET_MAX_MIN)
			return 0;
	} else {
		return 0;
	}
	if (*p != '\0')
		return 0;
	if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 ||
	    min > 59 || sec > 59)
		return 0;
	*unix_s = days_from_civil(year, mon, day) * SECS_PER_DAY + hour * 3600 + min * 60 + sec -
		  (int64_t)off * 60;
	if (offset_min)
		*offset_min = off;
	return 1;
}

int vs_time_parse(const char *s, int64_t *unix_s, int *offset_min)
{
	if (!parse_iso(s, unix_s, offset_min))
		return vs_error_set(VS_EFORMAT, "not an ISO 8601 time '%.64s'", s);
	return 0;
}

int vs_time_parse_any(const char *s, int64_t *unix_s)
{
	const char *p = s;
	int64_t v = 0;

	if (parse_iso(s, unix_s, NULL))
		return 0;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > TIME_MAX - TIME_MIN)
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	v = s[0] == '-' ? -v : v;
	if (v < TIME_MIN || v > TIME_MAX)
		goto bad;
	*unix_s = v;
	return 0;
bad:
	return vs_error_set(VS_EFORMAT, "not an ISO 8601 time or unix seconds '%.64s'", s);
}

/* Write v (0 <= v < 10^n) as exactly n decimal digits. */
static void put_digits(char *out, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

void vs_time_format(int64_t unix_s, int offset_min, char out[VS_TIME_TEXT_MAX])
{
	int64_t local, days, secs, year;
	int mon, day, aoff;

	if (offset_min > OFFSET_MAX_MIN)
		offset_min = OFFSET_MAX_MIN;
	if (offset_min < -OFFSET_MAX_MIN)
		offset_min = -OFFSET_MAX_MIN;
	/* Clamp before adding the offset so that INT64_MAX cannot overflow. */
	local = unix_s < TIME_MIN - 86400 ? TIME_MIN - 86400 : unix_s;
	local = local > TIME_MAX + 86400 ? TIME_MAX + 86400 : local;
	local += (int64_t)offset_min * 60;
	if (local < TIME_MIN)
		local = TIME_MIN;
	if (local > TIME_MAX)
		local = TIME_MAX;
	days = local / SECS_PER_DAY;
	secs = local % SECS_PER_DAY;
	if (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &mon, &day);
	aoff = offset_min < 0 ? -offset_min : offset_min;
	/* Fixed-width fields written by hand: every value is in range after the clamps. */
	put_digits(out, (int)year, 4);
	out[4] = '-';
	put_digits(out + 5, mon, 2);
	out[7] = '-';
	put_digits(out + 8, day, 2);
	out[10] = 'T';
	put_digits(out + 11, (int)(secs / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (int)(secs / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (int)(secs % 60), 2);
	out[19] = offset_min < 0 ? '-' : '+';
	put_digits(out + 20, aoff / 60, 2);
	out[22] = ':';
	put_digits(out + 23, aoff % 60, 2);
	out[25] = '\0';
}

int64_t vs_time_now(void)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	int64_t t;

	if (env && *env && vs_time_parse_any(env, &t) == 0)
		return t;
	return (int64_t)time(NULL);
}

/*
 * The CSV reader and writer behind every dataset file and venue list.  The reader works
 * over a large read(2) buffer and has two paths.  The fast path takes a row that lies
 * whole in the buffer and holds no quote, NUL or stray CR (nearly every row of a
 * dataset): it scans the line 16 bytes at a time with SSE2 where there is SSE2 (eight
 * with word arithmetic elsewhere) for commas, checks any non-ASCII
 * bytes are UTF-8, and cuts the fields in place by writing NULs over the commas and the
 * line end, so no byte is copied.  Every other row (quoted fields, CRs, NULs, invalid
 * UTF-8, a row longer than the fast limit or cut by the buffer end) goes to the general
 * path, a state machine that copies the row's fields into one bounded vs_buf and gives
 * each error its field.  Both paths accept exactly the same rows with the same fields:
 * the fast path only ever hands a row it cannot take to the general one.  Only one row is
 * in memory.  Every error names the file and the line where the row starts, and the
 * field when there is one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "venuescan/codec.h"
#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"

#define INPUT_BUF_SIZE (1u << 18)
/* Rows up to this long (without the line end) may take the fast path; far below
 * VS_CSV_ROW_MAX, so the length limit is never met there. */
#define FAST_ROW_MAX (1u << 16)

/* Byte classes: which bytes end a run in the unquoted and in the quoted state. */
enum {
	STOP_UNQUOTED = 1, /* , " CR LF NUL */
	STOP_QUOTED = 2,   /* " LF NUL */
};

enum parse_state {
	FIELD_START,
	UNQUOTED,
	QUOTED,
	QUOTE_END, /* a quote inside a quoted field: the end, or the first of "" */
	AFTER_CR,
};

struct vs_csv_reader {
	char *path;           /* as given, "<stdin>" for "-" */
	int fd;
	int close_fd;
	char *in;             /* INPUT_BUF_SIZE bytes read ahead */
	size_t pos, end;
	int eof;
	struct vs_buf row;    /* the general path's row: fields, each followed by a NUL */
	size_t *off;          /* there, field i starts at row.data + off[i] */
	const char **fld;     /* field i of the current row (in row.data or in place in in) */
	size_t *len;
	size_t nfields, alloc;
	char **names;         /* header names, ncols of them */
	size_t ncols;
	unsigned long line;   /* the line the reader is on (1-based) */
	unsigned long row_line;
	int failed;           /* a sticky error: every later vs_csv_next returns it */
};

static const unsigned char byte_class[256] = {
	[','] = STOP_UNQUOTED,
	['\r'] = STOP_UNQUOTED,
	['"'] = STOP_UNQUOTED | STOP_QUOTED,
	['\n'] = STOP_UNQUOTED | STOP_QUOTED,
	['\0'] = STOP_UNQUOTED | STOP_QUOTED,
};

/* The name of column i for messages: the header name, or "column N" past the header. */
static void column_label(const struct vs_csv_reader *r, size_t i, char *out, size_t size)
{
	if (i < r->ncols)
		snprintf(out, size, "field '%s'", r->names[i]);
	else
		snprintf(out, size, "column %zu", i + 1);
}

static int row_error(struct vs_csv_reader *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set "FILE:LINE: message" for the current row and make it sticky. */
static int row_error(struct vs_csv_reader *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vs_error_setv(code, fmt, ap);
	va_end(ap);
	vs_error_prefix("%s:%lu", r->path, r->row_line);
	r->failed = code;
	return code;
}

/* Read more input; 0 (possibly setting eof) or VS_EIO. */
static int fill(struct vs_csv_reader *r)
{
	ssize_t n;

	if (r->pos < r->end)
		memmove(r->in, r->in + r->pos, r->end - r->pos);
	r->end -= r->pos;
	r->pos = 0;
	do
		n = read(r->fd, r->in + r->end, INPUT_BUF_SIZE - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->failed = vs_error_set(VS_EIO, "cannot read '%s': %s", r->path, strerror(errno));
		return r->failed;
	}
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

/* Append n bytes to the row; the common case (room left) is a bare memcpy, leaving the
 * buffer unterminated until field_end adds the NUL. */
static inline int row_add(struct vs_csv_reader *r, const char *p, size_t n)
{
	if (r->row.len + n < r->row.cap && r->row.len + n <= VS_CSV_ROW_MAX) {
		memcpy(r->row.data + r->row.len, p, n);
		r->row.len += n;
		return 0;
	}
	if (vs_buf_add(&r->row, p, n))
		return row_error(r, VS_ETOOBIG, "row longer than %u bytes", VS_CSV_ROW_MAX);
	return 0;
}

/* Room for one more field in off, fld and len. */
static void grow_fields(struct vs_csv_reader *r)
{
	size_t old = r->alloc;

	VS_ALLOC_GROW(r->off, r->nfields + 1, r->alloc);
	if (r->alloc != old) {
		r->len = vs_xreallocarray(r->len, r->alloc, sizeof(*r->len));
		r->fld = vs_xreallocarray(r->fld, r->alloc, sizeof(*r->fld));
	}
}

/* End the field that started at row offset start: NUL-terminate it and record it. */
static inline int field_end(struct vs_csv_reader *r, size_t start)
{
	if (row_add(r, "", 1))
		return r->failed;
	if (r->nfields == r->alloc)
		grow_fields(r);
	r->off[r->nfields] = start;
	r->len[r->nfields] = r->row.len - 1 - start;
	r->nfields++;
	return 0;
}

/*
 * A field has ended at separator c (',', CR or LF): record it and move to what follows.
 * Returns 1 when c ended the row, 0 to go on from *state, or the (sticky) error.
 */
static inline int after_field(struct vs_csv_reader *r, size_t start, char c,
			      enum parse_state *state)
{
	if (field_end(r, start))
		return r->failed;
	if (c == ',') {
		*state = FIELD_START;
	} else if (c == '\r') {
		*state = AFTER_CR;
	} else {
		r->line++;
		return 1;
	}
	return 0;
}

/*
 * Parse one physical row into r->row: 1 with a row, 0 at end of input, or an error.
 * *blank is set when the row was an empty line.
 */
static int read_row(struct vs_csv_reader *r, int *blank)
{
	enum parse_state state = FIELD_START;
	size_t start = 0;
	int done;
	int quoted = 0;
	char label[160];

	vs_buf_reset(&r->row);
	r->nfields = 0;
	r->row_line = r->line;
	for (;;) {
		if (r->pos == r->end) {
			if (!r->eof && fill(r))
				return r->failed;
			if (r->pos == r->end)
				break;
		}
		const char *p = r->in + r->pos, *q = p, *lim = r->in + r->end;
		char c;

		switch (state) {
		case FIELD_START:
			start = r->row.len;
			if (*p == '"') {
				r->pos++;
				quoted = 1;
				state = QUOTED;
			} else {
				state = UNQUOTED;
			}
			break;
		case UNQUOTED:
			while (q < lim && !(byte_class[(unsigned char)*q] & STOP_UNQUOTED))
				q++;
			if (q > p && row_add(r, p, (size_t)(q - p)))
				return r->failed;
			r->pos += (size_t)(q - p);
			if (q == lim)
				break;
			c = *q;
			r->pos++;
			if (c == '"' || c == '\0') {
				column_label(r, r->nfields, label, sizeof(label));
				return row_error(r, VS_EFORMAT, "%s: %s", label,
						 c == '"' ? "quote inside an unquoted field"
							  : "contains a NUL byte");
			}
			if ((done = after_field(r, start, c, &state)) < 0)
				return done;
			if (done)
				goto row_done;
			break;
		case QUOTED:
			while (q < lim && !(byte_class[(unsigned char)*q] & STOP_QUOTED))
				q++;
			if (q < lim && *q == '\n')
				q++;
			if (q > p && row_add(r, p, (size_t)(q - p)))
				return r->failed;
			r->pos += (size_t)(q - p);
			if (q > p && q[-1] == '\n') {
				r->line++;
				break;
			}
			if (q == lim)
				break;
			r->pos++;
			if (*q == '\0') {
				column_label(r, r->nfields, label, sizeof(label));
				return row_error(r, VS_EFORMAT, "%s: contains a NUL byte", label);
			}
			state = QUOTE_END;
			break;
		case QUOTE_END:
			c = *p;
			r->pos++;
			if (c == '"') {
				if (row_add(r, "\"", 1))
					return r->failed;
				state = QUOTED;
				break;
			}
			if (c != ',' && c != '\r' && c != '\n') {
				column_label(r, r->nfields, label, sizeof(label));
				return row_error(r, VS_EFORMAT,
						 "%s: unexpected character after a closing quote",
						 label);
			}
			if ((done = after_field(r, start, c, &state)) < 0)
				return done;
			if (done)
				goto row_done;
			break;
		case AFTER_CR:
			if (*p != '\n')
				return row_error(r, VS_EFORMAT,
						 "carriage return not followed by a line feed");
			r->pos++;
			r->line++;
			goto row_done;
		}
	}
	/* End of input in the middle of a row (no final line break) or before one. */
	switch (state) {
	case FIELD_START:
		/* "a,b," at the end of input ends with an empty field */
		if (r->nfields == 0)
			return 0;
		start = r->row.len;
		/* fall through */
	case UNQUOTED:
	case QUOTE_END:
		if (field_end(r, start))
			return r->failed;
		break;
	case QUOTED:
		column_label(r, r->nfields, label, sizeof(label));
		return row_error(r, VS_EFORMAT, "%s: quoted field not closed before end of file",
				 label);
	case AFTER_CR:
		break;
	}
row_done:
	for (size_t i = 0; i < r->nfields; i++)
		r->fld[i] = r->row.data + r->off[i];
	*blank = r->nfields == 1 && r->len[0] == 0 && !quoted;
	return 1;
}

/*
 * 1 if s[0..len) is UTF-8.  Most of a dataset is ASCII, so ASCII is skipped eight bytes
 * at a time and vs_utf8_valid sees only the runs of non-ASCII bytes: an ASCII byte is
 * always a character boundary, so each run must be complete UTF-8 on its own.
 */
static int text_valid(const char *s, size_t len)
{
	const uint64_t high = 0x8080808080808080ULL;
	size_t i = 0;

	while (i < len) {
		uint64_t w;

		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (!(w & high)) {
				i += 8;
				continue;
			}
		}
		if (!((unsigned char)s[i] & 0x80)) {
			i++;
			continue;
		}
		size_t j = i + 1;
		while (j < len && ((unsigned char)s[j] & 0x80))
			j++;
		if (!vs_utf8_valid(s + i, j - i))
			return 0;
		i = j;
	}
	return 1;
}

/* Check the row's text is UTF-8, naming the first bad field. */
static int check_utf8(struct vs_csv_reader *r)
{
	char label[160];

	if (text_valid(r->row.data, r->row.len))
		return 0;
	for (size_t i = 0; i < r->nfields; i++) {
		if (!vs_utf8_valid(r->fld[i], r->len[i])) {
			column_label(r, i, label, sizeof(label));
			return row_error(r, VS_EFORMAT, "%s: invalid UTF-8", label);
		}
	}
	/* Unreachable: a sequence cannot straddle the NUL between two fields. */
	return row_error(r, VS_EFORMAT, "invalid UTF-8");
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* 0x80 in each byte of w that is zero, 0 in every other byte (exact, no false hits). */
static inline uint64_t zero_bytes(uint64_t w)
{
	uint64_t low7 = ~HIGHS;

	return ~(((w & low7) + low7) | w | low7);
}

/* Non-zero if some byte of w is zero (bits above the first zero byte may be wrong). */
static inline uint64_t any_zero(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;
}

/*
 * The fast path: take the row at r->pos if it lies whole in the buffer, is at most
 * FAST_ROW_MAX bytes, and holds no '"', NUL or CR (a CR just before the LF excepted);
 * any non-ASCII bytes must be valid UTF-8.  Then the fields are cut in place and 1 is
 * returned (*blank for an empty line); otherwise 0, nothing is changed, and the row is
 * left to read_row.  A row the fast path takes reads the same through read_row.
 */
static int fast_row(struct vs_csv_reader *r, int *blank)
{
	char *p, *nl, *e, *s;
	size_t n, i, nf = 0, scanned = 0;
	uint64_t hard = 0, high = 0;

	for (;;) {
		p = r->in + r->pos;
		nl = memchr(p + scanned, '\n', r->end - r->pos - scanned);
		if (nl)
			break;
		scanned = r->end - r->pos;
		if (r->eof || scanned > FAST_ROW_MAX || (r->pos == 0 && r->end == INPUT_BUF_SIZE))
			return 0;
		if (fill(r))
			return 0; /* read_row meets the error again and reports it */
	}
	e = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	n = (size_t)(e - p);
	if (n > FAST_ROW_MAX)
		return 0;
	/* Commas go into off[] as offsets from p; a bad byte anywhere sends the row away. */
	i = 0;
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		unsigned commas = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));

		hard |= (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						  _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))),
				     _mm_cmpeq_epi8(v, _mm_setzero_si128())));
		if (_mm_movemask_epi8(v))
			high = HIGHS;
		while (commas) {
			if (nf + 1 >= r->alloc) {
				r->nfields = nf;
				grow_fields(r);
			}
			r->off[nf++] = i + (size_t)__builtin_ctz(commas);
			commas &= commas - 1;
		}
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t w, commas;

		memcpy(&w, p + i, 8);
		hard |= any_zero(w) | any_zero(w ^ (ONES * '"')) | any_zero(w ^ (ONES * '\r'));
		high |= w;
		commas = zero_bytes(w ^ (ONES * ','));
		while (commas) {
			if (nf + 1 >= r->alloc) {
				r->nfields = nf;
				grow_fields(r);
			}
			r->off[nf++] = i + (size_t)(__builtin_ctzll(commas) >> 3);
			commas &= commas - 1;
		}
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\r' || c == '\0')
			hard = 1;
		high |= c & 0x80;
		if (c == ',') {
			if (nf + 1 >= r->alloc) {
				r->nfields = nf;
				grow_fields(r);
			}
			r->off[nf++] = i;
		}
	}
	if (hard || ((high & HIGHS) && !text_valid(p, n)))
		return 0;
	if (nf + 1 >= r->alloc) {
		r->nfields = nf;
		grow_fields(r);
	}
	r->off[nf] = n;
	s = p;
	for (i = 0; i <= nf; i++) {
		char *end = p + r->off[i];

		*end = '\0';
		r->fld[i] = s;
		r->len[i] = (size_t)(end - s);
		s = end + 1;
	}
	r->nfields = nf + 1;
	r->row_line = r->line++;
	r->pos = (size_t)(nl + 1 - r->in);
	*blank = n == 0;
	return 1;
}

/* The next non-blank row, checked for UTF-8 but not for its field count. */
static int next_row(struct vs_csv_reader *r)
{
	int rc, blank;

	if (r->failed)
		return r->failed;
	do {
		if (fast_row(r, &blank)) {
			rc = 1;
			continue;
		}
		if (r->failed)
			return r->failed;
		rc = read_row(r, &blank);
		if (rc == 1 && !blank && check_utf8(r))
			return r->failed;
	} while (rc == 1 && blank);
	return rc;
}

static int read_header(struct vs_csv_reader *r)
{
	int rc = next_row(r);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		r->row_line = 1;
		return row_error(r, VS_EFORMAT, "empty file, expected a header row");
	}
	r->names = vs_xcalloc(r->nfields, sizeof(*r->names));
	r->ncols = r->nfields;
	for (size_t i = 0; i < r->nfields; i++) {
		const char *name = r->fld[i];

		r->names[i] = vs_xstrdup(name);
		if (!*name)
			return row_error(r, VS_EFORMAT, "column %zu has an empty name", i + 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->names[j], name))
				return row_error(r, VS_EFORMAT, "duplicate column '%s'", name);
	}
	return 0;
}

int vs_csv_open(struct vs_csv_reader **out, const char *path)
{
	struct vs_csv_reader *r = vs_xcalloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	r->fd = -1;
	r->line = 1;
	vs_buf_init(&r->row, VS_CSV_ROW_MAX);
	if (!strcmp(path, "-")) {
		r->path = vs_xstrdup("<stdin>");
		r->fd = STDIN_FILENO;
	} else {
		r->path = vs_xstrdup(path);
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			rc = vs_error_set(errno == ENOENT ? VS_ENOTFOUND : VS_EIO,
					  "cannot open '%s': %s", path, strerror(errno));
			goto out;
		}
		r->close_fd = 1;
		(void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	r->in = vs_xmalloc(INPUT_BUF_SIZE);
	while (!r->eof && r->end < 3)
		if ((rc = fill(r)) != 0)
			goto out;
	if (r->end >= 3 && !memcmp(r->in, "\xef\xbb\xbf", 3))
		r->pos = 3;
	rc = read_header(r);
out:
	if (rc) {
		vs_csv_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void vs_csv_close(struct vs_csv_reader *r)
{
	if (!r)
		return;
	if (r->close_fd)
		close(r->fd);
	for (size_t i = 0; r->names && i < r->ncols; i++)
		free(r->names[i]);
	free(r->names);
	free(r->off);
	free(r->fld);
	free(r->len);
	vs_buf_release(&r->row);
	free(r->in);
	free(r->path);
	free(r);
}

int vs_csv_column(const struct vs_csv_reader *r, const char *name)
{
	for (size_t i = 0; i < r->ncols; i++)
		if (!strcmp(r->names[i], name))
			return (int)i;
	return -1;
}

int vs_csv_require(const struct vs_csv_reader *r, const char *const *names)
{
	for (; *names; names++)
		if (vs_csv_column(r, *names) < 0)
			return vs_error_set(VS_EFORMAT, "%s:1: missing column '%s'", r->path,
					    *names);
	return 0;
}

size_t vs_csv_ncolumns(const struct vs_csv_reader *r)
{
	return r->ncols;
}

const char *vs_csv_column_name(const struct vs_csv_reader *r, size_t i)
{
	return i < r->ncols ? r->names[i] : NULL;
}

int vs_csv_next(struct vs_csv_reader *r)
{
	int rc = next_row(r);

	if (rc == 1 && r->nfields != r->ncols)
		return row_error(r, VS_EFORMAT, "expected %zu fields, found %zu", r->ncols,
				 r->nfields);
	return rc;
}

const char *vs_csv_field(const struct vs_csv_reader *r, size_t i)
{
	return i < r->nfields ? r->fld[i] : "";
}

size_t vs_csv_field_len(const struct vs_csv_reader *r, size_t i)
{
	return i < r->nfields ? r->len[i] : 0;
}

const char *const *vs_csv_fields(const struct vs_csv_reader *r, const size_t **len)
{
	*len = r->len;
	return r->fld;
}

unsigned long vs_csv_line(const struct vs_csv_reader *r)
{
	return r->row_line;
}

const char *vs_csv_path(const struct vs_csv_reader *r)
{
	return r->path;
}

int vs_csv_field_error(const struct vs_csv_reader *r, size_t i, const char *fmt, ...)
{
	char label[160];
	va_list ap;

	va_start(ap, fmt);
	vs_error_setv(VS_EFORMAT, fmt, ap);
	va_end(ap);
	column_label(r, i, label, sizeof(label));
	vs_error_prefix("%s:%lu: %s", r->path, r->row_line, label);
	return VS_EFORMAT;
}

int vs_csv_field_wrap(const struct vs_csv_reader *r, size_t i, int code)
{
	char label[160];

	column_label(r, i, label, sizeof(label));
	vs_error_prefix("%s:%lu: %s", r->path, r->row_line, label);
	return code;
}

/* 1 if s must be quoted to survive a round trip. */
static int needs_quotes(const char *s, size_t len)
{
	if (len && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		return 1;
	return strcspn(s, ",\"\r\n") < len;
}

int vs_csv_write_field(FILE *out, const char *s)
{
	size_t len = strlen(s);

	if (!needs_quotes(s, len)) {
		if (len && fwrite(s, 1, len, out) != len)
			goto io;
		return 0;
	}
	if (putc('"', out) == EOF)
		goto io;
	for (const char *q; (q = strchr(s, '"')) != NULL; s = q + 1) {
		size_t n = (size_t)(q - s) + 1;
		if (fwrite(s, 1, n, out) != n || putc('"', out) == EOF)
			goto io;
	}
	if (fputs(s, out) == EOF || putc('"', out) == EOF)
		goto io;
	return 0;
io:
	return vs_error_set(VS_EIO, "cannot write: %s", strerror(errno));
}

int vs_csv_write_row(FILE *out, const char *const *fields, size_t n)
{
	int rc;

	/* One empty field alone would be a blank line, which readers skip: quote it. */
	if (n == 1 && !*(fields[0] ? fields[0] : "")) {
		if (fputs("\"\"\n", out) == EOF)
			return vs_error_set(VS_EIO, "cannot write: %s", strerror(errno));
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i && putc(',', out) == EOF)
			return vs_error_set(VS_EIO, "cannot write: %s", strerror(errno));
		if ((rc = vs_csv_write_field(out, fields[i] ? fields[i] : "")) != 0)
			return rc;
	}
	if (putc('\n', out) == EOF)
		return vs_error_set(VS_EIO, "cannot write: %s", strerror(errno));
	return 0;
}

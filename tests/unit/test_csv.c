/* Unit tests for csv.c: RFC 4180 reading (quoting, line ends, BOM, limits, errors) and writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "venuescan/codec.h"
#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"


/* Write len bytes to tmpdir/name and return the path (static storage). */
static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

#define WRITE(name, lit) write_file(name, lit, sizeof(lit) - 1)

/* The message of the first failure met reading the file (opening or any row). */
static int read_to_error(const char *path, char *msg, size_t size)
{
	struct vs_csv_reader *r;
	int rc = vs_csv_open(&r, path);

	if (!rc) {
		while ((rc = vs_csv_next(r)) == 1)
			;
		vs_csv_close(r);
	}
	snprintf(msg, size, "%s", rc < 0 ? vs_error_message() : "");
	return rc;
}

static void expect_error(const char *name, const char *data, size_t len, int code,
			 const char *want_after_path)
{
	char msg[1024], want[1024];
	const char *path = write_file(name, data, len);

	snprintf(want, sizeof(want), "%s%s", path, want_after_path);
	assert_int_equal(read_to_error(path, msg, sizeof(msg)), code);
	assert_string_equal(msg, want);
}

#define EXPECT_ERROR(lit, code, want) expect_error("bad.csv", lit, sizeof(lit) - 1, code, want)

static void test_simple_rows(void **state)
{
	const char *path = WRITE("a.csv", "id,name,lat\n1,Zhengzhou,34.7\n2,,-1\n");
	static const char *const need[] = { "id", "lat", NULL };
	static const char *const missing[] = { "id", "lon", NULL };
	struct vs_csv_reader *r;
	char want[512];
	(void)state;

	assert_int_equal(vs_csv_open(&r, path), 0);
	assert_int_equal(vs_csv_ncolumns(r), 3);
	assert_string_equal(vs_csv_column_name(r, 1), "name");
	assert_null(vs_csv_column_name(r, 3));
	assert_int_equal(vs_csv_column(r, "lat"), 2);
	assert_int_equal(vs_csv_column(r, "lon"), -1);
	assert_int_equal(vs_csv_require(r, need), 0);
	assert_int_equal(vs_csv_require(r, missing), VS_EFORMAT);
	snprintf(want, sizeof(want), "%s:1: missing column 'lon'", path);
	assert_string_equal(vs_error_message(), want);
	assert_string_equal(vs_csv_path(r), path);

	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_line(r), 2);
	assert_string_equal(vs_csv_field(r, 0), "1");
	assert_string_equal(vs_csv_field(r, 1), "Zhengzhou");
	assert_int_equal(vs_csv_field_len(r, 1), 9);
	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_line(r), 3);
	assert_string_equal(vs_csv_field(r, 1), "");
	assert_int_equal(vs_csv_field_len(r, 1), 0);
	assert_string_equal(vs_csv_field(r, 2), "-1");
	assert_int_equal(vs_csv_next(r), 0);
	assert_int_equal(vs_csv_next(r), 0);
	vs_csv_close(r);
}

static void test_quoting_and_line_numbers(void **state)
{
	const char *path = WRITE("q.csv", "\xef\xbb\xbfname,note\r\n"
					  "\"a,b\",\"say \"\"hi\"\"\"\r\n"
					  "\r\n"
					  "\"two\nlines\",\"\"\n"
					  "\n"
					  "\"x\r\ny\",plain\r\n"
					  "last,\"\"\"\"");
	struct vs_csv_reader *r;
	(void)state;

	assert_int_equal(vs_csv_open(&r, path), 0);
	assert_string_equal(vs_csv_column_name(r, 0), "name"); /* BOM skipped */
	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_line(r), 2);
	assert_string_equal(vs_csv_field(r, 0), "a,b");
	assert_string_equal(vs_csv_field(r, 1), "say \"hi\"");
	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_line(r), 4); /* blank line 3 skipped */
	assert_string_equal(vs_csv_field(r, 0), "two\nlines");
	assert_string_equal(vs_csv_field(r, 1), "");
	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_line(r), 7);
	assert_string_equal(vs_csv_field(r, 0), "x\r\ny");
	assert_string_equal(vs_csv_field(r, 1), "plain");
	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_line(r), 9);
	assert_string_equal(vs_csv_field(r, 0), "last");
	assert_string_equal(vs_csv_field(r, 1), "\"");
	assert_int_equal(vs_csv_next(r), 0);
	vs_csv_close(r);
}

static void test_trailing_empty_field_and_no_final_newline(void **state)
{
	const char *path = WRITE("t.csv", "a,b\nx,");
	struct vs_csv_reader *r;
	(void)state;

	assert_int_equal(vs_csv_open(&r, path), 0);
	assert_int_equal(vs_csv_next(r), 1);
	assert_string_equal(vs_csv_field(r, 0), "x");
	assert_string_equal(vs_csv_field(r, 1), "");
	assert_int_equal(vs_csv_next(r), 0);
	vs_csv_close(r);
}

static void test_utf8_fields(void **state)
{
	const char *path = WRITE("u.csv", "name,area\n郑州车站西南出口,Henan/Zhengzhou/Erqi\n");
	struct vs_csv_reader *r;
	(void)state;

	assert_int_equal(vs_csv_open(&r, path), 0);
	assert_int_equal(vs_csv_next(r), 1);
	assert_string_equal(vs_csv_field(r, 0), "郑州车站西南出口");
	vs_csv_close(r);
}

static void test_errors(void **state)
{
	(void)state;

	EXPECT_ERROR("a,b,c\n1,2,3\n1,2\n", VS_EFORMAT, ":3: expected 3 fields, found 2");
	EXPECT_ERROR("a,b\n1,2,3\n", VS_EFORMAT, ":2: expected 2 fields, found 3");
	EXPECT_ERROR("a,name\n1,caf\xe9\n", VS_EFORMAT, ":2: field 'name': invalid UTF-8");
	EXPECT_ERROR("a,name\n1,\xed\xa0\x80\n", VS_EFORMAT, ":2: field 'name': invalid UTF-8");
	EXPECT_ERROR("a,name\n1,\xc0\xaf\n", VS_EFORMAT, ":2: field 'name': invalid UTF-8");
	EXPECT_ERROR("a\xff,b\n", VS_EFORMAT, ":1: column 1: invalid UTF-8");
	EXPECT_ERROR("a,b\n1,x\"y\n", VS_EFORMAT, ":2: field 'b': quote inside an unquoted field");
	EXPECT_ERROR("a,b\n\"1\"x,y\n", VS_EFORMAT,
		     ":2: field 'a': unexpected character after a closing quote");
	EXPECT_ERROR("a,b\n1,2\n\"open,\n\n\n", VS_EFORMAT,
		     ":3: field 'a': quoted field not closed before end of file");
	EXPECT_ERROR("a,b\n1,x\0y\n", VS_EFORMAT, ":2: field 'b': contains a NUL byte");
	EXPECT_ERROR("a,b\n1,\"x\0y\"\n", VS_EFORMAT, ":2: field 'b': contains a NUL byte");
	EXPECT_ERROR("a,b\n1,2\rx\n", VS_EFORMAT,
		     ":2: carriage return not followed by a line feed");
	EXPECT_ERROR("", VS_EFORMAT, ":1: empty file, expected a header row");
	EXPECT_ERROR("\xef\xbb\xbf\n\n", VS_EFORMAT, ":1: empty file, expected a header row");
	EXPECT_ERROR("a,,c\n", VS_EFORMAT, ":1: column 2 has an empty name");
	EXPECT_ERROR("a,b,a\n", VS_EFORMAT, ":1: duplicate column 'a'");
	EXPECT_ERROR("a,b\n1,2,3,4,5\n", VS_EFORMAT, ":2: expected 2 fields, found 5");
	/* UTF-8 checks around the ASCII fast path: a bad byte deep in a long ASCII run, a
	 * sequence cut short by the end of a field, a lone continuation byte. */
	EXPECT_ERROR("a,name\n1,abcdefghijklmnopqrstuvwxyz0123456789\x80xyz\n", VS_EFORMAT,
		     ":2: field 'name': invalid UTF-8");
	EXPECT_ERROR("name,b\n\xe9\x83,x\n", VS_EFORMAT, ":2: field 'name': invalid UTF-8");
	EXPECT_ERROR("name,b\nx,abcdefgh\xe9\x83\n", VS_EFORMAT, ":2: field 'b': invalid UTF-8");
	EXPECT_ERROR("name,b\n\xf4\x90\x80\x80,x\n", VS_EFORMAT, ":2: field 'name': invalid UTF-8");
	/* Extra fields beyond the header are named by position. */
	EXPECT_ERROR("a\n1,x\"\n", VS_EFORMAT, ":2: column 2: quote inside an unquoted field");
}

static void test_missing_file(void **state)
{
	struct vs_csv_reader *r = (void *)1;
	(void)state;

	assert_int_equal(vs_csv_open(&r, "/nonexistent/venues.csv"), VS_ENOTFOUND);
	assert_null(r);
	assert_string_equal(vs_error_message(),
			    "cannot open '/nonexistent/venues.csv': No such file or directory");
}

static void test_error_is_sticky(void **state)
{
	const char *path = WRITE("s.csv", "a,b\n1\n2,3\n");
	struct vs_csv_reader *r;
	(void)state;

	assert_int_equal(vs_csv_open(&r, path), 0);
	assert_int_equal(vs_csv_next(r), VS_EFORMAT);
	assert_int_equal(vs_csv_next(r), VS_EFORMAT);
	vs_csv_close(r);
}

static void test_row_limit(void **state)
{
	size_t n = VS_CSV_ROW_MAX + 10;
	char *data = vs_xmalloc(n + 16);
	char msg[1024], want[1024];
	const char *path;
	(void)state;

	memcpy(data, "a\n", 2);
	memset(data + 2, 'x', n);
	data[n + 2] = '\n';
	path = write_file("long.csv", data, n + 3);
	assert_int_equal(read_to_error(path, msg, sizeof(msg)), VS_ETOOBIG);
	snprintf(want, sizeof(want), "%s:2: row longer than %u bytes", path, VS_CSV_ROW_MAX);
	assert_string_equal(msg, want);
	free(data);

	/* A row just under the limit is fine. */
	data = vs_xmalloc(VS_CSV_ROW_MAX + 16);
	memcpy(data, "a\n", 2);
	memset(data + 2, 'y', VS_CSV_ROW_MAX - 1);
	data[VS_CSV_ROW_MAX + 1] = '\n';
	path = write_file("long2.csv", data, VS_CSV_ROW_MAX + 2);
	assert_int_equal(read_to_error(path, msg, sizeof(msg)), 0);
	free(data);
}

static void test_field_error(void **state)
{
	const char *path = WRITE("f.csv", "id,lat\nx,abc\n");
	struct vs_csv_reader *r;
	char want[512];
	(void)state;

	assert_int_equal(vs_csv_open(&r, path), 0);
	assert_int_equal(vs_csv_next(r), 1);
	assert_int_equal(vs_csv_field_error(r, 1, "not a number '%s'", vs_csv_field(r, 1)),
			 VS_EFORMAT);
	snprintf(want, sizeof(want), "%s:2: field 'lat': not a number 'abc'", path);
	assert_string_equal(vs_error_message(), want);
	vs_csv_close(r);
}

/* Many rows with quoted, multi-line and long fields cross every buffer boundary. */
static void test_many_rows_across_buffers(void **state)
{
	struct vs_buf b = VS_BUF_INIT;
	struct vs_csv_reader *r;
	const char *path;
	unsigned long line = 2;
	int i, rc;
	(void)state;

	vs_buf_adds(&b, "n,text,q\r\n");
	for (i = 0; i < 30000; i++)
		vs_buf_addf(&b, "%d,\"l%d\n\"\"%.*s\"\"\",%s\r\n", i, i, i % 97, "0123456789"
			    "0123456789012345678901234567890123456789012345678901234567890123456"
			    "789012345678901234567890123456789",
			    i % 3 ? "plain" : "\"\"");
	path = write_file("many.csv", b.data, b.len);
	assert_int_equal(vs_csv_open(&r, path), 0);
	for (i = 0; (rc = vs_csv_next(r)) == 1; i++) {
		char want[160];

		assert_int_equal(atoi(vs_csv_field(r, 0)), i);
		assert_int_equal(vs_csv_line(r), line);
		snprintf(want, sizeof(want), "l%d\n\"%.*s\"", i, i % 97,
			 "0123456789012345678901234567890123456789012345678901234567890123456"
			 "7890123456789012345678901234567890123456789");
		assert_string_equal(vs_csv_field(r, 1), want);
		assert_string_equal(vs_csv_field(r, 2), i % 3 ? "plain" : "");
		line += 2;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(i, 30000);
	vs_csv_close(r);
	vs_buf_release(&b);
}

/* Random fields (every special byte, multi-byte UTF-8) survive write then read. */
static void test_random_round_trip(void **state)
{
	static const char *const pieces[] = { "a", ",", "\"", "\n", "\r\n", " ", "郑州", "x\r",
					      "", "\"\"", "é", "\t" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char fields[500][64];
	const char *row[5];
	struct vs_csv_reader *r;
	const char *path;
	unsigned seed = 12345;
	int rc, nrows = 0;
	(void)state;

	fputs("c0,c1,c2,c3,c4\n", f);
	for (int i = 0; i < 500; i++) {
		fields[i][0] = '\0';
		for (int k = 0; k < 6; k++) {
			seed = seed * 1103515245 + 12345;
			strcat(fields[i], pieces[(seed >> 16) % 12]);
		}
	}
	for (int i = 0; i < 100; i++) {
		for (int k = 0; k < 5; k++)
			row[k] = fields[i * 5 + k];
		/* A row whose only content is one empty field would be a blank line. */
		assert_int_equal(vs_csv_write_row(f, row, 5), 0);
	}
	assert_int_equal(fclose(f), 0);
	path = write_file("rt.csv", text, len);
	assert_int_equal(vs_csv_open(&r, path), 0);
	while ((rc = vs_csv_next(r)) == 1) {
		for (size_t k = 0; k < 5; k++)
			assert_string_equal(vs_csv_field(r, k), fields[nrows * 5 + (int)k]);
		nrows++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(nrows, 100);
	vs_csv_close(r);
	free(text);
}

static void test_writer_single_empty_field(void **state)
{
	static const char *const empty[] = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vs_csv_reader *r;
	(void)state;

	fputs("only\n", f);
	assert_int_equal(vs_csv_write_row(f, empty, 1), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "only\n\"\"\n");
	assert_int_equal(vs_csv_open(&r, write_file("one.csv", text, len)), 0);
	assert_int_equal(vs_csv_next(r), 1);
	assert_string_equal(vs_csv_field(r, 0), "");
	assert_int_equal(vs_csv_next(r), 0);
	vs_csv_close(r);
	free(text);
}

static void test_writer(void **state)
{
	static const char *const row[] = { "plain", "a,b", "say \"hi\"", "two\nlines", " pad",
					   "", "郑州", "x\r" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vs_csv_reader *r;
	const char *path;
	(void)state;

	assert_non_null(f);
	fputs("a,b,c,d,e,f,g,h\n", f);
	assert_int_equal(vs_csv_write_row(f, row, 8), 0);
	assert_int_equal(vs_csv_write_row(f, row, 8), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "a,b,c,d,e,f,g,h\n"
				  "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" pad\",,"
				  "郑州,\"x\r\"\n"
				  "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" pad\",,"
				  "郑州,\"x\r\"\n");

	/* What the writer writes, the reader reads back unchanged. */
	path = write_file("w.csv", text, len);
	assert_int_equal(vs_csv_open(&r, path), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(vs_csv_next(r), 1);
		for (size_t i = 0; i < 8; i++)
			assert_string_equal(vs_csv_field(r, i), row[i]);
	}
	assert_int_equal(vs_csv_next(r), 0);
	vs_csv_close(r);
	free(text);
}

/*
 * A model of docs/FORMAT.md §1, written for this test: the rows (fields) of text up to the
 * first error, the line each starts on, and the line of the error (0 if none).  Messages
 * are not modelled; which rows come out, split where, and where reading stops are.
 */
struct model_row {
	unsigned long line;
	size_t nfields;
	char fields[8][64];
	size_t len[8];
};

static int model_utf8(const char *s, size_t n)
{
	return vs_utf8_valid(s, n);
}

static size_t model_read(const char *s, size_t n, struct model_row *rows, size_t max,
			 unsigned long *err_line)
{
	size_t i = 0, nrows = 0;
	unsigned long line = 1, row_line = 1;

	*err_line = 0;
	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < n && nrows < max) {
		struct model_row r = { line, 0, { { 0 } }, { 0 } };
		int quoted_any = 0;

		row_line = line;
		for (;;) { /* one field */
			char *out = r.fields[r.nfields];
			size_t k = 0;

			if (r.nfields == 8)
				goto bad;
			if (i < n && s[i] == '"') {
				quoted_any = 1;
				for (i++;; i++) {
					if (i == n || s[i] == '\0')
						goto bad;
					if (s[i] == '"') {
						if (i + 1 < n && s[i + 1] == '"') {
							out[k++] = '"';
							i++;
							continue;
						}
						i++;
						break;
					}
					if (s[i] == '\n')
						line++;
					out[k++] = s[i];
				}
				if (i < n && s[i] != ',' && s[i] != '\r' && s[i] != '\n')
					goto bad;
			} else {
				for (; i < n && s[i] != ',' && s[i] != '\r' && s[i] != '\n'; i++) {
					if (s[i] == '"' || s[i] == '\0')
						goto bad;
					out[k++] = s[i];
				}
			}
			if (!model_utf8(out, k))
				goto bad;
			r.len[r.nfields++] = k;
			if (i < n && s[i] == ',') {
				i++;
				if (i == n) { /* "a,b," at the end: an empty last field */
					r.len[r.nfields++] = 0;
					break;
				}
				continue;
			}
			if (i < n && s[i] == '\r') {
				if (i + 1 >= n || s[i + 1] != '\n')
					goto bad;
				i++;
			}
			if (i < n)
				i++, line++;
			break;
		}
		if (r.nfields == 1 && r.len[0] == 0 && !quoted_any)
			continue; /* blank */
		rows[nrows++] = r;
	}
	return nrows;
bad:
	*err_line = row_line; /* errors name the line the row starts on */
	return nrows;
}

/*
 * Random text from the bytes that matter (, " CR LF NUL, UTF-8 and broken UTF-8, spaces)
 * read by the reader and by the model: the same rows, fields and lines, and an error on
 * the same row.  Both the fast path and the general one are met (plain and quoted rows).
 */
static void test_reader_matches_model(void **state)
{
	static const char *const atoms[] = { "a", "bc", ",", ",", "\"", "\"\"", "\n", "\n", "\r\n",
					     "\r", " ", "\xc3\xa9", "\xe6\xb2\xb3", "\xff", "\xc3",
					     "xyz", "1", "\n\n" };
	uint64_t x = 88172645463325252ULL;
	(void)state;

	for (int iter = 0; iter < 3000; iter++) {
		char text[512], path_name[32];
		struct model_row want[64];
		size_t n = 0, nwant;
		unsigned long err_line;
		struct vs_csv_reader *r;
		const char *path;
		int plain = iter % 2; /* half the files without quotes or CRs: the fast path */
		int rc;
		size_t row = 0;

		memcpy(text, "h1,h2,h3\n", 9);
		n = 9;
		for (int k = 0; k < 40; k++) {
			const char *a;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			a = atoms[x % (sizeof(atoms) / sizeof(*atoms))];
			if (plain && (strchr(a, '"') || strchr(a, '\r')) && x % 8)
				a = ",";
			memcpy(text + n, a, strlen(a));
			n += strlen(a);
		}
		if (x % 5 == 0)
			text[n / 2] = '\0';
		nwant = model_read(text, n, want, 64, &err_line);
		snprintf(path_name, sizeof(path_name), "model%d.csv", iter % 4);
		path = write_file(path_name, text, n);
		rc = vs_csv_open(&r, path);
		if (nwant == 0) {
			/* the header itself broken, or no header: open fails (or there is none) */
			if (rc == 0)
				vs_csv_close(r);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(vs_csv_ncolumns(r), want[0].nfields);
		for (row = 1; row < nwant; row++) {
			rc = vs_csv_next(r);
			if (want[row].nfields != want[0].nfields) {
				/* a row with the wrong count ends reading there */
				assert_int_equal(rc, VS_EFORMAT);
				assert_int_equal(vs_csv_line(r), want[row].line);
				break;
			}
			assert_int_equal(rc, 1);
			assert_int_equal(vs_csv_line(r), want[row].line);
			for (size_t f = 0; f < want[row].nfields; f++) {
				assert_int_equal(vs_csv_field_len(r, f), want[row].len[f]);
				assert_memory_equal(vs_csv_field(r, f), want[row].fields[f],
						    want[row].len[f]);
			}
		}
		if (row == nwant) {
			rc = vs_csv_next(r);
			if (err_line) {
				assert_int_equal(rc, VS_EFORMAT);
				assert_int_equal(vs_csv_line(r), err_line);
			} else {
				assert_int_equal(rc, 0);
			}
		}
		vs_csv_close(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_rows),
		cmocka_unit_test(test_quoting_and_line_numbers),
		cmocka_unit_test(test_trailing_empty_field_and_no_final_newline),
		cmocka_unit_test(test_utf8_fields),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_row_limit),
		cmocka_unit_test(test_field_error),
		cmocka_unit_test(test_many_rows_across_buffers),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_writer_single_empty_field),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_reader_matches_model),
	};
	return cmocka_run_group_tests_name("csv", tests, setup, teardown);
}

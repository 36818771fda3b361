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

#include "venuescan/csv.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"

static char tmpdir[] = "/tmp/vs-test-csv.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

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
	};
	return cmocka_run_group_tests_name("csv", tests, setup, teardown);
}

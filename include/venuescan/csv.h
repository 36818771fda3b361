/*
 * CSV (RFC 4180) reading and writing for datasets and venue lists.  The reader streams:
 * one row in memory at a time, fields looked up by header name, every field checked to
 * be UTF-8, and each error naming file, line and field.  Quoted fields may hold commas,
 * quotes ("") and line breaks; CRLF and LF line ends are both accepted; a UTF-8 BOM at
 * the start is skipped.  A row longer than VS_CSV_ROW_MAX bytes is an error.
 */
#ifndef VENUESCAN_CSV_H
#define VENUESCAN_CSV_H

#include <stddef.h>
#include <stdio.h>

#define VS_CSV_ROW_MAX (1u << 20)

struct vs_csv_reader;

/* Open path ("-" for standard input) and read its header row.  An empty file, a header
 * with an empty or duplicate name fails with VS_EFORMAT. */
int vs_csv_open(struct vs_csv_reader **out, const char *path);
void vs_csv_close(struct vs_csv_reader *r);

/* The index of the column called name, or -1. */
int vs_csv_column(const struct vs_csv_reader *r, const char *name);
/* Fail with "FILE:1: missing column 'name'" unless every name in the NULL-ended list exists. */
int vs_csv_require(const struct vs_csv_reader *r, const char *const *names);
size_t vs_csv_ncolumns(const struct vs_csv_reader *r);
const char *vs_csv_column_name(const struct vs_csv_reader *r, size_t i);

/*
 * Read the next row: returns 1 with a row, 0 at end of file, or a negative error
 * (wrong number of fields, bad quoting, invalid UTF-8, too long).  Blank lines are skipped.
 * Fields stay valid until the next call.
 */
int vs_csv_next(struct vs_csv_reader *r);
/* Field i of the current row (NUL-terminated) and its length. */
const char *vs_csv_field(const struct vs_csv_reader *r, size_t i);
size_t vs_csv_field_len(const struct vs_csv_reader *r, size_t i);
/*
 * The current row at once: its fields (as vs_csv_field gives them) and their lengths, for
 * readers that take every field of millions of rows.  After vs_csv_next returned 1 there
 * are vs_csv_ncolumns() of each; valid until the next call.  The fields lie one after
 * another in one block, each followed by its NUL: the row's text is fields[0] up to the
 * last field's NUL, so a reader may keep a row with one copy.
 */
const char *const *vs_csv_fields(const struct vs_csv_reader *r, const size_t **len);
/* The line on which the current row starts (1 is the header), and the file name. */
unsigned long vs_csv_line(const struct vs_csv_reader *r);
const char *vs_csv_path(const struct vs_csv_reader *r);

/* Set an error "FILE:LINE: field 'NAME': message" for field i of the current row. */
int vs_csv_field_error(const struct vs_csv_reader *r, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message already set (e.g. by vs_time_parse) with "FILE:LINE: field 'NAME': "
 * for field i of the current row, and return code. */
int vs_csv_field_wrap(const struct vs_csv_reader *r, size_t i, int code);

/* Write one field, quoted only when it needs to be (comma, quote, CR, LF, a space or tab
 * at either end). */
int vs_csv_write_field(FILE *out, const char *s);
/* Write n fields joined by commas and a "\n". */
int vs_csv_write_row(FILE *out, const char *const *fields, size_t n);

#endif

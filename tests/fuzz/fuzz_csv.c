/*
 * libFuzzer harness for the streaming CSV reader (csv.h).  The reader takes a path, so
 * each input is written to one temporary file (made once per run under /tmp, removed at
 * exit) and read to the end: header, every row and every field.  Built and run by
 * `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "venuescan/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/venuescan-fuzz-csv-XXXXXX";
static int fd = -1;

static void remove_tmp(void)
{
	if (fd >= 0)
		unlink(path);
}

static void write_input(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (fd < 0) {
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		atexit(remove_tmp);
	}
	if (ftruncate(fd, 0) != 0)
		abort();
	while (done < size) {
		n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_csv_reader *r = NULL;
	const char *const *fields;
	const size_t *len;
	size_t i, nc;
	int rc;

	write_input(data, size);
	if (vs_csv_open(&r, path) != 0)
		return 0;
	nc = vs_csv_ncolumns(r);
	for (i = 0; i < nc; i++)
		if (vs_csv_column(r, vs_csv_column_name(r, i)) != (int)i)
			abort(); /* names are unique, so each finds itself */
	while ((rc = vs_csv_next(r)) == 1) {
		fields = vs_csv_fields(r, &len);
		for (i = 0; i < nc; i++) {
			if (strlen(fields[i]) > len[i] || vs_csv_field(r, i) != fields[i] ||
			    vs_csv_field_len(r, i) != len[i])
				abort();
		}
		(void)vs_csv_line(r);
	}
	vs_csv_close(r);
	return 0;
}

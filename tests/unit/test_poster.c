/*
 * Unit tests for poster.c: a batch is the same files for any thread count, lands whole in
 * a new folder or moves into an existing one (keeping what was there), and an abort or a
 * failure leaves nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/poster.h"

struct fixture {
	char dir[64];
	struct vs_issuer_key key;
	struct vs_venue_list venues;
};

static void add_venue(struct vs_venue_list *l, const char *id, const char *name)
{
	struct vs_venue *v;

	l->items = realloc(l->items, (l->n + 1) * sizeof(*l->items));
	v = &l->items[l->n++];
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->name = strdup(name);
	v->area = strdup("Henan/Zhengzhou/Erqi");
	v->lat = 34.7447;
	v->lon = 113.6566;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];

	snprintf(f->dir, sizeof(f->dir), "/tmp/vs-poster.XXXXXX");
	if (!mkdtemp(f->dir) || vs_keygen("henan", f->dir) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/henan.key", f->dir);
	if (vs_key_load_secret(path, &f->key) != 0)
		return -1;
	add_venue(&f->venues, "6f0f4c52-2b6e-4a4e-9d3c-6a1d2f3b9e01", "郑州车站西南出口");
	add_venue(&f->venues, "0a0f4c52-2b6e-4a4e-9d3c-6a1d2f3b9e02", "郑州东站");
	add_venue(&f->venues, "1b0f4c52-2b6e-4a4e-9d3c-6a1d2f3b9e03", "河南省人民医院");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vs_remove_tree(f->dir);
	vs_key_release(&f->key);
	vs_venue_list_release(&f->venues);
	free(f);
	return 0;
}

static void options(struct vs_poster_opts *o, int threads)
{
	struct vs_qr_style style = VS_QR_STYLE_DEFAULT;

	memset(o, 0, sizeof(*o));
	o->style = style;
	o->iat = 1654948800;
	o->format = "pgm";
	o->threads = threads;
}

static struct vs_buf read_file(const char *dir, const char *id)
{
	char path[256];
	struct vs_buf b;

	snprintf(path, sizeof(path), "%s/%s.pgm", dir, id);
	assert_int_equal(vs_file_read_all(path, 0, &b), 0);
	return b;
}

static void test_same_files_for_any_thread_count(void **state)
{
	struct fixture *f = *state;
	struct vs_poster_opts o;
	char d1[128], d3[128];
	struct vs_poster_batch *b;

	snprintf(d1, sizeof(d1), "%s/one", f->dir);
	snprintf(d3, sizeof(d3), "%s/three", f->dir);
	options(&o, 1);
	assert_int_equal(vs_poster_batch_render(&f->venues, &f->key, &o, d1, &b), 0);
	assert_non_null(strstr(vs_poster_batch_payload(b, 0), "VSC1."));
	assert_int_equal(access(d1, F_OK), -1); /* staged, not there yet */
	assert_int_equal(vs_poster_batch_commit(b), 0);
	options(&o, 3);
	assert_int_equal(vs_poster_batch_render(&f->venues, &f->key, &o, d3, &b), 0);
	assert_int_equal(vs_poster_batch_commit(b), 0);
	for (size_t i = 0; i < f->venues.n; i++) {
		struct vs_buf a = read_file(d1, f->venues.items[i].id);
		struct vs_buf c = read_file(d3, f->venues.items[i].id);
		assert_int_equal(a.len, c.len);
		assert_memory_equal(a.data, c.data, a.len);
		vs_buf_release(&a);
		vs_buf_release(&c);
	}
}

static void test_existing_folder_keeps_its_files(void **state)
{
	struct fixture *f = *state;
	struct vs_poster_opts o;
	struct vs_poster_batch *b;
	char d[128], other[160];

	snprintf(d, sizeof(d), "%s/existing", f->dir);
	snprintf(other, sizeof(other), "%s/notes.txt", d);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(vs_file_write_atomic(other, "keep", 4, 0644), 0);
	options(&o, 2);
	assert_int_equal(vs_poster_batch_render(&f->venues, &f->key, &o, d, &b), 0);
	assert_int_equal(vs_poster_batch_commit(b), 0);
	assert_int_equal(access(other, F_OK), 0);
	for (size_t i = 0; i < f->venues.n; i++) {
		struct vs_buf a = read_file(d, f->venues.items[i].id);
		assert_true(a.len > 100);
		vs_buf_release(&a);
	}
}

static void test_abort_and_failure_leave_nothing(void **state)
{
	struct fixture *f = *state;
	struct vs_issuer_key pub = f->key;
	struct vs_poster_opts o;
	struct vs_poster_batch *b;
	char d[128];

	snprintf(d, sizeof(d), "%s/aborted", f->dir);
	options(&o, 2);
	assert_int_equal(vs_poster_batch_render(&f->venues, &f->key, &o, d, &b), 0);
	vs_poster_batch_abort(b);
	assert_int_equal(access(d, F_OK), -1);
	/* a key without its secret cannot sign: the batch fails whole */
	memset(pub.sk, 0, sizeof(pub.sk));
	pub.has_secret = 0;
	assert_true(vs_poster_batch_render(&f->venues, &pub, &o, d, &b) < 0);
	assert_null(b);
	assert_int_equal(access(d, F_OK), -1);
	assert_non_null(strstr(vs_error_message(), f->venues.items[0].id)); /* first row's error */
	o.threads = 0;
	assert_int_equal(vs_poster_batch_render(&f->venues, &f->key, &o, d, &b), VS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_files_for_any_thread_count),
		cmocka_unit_test(test_existing_folder_keeps_its_files),
		cmocka_unit_test(test_abort_and_failure_leave_nothing),
	};
	return cmocka_run_group_tests_name("poster", tests, setup, teardown);
}

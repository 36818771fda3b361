/* Unit tests for image.c: PNG and PGM round trips, conversions, and refusing bad images. */
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
#include <png.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/mem.h"


static char *fixture(const char *name)
{
	const char *dir = getenv("FIXTURES");
	return vs_xasprintf("%s/bad/%s", dir ? dir : "fixtures", name);
}

/* A test pattern: every grey level appears, and rows differ. */
static void pattern(struct vs_image *img, int w, int h)
{
	assert_int_equal(vs_image_init(img, w, h, 0), 0);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			img->pixels[y * w + x] = (unsigned char)(x * 7 + y * 13);
}

static void round_trip(const char *name)
{
	struct vs_image a, b;
	char *path = vs_xasprintf("%s/%s", tmpdir, name);

	pattern(&a, 37, 19);
	assert_int_equal(vs_image_write(path, &a), 0);
	assert_int_equal(vs_image_read(path, &b), 0);
	assert_int_equal(b.width, 37);
	assert_int_equal(b.height, 19);
	assert_memory_equal(a.pixels, b.pixels, 37 * 19);
	vs_image_release(&a);
	vs_image_release(&b);
	free(path);
}

static void test_png_round_trip(void **state)
{
	(void)state;
	round_trip("a.png");
	round_trip("UPPER.PNG");
}

/* A black-and-white image is written with 1 bit per pixel (byte 24 of a PNG is the bit
 * depth) and reads back exactly, even with a width that is not a multiple of 8. */
static void test_png_bilevel_is_one_bit(void **state)
{
	struct vs_image a, b;
	struct vs_buf file;
	char *path = vs_xasprintf("%s/bilevel.png", tmpdir);
	(void)state;

	assert_int_equal(vs_image_init(&a, 29, 11, 255), 0);
	for (int i = 0; i < 29 * 11; i += 3)
		a.pixels[i] = 0;
	assert_int_equal(vs_image_write(path, &a), 0);
	assert_int_equal(vs_file_read_all(path, 0, &file), 0);
	assert_int_equal((unsigned char)file.data[24], 1);
	vs_buf_release(&file);
	assert_int_equal(vs_image_read(path, &b), 0);
	assert_memory_equal(a.pixels, b.pixels, 29 * 11);
	vs_image_release(&b);
	a.pixels[5] = 128; /* one grey pixel: 8 bits again */
	assert_int_equal(vs_image_write(path, &a), 0);
	assert_int_equal(vs_file_read_all(path, 0, &file), 0);
	assert_int_equal((unsigned char)file.data[24], 8);
	vs_buf_release(&file);
	vs_image_release(&a);
	free(path);
}

static void test_pgm_round_trip(void **state)
{
	(void)state;
	round_trip("a.pgm");
}

static void test_pgm_16bit_and_comments(void **state)
{
	/* maxval 1000, two-byte samples, comments between header fields */
	static const unsigned char pgm[] = "P5 # sixteen bits\n3 # width\n1\n# max\n1000\n"
					   "\x00\x00" "\x01\xf4" "\x03\xe8";
	struct vs_image img;
	(void)state;

	assert_int_equal(vs_image_read_mem(pgm, sizeof(pgm) - 1, "mem.pgm", &img), 0);
	assert_int_equal(img.width, 3);
	assert_int_equal(img.height, 1);
	assert_int_equal(img.pixels[0], 0);
	assert_int_equal(img.pixels[1], 128); /* 500/1000 of 255, rounded */
	assert_int_equal(img.pixels[2], 255);
	vs_image_release(&img);
}

static void test_png_rgba_composed_over_white(void **state)
{
	/* red opaque, black half transparent, anything fully transparent */
	static const unsigned char rgba[] = { 255, 0, 0, 255, 0, 0, 0, 128, 10, 200, 30, 0 };
	png_image pi;
	void *mem = NULL;
	png_alloc_size_t len = 0;
	struct vs_image img;
	(void)state;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = 3;
	pi.height = 1;
	pi.format = PNG_FORMAT_RGBA;
	assert_true(png_image_write_to_memory(&pi, NULL, &len, 0, rgba, 0, NULL));
	mem = vs_xmalloc(len);
	assert_true(png_image_write_to_memory(&pi, mem, &len, 0, rgba, 0, NULL));
	assert_int_equal(vs_image_read_mem(mem, len, "rgba.png", &img), 0);
	assert_int_equal(img.width, 3);
	assert_in_range(img.pixels[0], 40, 140);  /* red: a mid grey (luminance, gamma-aware) */
	assert_in_range(img.pixels[1], 125, 129); /* half black over white */
	assert_int_equal(img.pixels[2], 255);     /* transparent: white */
	vs_image_release(&img);
	free(mem);
}

static void expect_bad(const char *name, int code, const char *words)
{
	struct vs_image img = { 1, 1, NULL };
	char *path = fixture(name);

	assert_int_equal(vs_image_read(path, &img), code);
	assert_null(img.pixels);
	assert_non_null(strstr(vs_error_message(), name));
	assert_non_null(strstr(vs_error_message(), words));
	free(path);
}

static void test_bad_images(void **state)
{
	(void)state;
	expect_bad("truncated.png", VS_EFORMAT, "truncated");
	expect_bad("not-an-image.png", VS_EFORMAT, "not a PNG or PGM image");
	expect_bad("empty.png", VS_EFORMAT, "empty");
	expect_bad("huge-dims.png", VS_ETOOBIG, "too large");
	expect_bad("huge-dims.pgm", VS_ETOOBIG, "too large");
	expect_bad("bad-pgm-header.pgm", VS_EFORMAT, "bad PGM header");
	expect_bad("truncated.pgm", VS_EFORMAT, "truncated");
	expect_bad("no-such-file.png", VS_ENOTFOUND, "no-such-file");
}

static void test_bad_pgm_headers_in_memory(void **state)
{
	static const char *const bad[] = {
		"P5\n2 2\n0\n\0\0\0\0",        /* maxval 0 */
		"P5\n2 2\n70000\n\0\0\0\0",    /* maxval too large */
		"P5\n0 2\n255\n\0\0",          /* empty */
		"P5\n2 2\n255",                /* no raster */
		"P5\n99999999999 2\n255\n\0",  /* width overflows */
		"P5\n-2 2\n255\n\0\0\0\0",     /* negative */
	};
	struct vs_image img;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]) + 4;
		assert_true(vs_image_read_mem(bad[i], len, "x.pgm", &img) < 0);
		assert_null(img.pixels);
	}
}

static void test_write_unknown_extension_leaves_nothing(void **state)
{
	struct vs_image img;
	char *path = vs_xasprintf("%s/a.jpg", tmpdir);
	(void)state;

	pattern(&img, 4, 4);
	assert_int_equal(vs_image_write(path, &img), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "a.jpg"));
	assert_int_not_equal(access(path, F_OK), 0);
	vs_image_release(&img);
	free(path);
}

static void test_init_limits(void **state)
{
	struct vs_image img;
	(void)state;

	assert_int_equal(vs_image_init(&img, 0, 5, 0), VS_EINVAL);
	assert_int_equal(vs_image_init(&img, 100000, 100000, 0), VS_EINVAL);
	assert_null(img.pixels);
	assert_int_equal(vs_image_init(&img, 2, 3, 9), 0);
	assert_int_equal(img.pixels[5], 9);
	vs_image_release(&img);
	assert_null(img.pixels);
	assert_string_equal(vs_image_extension("a/b.c/d.PNG"), "PNG");
	assert_string_equal(vs_image_extension("a.d/noext"), "");
	assert_string_equal(vs_image_extension(".hidden"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_png_round_trip),
		cmocka_unit_test(test_png_bilevel_is_one_bit),
		cmocka_unit_test(test_pgm_round_trip),
		cmocka_unit_test(test_pgm_16bit_and_comments),
		cmocka_unit_test(test_png_rgba_composed_over_white),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_bad_pgm_headers_in_memory),
		cmocka_unit_test(test_write_unknown_extension_leaves_nothing),
		cmocka_unit_test(test_init_limits),
	};
	return cmocka_run_group_tests_name("image", tests, setup, teardown);
}

/*
 * Unit tests for qr.c: render then decode, byte for byte (binary 0x00-0xff and UTF-8
 * Chinese), light-on-dark codes, several codes in one image, files by extension, and a
 * decoder that outlives its ZBar scanner.
 */
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

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/mem.h"
#include "venuescan/qr.h"

static const char station[] = "郑州车站西南出口 Henan/Zhengzhou/Erqi";

/* Decode img and expect exactly one symbol holding data[0..len). */
static void expect_one(const struct vs_image *img, const void *data, size_t len)
{
	struct vs_qr_decoder *d;
	struct vs_qr_symbol *syms;
	size_t n;

	assert_int_equal(vs_qr_decoder_new(&d), 0);
	assert_int_equal(vs_qr_decode(d, img, &syms, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(syms[0].len, len);
	assert_memory_equal(syms[0].data, data, len);
	assert_int_equal(syms[0].data[len], '\0');
	vs_qr_symbols_free(syms, n);
	vs_qr_decoder_free(d);
}

static void test_level_parse(void **state)
{
	enum vs_qr_level l;
	(void)state;

	assert_int_equal(vs_qr_level_parse("L", &l), 0);
	assert_int_equal(l, VS_QR_LEVEL_L);
	assert_int_equal(vs_qr_level_parse("h", &l), 0);
	assert_int_equal(l, VS_QR_LEVEL_H);
	assert_int_equal(vs_qr_level_parse("X", &l), VS_EINVAL);
	assert_int_equal(vs_qr_level_parse("MM", &l), VS_EINVAL);
	assert_int_equal(vs_qr_level_parse("", &l), VS_EINVAL);
}

static void test_binary_round_trip(void **state)
{
	struct vs_qr_style st = VS_QR_STYLE_DEFAULT;
	unsigned char bytes[256];
	struct vs_image img;
	(void)state;

	for (int i = 0; i < 256; i++)
		bytes[i] = (unsigned char)i;
	assert_int_equal(vs_qr_render_image(bytes, sizeof(bytes), &st, &img), 0);
	expect_one(&img, bytes, sizeof(bytes)); /* 256 bytes back, not 384 of UTF-8 */
	vs_image_release(&img);
}

static void test_utf8_round_trip_every_level(void **state)
{
	struct vs_qr_style st = VS_QR_STYLE_DEFAULT;
	struct vs_image img;
	(void)state;

	for (int l = VS_QR_LEVEL_L; l <= VS_QR_LEVEL_H; l++) {
		st.level = (enum vs_qr_level)l;
		st.scale = 2 + l;
		st.margin = l;
		assert_int_equal(vs_qr_render_image(station, strlen(station), &st, &img), 0);
		assert_int_equal(img.width % st.scale, 0);
		expect_one(&img, station, strlen(station));
		vs_image_release(&img);
	}
}

static void test_inverted_code(void **state)
{
	struct vs_qr_style st = VS_QR_STYLE_DEFAULT;
	struct vs_image img;
	(void)state;

	assert_int_equal(vs_qr_render_image(station, strlen(station), &st, &img), 0);
	for (size_t i = 0; i < (size_t)img.width * (size_t)img.height; i++)
		img.pixels[i] = (unsigned char)(255 - img.pixels[i]);
	expect_one(&img, station, strlen(station));
	vs_image_release(&img);
}

static void test_several_codes_in_one_image(void **state)
{
	struct vs_qr_style st = VS_QR_STYLE_DEFAULT;
	static const char *const texts[] = { "VSC1.first", "second code", "第三" };
	struct vs_image parts[3], canvas;
	struct vs_qr_decoder *d;
	struct vs_qr_symbol *syms;
	size_t n;
	int x = 0, seen = 0;
	(void)state;

	assert_int_equal(vs_image_init(&canvas, 600, 200, 255), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vs_qr_render_image(texts[i], strlen(texts[i]), &st, &parts[i]), 0);
		assert_true(parts[i].width <= 200 && x + parts[i].width <= 600);
		for (int y = 0; y < parts[i].height; y++)
			memcpy(canvas.pixels + (size_t)y * 600 + (size_t)x,
			       parts[i].pixels + (size_t)y * (size_t)parts[i].width,
			       (size_t)parts[i].width);
		x += 200;
	}
	assert_int_equal(vs_qr_decoder_new(&d), 0);
	assert_int_equal(vs_qr_decode(d, &canvas, &syms, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 3; j++)
			if (syms[i].len == strlen(texts[j]) &&
			    !memcmp(syms[i].data, texts[j], syms[i].len))
				seen |= 1 << j;
	assert_int_equal(seen, 7);
	vs_qr_symbols_free(syms, n);
	vs_qr_decoder_free(d);
	for (int i = 0; i < 3; i++)
		vs_image_release(&parts[i]);
	vs_image_release(&canvas);
}

static void test_blank_image_has_no_codes(void **state)
{
	struct vs_image img;
	struct vs_qr_decoder *d;
	struct vs_qr_symbol *syms;
	size_t n = 99;
	(void)state;

	assert_int_equal(vs_image_init(&img, 64, 64, 255), 0);
	assert_int_equal(vs_qr_decoder_new(&d), 0);
	assert_int_equal(vs_qr_decode(d, &img, &syms, &n), 0);
	assert_int_equal(n, 0);
	vs_qr_symbols_free(syms, n);
	vs_qr_decoder_free(d);
	vs_image_release(&img);
}

static void test_files_by_extension(void **state)
{
	struct vs_qr_style st = VS_QR_STYLE_DEFAULT;
	static const char *const exts[] = { "png", "pgm" };
	struct vs_buf svg;
	struct vs_image img;
	char *path;
	(void)state;

	for (int i = 0; i < 2; i++) {
		path = vs_xasprintf("%s/code.%s", tmpdir, exts[i]);
		assert_int_equal(vs_qr_render_file(station, strlen(station), &st, path), 0);
		assert_int_equal(vs_image_read(path, &img), 0);
		expect_one(&img, station, strlen(station));
		vs_image_release(&img);
		free(path);
	}
	path = vs_xasprintf("%s/code.svg", tmpdir);
	assert_int_equal(vs_qr_render_file(station, strlen(station), &st, path), 0);
	assert_int_equal(vs_file_read_all(path, 1 << 20, &svg), 0);
	assert_non_null(strstr(svg.data, "<svg "));
	assert_non_null(strstr(svg.data, "viewBox=\"0 0 "));
	assert_non_null(strstr(svg.data, "crispEdges"));
	assert_non_null(strstr(svg.data, "fill=\"#ffffff\""));
	assert_non_null(strstr(svg.data, "</svg>\n"));
	vs_buf_release(&svg);
	free(path);

	path = vs_xasprintf("%s/code.gif", tmpdir);
	assert_int_equal(vs_qr_render_file(station, strlen(station), &st, path), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "code.gif"));
	assert_int_not_equal(access(path, F_OK), 0);
	free(path);
}

static void test_bad_input(void **state)
{
	struct vs_qr_style st = VS_QR_STYLE_DEFAULT;
	struct vs_image img;
	char *big = vs_xmalloc(4000);
	(void)state;

	memset(big, 'x', 4000);
	assert_int_equal(vs_qr_render_image("", 0, &st, &img), VS_EINVAL);
	assert_int_equal(vs_qr_render_image(big, 4000, &st, &img), VS_ETOOBIG);
	assert_null(img.pixels);
	st.scale = 0;
	assert_int_equal(vs_qr_render_image("a", 1, &st, &img), VS_EINVAL);
	st.scale = 4;
	st.margin = -1;
	assert_int_equal(vs_qr_render_image("a", 1, &st, &img), VS_EINVAL);
	free(big);
}

/* More images than one ZBar scanner lives for: the decoder replaces it and goes on. */
static void test_decoder_outlives_its_scanner(void **state)
{
	struct vs_qr_style st = { VS_QR_LEVEL_L, 2, 2 };
	struct vs_qr_decoder *d;
	struct vs_image img;
	(void)state;

	assert_int_equal(vs_qr_render_image("VSC1.x", 6, &st, &img), 0);
	assert_int_equal(vs_qr_decoder_new(&d), 0);
	for (int i = 0; i < 450; i++) {
		struct vs_qr_symbol *syms;
		size_t n;
		assert_int_equal(vs_qr_decode(d, &img, &syms, &n), 0);
		assert_int_equal(n, 1);
		vs_qr_symbols_free(syms, n);
	}
	vs_qr_decoder_free(d);
	vs_image_release(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_parse),
		cmocka_unit_test(test_binary_round_trip),
		cmocka_unit_test(test_utf8_round_trip_every_level),
		cmocka_unit_test(test_inverted_code),
		cmocka_unit_test(test_several_codes_in_one_image),
		cmocka_unit_test(test_blank_image_has_no_codes),
		cmocka_unit_test(test_files_by_extension),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_decoder_outlives_its_scanner),
	};
	return cmocka_run_group_tests_name("qr", tests, setup, teardown);
}

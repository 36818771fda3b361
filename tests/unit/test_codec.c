/* Unit tests for codec.c: base64url, base64, Base45 (RFC 9285 vectors) and UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"

typedef int (*decoder)(const char *s, size_t len, struct vs_buf *out);

/* Decode s and compare with want (want == NULL: must fail with VS_EFORMAT). */
static void check_decode(decoder dec, const char *s, const char *want, size_t want_len)
{
	struct vs_buf b = VS_BUF_INIT;
	int rc = dec(s, strlen(s), &b);

	if (want) {
		if (rc)
			fail_msg("'%s' did not decode: %s", s, vs_error_message());
		assert_int_equal(b.len, want_len);
		assert_memory_equal(b.data ? b.data : "", want, want_len);
	} else {
		if (rc != VS_EFORMAT)
			fail_msg("'%s' decoded but should not have (rc %d)", s, rc);
		assert_int_equal(b.len, 0);
	}
	vs_buf_release(&b);
}

static void test_base64url_round_trip_every_length(void **state)
{
	unsigned char data[64];
	(void)state;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 250);
	for (size_t n = 0; n <= sizeof(data); n++) {
		char *s = vs_base64url_encode(data, n);
		struct vs_buf b = VS_BUF_INIT;

		assert_int_equal(strlen(s), n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0));
		assert_null(strpbrk(s, "=+/"));
		assert_int_equal(vs_base64url_decode(s, strlen(s), &b), 0);
		assert_int_equal(b.len, n);
		if (n)
			assert_memory_equal(b.data, data, n);
		vs_buf_release(&b);
		free(s);
	}
}

static void test_base64url_vectors_and_strictness(void **state)
{
	char *s;
	(void)state;

	/* RFC 4648 §10 vectors, unpadded, and the url alphabet */
	check_decode(vs_base64url_decode, "", "", 0);
	check_decode(vs_base64url_decode, "Zg", "f", 1);
	check_decode(vs_base64url_decode, "Zm8", "fo", 2);
	check_decode(vs_base64url_decode, "Zm9vYmFy", "foobar", 6);
	check_decode(vs_base64url_decode, "-_8", "\xfb\xff", 2);
	s = vs_base64url_encode("\xfb\xff\xbf", 3);
	assert_string_equal(s, "-_-_");
	free(s);

	check_decode(vs_base64url_decode, "Zg==", NULL, 0);  /* padding not allowed */
	check_decode(vs_base64url_decode, "Zm9v+/8", NULL, 0); /* standard alphabet */
	check_decode(vs_base64url_decode, "Z", NULL, 0);     /* impossible length */
	check_decode(vs_base64url_decode, "Zh", NULL, 0);    /* non-zero unused bits */
	check_decode(vs_base64url_decode, "Zm9", NULL, 0);
	check_decode(vs_base64url_decode, "Zm 9v", NULL, 0); /* whitespace */
	check_decode(vs_base64url_decode, "Zm9v\n", NULL, 0);
}

static void test_base64url_embedded_nul_and_bounded_buffer(void **state)
{
	struct vs_buf b;
	(void)state;

	vs_buf_init(&b, 0);
	assert_int_equal(vs_base64url_decode("Zm\0v", 4, &b), VS_EFORMAT);
	vs_buf_release(&b);

	/* failure leaves what was already in the buffer */
	vs_buf_init(&b, 4);
	assert_int_equal(vs_buf_adds(&b, "ab"), 0);
	assert_int_equal(vs_base64url_decode("Zm9vYmFy", 8, &b), VS_ETOOBIG);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	assert_int_equal(vs_base64url_decode("Zm8", 3, &b), 0);
	assert_string_equal(b.data, "abfo");
	vs_buf_release(&b);
}

static void test_base64_padding_optional_but_correct(void **state)
{
	(void)state;

	check_decode(vs_base64_decode, "Zg==", "f", 1);
	check_decode(vs_base64_decode, "Zg", "f", 1);
	check_decode(vs_base64_decode, "Zm8=", "fo", 2);
	check_decode(vs_base64_decode, "Zm8", "fo", 2);
	check_decode(vs_base64_decode, "Zm9v", "foo", 3);
	check_decode(vs_base64_decode, "+/8=", "\xfb\xff", 2);

	check_decode(vs_base64_decode, "Zg=", NULL, 0);   /* half padded */
	check_decode(vs_base64_decode, "Zg===", NULL, 0);
	check_decode(vs_base64_decode, "Zm8==", NULL, 0);
	check_decode(vs_base64_decode, "Zm9v====", NULL, 0);
	check_decode(vs_base64_decode, "Z===", NULL, 0);
	check_decode(vs_base64_decode, "Zg==Zg==", NULL, 0); /* padding in the middle */
	check_decode(vs_base64_decode, "=", NULL, 0);
	check_decode(vs_base64_decode, "-_8", NULL, 0); /* url alphabet */
	check_decode(vs_base64_decode, "Zh==", NULL, 0); /* non-zero unused bits */
}

static void test_base45_rfc9285_vectors(void **state)
{
	static const struct {
		const char *raw, *enc;
	} v[] = {
		{ "AB", "BB8" },
		{ "Hello!!", "%69 VD92EX0" },
		{ "base-45", "UJCLQE7W581" },
		{ "ietf!", "QED8WEX0" },
		{ "", "" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *s = vs_base45_encode(v[i].raw, strlen(v[i].raw));

		assert_string_equal(s, v[i].enc);
		free(s);
		check_decode(vs_base45_decode, v[i].enc, v[i].raw, strlen(v[i].raw));
	}
	/* RFC 9285 §4.3: "GGW" is 65536 (too large); "FGW" is 65535 */
	check_decode(vs_base45_decode, "GGW", NULL, 0);
	check_decode(vs_base45_decode, "FGW", "\xff\xff", 2);
	check_decode(vs_base45_decode, "U5", "\xff", 1);  /* 30 + 5*45 = 255 */
	check_decode(vs_base45_decode, "V5", NULL, 0);    /* 256 in a final pair */
	check_decode(vs_base45_decode, "BB8A", NULL, 0);  /* impossible length */
	check_decode(vs_base45_decode, "bb8", NULL, 0);   /* lowercase is not in the alphabet */
	check_decode(vs_base45_decode, "BB=", NULL, 0);
}

static void test_base45_round_trip(void **state)
{
	unsigned char data[40];
	(void)state;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(255 - i * 7);
	for (size_t n = 0; n <= sizeof(data); n++) {
		char *s = vs_base45_encode(data, n);
		struct vs_buf b = VS_BUF_INIT;

		assert_int_equal(vs_base45_decode(s, strlen(s), &b), 0);
		assert_int_equal(b.len, n);
		if (n)
			assert_memory_equal(b.data, data, n);
		vs_buf_release(&b);
		free(s);
	}
}

static void test_utf8(void **state)
{
	static const char *const good[] = {
		"", "ascii", "\xe9\x83\x91\xe5\xb7\x9e\xe8\xbd\xa6\xe7\xab\x99", /* 郑州车站 */
		"caf\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf", /* U+D7FF, just below the surrogates */
	};
	static const char *const bad[] = {
		"\x80", "\xc3", "\xc0\xaf", "\xc1\xbf",       /* stray continuation, truncated, overlong */
		"\xe0\x80\xaf", "\xf0\x80\x80\xaf",           /* overlong 3 and 4 byte */
		"\xed\xa0\x80", "\xed\xbf\xbf",               /* surrogates */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", /* beyond U+10FFFF */
		"\xe9\x83", "ok\xe9\x83\x41",                  /* truncated sequences */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!vs_utf8_valid(good[i], strlen(good[i])))
			fail_msg("good UTF-8 #%zu refused", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vs_utf8_valid(bad[i], strlen(bad[i])))
			fail_msg("bad UTF-8 #%zu accepted", i);
	/* NUL is a valid code point; the length, not a terminator, bounds the text */
	assert_true(vs_utf8_valid("a\0b", 3));
	assert_false(vs_utf8_valid("\xe9\x83\x91", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64url_round_trip_every_length),
		cmocka_unit_test(test_base64url_vectors_and_strictness),
		cmocka_unit_test(test_base64url_embedded_nul_and_bounded_buffer),
		cmocka_unit_test(test_base64_padding_optional_but_correct),
		cmocka_unit_test(test_base45_rfc9285_vectors),
		cmocka_unit_test(test_base45_round_trip),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}

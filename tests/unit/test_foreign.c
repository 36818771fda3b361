/*
 * Unit tests for foreign.c: the vectors in fixtures/foreign/ decode to their .json, every
 * truncation and many single-byte corruptions neither crash nor yield invalid JSON, the
 * CBOR reader's value kinds (through hand-built HC1 texts), and hostile CBOR and zlib:
 * deep nesting, lying lengths, indefinite items, trailing bytes, a decompression bomb.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/foreign.h"
#include "venuescan/mem.h"

/* fixtures/foreign/NAME without its final newline; caller frees. */
static char *fixture(const char *name, size_t *len)
{
	const char *dir = getenv("FIXTURES");
	char *path = vs_xasprintf("%s/foreign/%s", dir ? dir : "fixtures", name);
	struct vs_buf b;

	if (vs_file_read_all(path, 65536, &b) != 0)
		fail_msg("%s", vs_error_message());
	free(path);
	if (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return vs_buf_detach(&b, len);
}

/* Identify text; when fields come back they must be a JSON object.  Returns the fields. */
static char *identify(const void *text, size_t len, const char **format)
{
	char *fields = (char *)"sentinel";
	const char *f = vs_foreign_identify(text, len, &fields);

	if (format)
		*format = f;
	if (!f)
		assert_null(fields);
	if (fields) {
		json_t *root = json_loads(fields, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
		if (!json_is_object(root))
			fail_msg("not a JSON object: %s", fields);
		json_decref(root);
	}
	return fields;
}

static void check_vector(const char *txt, const char *json, const char *format)
{
	size_t len;
	char *text = fixture(txt, &len), *want = fixture(json, NULL), *got;
	const char *f;

	got = identify(text, len, &f);
	assert_non_null(f);
	assert_string_equal(f, format);
	if (!got)
		fail_msg("%s: %s", txt, vs_error_message());
	assert_string_equal(got, want);
	free(got);
	free(text);
	free(want);
}

static void test_vectors(void **state)
{
	(void)state;

	check_vector("nzcovidtracer.txt", "nzcovidtracer.json", "nzcovidtracer");
	check_vector("ukc19tracing.txt", "ukc19tracing.json", "ukc19tracing");
	check_vector("hc1.txt", "hc1.json", "hc1");
	check_vector("hc1-uncompressed.txt", "hc1.json", "hc1");
}

static void test_every_truncation(void **state)
{
	static const char *const files[] = { "nzcovidtracer.txt", "ukc19tracing.txt", "hc1.txt",
					     "hc1-uncompressed.txt" };
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *text = fixture(files[i], &len);

		for (size_t n = 0; n < len; n++) {
			char *cut = vs_xstrndup(text, n); /* its own allocation: ASan sees overreads */
			free(identify(cut, n, NULL));
			free(cut);
		}
		free(text);
	}
}

/* "HC1:" + Base45 of cose (no zlib). */
static char *hc1_text(const unsigned char *cose, size_t len)
{
	char *b45 = vs_base45_encode(cose, len);
	char *text = vs_xasprintf("HC1:%s", b45);

	free(b45);
	return text;
}

/* A COSE_Sign1 around payload (a CBOR map), as HC1 text. */
static char *hc1_with_payload(const unsigned char *payload, size_t len)
{
	unsigned char cose[512];
	size_t n = 0;

	assert_true(len < 256 && len + 8 < sizeof(cose));
	cose[n++] = 0xd2;       /* tag 18 */
	cose[n++] = 0x84;       /* array of 4 */
	cose[n++] = 0x43;       /* protected: bstr of 3 = {1: -7} */
	cose[n++] = 0xa1;
	cose[n++] = 0x01;
	cose[n++] = 0x26;
	cose[n++] = 0xa0;       /* unprotected: {} */
	cose[n++] = 0x58;       /* payload: bstr, 1-byte length */
	cose[n++] = (unsigned char)len;
	memcpy(cose + n, payload, len);
	n += len;
	cose[n++] = 0x40;       /* signature: empty bstr */
	return hc1_text(cose, n);
}

/* The "claims" member of decoding payload, or NULL (message in vs_error_message()). */
static char *hc1_claims(const unsigned char *payload, size_t len)
{
	char *text = hc1_with_payload(payload, len), *fields, *claims = NULL;
	const char *f;

	fields = identify(text, strlen(text), &f);
	assert_string_equal(f, "hc1");
	if (fields) {
		const char *c = strstr(fields, ",\"claims\":");
		assert_non_null(c);
		assert_memory_equal(fields, "{\"protected\":{\"1\":-7},\"unprotected\":{},",
				    c + 1 - fields);
		claims = vs_xstrndup(c + 10, strlen(c + 10) - 1);
	}
	free(fields);
	free(text);
	return claims;
}

static void test_cbor_value_kinds(void **state)
{
	static const unsigned char payload[] = {
		0xb2,                                     /* map of 18 */
		0x01, 0xf9, 0x3c, 0x00,                   /* 1: half 1.0 */
		0x02, 0xf9, 0x38, 0x00,                   /* 2: half 0.5 */
		0x03, 0xfa, 0x47, 0xc3, 0x50, 0x00,       /* 3: single 100000.0 */
		0x04, 0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, /* 4: double 1.1 */
		0x05, 0xf9, 0x7c, 0x00,                   /* 5: half infinity -> null */
		0x06, 0xf5, 0x07, 0xf4, 0x08, 0xf6, 0x09, 0xf7, /* true false null undefined */
		0x0a, 0xf0,                               /* 10: simple(16) */
		0x0b, 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2^64 */
		0x0c, 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* 2^64-1 */
		0x0d, 0xc1, 0x1a, 0x62, 0xa3, 0x9a, 0x80, /* 13: tag 1 (epoch) 1654889088 */
		0x0e, 0x43, 0xfb, 0xff, 0xbf,             /* 14: bstr -> base64url */
		0x0f, 0x82, 0x81, 0x00, 0x80,             /* 15: [[0], []] */
		0x38, 0x63, 0x20,                         /* -100: -1 */
		0x61, 0x6b, 0x63, 0xe9, 0x83, 0x91,       /* "k": "郑" */
		0x10, 0xfa, 0x3d, 0xcc, 0xcc, 0xcd,       /* 16: single 0.1 */
	};
	static const char want[] =
		"{\"1\":1,\"2\":0.5,\"3\":100000,\"4\":1.1,\"5\":null,\"6\":true,\"7\":false,"
		"\"8\":null,\"9\":null,\"10\":\"simple(16)\",\"11\":\"-18446744073709551616\","
		"\"12\":\"18446744073709551615\",\"13\":1654889088,\"14\":\"-_-_\",\"15\":[[0],[]],"
		"\"-100\":-1,\"k\":\"\xe9\x83\x91\",\"16\":0.1}";
	char *claims;
	(void)state;

	claims = hc1_claims(payload, sizeof(payload));
	if (!claims)
		fail_msg("%s", vs_error_message());
	assert_string_equal(claims, want);
	free(claims);
}

static void test_cbor_hostile(void **state)
{
	static const struct {
		const char *what;
		unsigned char bytes[24];
		size_t len;
		const char *msg;
	} bad[] = {
		{ "array longer than input", { 0xa1, 0x01, 0x9a, 0xff, 0xff, 0xff, 0xff }, 7,
		  "longer than its input" },
		{ "bstr longer than input", { 0xa1, 0x01, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
					      0xff, 0xff, 0x00 }, 12, "longer than its input" },
		{ "truncated head", { 0xa1, 0x01, 0x19, 0x01 }, 4, "truncated" },
		{ "indefinite array", { 0xa1, 0x01, 0x9f, 0x01, 0xff }, 5, "indefinite" },
		{ "reserved info", { 0xa1, 0x01, 0x1c }, 3, "reserved" },
		{ "trailing bytes", { 0xa1, 0x01, 0x01, 0x00 }, 4, "after the item" },
		{ "array as key", { 0xa1, 0x80, 0x01 }, 3, "map key" },
		{ "bad UTF-8 text", { 0xa1, 0x01, 0x62, 0xc0, 0xaf }, 5, "UTF-8" },
		{ "payload not a map", { 0x81, 0x01 }, 2, "not a CBOR map" },
		{ "map missing a value", { 0xa2, 0x01, 0x02, 0x03, 0x19, 0x01 }, 6, "truncated" },
		{ "NUL in text", { 0xa1, 0x01, 0x62, 0x61, 0x00 }, 5, "contains NUL" },
		{ "break outside indefinite", { 0xa1, 0x01, 0xff }, 3, "indefinite" },
		{ "duplicate key", { 0xa2, 0x01, 0x01, 0x01, 0x02 }, 5, "appears twice" },
		{ "int and text key clash", { 0xa2, 0x01, 0x01, 0x61, 0x31, 0x02 }, 6,
		  "appears twice" },
		{ "map longer than input", { 0xa1, 0x01, 0xba, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02 },
		  9, "longer than its input" },
	};
	unsigned char deep[200];
	char *claims;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		claims = hc1_claims(bad[i].bytes, bad[i].len);
		if (claims || !strstr(vs_error_message(), bad[i].msg))
			fail_msg("%s: got %s, message '%s'", bad[i].what, claims ? claims : "NULL",
				 vs_error_message());
	}
	/* nesting: {1: [[[...]]]} far deeper than any certificate */
	deep[0] = 0xa1;
	deep[1] = 0x01;
	memset(deep + 2, 0x81, sizeof(deep) - 3);
	deep[sizeof(deep) - 1] = 0x00;
	claims = hc1_claims(deep, sizeof(deep));
	assert_null(claims);
	assert_non_null(strstr(vs_error_message(), "nested deeper"));
	/* a tag chain is nesting too */
	memset(deep + 2, 0xc1, sizeof(deep) - 3);
	assert_null(hc1_claims(deep, sizeof(deep)));
}

static void test_cose_structure(void **state)
{
	static const struct {
		unsigned char bytes[16];
		size_t len;
		const char *msg;
	} bad[] = {
		{ { 0xd2, 0x83, 0x40, 0xa0, 0x40 }, 5, "array of 4" },
		{ { 0xd3, 0x84, 0x40, 0xa0, 0x40, 0x40 }, 6, "array of 4" }, /* tag 19 */
		{ { 0x84, 0x01, 0xa0, 0x40, 0x40 }, 5, "protected header is not a byte string" },
		{ { 0x84, 0x40, 0x80, 0x40, 0x40 }, 5, "unprotected header is not a map" },
		{ { 0x84, 0x40, 0xa0, 0x60, 0x40 }, 5, "payload is not a byte string" },
		{ { 0x84, 0x40, 0xa0, 0x40, 0x40, 0x00 }, 6, "after the COSE message" },
		{ { 0x84, 0x40, 0xa0, 0x40 }, 4, "truncated" },
		{ { 0 }, 0, "truncated" },
	};
	static const unsigned char minimal[] = { 0x84, 0x40, 0xa0, 0x40, 0x40 }; /* untagged */
	const char *f;
	char *text, *fields;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = hc1_text(bad[i].bytes, bad[i].len);
		fields = identify(text, strlen(text), &f);
		assert_string_equal(f, "hc1");
		if (fields || !strstr(vs_error_message(), bad[i].msg) ||
		    strncmp(vs_error_message(), "hc1: ", 5))
			fail_msg("#%zu: got %s, message '%s'", i, fields ? fields : "NULL",
				 vs_error_message());
		free(text);
	}
	text = hc1_text(minimal, sizeof(minimal));
	fields = identify(text, strlen(text), NULL);
	assert_string_equal(fields, "{\"protected\":{},\"unprotected\":{},\"claims\":{}}");
	free(fields);
	free(text);
}

/* Every byte of the fixture's COSE message changed to a few telling values. */
static void test_corrupted_cose(void **state)
{
	static const unsigned char values[] = { 0x00, 0xff, 0x1b, 0x5b, 0x9f, 0xbf, 0xd8, 0x7b };
	size_t len;
	char *text = fixture("hc1-uncompressed.txt", &len);
	struct vs_buf cose = VS_BUF_INIT;
	(void)state;

	assert_int_equal(vs_base45_decode(text + 4, len - 4, &cose), 0);
	for (size_t i = 0; i < cose.len; i++) {
		unsigned char keep = (unsigned char)cose.data[i];

		for (size_t v = 0; v < sizeof(values) + 1; v++) {
			char *bad;

			cose.data[i] = (char)(v < sizeof(values) ? values[v] : keep ^ 0x80);
			bad = hc1_text((unsigned char *)cose.data, cose.len);
			free(identify(bad, strlen(bad), NULL));
			free(bad);
		}
		cose.data[i] = (char)keep;
	}
	vs_buf_release(&cose);
	free(text);
}

/* zlib: HC1 text of compress(data) with the given compressed length cut off. */
static char *hc1_zlib(const void *data, size_t len, size_t cut, int flip)
{
	uLongf zlen = compressBound(len);
	unsigned char *z = vs_xmalloc(zlen);
	char *text;

	assert_int_equal(compress2(z, &zlen, data, len, 9), Z_OK);
	if (flip)
		z[zlen / 2] ^= 0x55;
	text = hc1_text(z, zlen - cut);
	free(z);
	return text;
}

static void test_zlib_limits(void **state)
{
	size_t big = 1 << 20;
	unsigned char *zeros = vs_xcalloc(1, big);
	char *text, *fields;
	size_t len;
	char *good = fixture("hc1-uncompressed.txt", &len);
	struct vs_buf cose = VS_BUF_INIT;
	(void)state;

	/* a decompression bomb: 1 MiB of zeros in about a kilobyte */
	text = hc1_zlib(zeros, big, 0, 0);
	assert_true(strlen(text) < 4096);
	assert_null(identify(text, strlen(text), NULL));
	assert_non_null(strstr(vs_error_message(), "inflates to more than"));
	free(text);

	assert_int_equal(vs_base45_decode(good + 4, len - 4, &cose), 0);
	text = hc1_zlib(cose.data, cose.len, 5, 0);
	assert_null(identify(text, strlen(text), NULL));
	assert_non_null(strstr(vs_error_message(), "zlib"));
	free(text);
	text = hc1_zlib(cose.data, cose.len, 0, 1);
	fields = identify(text, strlen(text), NULL);
	assert_null(fields);
	free(text);

	vs_buf_release(&cose);
	free(good);
	free(zeros);
}

static void test_json_formats_bad_bodies(void **state)
{
	static const struct {
		const char *text, *format, *msg;
	} bad[] = {
		{ "NZCOVIDTRACER:", "nzcovidtracer", "not JSON" },
		{ "NZCOVIDTRACER:eyJ", "nzcovidtracer", "base64" },
		{ "NZCOVIDTRACER:W10", "nzcovidtracer", "not an object" },     /* [] */
		{ "NZCOVIDTRACER:e30=", "nzcovidtracer", NULL },               /* {} padded: ok */
		{ "NZCOVIDTRACER:eyJhIjoxLCJhIjoyfQ", "nzcovidtracer", "duplicate" },
		{ "UKC19TRACING:1:e30.e30", "ukc19tracing", "three parts" },
		{ "UKC19TRACING:1:e30.e30.AA.AA", "ukc19tracing", "three parts" },
		{ "UKC19TRACING:1:e30.e30.", "ukc19tracing", NULL },           /* empty signature */
		{ "UKC19TRACING:1:W10.e30.", "ukc19tracing", "header" },
		{ "UKC19TRACING:1:e30.e30=.", "ukc19tracing", "claims" },
		{ "UKC19TRACING:1:e30.e30.A", "ukc19tracing", "signature" },
		{ "HC1:", "hc1", "truncated" },
		{ "HC1:abc", "hc1", "base45" },
	};
	static const char *const none[] = { "", "VSC1.a.b", "hc1:6BF", "NZCOVIDTRACER",
					    "UKC19TRACING:2:e30.e30.", "https://example.org" };
	const char *f;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *fields = identify(bad[i].text, strlen(bad[i].text), &f);

		assert_non_null(f);
		assert_string_equal(f, bad[i].format);
		if (bad[i].msg ? fields || !strstr(vs_error_message(), bad[i].msg) ||
				 strncmp(vs_error_message(), f, strlen(f)) : !fields)
			fail_msg("'%s': got %s, message '%s'", bad[i].text, fields ? fields : "NULL",
				 vs_error_message());
		free(fields);
	}
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_null(identify(none[i], strlen(none[i]), NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_cbor_value_kinds),
		cmocka_unit_test(test_cbor_hostile),
		cmocka_unit_test(test_cose_structure),
		cmocka_unit_test(test_corrupted_cose),
		cmocka_unit_test(test_zlib_limits),
		cmocka_unit_test(test_json_formats_bad_bodies),
	};
	return cmocka_run_group_tests_name("foreign", tests, NULL, NULL);
}

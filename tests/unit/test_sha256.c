/*
 * Unit tests for sha256.c: FIPS 180-2's test vectors, and the CPU's code against
 * libsodium's on every length up to 300 bytes fed in random pieces and on a 1 MB input
 * (on a CPU without SHA extensions both sides are libsodium's, and the vectors still
 * check the wrapper).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "venuescan/rng.h"
#include "venuescan/sha256.h"

static void hex_of(int portable, const void *data, size_t len, char hex[VS_SHA256_HEX])
{
	struct vs_sha256 h;
	unsigned char md[VS_SHA256_BYTES];

	assert_int_equal(portable ? vs_sha256_init_portable(&h) : vs_sha256_init(&h), 0);
	vs_sha256_update(&h, data, len);
	vs_sha256_final(&h, md);
	vs_sha256_hex(md, hex);
}

static void test_standard_vectors(void **state)
{
	static const char *const msg[] = {
		"abc", "", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	};
	static const char *const want[] = {
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	};
	static char million[1000000];
	char hex[VS_SHA256_HEX];
	(void)state;

	for (int portable = 0; portable < 2; portable++) {
		for (size_t i = 0; i < 3; i++) {
			hex_of(portable, msg[i], strlen(msg[i]), hex);
			assert_string_equal(hex, want[i]);
		}
		memset(million, 'a', sizeof(million));
		hex_of(portable, million, sizeof(million), hex);
		assert_string_equal(hex,
				    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
}

static void test_cpu_code_matches_libsodium(void **state)
{
	static unsigned char data[1 << 20];
	struct vs_rng r;
	unsigned char a[VS_SHA256_BYTES], b[VS_SHA256_BYTES];
	(void)state;

	vs_rng_init(&r, 1, 2, 3, 4);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)vs_rng_next(&r);
	for (size_t len = 0; len <= 300; len++) {
		struct vs_sha256 fast, slow;
		size_t off = 0;
		assert_int_equal(vs_sha256_init(&fast), 0);
		assert_int_equal(vs_sha256_init_portable(&slow), 0);
		while (off < len) {
			size_t piece = 1 + (size_t)vs_rng_below(&r, 80);
			if (piece > len - off)
				piece = len - off;
			vs_sha256_update(&fast, data + off, piece);
			vs_sha256_update(&slow, data + off, piece);
			off += piece;
		}
		vs_sha256_final(&fast, a);
		vs_sha256_final(&slow, b);
		if (memcmp(a, b, sizeof(a)))
			fail_msg("SHA-256 differs from libsodium at length %zu", len);
	}
	{
		struct vs_sha256 fast;
		assert_int_equal(vs_sha256_init(&fast), 0);
		vs_sha256_update(&fast, data, sizeof(data));
		vs_sha256_final(&fast, a);
		crypto_hash_sha256(b, data, sizeof(data));
		assert_memory_equal(a, b, sizeof(a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard_vectors),
		cmocka_unit_test(test_cpu_code_matches_libsodium),
	};
	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}

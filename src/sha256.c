/*
 * SHA-256 (sha256.h).  libsodium's portable SHA-256 runs at about 100 MB/s on our machines,
 * which made hashing a dataset cost more than simulating it; where the CPU has the SHA
 * extensions (SHA-NI, checked once at run time) the compression function uses them
 * instead, and libsodium remains the fallback.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "venuescan/error.h"
#include "venuescan/sha256.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI_CODE 1

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

/*
 * Compress n 64-byte blocks into state (a..h).  The state lives in two registers as
 * ABEF and CDGH, the layout sha256rnds2 works on; each group of four rounds adds four
 * round constants to four message words, and the next four message words come from
 * sha256msg1/msg2 over the previous sixteen (FIPS 180-4's schedule).
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_shani(uint32_t state[8], const unsigned char *data, size_t n)
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i tmp, s0, s1;

	tmp = _mm_loadu_si128((const __m128i *)&state[0]); /* D C B A */
	s1 = _mm_loadu_si128((const __m128i *)&state[4]);  /* H G F E */
	tmp = _mm_shuffle_epi32(tmp, 0xB1);                 /* C D A B */
	s1 = _mm_shuffle_epi32(s1, 0x1B);                   /* E F G H */
	s0 = _mm_alignr_epi8(tmp, s1, 8);                   /* A B E F */
	s1 = _mm_blend_epi16(s1, tmp, 0xF0);                /* C D G H */
	for (; n; n--, data += 64) {
		__m128i save0 = s0, save1 = s1, w[4];
		for (int i = 0; i < 4; i++)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), mask);
		for (int g = 0; g < 16; g++) {
			__m128i msg = _mm_add_epi32(w[g & 3],
						    _mm_loadu_si128((const __m128i *)&K256[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
			msg = _mm_shuffle_epi32(msg, 0x0E);
			s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
			if (g < 12) {
				__m128i t = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
				t = _mm_add_epi32(t, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
				w[g & 3] = _mm_sha256msg2_epu32(t, w[(g + 3) & 3]);
			}
		}
		s0 = _mm_add_epi32(s0, save0);
		s1 = _mm_add_epi32(s1, save1);
	}
	tmp = _mm_shuffle_epi32(s0, 0x1B);   /* F E B A */
	s1 = _mm_shuffle_epi32(s1, 0xB1);    /* D C H G */
	s0 = _mm_blend_epi16(tmp, s1, 0xF0); /* D C B A */
	s1 = _mm_alignr_epi8(s1, tmp, 8);    /* H G F E */
	_mm_storeu_si128((__m128i *)&state[0], s0);
	_mm_storeu_si128((__m128i *)&state[4], s1);
}

/* The CPU's SHA extensions (CPUID leaf 7 EBX bit 29) with SSSE3 and SSE4.1 (leaf 1 ECX
 * bits 9 and 19), asked of CPUID directly: clang 14 has no "sha" for __builtin_cpu_supports. */
static int have_shani(void)
{
	static int known = -1;
	unsigned a, b, c, d;

	if (known < 0) {
		int sse = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19));
		known = sse && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
	}
	return known;
}
#else
static int have_shani(void)
{
	return 0;
}
#endif

static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

static int start(struct vs_sha256 *h, int allow_cpu)
{
	memset(h, 0, sizeof(*h));
	h->cpu = allow_cpu && have_shani();
	if (h->cpu) {
		memcpy(h->state, iv, sizeof(iv));
		return 0;
	}
	if (sodium_init() < 0)
		return vs_error_set(VS_ECRYPTO, "libsodium failed to initialise");
	crypto_hash_sha256_init(&h->sodium);
	return 0;
}

int vs_sha256_init(struct vs_sha256 *h)
{
	return start(h, 1);
}

int vs_sha256_init_portable(struct vs_sha256 *h)
{
	return start(h, 0);
}

void vs_sha256_update(struct vs_sha256 *h, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (!len)
		return;
	if (!h->cpu) {
		crypto_hash_sha256_update(&h->sodium, p, len);
		return;
	}
#ifdef HAVE_SHANI_CODE
	h->total += len;
	if (h->nbuf) {
		size_t take = 64 - h->nbuf < len ? 64 - h->nbuf : len;
		memcpy(h->buf + h->nbuf, p, take);
		h->nbuf += take;
		p += take;
		len -= take;
		if (h->nbuf < 64)
			return;
		compress_shani(h->state, h->buf, 1);
		h->nbuf = 0;
	}
	if (len >= 64) {
		compress_shani(h->state, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(h->buf, p, len);
	h->nbuf = len;
#endif
}

void vs_sha256_final(struct vs_sha256 *h, unsigned char out[VS_SHA256_BYTES])
{
	if (!h->cpu) {
		crypto_hash_sha256_final(&h->sodium, out);
		return;
	}
#ifdef HAVE_SHANI_CODE
	{
		uint64_t bits = h->total * 8;
		unsigned char pad[72] = { 0x80 };
		size_t npad = (h->nbuf < 56 ? 56 : 120) - h->nbuf;
		for (int i = 0; i < 8; i++)
			pad[npad + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
		vs_sha256_update(h, pad, npad + 8);
		for (int i = 0; i < 8; i++) {
			out[4 * i] = (unsigned char)(h->state[i] >> 24);
			out[4 * i + 1] = (unsigned char)(h->state[i] >> 16);
			out[4 * i + 2] = (unsigned char)(h->state[i] >> 8);
			out[4 * i + 3] = (unsigned char)h->state[i];
		}
	}
#endif
}

void vs_sha256_hex(const unsigned char md[VS_SHA256_BYTES], char hex[VS_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < VS_SHA256_BYTES; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * VS_SHA256_BYTES] = 0;
}

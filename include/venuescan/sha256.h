/*
 * SHA-256 (FIPS 180-4), the one implementation the library uses: the dataset manifest's
 * file digests (vs_file_sha256) and whatever else hashes bulk data.  Where the CPU has the
 * SHA extensions (SHA-NI, checked once at run time) the compression function uses them;
 * elsewhere libsodium's portable code does the work.  Both give the same digests
 * (tests/unit/test_sha256.c compares them and checks the standard vectors).
 */
#ifndef VENUESCAN_SHA256_H
#define VENUESCAN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define VS_SHA256_BYTES 32
#define VS_SHA256_HEX 65 /* 64 lowercase hex digits and a NUL */

/* A running hash.  Plain value, no resources: it may be copied or dropped at any time. */
struct vs_sha256 {
	int cpu;                 /* the SHA extensions do the work */
	uint32_t state[8];
	unsigned char buf[64];
	size_t nbuf;
	uint64_t total;
	crypto_hash_sha256_state sodium;
};

/* Start a hash with the fastest code this CPU runs.  Fails with VS_ECRYPTO only if
 * libsodium, needed without the SHA extensions, cannot initialise. */
int vs_sha256_init(struct vs_sha256 *h);
/* Start a hash that always uses libsodium's code (for tests comparing the two). */
int vs_sha256_init_portable(struct vs_sha256 *h);
/* Add len bytes of data (data may be NULL when len is 0). */
void vs_sha256_update(struct vs_sha256 *h, const void *data, size_t len);
/* The digest of everything added; h must be started again before reuse. */
void vs_sha256_final(struct vs_sha256 *h, unsigned char out[VS_SHA256_BYTES]);
/* A digest as lowercase hex. */
void vs_sha256_hex(const unsigned char md[VS_SHA256_BYTES], char hex[VS_SHA256_HEX]);

#endif

/*
 * libFuzzer harness for the VSC1 payload verifier (payload.h): every input is a scanned
 * payload checked against a trust set of one issuer whose key is made once from a fixed
 * seed, so the fuzzer can reach the signature and expiry checks as well as the parsers.
 * The key is never printed or written.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "venuescan/keys.h"
#include "venuescan/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vs_trust_set *trust;

static void make_trust(void)
{
	static const unsigned char seed[crypto_sign_SEEDBYTES] = "venuescan fuzz key, not secret";
	struct vs_issuer_key key;

	if (vs_crypto_init() != 0)
		abort();
	memset(&key, 0, sizeof(key));
	strcpy(key.issuer, "fuzz.example");
	if (crypto_sign_seed_keypair(key.pk, key.sk, seed) != 0)
		abort();
	key.has_secret = 0;
	sodium_memzero(key.sk, sizeof(key.sk));
	trust = vs_trust_set_new();
	if (!trust || vs_trust_set_add(trust, &key) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_venue_claims claims;
	enum vs_code_status st;
	char *json = NULL;

	if (!trust)
		make_trust();
	memset(&claims, 0, sizeof(claims));
	st = vs_venue_code_verify((const char *)data, size, trust, 1654950000, &claims, &json);
	if (st != VS_CODE_FOREIGN && st != VS_CODE_MALFORMED) {
		/* The claims were stored: touch them so ASan sees any bad string. */
		if (strlen(claims.id) > 36 || !claims.name || !claims.area || !claims.iss)
			abort();
		(void)strlen(claims.name);
		(void)strlen(claims.area);
		(void)strlen(claims.iss);
		vs_venue_claims_release(&claims);
	}
	free(json);
	return 0;
}

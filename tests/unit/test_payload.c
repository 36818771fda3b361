/*
 * Unit tests for payload.c: the exact claims bytes (contract order, number format, UTF-8
 * kept), sign/verify round trips, and every status: a flipped claim or signature byte, an
 * untrusted issuer, an expired code, foreign text and many malformed variants, including
 * well-signed claims that break the claims rules.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/payload.h"

#define ZZ_NAME "\xe9\x83\x91\xe5\xb7\x9e\xe8\xbd\xa6\xe7\xab\x99\xe8\xa5\xbf\xe5\x8d\x97" \
		"\xe5\x87\xba\xe5\x8f\xa3" /* 郑州车站西南出口 */
#define ZZ_ID "6f1c2a5e-8b1d-4c57-9a0e-2b7d9f3c4e10"

static char tmpdir[] = "/tmp/vs-test-payload.XXXXXX";
static struct vs_issuer_key henan;   /* with its secret */
static struct vs_issuer_key other;   /* another issuer, with its secret */
static struct vs_trust_set *trust;   /* trusts henan only */

static int setup(void **state)
{
	char *k;
	(void)state;

	if (!mkdtemp(tmpdir) || vs_keygen("henan", tmpdir) || vs_keygen("other", tmpdir))
		return -1;
	k = vs_xasprintf("%s/henan.key", tmpdir);
	if (vs_key_load_secret(k, &henan))
		return -1;
	free(k);
	k = vs_xasprintf("%s/other.key", tmpdir);
	if (vs_key_load_secret(k, &other))
		return -1;
	free(k);
	trust = vs_trust_set_new();
	return vs_trust_set_add(trust, &henan);
}

static int teardown(void **state)
{
	(void)state;
	vs_key_release(&henan);
	vs_key_release(&other);
	vs_trust_set_free(trust);
	return vs_remove_tree(tmpdir);
}

static struct vs_venue_claims station(void)
{
	struct vs_venue_claims c;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, ZZ_ID, sizeof(c.id));
	c.name = ZZ_NAME;
	c.area = "Henan/Zhengzhou/Erqi";
	c.lat = 34.7447;
	c.lon = 113.6566;
	c.iss = "henan";
	c.iat = 1654905600; /* 2022-06-11T00:00:00Z */
	return c;
}

/* "VSC1." base64url(json) "." base64url(signature by key over the first part). */
static char *sign_raw(const char *json, size_t len, const struct vs_issuer_key *key)
{
	unsigned char sig[crypto_sign_BYTES];
	char *claims64 = vs_base64url_encode(json, len), *sig64, *head, *payload;

	head = vs_xasprintf("VSC1.%s", claims64);
	crypto_sign_detached(sig, NULL, (const unsigned char *)head, strlen(head), key->sk);
	sig64 = vs_base64url_encode(sig, sizeof(sig));
	payload = vs_xasprintf("%s.%s", head, sig64);
	free(claims64);
	free(sig64);
	free(head);
	return payload;
}

static enum vs_code_status verify(const char *payload, int64_t now)
{
	return vs_venue_code_verify(payload, strlen(payload), trust, now, NULL, NULL);
}

static void test_claims_bytes_in_contract_order(void **state)
{
	struct vs_venue_claims c = station(), got;
	char *payload, *json;
	(void)state;

	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), 0);
	assert_memory_equal(payload, "VSC1.", 5);
	for (const char *p = payload; *p; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_int_equal(vs_venue_code_verify(payload, strlen(payload), trust, c.iat, &got, &json),
			 VS_CODE_OK);
	assert_string_equal(json, "{\"id\":\"" ZZ_ID "\",\"name\":\"" ZZ_NAME "\","
				  "\"area\":\"Henan/Zhengzhou/Erqi\",\"lat\":34.7447,"
				  "\"lon\":113.6566,\"iss\":\"henan\",\"iat\":1654905600}");
	assert_string_equal(got.id, ZZ_ID);
	assert_string_equal(got.name, ZZ_NAME);
	assert_string_equal(got.area, "Henan/Zhengzhou/Erqi");
	assert_string_equal(got.iss, "henan");
	assert_true(got.lat == 34.7447 && got.lon == 113.6566);
	assert_int_equal(got.iat, 1654905600);
	assert_int_equal(got.has_exp, 0);
	vs_venue_claims_release(&got);
	assert_null(got.name);
	free(json);
	free(payload);
}

static void test_number_format(void **state)
{
	static const struct {
		double v;
		const char *text;
	} v[] = {
		{ 34.7447, "34.7447" }, { -34.05, "-34.05" }, { 0, "0" }, { -0.0, "0" },
		{ 1e-8, "0" }, { -1e-8, "0" }, { -12.5, "-12.5" }, { 90, "90" }, { -90, "-90" },
		{ 34.74470004, "34.7447" }, { 34.12345678, "34.1234568" }, { 0.0000001, "0.0000001" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct vs_venue_claims c = station();
		char *payload, *json, *want;

		c.lat = v[i].v;
		assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), 0);
		assert_int_equal(vs_venue_code_verify(payload, strlen(payload), trust, 0, NULL, &json),
				 VS_CODE_OK);
		want = vs_xasprintf("\"lat\":%s,\"lon\"", v[i].text);
		if (!strstr(json, want))
			fail_msg("%.10g: want %s in %s", v[i].v, want, json);
		free(want);
		free(json);
		free(payload);
	}
}

static void test_escaping_round_trip(void **state)
{
	struct vs_venue_claims c = station(), got;
	char *payload;
	(void)state;

	c.name = "Caf\xc3\xa9 \"Z\" \\ line\nnext\ttab";
	c.has_exp = 1;
	c.exp = c.iat + 300;
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), 0);
	assert_int_equal(vs_venue_code_verify(payload, strlen(payload), trust, c.iat, &got, NULL),
			 VS_CODE_OK);
	assert_string_equal(got.name, c.name);
	assert_int_equal(got.has_exp, 1);
	assert_int_equal(got.exp, c.iat + 300);
	vs_venue_claims_release(&got);
	free(payload);
}

static void test_statuses(void **state)
{
	struct vs_venue_claims c = station();
	struct vs_trust_set *empty = vs_trust_set_new();
	struct vs_venue_claims got;
	char *payload, *json, *forged;
	(void)state;

	c.has_exp = 1;
	c.exp = c.iat + 60;
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), 0);
	assert_int_equal(verify(payload, c.iat), VS_CODE_OK);
	assert_int_equal(verify(payload, c.exp), VS_CODE_OK);
	assert_int_equal(verify(payload, c.exp + 1), VS_CODE_EXPIRED);
	assert_int_equal(vs_venue_code_verify(payload, strlen(payload), empty, c.iat, &got, &json),
			 VS_CODE_UNKNOWN_ISSUER);
	assert_string_equal(got.iss, "henan"); /* claims are still returned */
	assert_non_null(json);
	vs_venue_claims_release(&got);
	free(json);
	assert_int_equal(vs_venue_code_verify(payload, strlen(payload), NULL, c.iat, NULL, NULL),
			 VS_CODE_UNKNOWN_ISSUER);

	/* one byte of the claims changed, signature kept: bad_signature */
	{
		struct vs_buf claims = VS_BUF_INIT;
		const char *dot = strchr(payload + 5, '.');
		char *name, *claims64;

		assert_int_equal(vs_base64url_decode(payload + 5, (size_t)(dot - payload - 5), &claims),
				 0);
		name = strstr(claims.data, "Erqi");
		name[0] = 'F'; /* Fr qi: still valid JSON */
		claims64 = vs_base64url_encode(claims.data, claims.len);
		forged = vs_xasprintf("VSC1.%s%s", claims64, dot);
		assert_int_equal(verify(forged, c.iat), VS_CODE_BAD_SIGNATURE);
		free(forged);
		free(claims64);
		vs_buf_release(&claims);
	}
	/* one byte of the signature changed */
	forged = vs_xstrdup(payload);
	forged[strlen(forged) - 3] = forged[strlen(forged) - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(verify(forged, c.iat), VS_CODE_BAD_SIGNATURE);
	free(forged);

	/* signed by another key in henan's name; and an issuer trusted but expired code
	 * reports the signature first (order: issuer, signature, expiry) */
	{
		struct vs_issuer_key impostor = other;
		char *p2;

		memcpy(impostor.issuer, "henan", 6);
		assert_int_equal(vs_venue_code_sign(&c, &impostor, &p2), 0);
		assert_int_equal(verify(p2, c.exp + 100), VS_CODE_BAD_SIGNATURE);
		free(p2);
	}
	vs_trust_set_free(empty);
	free(payload);
}

static void test_foreign_and_malformed_text(void **state)
{
	static const char *const foreign[] = {
		"", "VSC1", "vsc1.abc.def", "HC1:6BF", "https://example.org/VSC1.x.y", " VSC1.a.b",
	};
	static const char *const malformed[] = {
		"VSC1.", "VSC1..", "VSC1.abc", "VSC1.e30", "VSC1.e30.", "VSC1.e30.AAAA.AAAA",
		"VSC1.e30=.AAAA", "VSC1.e3$.AAAA",
	};
	struct vs_venue_claims c = station(), got;
	char *payload, *bad, *json = (char *)"sentinel";
	(void)state;

	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (verify(foreign[i], 0) != VS_CODE_FOREIGN)
			fail_msg("'%s' is not foreign", foreign[i]);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		if (verify(malformed[i], 0) != VS_CODE_MALFORMED)
			fail_msg("'%s' is not malformed", malformed[i]);

	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), 0);
	/* claims are not returned for malformed codes */
	bad = vs_xasprintf("%s=", payload);
	assert_int_equal(vs_venue_code_verify(bad, strlen(bad), trust, 0, &got, &json),
			 VS_CODE_MALFORMED);
	assert_null(json);
	assert_null(got.name);
	free(bad);
	/* a signature one byte short; an embedded NUL; a payload past the maximum */
	bad = vs_xstrndup(payload, strlen(payload) - 2);
	assert_int_equal(verify(bad, 0), VS_CODE_MALFORMED);
	free(bad);
	bad = vs_xstrdup(payload);
	bad[10] = '\0';
	assert_int_equal(vs_venue_code_verify(bad, strlen(payload), trust, 0, NULL, NULL),
			 VS_CODE_MALFORMED);
	free(bad);
	bad = vs_xmalloc(VS_PAYLOAD_MAX + 2);
	memset(bad, 'A', VS_PAYLOAD_MAX + 1);
	memcpy(bad, payload, strlen(payload));
	bad[VS_PAYLOAD_MAX + 1] = '\0';
	assert_int_equal(verify(bad, 0), VS_CODE_MALFORMED);
	free(bad);
	free(payload);
}

/* Well-signed claims that break the claims rules are malformed, not bad_signature. */
static void test_signed_but_malformed_claims(void **state)
{
#define HEAD "{\"id\":\"" ZZ_ID "\",\"name\":\"n\",\"area\":\"a\","
	static const char *const bad[] = {
		"[]", "null", "{}", "not json", "{\"id\":1}",
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1,\"color\":\"red\"}", /* unknown */
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1,\"iat\":2}",       /* duplicate */
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"henan\"}",                          /* no iat */
		HEAD "\"lat\":91,\"lon\":2,\"iss\":\"henan\",\"iat\":1}",
		HEAD "\"lat\":1,\"lon\":-181,\"iss\":\"henan\",\"iat\":1}",
		HEAD "\"lat\":\"1\",\"lon\":2,\"iss\":\"henan\",\"iat\":1}",
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1.5}",
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1,\"exp\":\"2\"}",
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"he nan\",\"iat\":1}",
		HEAD "\"lat\":1,\"lon\":2,\"iss\":\"\",\"iat\":1}",
		"{\"id\":\"6F1C2A5E-8B1D-4C57-9A0E-2B7D9F3C4E10\",\"name\":\"n\",\"area\":\"a\","
		"\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1}",                      /* uppercase */
		"{\"id\":\"6f1c2a5e8b1d4c579a0e2b7d9f3c4e10\",\"name\":\"n\",\"area\":\"a\","
		"\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1}",                      /* no dashes */
		"{\"id\":\"" ZZ_ID "\",\"name\":\"\",\"area\":\"a\","
		"\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1}",                      /* empty name */
		"{\"id\":\"" ZZ_ID "\",\"name\":\"n\\u0000x\",\"area\":\"a\","
		"\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1}",                      /* NUL */
		"{\"id\":\"" ZZ_ID "\",\"name\":\"\xc0\xaf\",\"area\":\"a\","
		"\"lat\":1,\"lon\":2,\"iss\":\"henan\",\"iat\":1}",                      /* bad UTF-8 */
	};
	/* other key order is accepted: the signature covers the bytes as received */
	static const char reordered[] = "{\"iat\":1,\"iss\":\"henan\",\"lon\":2,\"lat\":1,"
					"\"area\":\"a\",\"name\":\"n\",\"id\":\"" ZZ_ID "\"}";
	char *p;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = sign_raw(bad[i], strlen(bad[i]), &henan);
		if (verify(p, 0) != VS_CODE_MALFORMED)
			fail_msg("claims #%zu '%s' accepted", i, bad[i]);
		free(p);
	}
	p = sign_raw(reordered, strlen(reordered), &henan);
	assert_int_equal(verify(p, 0), VS_CODE_OK);
	free(p);
#undef HEAD
}

static void test_sign_refuses_bad_claims(void **state)
{
	struct vs_venue_claims c;
	struct vs_issuer_key pub = henan;
	char *payload = (char *)"sentinel", *longname;
	(void)state;

	c = station();
	pub.has_secret = 0;
	assert_int_equal(vs_venue_code_sign(&c, &pub, &payload), VS_EINVAL);
	assert_null(payload);
	c.iss = "other";
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "'other'"));
	c = station();
	memcpy(c.id, "not-a-uuid", 11);
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), VS_EINVAL);
	c = station();
	c.lat = NAN;
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), VS_EINVAL);
	c = station();
	c.name = "";
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), VS_EINVAL);
	c.name = "\xff";
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), VS_EINVAL);
	longname = vs_xmalloc(2001);
	memset(longname, 'x', 2000);
	longname[2000] = '\0';
	c.name = longname;
	assert_int_equal(vs_venue_code_sign(&c, &henan, &payload), VS_ETOOBIG);
	assert_null(payload);
	free(longname);
}

static void test_status_names(void **state)
{
	(void)state;

	assert_string_equal(vs_code_status_name(VS_CODE_OK), "ok");
	assert_string_equal(vs_code_status_name(VS_CODE_BAD_SIGNATURE), "bad_signature");
	assert_string_equal(vs_code_status_name(VS_CODE_UNKNOWN_ISSUER), "unknown_issuer");
	assert_string_equal(vs_code_status_name(VS_CODE_EXPIRED), "expired");
	assert_string_equal(vs_code_status_name(VS_CODE_MALFORMED), "malformed");
	assert_string_equal(vs_code_status_name(VS_CODE_FOREIGN), "foreign");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims_bytes_in_contract_order),
		cmocka_unit_test(test_number_format),
		cmocka_unit_test(test_escaping_round_trip),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_foreign_and_malformed_text),
		cmocka_unit_test(test_signed_but_malformed_claims),
		cmocka_unit_test(test_sign_refuses_bad_claims),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests_name("payload", tests, setup, teardown);
}

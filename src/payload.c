/*
 * Venue code payload v1 (SPEC §4): writing the claims JSON in contract order and signing
 * it, and checking a scanned payload.  Signing generates the JSON by hand so that its
 * bytes are fixed by this file alone (key order, number format); verifying parses the
 * claims as received and checks the signature over exactly those bytes, so a code made by
 * another conforming writer verifies too.  Verification is a pure function of its inputs
 * and never fails: whatever is wrong becomes the status.
 *
 * Claims accepted on reading: an object with exactly the keys id, name, area, lat, lon,
 * iss, iat and optionally exp, in any order, no duplicates; id a lowercase UUID; name and
 * area non-empty strings; lat in [-90, 90] and lon in [-180, 180]; iss a valid issuer
 * name; iat and exp integers.  An unknown key makes the code malformed: a signed claim a
 * scanner would silently ignore is exactly what should not be trusted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"

#define PREFIX_LEN (sizeof(VS_PAYLOAD_PREFIX) - 1)

void vs_venue_claims_release(struct vs_venue_claims *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->area);
	free(c->iss);
	memset(c, 0, sizeof(*c));
}

const char *vs_code_status_name(enum vs_code_status s)
{
	switch (s) {
	case VS_CODE_OK: return "ok";
	case VS_CODE_BAD_SIGNATURE: return "bad_signature";
	case VS_CODE_UNKNOWN_ISSUER: return "unknown_issuer";
	case VS_CODE_EXPIRED: return "expired";
	case VS_CODE_MALFORMED: return "malformed";
	case VS_CODE_FOREIGN: return "foreign";
	}
	return "malformed";
}

/* 1 if s is a UUID in lowercase 8-4-4-4-12 form. */
static int uuid_text_valid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}

/* A coordinate with up to 7 decimals, trailing zeros (and a bare point) dropped. */
static int add_coordinate(struct vs_buf *b, double v)
{
	char num[64];
	size_t n;

	snprintf(num, sizeof(num), "%.7f", v);
	n = strlen(num);
	while (n > 0 && num[n - 1] == '0')
		n--;
	if (n > 0 && num[n - 1] == '.')
		n--;
	num[n] = '\0';
	return vs_buf_adds(b, strcmp(num, "-0") ? num : "0");
}

static int check_text(const char *what, const char *s)
{
	if (!s || !*s)
		return vs_error_set(VS_EINVAL, "claim '%s' is empty", what);
	if (!vs_utf8_valid(s, strlen(s)))
		return vs_error_set(VS_EINVAL, "claim '%s' is not valid UTF-8", what);
	return 0;
}

/* The claims JSON of c, in contract order, into b. */
static int claims_json(const struct vs_venue_claims *c, struct vs_buf *b)
{
	int rc;

	if (!uuid_text_valid(c->id))
		return vs_error_set(VS_EINVAL, "claim 'id': '%.36s' is not a lowercase UUID",
				    c->id);
	if ((rc = check_text("name", c->name)) || (rc = check_text("area", c->area)))
		return rc;
	if (!vs_issuer_name_valid(c->iss))
		return vs_error_set(VS_EINVAL, "claim 'iss': '%s' is not a valid issuer name",
				    c->iss ? c->iss : "");
	if (!(c->lat >= -90 && c->lat <= 90) || !(c->lon >= -180 && c->lon <= 180))
		return vs_error_set(VS_EINVAL, "claims 'lat'/'lon': %g, %g is not a position on "
					       "Earth", c->lat, c->lon);
	rc = vs_buf_adds(b, "{\"id\":\"");
	if (!rc) rc = vs_buf_adds(b, c->id);
	if (!rc) rc = vs_buf_adds(b, "\",\"name\":");
	if (!rc) rc = vs_buf_add_json_string(b, c->name, strlen(c->name));
	if (!rc) rc = vs_buf_adds(b, ",\"area\":");
	if (!rc) rc = vs_buf_add_json_string(b, c->area, strlen(c->area));
	if (!rc) rc = vs_buf_adds(b, ",\"lat\":");
	if (!rc) rc = add_coordinate(b, c->lat);
	if (!rc) rc = vs_buf_adds(b, ",\"lon\":");
	if (!rc) rc = add_coordinate(b, c->lon);
	if (!rc) rc = vs_buf_adds(b, ",\"iss\":");
	if (!rc) rc = vs_buf_add_json_string(b, c->iss, strlen(c->iss));
	if (!rc) rc = vs_buf_addf(b, ",\"iat\":%lld", (long long)c->iat);
	if (!rc && c->has_exp) rc = vs_buf_addf(b, ",\"exp\":%lld", (long long)c->exp);
	if (!rc) rc = vs_buf_addc(b, '}');
	return rc;
}

int vs_venue_code_sign(const struct vs_venue_claims *c, const struct vs_issuer_key *key,
		       char **payload)
{
	unsigned char sig[crypto_sign_BYTES];
	struct vs_buf json = VS_BUF_INIT, out = VS_BUF_INIT;
	char *claims64 = NULL, *sig64 = NULL;
	int rc;

	*payload = NULL;
	if (!key->has_secret)
		return vs_error_set(VS_EINVAL, "issuer '%s': no secret key to sign with",
				    key->issuer);
	if (!c->iss || strcmp(c->iss, key->issuer))
		return vs_error_set(VS_EINVAL, "claim 'iss' is '%s' but the key is issuer '%s'",
				    c->iss ? c->iss : "", key->issuer);
	if ((rc = vs_crypto_init()) != 0 || (rc = claims_json(c, &json)) != 0)
		goto out;
	claims64 = vs_base64url_encode(json.data, json.len);
	vs_buf_adds(&out, VS_PAYLOAD_PREFIX);
	vs_buf_adds(&out, claims64);
	if (crypto_sign_detached(sig, NULL, (const unsigned char *)out.data, out.len,
				 key->sk) != 0) {
		rc = vs_error_set(VS_ECRYPTO, "issuer '%s': signing failed", key->issuer);
		goto out;
	}
	sig64 = vs_base64url_encode(sig, sizeof(sig));
	vs_buf_addc(&out, '.');
	vs_buf_adds(&out, sig64);
	if (out.len > VS_PAYLOAD_MAX) {
		rc = vs_error_set(VS_ETOOBIG, "venue code is %zu bytes, longer than the %d "
				  "allowed (shorten the name or area)", out.len, VS_PAYLOAD_MAX);
		goto out;
	}
	*payload = vs_buf_detach(&out, NULL);
out:
	vs_buf_release(&json);
	vs_buf_release(&out);
	free(claims64);
	free(sig64);
	return rc;
}

static const char *const claim_keys[] = { "id", "name", "area", "lat", "lon", "iss", "iat",
					  "exp" };

static int text_claim(json_t *v, char **out)
{
	if (!json_is_string(v) || json_string_length(v) == 0)
		return -1;
	*out = vs_xstrndup(json_string_value(v), json_string_length(v));
	return 0;
}

/* Fill c from the claims object; -1 when anything is missing, extra or of the wrong type. */
static int claims_from_json(json_t *root, struct vs_venue_claims *c)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(root))
		return -1;
	json_object_foreach(root, k, v) {
		for (i = 0; i < sizeof(claim_keys) / sizeof(claim_keys[0]); i++)
			if (!strcmp(k, claim_keys[i]))
				break;
		if (i == sizeof(claim_keys) / sizeof(claim_keys[0]))
			return -1;
	}
	v = json_object_get(root, "id");
	if (!json_is_string(v) || json_string_length(v) != 36 ||
	    !uuid_text_valid(json_string_value(v)))
		return -1;
	memcpy(c->id, json_string_value(v), 37);
	if (text_claim(json_object_get(root, "name"), &c->name) ||
	    text_claim(json_object_get(root, "area"), &c->area) ||
	    text_claim(json_object_get(root, "iss"), &c->iss) || !vs_issuer_name_valid(c->iss))
		return -1;
	v = json_object_get(root, "lat");
	if (!json_is_number(v) || !(json_number_value(v) >= -90 && json_number_value(v) <= 90))
		return -1;
	c->lat = json_number_value(v);
	v = json_object_get(root, "lon");
	if (!json_is_number(v) || !(json_number_value(v) >= -180 && json_number_value(v) <= 180))
		return -1;
	c->lon = json_number_value(v);
	v = json_object_get(root, "iat");
	if (!json_is_integer(v))
		return -1;
	c->iat = json_integer_value(v);
	v = json_object_get(root, "exp");
	if (v) {
		if (!json_is_integer(v))
			return -1;
		c->exp = json_integer_value(v);
		c->has_exp = 1;
	}
	return 0;
}

enum vs_code_status vs_venue_code_verify(const char *payload, size_t len,
					 const struct vs_trust_set *trust, int64_t now,
					 struct vs_venue_claims *claims, char **claims_json_out)
{
	struct vs_buf json = VS_BUF_INIT, sig = VS_BUF_INIT;
	struct vs_venue_claims c;
	const struct vs_issuer_key *key;
	enum vs_code_status st;
	const char *dot, *end = payload + len;
	json_t *root = NULL;

	memset(&c, 0, sizeof(c));
	if (claims)
		memset(claims, 0, sizeof(*claims));
	if (claims_json_out)
		*claims_json_out = NULL;
	if (len < PREFIX_LEN || memcmp(payload, VS_PAYLOAD_PREFIX, PREFIX_LEN) != 0) {
		st = VS_CODE_FOREIGN;
		goto out;
	}
	st = VS_CODE_MALFORMED;
	if (len > VS_PAYLOAD_MAX)
		goto out;
	dot = memchr(payload + PREFIX_LEN, '.', len - PREFIX_LEN);
	if (!dot || memchr(dot + 1, '.', (size_t)(end - dot - 1)))
		goto out;
	if (vs_base64url_decode(payload + PREFIX_LEN, (size_t)(dot - payload) - PREFIX_LEN,
				&json) != 0 ||
	    vs_base64url_decode(dot + 1, (size_t)(end - dot - 1), &sig) != 0 ||
	    sig.len != crypto_sign_BYTES || !json.data || !vs_utf8_valid(json.data, json.len))
		goto out;
	root = json_loadb(json.data, json.len, JSON_REJECT_DUPLICATES, NULL);
	if (!root || claims_from_json(root, &c) != 0)
		goto out;

	if (!(key = vs_trust_set_find(trust, c.iss)))
		st = VS_CODE_UNKNOWN_ISSUER;
	else if (vs_crypto_init() != 0 ||
		 crypto_sign_verify_detached((const unsigned char *)sig.data,
					     (const unsigned char *)payload,
					     (size_t)(dot - payload), key->pk) != 0)
		st = VS_CODE_BAD_SIGNATURE;
	else if (c.has_exp && now > c.exp)
		st = VS_CODE_EXPIRED;
	else
		st = VS_CODE_OK;
	if (claims) {
		*claims = c;
		memset(&c, 0, sizeof(c));
	}
	if (claims_json_out)
		*claims_json_out = vs_buf_detach(&json, NULL);
out:
	json_decref(root);
	vs_venue_claims_release(&c);
	vs_buf_release(&json);
	vs_buf_release(&sig);
	return st;
}

int vs_venue_code_sign_venue(const struct vs_venue *v, const struct vs_issuer_key *key,
			     int64_t iat, int64_t valid_for, char **payload)
{
	struct vs_venue_claims c;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, v->id, sizeof(c.id));
	c.name = v->name;
	c.area = v->area;
	c.lat = v->lat;
	c.lon = v->lon;
	c.iss = (char *)key->issuer;
	c.iat = iat;
	c.has_exp = valid_for > 0;
	c.exp = iat + valid_for;
	return vs_venue_code_sign(&c, key, payload); /* c borrows its strings: not released */
}

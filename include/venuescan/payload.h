/*
 * Venue code payload v1 (SPEC §4): "VSC1." base64url(claims) "." base64url(signature),
 * claims being compact UTF-8 JSON with keys id, name, area, lat, lon, iss, iat[, exp] in
 * that order, signed with Ed25519 over "VSC1." base64url(claims).
 */
#ifndef VENUESCAN_PAYLOAD_H
#define VENUESCAN_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "venuescan/keys.h"
#include "venuescan/venues.h"

#define VS_PAYLOAD_PREFIX "VSC1."
#define VS_PAYLOAD_MAX 2048 /* longest payload accepted, bytes */

/* The claims of one venue code.  Strings are owned by the struct (vs_venue_claims_release). */
struct vs_venue_claims {
	char id[37];   /* lowercase UUID text */
	char *name;    /* UTF-8 */
	char *area;    /* Province/City/District */
	double lat;
	double lon;
	char *iss;
	int64_t iat;   /* unix seconds */
	int64_t exp;   /* unix seconds; meaningful when has_exp */
	int has_exp;
};

void vs_venue_claims_release(struct vs_venue_claims *c);

/*
 * Serialise c as the claims JSON (keys in contract order, lat/lon with up to 7 decimals,
 * trailing zeros dropped) and sign it with key (which must have its secret).  *payload is
 * a newly allocated ASCII string the caller frees.  Fails with VS_EINVAL when c->iss is
 * not key's issuer or a claim is out of range (the rules of vs_venue_code_verify), and
 * VS_ETOOBIG when the payload would exceed VS_PAYLOAD_MAX.
 */
int vs_venue_code_sign(const struct vs_venue_claims *c, const struct vs_issuer_key *key,
		       char **payload);

/*
 * Sign venue v's code: claims from v, iss = key->issuer, iat, and exp = iat + valid_for
 * when valid_for > 0 (a rotating code).  As vs_venue_code_sign otherwise.
 */
int vs_venue_code_sign_venue(const struct vs_venue *v, const struct vs_issuer_key *key,
			     int64_t iat, int64_t valid_for, char **payload);

enum vs_code_status {
	VS_CODE_OK,
	VS_CODE_BAD_SIGNATURE,
	VS_CODE_UNKNOWN_ISSUER,
	VS_CODE_EXPIRED,
	VS_CODE_MALFORMED,
	VS_CODE_FOREIGN, /* not a VSC1 payload at all */
};

/* "ok", "bad_signature", "unknown_issuer", "expired", "malformed", "foreign". */
const char *vs_code_status_name(enum vs_code_status s);

/*
 * Check one scanned payload.  Order: not "VSC1." -> foreign; bad structure, base64url or
 * claims JSON -> malformed; issuer not in trust (or trust NULL) -> unknown_issuer;
 * signature fails -> bad_signature; has exp and now > exp -> expired; else ok.
 * When the claims parse (any status but foreign/malformed), they are stored in *claims
 * (caller releases) and, if claims_json is not NULL, the decoded claims bytes in
 * *claims_json (caller frees).  Never fails: the status is the result.
 * Claims are well formed when they hold exactly the keys above (in any order: the
 * signature covers the bytes as received; no duplicates; exp optional; any other key makes
 * the code malformed), id is a lowercase UUID, name/area/iss are non-empty strings (iss a
 * valid issuer name), lat is in [-90, 90], lon in [-180, 180], and iat/exp are integers.
 */
enum vs_code_status vs_venue_code_verify(const char *payload, size_t len,
					 const struct vs_trust_set *trust, int64_t now,
					 struct vs_venue_claims *claims, char **claims_json);

#endif

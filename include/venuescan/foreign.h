/*
 * Other check-in and certificate QR formats that `scan` names instead of calling them
 * merely foreign: New Zealand's NZCOVIDTRACER: (base64 JSON, unpadded), the UK's
 * UKC19TRACING:1: (an ES256 JWT) and the EU digital COVID certificate HC1: (Base45, zlib,
 * COSE_Sign1/CBOR).  Only what can be decoded without a key is decoded; nothing is
 * claimed verified.
 */
#ifndef VENUESCAN_FOREIGN_H
#define VENUESCAN_FOREIGN_H

#include <stddef.h>

/*
 * Identify data.  Returns the format name ("nzcovidtracer", "ukc19tracing", "hc1") or
 * NULL when the text is none of them.  When a format is recognised, *fields_json is set
 * to a newly allocated compact JSON object of the decoded fields (caller frees), or to
 * NULL when the prefix matched but the body does not decode (with the reason available
 * from vs_error_message()).
 */
const char *vs_foreign_identify(const unsigned char *data, size_t len, char **fields_json);

#endif

/*
 * Text codecs used by venue codes and by the other check-in formats scan recognises:
 * base64url without padding (VSC1, JWT), standard base64 with optional padding
 * (NZCOVIDTRACER) and Base45 (RFC 9285, EU certificates).  Decoders are strict: any
 * character outside the alphabet, bad padding or impossible length fails with VS_EFORMAT.
 * Decoders append to out (a bounded vs_buf may fail with VS_ETOOBIG) and leave it as it
 * was on failure.
 */
#ifndef VENUESCAN_CODEC_H
#define VENUESCAN_CODEC_H

#include <stddef.h>

#include "venuescan/mem.h"

/* A newly allocated NUL-terminated base64url text of data (no padding); caller frees. */
char *vs_base64url_encode(const void *data, size_t len);
/* A newly allocated NUL-terminated standard base64 text of data, padded; caller frees. */
char *vs_base64_encode(const void *data, size_t len);
/* Decode base64url (no padding allowed) into out (appended). */
int vs_base64url_decode(const char *s, size_t len, struct vs_buf *out);
/* Decode standard base64; padding may be present or absent. */
int vs_base64_decode(const char *s, size_t len, struct vs_buf *out);
/* Decode Base45 (RFC 9285). */
int vs_base45_decode(const char *s, size_t len, struct vs_buf *out);
/* A newly allocated NUL-terminated Base45 text of data; caller frees. */
char *vs_base45_encode(const void *data, size_t len);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates), else 0. */
int vs_utf8_valid(const char *s, size_t len);

#endif

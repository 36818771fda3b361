/*
 * Text codecs: base64url (RFC 4648 §5, never padded), standard base64 (RFC 4648 §4,
 * padding optional), Base45 (RFC 9285) and a UTF-8 validator.  Everything decoded here
 * arrives from a camera, so the decoders are strict and refuse rather than guess: a
 * character outside the alphabet, padding where none belongs, an impossible length, or
 * non-zero bits left over in the last character all fail with VS_EFORMAT, and on failure
 * the output buffer is left as it was.
 */
#include <stdint.h>
#include <string.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b45_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode with the given alphabet, padding the last group with '=' when pad is set. */
static char *base64_encode(const void *data, size_t len, const char *alphabet, int pad)
{
	const unsigned char *p = data;
	size_t full = len / 3, rest = len % 3, i;
	size_t out_len = full * 4 + (rest ? (pad ? 4 : rest + 1) : 0);
	char *out, *o;

	out = o = vs_xmalloc(out_len + 1);
	for (i = 0; i < full * 3; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (rest) {
		uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		if (rest == 2)
			*o++ = alphabet[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *vs_base64url_encode(const void *data, size_t len)
{
	return base64_encode(data, len, b64url_alphabet, 0);
}

char *vs_base64_encode(const void *data, size_t len)
{
	return base64_encode(data, len, b64_alphabet, 1);
}

/* The 6-bit value of c in the url (url != 0) or standard alphabet, or -1. */
static int b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Decode len characters of unpadded base64 (either alphabet) and append them to out. */
static int b64_decode_body(const char *s, size_t len, int url, struct vs_buf *out)
{
	const char *name = url ? "base64url" : "base64";
	size_t start = out->len, i;
	uint32_t acc = 0;
	int bits = 0, rc = 0;

	if (len % 4 == 1)
		return vs_error_set(VS_EFORMAT, "%s: %zu characters is not a possible length",
				    name, len);
	for (i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i], url);

		if (v < 0) {
			rc = vs_error_set(VS_EFORMAT, "%s: character %zu (0x%02x) is not in the "
						      "alphabet", name, i + 1, (unsigned char)s[i]);
			goto out;
		}
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if ((rc = vs_buf_addc(out, (char)(acc >> bits & 0xff))) != 0)
				goto out;
		}
	}
	if (acc & ((1u << bits) - 1))
		rc = vs_error_set(VS_EFORMAT, "%s: last character has non-zero unused bits", name);
out:
	if (rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

int vs_base64url_decode(const char *s, size_t len, struct vs_buf *out)
{
	return b64_decode_body(s, len, 1, out);
}

int vs_base64_decode(const char *s, size_t len, struct vs_buf *out)
{
	size_t pad = 0;

	/* With len % 4 == 0, one '=' leaves 3 characters in the last group and two leave 2,
	 * which are exactly the possible unpadded tails; a third '=' fails as a character. */
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	if (pad && len % 4 != 0)
		return vs_error_set(VS_EFORMAT, "base64: padding on a text of %zu characters, "
						"not a multiple of 4", len);
	return b64_decode_body(s, len - pad, 0, out);
}

int vs_base45_decode(const char *s, size_t len, struct vs_buf *out)
{
	size_t start = out->len, i;
	int rc = 0;

	if (len % 3 == 1)
		return vs_error_set(VS_EFORMAT, "base45: %zu characters is not a possible length",
				    len);
	for (i = 0; i < len; i += 3) {
		size_t n = len - i < 3 ? 2 : 3, k;
		uint32_t v = 0, mul = 1;

		for (k = 0; k < n; k++) {
			const char *hit = s[i + k] ? strchr(b45_alphabet, s[i + k]) : NULL;

			if (!hit) {
				rc = vs_error_set(VS_EFORMAT, "base45: character %zu (0x%02x) "
						  "is not in the alphabet", i + k + 1,
						  (unsigned char)s[i + k]);
				goto out;
			}
			v += (uint32_t)(hit - b45_alphabet) * mul;
			mul *= 45;
		}
		if (v > (n == 3 ? 0xffffu : 0xffu)) {
			rc = vs_error_set(VS_EFORMAT, "base45: group at character %zu is %u, "
					  "larger than %u", i + 1, v, n == 3 ? 0xffffu : 0xffu);
			goto out;
		}
		if (n == 3)
			rc = vs_buf_addc(out, (char)(v >> 8));
		if (!rc)
			rc = vs_buf_addc(out, (char)(v & 0xff));
		if (rc)
			goto out;
	}
out:
	if (rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

char *vs_base45_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	struct vs_buf b = VS_BUF_INIT;
	size_t i;

	for (i = 0; i < len; i += 2) {
		uint32_t v;
		int n, k;

		if (len - i >= 2) {
			v = (uint32_t)p[i] << 8 | p[i + 1];
			n = 3;
		} else {
			v = p[i];
			n = 2;
		}
		for (k = 0; k < n; k++) {
			vs_buf_addc(&b, b45_alphabet[v % 45]); /* unbounded buffer: cannot fail */
			v /= 45;
		}
	}
	return vs_buf_detach(&b, NULL);
}

int vs_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0; /* continuation, overlong lead 0xc0/0xc1, or past U+10FFFF */
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/*
 * Other QR formats a scanner meets beside venue codes, decoded far enough to show what
 * they say: NZCOVIDTRACER: (base64 JSON), UKC19TRACING:1: (a JWT, header and claims) and
 * HC1: (Base45, zlib, COSE_Sign1, CBOR).  Nothing here verifies a signature.  All input is
 * hostile: every length is checked against what remains, inflation stops at a fixed size,
 * and the CBOR reader is recursive only to a fixed depth and consumes at least one byte per
 * item, so it ends on any input.  The HC1 result is
 * {"protected":{...},"unprotected":{...},"claims":{...}}: the COSE headers and the payload
 * map, with byte strings as base64url text and integer map keys as their decimal text.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/foreign.h"
#include "venuescan/mem.h"

#define FOREIGN_TEXT_MAX 8192       /* longer than any QR code can hold */
#define HC1_INFLATED_MAX (64 * 1024) /* decompressed COSE message */
#define JSON_OUT_MAX (256 * 1024)    /* decoded fields as JSON */
#define CBOR_DEPTH_MAX 16

/* --- JSON documents (NZCOVIDTRACER, JWT parts) ----------------------------------------- */

/* Parse bytes as a JSON object; the caller owns the result. */
static int json_object_parse(const char *what, const struct vs_buf *bytes, json_t **out)
{
	json_error_t err;
	json_t *root;

	*out = NULL;
	if (!vs_utf8_valid(bytes->data, bytes->len))
		return vs_error_set(VS_EFORMAT, "%s: not valid UTF-8", what);
	root = json_loadb(bytes->data, bytes->len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return vs_error_set(VS_EFORMAT, "%s: not JSON: %s", what, err.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return vs_error_set(VS_EFORMAT, "%s: JSON is not an object", what);
	}
	*out = root;
	return 0;
}

/* root as compact JSON text in *out (allocated with vs_xmalloc, so the caller frees). */
static int json_text(json_t *root, char **out)
{
	char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

	if (!s)
		return vs_error_set(VS_ENOMEM, "out of memory writing JSON");
	*out = vs_xstrdup(s);
	free(s);
	return 0;
}

static int decode_nzcovidtracer(const char *body, size_t len, char **fields)
{
	struct vs_buf raw;
	json_t *root = NULL;
	int rc;

	vs_buf_init(&raw, FOREIGN_TEXT_MAX);
	if ((rc = vs_base64_decode(body, len, &raw)) != 0)
		goto out;
	if ((rc = json_object_parse("body", &raw, &root)) != 0)
		goto out;
	rc = json_text(root, fields);
out:
	json_decref(root);
	vs_buf_release(&raw);
	return rc;
}

/* Decode one base64url JWT part as a JSON object. */
static int jwt_part(const char *what, const char *s, size_t len, json_t **out)
{
	struct vs_buf raw;
	int rc;

	vs_buf_init(&raw, FOREIGN_TEXT_MAX);
	rc = vs_base64url_decode(s, len, &raw);
	if (rc)
		vs_error_prefix("%s", what);
	else
		rc = json_object_parse(what, &raw, out);
	vs_buf_release(&raw);
	return rc;
}

static int decode_ukc19tracing(const char *body, size_t len, char **fields)
{
	const char *end = body + len, *dot1, *dot2;
	struct vs_buf sig;
	json_t *header = NULL, *claims = NULL, *root = NULL;
	int rc;

	vs_buf_init(&sig, FOREIGN_TEXT_MAX);
	dot1 = memchr(body, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1))) {
		rc = vs_error_set(VS_EFORMAT, "not a JWT (three parts joined by '.')");
		goto out;
	}
	if ((rc = jwt_part("header", body, (size_t)(dot1 - body), &header)) ||
	    (rc = jwt_part("claims", dot1 + 1, (size_t)(dot2 - dot1 - 1), &claims)))
		goto out;
	if ((rc = vs_base64url_decode(dot2 + 1, (size_t)(end - dot2 - 1), &sig)) != 0) {
		vs_error_prefix("signature");
		goto out;
	}
	root = json_pack("{s:O,s:O}", "header", header, "claims", claims);
	rc = json_text(root, fields);
out:
	json_decref(root);
	json_decref(header);
	json_decref(claims);
	vs_buf_release(&sig);
	return rc;
}

/* --- CBOR (RFC 8949), just enough for COSE_Sign1 and an EU certificate ---------------- */

struct cbor {
	const unsigned char *p, *end;
	struct vs_buf *out; /* JSON being written */
};

/* Read an item head: major type and argument.  Indefinite lengths are refused. */
static int cbor_head(struct cbor *c, int *major, uint64_t *arg, int *info)
{
	unsigned char b;
	size_t n, i;

	if (c->p >= c->end)
		return vs_error_set(VS_EFORMAT, "cbor: truncated");
	b = *c->p++;
	*major = b >> 5;
	*info = b & 31;
	if (*info < 24) {
		*arg = (uint64_t)*info;
		return 0;
	}
	if (*info > 27) {
		if (*info == 31)
			return vs_error_set(VS_EUNSUPPORTED, "cbor: indefinite lengths are not "
							     "supported");
		return vs_error_set(VS_EFORMAT, "cbor: reserved additional info %d", *info);
	}
	n = (size_t)1 << (*info - 24);
	if ((size_t)(c->end - c->p) < n)
		return vs_error_set(VS_EFORMAT, "cbor: truncated");
	*arg = 0;
	for (i = 0; i < n; i++)
		*arg = *arg << 8 | *c->p++;
	return 0;
}

/* The n bytes that follow, if that many remain. */
static int cbor_bytes(struct cbor *c, uint64_t n, const unsigned char **start)
{
	if (n > (uint64_t)(c->end - c->p))
		return vs_error_set(VS_EFORMAT, "cbor: string of %llu bytes is longer than "
						"its input", (unsigned long long)n);
	*start = c->p;
	c->p += n;
	return 0;
}

/*
 * A CBOR integer as JSON.  Values outside the signed 64-bit range are written as decimal
 * strings: valid JSON numbers that common readers (jansson among them) refuse to parse.
 */
static int add_integer(struct vs_buf *b, int major, uint64_t arg, int quoted)
{
	const char *q = quoted || arg > INT64_MAX ? "\"" : "";

	if (major == 0)
		return vs_buf_addf(b, "%s%llu%s", q, (unsigned long long)arg, q);
	if (arg == UINT64_MAX) /* -1 - arg does not fit in 64 bits */
		return vs_buf_addf(b, "%s-18446744073709551616%s", q, q);
	return vs_buf_addf(b, "%s-%llu%s", q, (unsigned long long)arg + 1, q);
}

static double half_to_double(uint16_t h)
{
	int e = h >> 10 & 31;
	double m = h & 1023, v;

	if (e == 0)
		v = ldexp(m, -24);
	else if (e == 31)
		v = m == 0 ? INFINITY : NAN;
	else
		v = ldexp(m + 1024, e - 25);
	return h & 0x8000 ? -v : v;
}

/* The shortest decimal text that reads back as v (at the precision it came in). */
static int add_float(struct vs_buf *b, double v, int single)
{
	char num[40];

	if (!isfinite(v))
		return vs_buf_adds(b, "null"); /* JSON has no NaN or infinity */
	if (v == floor(v) && fabs(v) < 1e15) /* whole numbers as such, not "1e+05" */
		return vs_buf_addf(b, "%.0f", v);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, v);
		if (single ? (float)strtod(num, NULL) == (float)v : strtod(num, NULL) == v)
			break;
	}
	return vs_buf_adds(b, num);
}

static int cbor_item(struct cbor *c, int depth);

static int cbor_string(struct cbor *c, int major, uint64_t len)
{
	const unsigned char *s = NULL;
	char *b64;
	int rc;

	if ((rc = cbor_bytes(c, len, &s)) != 0)
		return rc;
	if (major == 3) {
		if (!vs_utf8_valid((const char *)s, (size_t)len))
			return vs_error_set(VS_EFORMAT, "cbor: text string is not UTF-8");
		if (memchr(s, '\0', (size_t)len)) /* never meant; breaks C readers of the JSON */
			return vs_error_set(VS_EFORMAT, "cbor: text string contains NUL");
		return vs_buf_add_json_string(c->out, (const char *)s, (size_t)len);
	}
	b64 = vs_base64url_encode(s, (size_t)len);
	rc = vs_buf_addf(c->out, "\"%s\"", b64);
	free(b64);
	return rc;
}

/* A map key: text as is, integers as their decimal text. */
static int cbor_key(struct cbor *c)
{
	uint64_t arg;
	int major, info, rc;

	if ((rc = cbor_head(c, &major, &arg, &info)) != 0)
		return rc;
	if (major == 3)
		return cbor_string(c, major, arg);
	if (major == 0 || major == 1)
		return add_integer(c->out, major, arg, 1);
	return vs_error_set(VS_EUNSUPPORTED, "cbor: map key of major type %d is not "
					     "supported", major);
}

/* A map key's JSON text, as an offset into the output (which may move as it grows). */
struct key_span {
	size_t off, len;
	const char *text; /* set once the map is complete */
};

static int key_span_cmp(const void *a, const void *b)
{
	const struct key_span *x = a, *y = b;
	int d = memcmp(x->text, y->text, x->len < y->len ? x->len : y->len);

	return d ? d : (x->len > y->len) - (x->len < y->len);
}

/*
 * A map of n pairs.  Keys must be unique once written as JSON text (so 1 and "1" clash):
 * a duplicate is invalid CBOR and would let one claim hide behind another.
 */
static int cbor_map(struct cbor *c, uint64_t n, int depth)
{
	struct key_span *keys = NULL;
	uint64_t i;
	int rc;

	if (n > (uint64_t)(c->end - c->p) / 2)
		return vs_error_set(VS_EFORMAT, "cbor: map of %llu pairs is longer than its "
						"input", (unsigned long long)n);
	keys = vs_xreallocarray(NULL, (size_t)n ? (size_t)n : 1, sizeof(*keys));
	rc = vs_buf_addc(c->out, '{');
	for (i = 0; !rc && i < n; i++) {
		if (i && (rc = vs_buf_addc(c->out, ',')) != 0)
			break;
		keys[i].off = c->out->len;
		if ((rc = cbor_key(c)) != 0)
			break;
		keys[i].len = c->out->len - keys[i].off;
		if ((rc = vs_buf_addc(c->out, ':')) == 0)
			rc = cbor_item(c, depth + 1);
	}
	if (!rc && n > 1) {
		for (i = 0; i < n; i++)
			keys[i].text = c->out->data + keys[i].off;
		qsort(keys, (size_t)n, sizeof(*keys), key_span_cmp);
		for (i = 1; i < n && !rc; i++)
			if (!key_span_cmp(&keys[i - 1], &keys[i]))
				rc = vs_error_set(VS_EFORMAT, "cbor: map key %.*s appears twice",
						  (int)(keys[i].len < 64 ? keys[i].len : 64),
						  keys[i].text);
	}
	free(keys);
	return rc ? rc : vs_buf_addc(c->out, '}');
}

static int cbor_item(struct cbor *c, int depth)
{
	uint64_t arg, i;
	int major, info, rc;

	if (depth > CBOR_DEPTH_MAX)
		return vs_error_set(VS_EFORMAT, "cbor: nested deeper than %d", CBOR_DEPTH_MAX);
	if ((rc = cbor_head(c, &major, &arg, &info)) != 0)
		return rc;
	switch (major) {
	case 0:
	case 1:
		return add_integer(c->out, major, arg, 0);
	case 2:
	case 3:
		return cbor_string(c, major, arg);
	case 4:
		/* Every item takes at least one byte, so a count beyond the input is a lie. */
		if (arg > (uint64_t)(c->end - c->p))
			return vs_error_set(VS_EFORMAT, "cbor: array of %llu items is longer "
							"than its input", (unsigned long long)arg);
		rc = vs_buf_addc(c->out, '[');
		for (i = 0; !rc && i < arg; i++) {
			if (i)
				rc = vs_buf_addc(c->out, ',');
			if (!rc)
				rc = cbor_item(c, depth + 1);
		}
		return rc ? rc : vs_buf_addc(c->out, ']');
	case 5:
		return cbor_map(c, arg, depth);
	case 6:
		return cbor_item(c, depth + 1); /* a tag: its content stands for itself */
	default:
		break;
	}
	switch (info) {
	case 20: return vs_buf_adds(c->out, "false");
	case 21: return vs_buf_adds(c->out, "true");
	case 22:
	case 23: return vs_buf_adds(c->out, "null"); /* null, undefined */
	case 25: return add_float(c->out, half_to_double((uint16_t)arg), 1);
	case 26: {
		uint32_t u = (uint32_t)arg;
		float f;
		memcpy(&f, &u, sizeof(f));
		return add_float(c->out, f, 1);
	}
	case 27: {
		double d;
		memcpy(&d, &arg, sizeof(d));
		return add_float(c->out, d, 0);
	}
	default:
		/* other simple values (0-19, 24) have no JSON meaning: name them */
		return vs_buf_addf(c->out, "\"simple(%llu)\"", (unsigned long long)arg);
	}
}

/* Convert the whole of bytes, which must be one CBOR item, to JSON appended to out. */
static int cbor_to_json(const unsigned char *p, size_t len, struct vs_buf *out)
{
	struct cbor c = { p, p + len, out };
	int rc = cbor_item(&c, 0);

	if (!rc && c.p != c.end)
		rc = vs_error_set(VS_EFORMAT, "cbor: %zu bytes after the item",
				  (size_t)(c.end - c.p));
	return rc;
}

/* The CBOR map inside a byte string, as JSON; an empty byte string is an empty map. */
static int cbor_embedded_map(const char *what, const unsigned char *p, size_t len,
			     struct vs_buf *out)
{
	int rc;

	if (len == 0)
		return vs_buf_adds(out, "{}");
	if ((p[0] >> 5) != 5)
		return vs_error_set(VS_EFORMAT, "%s is not a CBOR map", what);
	if ((rc = cbor_to_json(p, len, out)) != 0)
		vs_error_prefix("%s", what);
	return rc;
}

static int inflate_bounded(const unsigned char *in, size_t len, struct vs_buf *out)
{
	unsigned char chunk[4096];
	z_stream zs;
	int zrc, rc = 0;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return vs_error_set(VS_ENOMEM, "zlib could not start");
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = inflate(&zs, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END) {
			rc = vs_error_set(VS_EFORMAT, "zlib: %s",
					  zrc == Z_BUF_ERROR ? "truncated"
							     : zs.msg ? zs.msg : "corrupt data");
			goto out;
		}
		if ((rc = vs_buf_add(out, chunk, sizeof(chunk) - zs.avail_out)) != 0) {
			rc = vs_error_set(VS_ETOOBIG, "inflates to more than %d bytes",
					  HC1_INFLATED_MAX);
			goto out;
		}
	} while (zrc != Z_STREAM_END);
	if (zs.avail_in)
		rc = vs_error_set(VS_EFORMAT, "%u bytes after the zlib stream", zs.avail_in);
out:
	inflateEnd(&zs);
	return rc;
}

/* 1 if the two bytes are a zlib header (deflate, valid check bits). */
static int is_zlib(const unsigned char *p, size_t len)
{
	return len >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && (p[0] << 8 | p[1]) % 31 == 0;
}

/* Read the head of a byte string and the bytes themselves. */
static int cbor_bstr(struct cbor *c, const char *what, const unsigned char **p, size_t *len)
{
	uint64_t arg;
	int major, info, rc;

	if ((rc = cbor_head(c, &major, &arg, &info)) != 0)
		return rc;
	if (major != 2)
		return vs_error_set(VS_EFORMAT, "COSE %s is not a byte string", what);
	if ((rc = cbor_bytes(c, arg, p)) != 0)
		return rc;
	*len = (size_t)arg;
	return 0;
}

/*
 * COSE_Sign1 = [protected: bstr .cbor map, unprotected: map, payload: bstr .cbor map,
 * signature: bstr], usually behind tag 18; written as JSON in that order.
 */
static int cose_sign1_to_json(const unsigned char *p, size_t len, struct vs_buf *json)
{
	struct cbor c = { p, p + len, json };
	const unsigned char *part = NULL;
	size_t plen = 0;
	uint64_t arg;
	int major, info, rc;

	if ((rc = cbor_head(&c, &major, &arg, &info)) != 0)
		return rc;
	if (major == 6 && arg == 18 && (rc = cbor_head(&c, &major, &arg, &info)) != 0)
		return rc;
	if (major != 4 || arg != 4)
		return vs_error_set(VS_EFORMAT, "not a COSE_Sign1 message (an array of 4)");
	if ((rc = vs_buf_adds(json, "{\"protected\":")) != 0 ||
	    (rc = cbor_bstr(&c, "protected header", &part, &plen)) != 0 ||
	    (rc = cbor_embedded_map("protected header", part, plen, json)) != 0 ||
	    (rc = vs_buf_adds(json, ",\"unprotected\":")) != 0)
		return rc;
	if (c.p >= c.end || *c.p >> 5 != 5)
		return vs_error_set(VS_EFORMAT, "COSE unprotected header is not a map");
	if ((rc = cbor_item(&c, 1)) != 0 ||
	    (rc = vs_buf_adds(json, ",\"claims\":")) != 0 ||
	    (rc = cbor_bstr(&c, "payload", &part, &plen)) != 0 ||
	    (rc = cbor_embedded_map("payload", part, plen, json)) != 0 ||
	    (rc = cbor_bstr(&c, "signature", &part, &plen)) != 0 ||
	    (rc = vs_buf_addc(json, '}')) != 0)
		return rc;
	if (c.p != c.end)
		return vs_error_set(VS_EFORMAT, "%zu bytes after the COSE message",
				    (size_t)(c.end - c.p));
	return 0;
}

static int decode_hc1(const char *body, size_t len, char **fields)
{
	struct vs_buf raw, cose, json;
	int rc;

	vs_buf_init(&raw, FOREIGN_TEXT_MAX);
	vs_buf_init(&cose, HC1_INFLATED_MAX);
	vs_buf_init(&json, JSON_OUT_MAX);
	if ((rc = vs_base45_decode(body, len, &raw)) != 0)
		goto out;
	if (is_zlib((unsigned char *)raw.data, raw.len))
		rc = inflate_bounded((unsigned char *)raw.data, raw.len, &cose);
	else
		rc = vs_buf_add(&cose, raw.data, raw.len);
	if (rc || (rc = cose_sign1_to_json((unsigned char *)cose.data, cose.len, &json)) != 0)
		goto out;
	*fields = vs_buf_detach(&json, NULL);
out:
	vs_buf_release(&raw);
	vs_buf_release(&cose);
	vs_buf_release(&json);
	return rc;
}

struct foreign_format {
	const char *prefix;
	const char *name;
	int (*decode)(const char *body, size_t len, char **fields);
};

static const struct foreign_format formats[] = {
	{ "NZCOVIDTRACER:", "nzcovidtracer", decode_nzcovidtracer },
	{ "UKC19TRACING:1:", "ukc19tracing", decode_ukc19tracing },
	{ "HC1:", "hc1", decode_hc1 },
};

const char *vs_foreign_identify(const unsigned char *data, size_t len, char **fields_json)
{
	*fields_json = NULL;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const struct foreign_format *f = &formats[i];
		size_t plen = strlen(f->prefix);
		char *fields = NULL;

		if (len < plen || memcmp(data, f->prefix, plen) != 0)
			continue;
		if (len - plen > FOREIGN_TEXT_MAX)
			vs_error_set(VS_ETOOBIG, "%zu bytes, more than a QR code holds",
				     len - plen);
		else if (f->decode((const char *)data + plen, len - plen, &fields) == 0)
			*fields_json = fields;
		if (!fields)
			vs_error_prefix("%s", f->name);
		return f->name;
	}
	return NULL;
}

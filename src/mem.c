/*
 * Allocation wrappers and the bounded byte buffer.  Allocation failure is not an error a
 * caller can do anything useful with in this program, so it ends the process cleanly
 * (exit 2, outputs rolled back by fileio.c's exit handler) instead of returning NULL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/mem.h"

#ifdef VS_FAULT_INJECTION
#include <stdatomic.h>
static atomic_long alloc_countdown = -2; /* -2: not read yet, -1: off */

static int fault_now(void)
{
	long n = atomic_load(&alloc_countdown);
	if (n == -2) {
		const char *env = getenv("VS_FAULT_ALLOC");
		n = env ? atol(env) : -1;
		atomic_store(&alloc_countdown, n > 0 ? n : -1);
	}
	if (atomic_load(&alloc_countdown) < 0)
		return 0;
	return atomic_fetch_sub(&alloc_countdown, 1) == 1;
}
#else
static int fault_now(void)
{
	return 0;
}
#endif

static void *die_oom(size_t size)
{
	fprintf(stderr, "venuescan: out of memory (allocating %zu bytes)\n", size);
	exit(2);
}

void *vs_xmalloc(size_t size)
{
	void *p = fault_now() ? NULL : malloc(size ? size : 1);
	return p ? p : die_oom(size);
}

void *vs_xcalloc(size_t nmemb, size_t size)
{
	void *p = fault_now() ? NULL : calloc(nmemb ? nmemb : 1, size ? size : 1);
	return p ? p : die_oom(nmemb * size);
}

void *vs_xrealloc(void *ptr, size_t size)
{
	void *p = fault_now() ? NULL : realloc(ptr, size ? size : 1);
	return p ? p : die_oom(size);
}

void *vs_xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return die_oom(SIZE_MAX);
	return vs_xrealloc(ptr, nmemb * size);
}

char *vs_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = vs_xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *vs_xstrdup(const char *s)
{
	return vs_xstrndup(s, SIZE_MAX);
}

char *vs_xasprintf(const char *fmt, ...)
{
	struct vs_buf b = VS_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	vs_buf_addvf(&b, fmt, ap);
	va_end(ap);
	return vs_buf_detach(&b, NULL);
}

void vs_buf_init(struct vs_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void vs_buf_release(struct vs_buf *b)
{
	free(b->data);
	vs_buf_init(b, b->max);
}

void vs_buf_reset(struct vs_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *vs_buf_detach(struct vs_buf *b, size_t *len)
{
	char *p = b->data ? b->data : vs_xstrdup("");
	if (len)
		*len = b->len;
	vs_buf_init(b, b->max);
	return p;
}

static int buf_grow(struct vs_buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		return vs_error_set(VS_ETOOBIG, "buffer size overflow");
	need = b->len + extra + 1;
	if (b->max && need - 1 > b->max)
		return vs_error_set(VS_ETOOBIG, "input larger than the limit of %zu bytes", b->max);
	if (need > b->cap) {
		size_t cap = b->cap < 64 ? 64 : b->cap;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		b->data = vs_xrealloc(b->data, cap);
		b->cap = cap;
	}
	return 0;
}

int vs_buf_add(struct vs_buf *b, const void *data, size_t len)
{
	int rc = buf_grow(b, len);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int vs_buf_addc(struct vs_buf *b, char c)
{
	return vs_buf_add(b, &c, 1);
}

int vs_buf_adds(struct vs_buf *b, const char *s)
{
	return vs_buf_add(b, s, strlen(s));
}

int vs_buf_addvf(struct vs_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return vs_error_set(VS_EINVAL, "bad format string");
	rc = buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int vs_buf_addf(struct vs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vs_buf_addvf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int vs_buf_add_json_string(struct vs_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	int rc = vs_buf_addc(b, '"');

	for (i = 0; !rc && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		const char *e = NULL;

		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				esc[6] = '\0';
				e = esc;
			}
		}
		if (!e)
			continue;
		rc = vs_buf_add(b, s + run, i - run);
		if (!rc)
			rc = vs_buf_adds(b, e);
		run = i + 1;
	}
	if (!rc)
		rc = vs_buf_add(b, s + run, len - run);
	return rc ? rc : vs_buf_addc(b, '"');
}

int vs_buf_add_html(struct vs_buf *b, const char *s)
{
	int rc = 0;

	for (; *s && !rc; s++)
		switch (*s) {
		case '<': rc = vs_buf_adds(b, "&lt;"); break;
		case '>': rc = vs_buf_adds(b, "&gt;"); break;
		case '&': rc = vs_buf_adds(b, "&amp;"); break;
		case '"': rc = vs_buf_adds(b, "&quot;"); break;
		case '\'': rc = vs_buf_adds(b, "&#39;"); break;
		default: rc = vs_buf_addc(b, *s);
		}
	return rc;
}

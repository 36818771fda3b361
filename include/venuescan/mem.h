/*
 * Memory: allocation that checks for overflow and cannot return NULL, and a growable
 * byte buffer with a hard maximum for anything that grows on untrusted input.
 *
 * vs_xmalloc and friends print "venuescan: out of memory" and exit(2) on failure; the
 * atexit handler of fileio.h then removes every uncommitted output, so an allocation
 * failure still leaves no partial output.  Builds with -DVS_FAULT_INJECTION make the Nth
 * allocation fail when the environment has VS_FAULT_ALLOC=N (tests use it).
 */
#ifndef VENUESCAN_MEM_H
#define VENUESCAN_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *vs_xmalloc(size_t size);
void *vs_xcalloc(size_t nmemb, size_t size);
void *vs_xrealloc(void *ptr, size_t size);
/* vs_xreallocarray(p, n, size): realloc to n*size bytes, dying on overflow. */
void *vs_xreallocarray(void *ptr, size_t nmemb, size_t size);
char *vs_xstrdup(const char *s);
char *vs_xstrndup(const char *s, size_t n);
/* A newly allocated formatted string; the caller frees it. */
char *vs_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *array (of *alloc elements of elem_size) so that it holds at least need elements. */
#define VS_ALLOC_GROW(array, need, alloc)                                              \
	do {                                                                               \
		if ((size_t)(need) > (alloc)) {                                                \
			size_t vs_new_ = (alloc) < 16 ? 16 : (alloc);                              \
			while (vs_new_ < (size_t)(need))                                           \
				vs_new_ = vs_new_ / 2 * 3 + 1;                                         \
			(array) = vs_xreallocarray((array), vs_new_, sizeof(*(array)));            \
			(alloc) = vs_new_;                                                         \
		}                                                                              \
	} while (0)

/*
 * A byte buffer that is always NUL-terminated (data may hold NULs too).  The buffer owns
 * data; vs_buf_release() frees it and leaves an empty buffer; vs_buf_detach() hands it to
 * the caller.  max bounds len (0: no bound); growing past it fails with VS_ETOOBIG.
 */
struct vs_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define VS_BUF_INIT { NULL, 0, 0, 0 }

void vs_buf_init(struct vs_buf *b, size_t max);
void vs_buf_release(struct vs_buf *b);
char *vs_buf_detach(struct vs_buf *b, size_t *len);
void vs_buf_reset(struct vs_buf *b);
int vs_buf_add(struct vs_buf *b, const void *data, size_t len);
int vs_buf_addc(struct vs_buf *b, char c);
int vs_buf_adds(struct vs_buf *b, const char *s);
int vs_buf_addf(struct vs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vs_buf_addvf(struct vs_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal, quotes included (UTF-8 passed through, controls escaped). */
int vs_buf_add_json_string(struct vs_buf *b, const char *s, size_t len);
/* Append s with HTML's special characters (< > & " ') escaped. */
int vs_buf_add_html(struct vs_buf *b, const char *s);

#endif

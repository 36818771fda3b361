/*
 * Error codes and messages of libvenuescan.  Every fallible function returns 0 or a
 * negative VS_E* code; the code names the class of failure and vs_error_message() holds
 * the sentence a person reads ("events.csv:1042: field 'ts': not an ISO 8601 time ...").
 * The message is per thread and is overwritten by the next vs_error_set() on that thread.
 */
#ifndef VENUESCAN_ERROR_H
#define VENUESCAN_ERROR_H

#include <stdarg.h>

/* X(name, value, default message) */
#define VS_ERRORS(X)                                                            \
	X(VS_ENOMEM, -1, "out of memory")                                           \
	X(VS_EIO, -2, "input/output error")                                         \
	X(VS_EINVAL, -3, "invalid argument")                                        \
	X(VS_EFORMAT, -4, "malformed input")                                        \
	X(VS_ETOOBIG, -5, "input too large")                                        \
	X(VS_ENOTFOUND, -6, "not found")                                            \
	X(VS_EPERM, -7, "permission problem")                                       \
	X(VS_ECRYPTO, -8, "cryptographic failure")                                  \
	X(VS_ETIMEOUT, -9, "timed out")                                             \
	X(VS_EUNSUPPORTED, -10, "unsupported")                                      \
	X(VS_EDB, -11, "database error")

enum vs_error {
#define VS_X_ENUM(name, value, text) name = value,
	VS_ERRORS(VS_X_ENUM)
#undef VS_X_ENUM
};

/* The fixed description of an error code ("out of memory"); never NULL. */
const char *vs_strerror(int code);

/*
 * Record the message for the current failure and return code, so a caller can write
 * `return vs_error_set(VS_EFORMAT, "%s:%lu: field '%s': ...", ...);`.  Messages are
 * lowercase, name their subject in quotes, and say what is wrong first.
 */
int vs_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vs_error_setv(int code, const char *fmt, va_list ap);

/* vs_error_set with the message prefixed by "FILE:LINE: " (parsers' errors). */
int vs_error_at(int code, const char *file, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int vs_error_atv(int code, const char *file, unsigned long line, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Prefix the current message with "prefix: " (e.g. a file name added by a caller). */
void vs_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message set on this thread, or vs_strerror(code) of the last code, or "". */
const char *vs_error_message(void);

#endif

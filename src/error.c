/*
 * Error codes and the per-thread message that goes with the last failure.  The message
 * buffer is thread-local so that the simulator's and the server's worker threads can
 * fail independently without locking.
 */
#include <stdio.h>
#include <string.h>

#include "venuescan/error.h"

#define VS_ERROR_MAX 1024

static _Thread_local char last_message[VS_ERROR_MAX];

const char *vs_strerror(int code)
{
	switch (code) {
#define VS_X_CASE(name, value, text) case name: return text;
		VS_ERRORS(VS_X_CASE)
#undef VS_X_CASE
	case 0:
		return "success";
	}
	return "unknown error";
}

int vs_error_setv(int code, const char *fmt, va_list ap)
{
	if (fmt)
		vsnprintf(last_message, sizeof(last_message), fmt, ap);
	else
		snprintf(last_message, sizeof(last_message), "%s", vs_strerror(code));
	return code;
}

int vs_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vs_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

int vs_error_atv(int code, const char *file, unsigned long line, const char *fmt, va_list ap)
{
	char msg[VS_ERROR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return vs_error_set(code, "%s:%lu: %s", file, line, msg);
}

int vs_error_at(int code, const char *file, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vs_error_atv(code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

void vs_error_prefix(const char *fmt, ...)
{
	char old[VS_ERROR_MAX];
	va_list ap;
	int n;

	memcpy(old, last_message, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(last_message) - 2) {
		size_t len = (size_t)n;
		last_message[len++] = ':';
		last_message[len++] = ' ';
		last_message[len] = '\0';
		size_t room = sizeof(last_message) - len - 1;
		size_t olen = strnlen(old, room);
		memcpy(last_message + len, old, olen);
		last_message[len + olen] = '\0';
	}
}

const char *vs_error_message(void)
{
	return last_message;
}

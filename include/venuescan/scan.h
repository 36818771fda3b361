/*
 * Scanning: turning images into verified venue codes, as `venuescan scan` prints them
 * (SPEC §4).  vs_scan_describe() makes the JSON line for one decoded symbol;
 * vs_scan_files() decodes many images on every core and reports each file's result in
 * input order.  ZBar can loop or crash on crafted images (zbar#184, #218), so decoding
 * runs in worker processes that the caller's process watches: a worker that overruns
 * the per-image time limit is killed, one that dies is replaced, and the image it was
 * working on is reported as failed while the rest of the run goes on.
 *
 * JSON line, one per decoded symbol, keys in this order:
 *   {"file":F,"payload":P,"valid":B,"status":S,"claims":C[,"format":T,"fields":O]
 *    [,"payload_base64":X]}
 * C is the claims object exactly as signed (null for foreign and malformed codes);
 * format and fields appear for foreign codes of a format vs_foreign_identify() knows
 * (fields null when its body does not decode).  Text that is not valid UTF-8 (payloads,
 * file names) is printed with each byte of an invalid sequence as U+FFFD, and for a
 * payload the exact bytes are added as payload_base64 (RFC 4648 base64, padded), so the
 * line is always valid JSON and nothing is lost.
 *
 * Builds with -DVS_FAULT_INJECTION let tests make a worker misbehave on chosen images:
 * VS_FAULT_SCAN="ACTION:NAME[,ACTION:NAME]..." makes a worker (never the in-process
 * path) abort ("crash"), hang forever ("hang") or wait a second first ("slow") when
 * given a file whose last path component is NAME.
 */
#ifndef VENUESCAN_SCAN_H
#define VENUESCAN_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"

#define VS_SCAN_TIMEOUT_DEFAULT 10.0 /* seconds per image */
#define VS_SCAN_JOBS_MAX 256

/*
 * Append the JSON object (no newline) for one decoded symbol of data[0..len) found in
 * file to out, and store its status in *status (may be NULL).  trust may be NULL (every
 * VSC1 code is then unknown_issuer); now is the time expiry is judged at.  Fails only
 * when out reaches its maximum size (VS_ETOOBIG).
 */
int vs_scan_describe(const char *file, const unsigned char *data, size_t len,
		     const struct vs_trust_set *trust, int64_t now, struct vs_buf *out,
		     enum vs_code_status *status);

struct vs_scan_options {
	const struct vs_trust_set *trust; /* may be NULL */
	int64_t now;                      /* unix seconds expiry is judged at */
	int jobs;     /* worker processes, 1..VS_SCAN_JOBS_MAX; 1 decodes in this process */
	double timeout; /* seconds allowed per image (workers only; > 0) */
};

enum vs_scan_outcome {
	VS_SCAN_DECODED,    /* the image was read and searched (it may hold no code) */
	VS_SCAN_UNREADABLE, /* missing, not a PNG/PGM, truncated, too large */
	VS_SCAN_FAILED,     /* the decoder reported an error */
	VS_SCAN_TIMEOUT,    /* the worker overran the time limit and was killed */
	VS_SCAN_CRASHED,    /* the worker died while decoding this image */
};

/* One file's result.  Owned by vs_scan_files(); valid only during the report call. */
struct vs_scan_file_result {
	enum vs_scan_outcome outcome;
	size_t ncodes;       /* symbols found */
	size_t nvalid;       /* of which status "ok" */
	const char *json;    /* ncodes JSON lines, each ending in "\n" ("" when none) */
	size_t json_len;
	const char *message; /* one line naming the file, for outcomes other than DECODED */
};

/*
 * Called once per file, in input order (index 0, 1, ...), whatever order the workers
 * finish in.  A negative return stops the run and is returned by vs_scan_files().
 */
typedef int (*vs_scan_report_fn)(void *ctx, size_t index, const char *file,
				 const struct vs_scan_file_result *r);

/*
 * Decode and verify every QR code in files[0..n) and report each file.  Files that
 * cannot be scanned are reported, not failed on; an image whose worker is killed or
 * dies is not retried.  With jobs > 1 this forks min(jobs, n) worker processes (after
 * flushing stdio), ignores SIGPIPE while they run, and reaps them all before
 * returning; a worker leaves with _exit() and never writes to stdout.  Returns 0, the
 * report function's negative value, or VS_EIO when processes or pipes cannot be made.
 */
int vs_scan_files(const char *const *files, size_t n, const struct vs_scan_options *opt,
		  vs_scan_report_fn report, void *ctx);

/* A short word for an outcome: "decoded", "unreadable", "failed", "timeout", "crashed". */
const char *vs_scan_outcome_name(enum vs_scan_outcome o);

#endif

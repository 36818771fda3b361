/*
 * Scanning images for venue codes.  One image at a time is simple: read it, let ZBar find
 * the symbols, verify each and print it as a JSON line.  The work here is doing that for
 * many images on every core without trusting ZBar: decoding runs in forked worker
 * processes, each with its own decoder, fed one file index at a time over a pipe and
 * answering with one framed message per file.  The parent polls the answer pipes, kills a
 * worker that overruns the time limit, reaps and replaces one that dies, and reports the
 * files strictly in input order, holding back any that finish early.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <jansson.h>

#include "venuescan/error.h"
#include "venuescan/foreign.h"
#include "venuescan/image.h"
#include "venuescan/payload.h"
#include "venuescan/qr.h"
#include "venuescan/scan.h"

/* Largest answer a worker may send for one image (JSON lines and message). */
#define WIRE_MAX ((size_t)256 << 20)

const char *vs_scan_outcome_name(enum vs_scan_outcome o)
{
	switch (o) {
	case VS_SCAN_DECODED: return "decoded";
	case VS_SCAN_UNREADABLE: return "unreadable";
	case VS_SCAN_FAILED: return "failed";
	case VS_SCAN_TIMEOUT: return "timeout";
	case VS_SCAN_CRASHED: return "crashed";
	}
	return "unknown";
}

/* --- one symbol as JSON ---------------------------------------------------------------- */

/*
 * The length of the well-formed UTF-8 sequence at s[0..len), or 0 when it is not one
 * (stray continuation byte, truncated, overlong, surrogate, beyond U+10FFFF).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t need, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static int utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if (!(n = utf8_seq_len(s + i, len - i)))
			return 0;
		i += n;
	}
	return 1;
}

/* Append s as a JSON string, each byte of an invalid UTF-8 sequence becoming U+FFFD. */
static int add_json_text(struct vs_buf *out, const unsigned char *s, size_t len)
{
	struct vs_buf fixed = VS_BUF_INIT;
	size_t i = 0, n;
	int rc;

	if (utf8_ok(s, len))
		return vs_buf_add_json_string(out, (const char *)s, len);
	while (i < len) {
		n = utf8_seq_len(s + i, len - i);
		if (n)
			vs_buf_add(&fixed, s + i, n);
		else
			vs_buf_add(&fixed, "\xef\xbf\xbd", 3);
		i += n ? n : 1;
	}
	rc = vs_buf_add_json_string(out, fixed.data, fixed.len);
	vs_buf_release(&fixed);
	return rc;
}

/* Append the RFC 4648 base64 (padded) of data as a JSON string. */
static int add_json_base64(struct vs_buf *out, const unsigned char *data, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	int rc = vs_buf_addc(out, '"');

	for (i = 0; !rc && i < len; i += 3) {
		unsigned long v = (unsigned long)data[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned long)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		q[0] = alphabet[v >> 18 & 63];
		q[1] = alphabet[v >> 12 & 63];
		q[2] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? alphabet[v & 63] : '=';
		rc = vs_buf_add(out, q, 4);
	}
	return rc ? rc : vs_buf_addc(out, '"');
}

/*
 * Append a JSON object produced by another module (claims, foreign fields) as it is, or
 * null when it is not one well-formed JSON object.  Line breaks and tabs can only be
 * whitespace between tokens in well-formed JSON, so dropping them keeps one line.
 */
static int add_json_object(struct vs_buf *out, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root;
	size_t i, run = 0;
	int rc = 0;

	root = text ? json_loadb(text, len, 0, &jerr) : NULL;
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return vs_buf_adds(out, "null");
	}
	json_decref(root);
	for (i = 0; !rc && i < len; i++) {
		if (text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
			continue;
		rc = vs_buf_add(out, text + run, i - run);
		run = i + 1;
	}
	return rc ? rc : vs_buf_add(out, text + run, len - run);
}

int vs_scan_describe(const char *file, const unsigned char *data, size_t len,
		     const struct vs_trust_set *trust, int64_t now, struct vs_buf *out,
		     enum vs_code_status *status)
{
	struct vs_venue_claims claims;
	enum vs_code_status st;
	char *claims_json = NULL, *fields = NULL;
	const char *format = NULL;
	int rc, has_claims;

	memset(&claims, 0, sizeof(claims));
	st = vs_venue_code_verify((const char *)data, len, trust, now, &claims, &claims_json);
	has_claims = st != VS_CODE_FOREIGN && st != VS_CODE_MALFORMED;
	if (st == VS_CODE_FOREIGN)
		format = vs_foreign_identify(data, len, &fields);

	if ((rc = vs_buf_adds(out, "{\"file\":")) ||
	    (rc = add_json_text(out, (const unsigned char *)file, strlen(file))) ||
	    (rc = vs_buf_adds(out, ",\"payload\":")) ||
	    (rc = add_json_text(out, data, len)) ||
	    (rc = vs_buf_addf(out, ",\"valid\":%s,\"status\":\"%s\",\"claims\":",
			      st == VS_CODE_OK ? "true" : "false", vs_code_status_name(st))))
		goto out;
	if (has_claims && claims_json)
		rc = add_json_object(out, claims_json, strlen(claims_json));
	else
		rc = vs_buf_adds(out, "null");
	if (!rc && format) {
		if (!(rc = vs_buf_addf(out, ",\"format\":\"%s\",\"fields\":", format)))
			rc = add_json_object(out, fields, fields ? strlen(fields) : 0);
	}
	if (!rc && !utf8_ok(data, len)) {
		if (!(rc = vs_buf_adds(out, ",\"payload_base64\":")))
			rc = add_json_base64(out, data, len);
	}
	if (!rc)
		rc = vs_buf_addc(out, '}');
	if (!rc && status)
		*status = st;
out:
	if (has_claims)
		vs_venue_claims_release(&claims);
	free(claims_json);
	free(fields);
	return rc;
}

/* --- one image ------------------------------------------------------------------------- */

struct file_result {
	enum vs_scan_outcome outcome;
	size_t ncodes;
	size_t nvalid;
	struct vs_buf json;
	char *message;
	int done;
};

static void file_result_release(struct file_result *r)
{
	vs_buf_release(&r->json);
	free(r->message);
	r->message = NULL;
}

/* A message that names file, even when the module that failed did not. */
static char *message_naming(const char *file, const char *msg)
{
	if (strstr(msg, file))
		return vs_xstrdup(msg);
	return vs_xasprintf("'%s': %s", file, msg);
}

#ifdef VS_FAULT_INJECTION
/* The VS_FAULT_SCAN action ("crash", "hang") set for file's base name, or NULL. */
static const char *fault_for(const char *file)
{
	static char action[16];
	const char *spec = getenv("VS_FAULT_SCAN"), *base = strrchr(file, '/');
	size_t blen;

	base = base ? base + 1 : file;
	blen = strlen(base);
	while (spec && *spec) {
		const char *colon = strchr(spec, ':'), *end = strchr(spec, ',');
		size_t alen;

		if (!end)
			end = spec + strlen(spec);
		if (colon && colon < end && (size_t)(end - colon - 1) == blen &&
		    !memcmp(colon + 1, base, blen) && (alen = (size_t)(colon - spec)) < 16) {
			memcpy(action, spec, alen);
			action[alen] = '\0';
			return action;
		}
		spec = *end ? end + 1 : end;
	}
	return NULL;
}

static void fault_inject(const char *file)
{
	const char *action = fault_for(file);

	if (!action)
		return;
	if (!strcmp(action, "crash"))
		abort();
	if (!strcmp(action, "hang"))
		for (;;)
			pause();
	if (!strcmp(action, "slow"))
		sleep(1);
}
#endif

static void scan_one(struct vs_qr_decoder *dec, const char *file,
		     const struct vs_scan_options *opt, struct file_result *r)
{
	struct vs_image img = { 0, 0, NULL };
	struct vs_qr_symbol *syms = NULL;
	size_t nsyms = 0, i;
	int rc;

	vs_buf_init(&r->json, WIRE_MAX / 2);
	r->message = NULL;
	r->ncodes = r->nvalid = 0;
	if ((rc = vs_image_read(file, &img)) != 0) {
		r->outcome = VS_SCAN_UNREADABLE;
		r->message = message_naming(file, vs_error_message());
		goto out;
	}
	if (!dec) {
		r->outcome = VS_SCAN_FAILED;
		r->message = vs_xasprintf("'%s': the QR decoder could not be started", file);
		goto out;
	}
	if ((rc = vs_qr_decode(dec, &img, &syms, &nsyms)) != 0) {
		r->outcome = VS_SCAN_FAILED;
		r->message = message_naming(file, vs_error_message());
		goto out;
	}
	r->outcome = VS_SCAN_DECODED;
	for (i = 0; i < nsyms; i++) {
		enum vs_code_status st;

		if ((rc = vs_scan_describe(file, syms[i].data, syms[i].len, opt->trust, opt->now,
					   &r->json, &st)) != 0 ||
		    (rc = vs_buf_addc(&r->json, '\n')) != 0) {
			r->outcome = VS_SCAN_FAILED;
			r->message = message_naming(file, vs_error_message());
			vs_buf_reset(&r->json);
			r->ncodes = r->nvalid = 0;
			goto out;
		}
		r->ncodes++;
		if (st == VS_CODE_OK)
			r->nvalid++;
	}
out:
	vs_qr_symbols_free(syms, nsyms);
	vs_image_release(&img);
}

static int report_one(vs_scan_report_fn report, void *ctx, size_t index, const char *file,
		      const struct file_result *r)
{
	struct vs_scan_file_result pub;

	pub.outcome = r->outcome;
	pub.ncodes = r->ncodes;
	pub.nvalid = r->nvalid;
	pub.json = r->json.data ? r->json.data : "";
	pub.json_len = r->json.len;
	pub.message = r->message ? r->message : "";
	return report(ctx, index, file, &pub);
}

static int scan_in_process(const char *const *files, size_t n,
			   const struct vs_scan_options *opt, vs_scan_report_fn report,
			   void *ctx)
{
	struct vs_qr_decoder *dec = NULL;
	struct file_result r;
	size_t i;
	int rc = 0;

	if (vs_qr_decoder_new(&dec) != 0)
		dec = NULL; /* every file then reports the decoder's error */
	for (i = 0; i < n && rc >= 0; i++) {
		scan_one(dec, files[i], opt, &r);
		rc = report_one(report, ctx, i, files[i], &r);
		file_result_release(&r);
	}
	vs_qr_decoder_free(dec);
	return rc < 0 ? rc : 0;
}

/* --- the worker pool ------------------------------------------------------------------- */

/* The header of a worker's answer; json_len bytes of JSON lines and msg_len of message follow. */
struct wire_header {
	uint64_t index;
	uint64_t outcome;
	uint64_t ncodes;
	uint64_t nvalid;
	uint64_t json_len;
	uint64_t msg_len;
};

struct worker {
	pid_t pid;          /* 0: no process */
	int task_fd;        /* we write file indices here */
	int result_fd;      /* and read answers here */
	size_t busy;        /* index of the file being decoded, or SIZE_MAX when idle */
	double deadline;    /* monotonic seconds by which the answer must have come */
	struct vs_buf in;   /* answer bytes received so far */
};

struct pool {
	const char *const *files;
	size_t n;
	const struct vs_scan_options *opt;
	struct worker *w;
	size_t nw;
	struct file_result *results;
};

static double monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Read exactly len bytes; 0 on success, -1 at end of file or on error. */
static int read_all(int fd, void *data, size_t len)
{
	char *p = data;

	while (len) {
		ssize_t k = read(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The body of a worker process: answer file indices until the task pipe closes. */
static void worker_main(int task_fd, int result_fd, const char *const *files,
			const struct vs_scan_options *opt)
{
	struct vs_qr_decoder *dec = NULL;
	struct vs_buf msg = VS_BUF_INIT;
	uint64_t index;

	if (vs_qr_decoder_new(&dec) != 0)
		dec = NULL;
	while (read_all(task_fd, &index, sizeof(index)) == 0) {
		struct file_result r;
		struct wire_header h;

#ifdef VS_FAULT_INJECTION
		fault_inject(files[index]);
#endif
		scan_one(dec, files[index], opt, &r);
		memset(&h, 0, sizeof(h));
		h.index = index;
		h.outcome = (uint64_t)r.outcome;
		h.ncodes = r.ncodes;
		h.nvalid = r.nvalid;
		h.json_len = r.json.len;
		h.msg_len = r.message ? strlen(r.message) : 0;
		vs_buf_reset(&msg);
		vs_buf_add(&msg, &h, sizeof(h));
		vs_buf_add(&msg, r.json.data, r.json.len);
		vs_buf_add(&msg, r.message, h.msg_len);
		file_result_release(&r);
		if (write_all(result_fd, msg.data, msg.len) != 0)
			break;
	}
	vs_buf_release(&msg);
	vs_qr_decoder_free(dec);
}

static int worker_spawn(struct pool *p, size_t k)
{
	struct worker *w = &p->w[k];
	int task[2] = { -1, -1 }, res[2] = { -1, -1 };
	pid_t pid;

	if (pipe(task) != 0 || pipe(res) != 0) {
		int err = errno;
		close_fd(&task[0]);
		close_fd(&task[1]);
		return vs_error_set(VS_EIO, "cannot make a pipe for a decoder process: %s",
				    strerror(err));
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		int err = errno;
		close_fd(&task[0]);
		close_fd(&task[1]);
		close_fd(&res[0]);
		close_fd(&res[1]);
		return vs_error_set(VS_EIO, "cannot start a decoder process: %s", strerror(err));
	}
	if (pid == 0) {
		static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

		/* Only our own pipe ends stay open, so the parent sees EOF when we die. */
		for (size_t j = 0; j < p->nw; j++) {
			close_fd(&p->w[j].task_fd);
			close_fd(&p->w[j].result_fd);
		}
		close(task[1]);
		close(res[0]);
		for (size_t s = 0; s < sizeof(sigs) / sizeof(sigs[0]); s++)
			signal(sigs[s], SIG_DFL);
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a hung worker must not outlive us */
		if (getppid() == 1)
			_exit(0);
#endif
		worker_main(task[0], res[1], p->files, p->opt);
		_exit(0);
	}
	close(task[0]);
	close(res[1]);
	w->pid = pid;
	w->task_fd = task[1];
	w->result_fd = res[0];
	w->busy = SIZE_MAX;
	vs_buf_init(&w->in, WIRE_MAX);
	return 0;
}

/* Stop worker k (killing it when kill_it), reap it, and describe how it ended. */
static char *worker_stop(struct pool *p, size_t k, int kill_it)
{
	struct worker *w = &p->w[k];
	int st = 0;
	char *how;

	close_fd(&w->task_fd);
	close_fd(&w->result_fd);
	if (kill_it)
		kill(w->pid, SIGKILL);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st))
		how = vs_xasprintf("signal %d, %s", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		how = vs_xasprintf("exit status %d", WEXITSTATUS(st));
	w->pid = 0;
	w->busy = SIZE_MAX;
	vs_buf_release(&w->in);
	return how;
}

/* Record that worker k's file ended badly, and put a fresh worker in its place. */
static int worker_failed(struct pool *p, size_t k, enum vs_scan_outcome outcome, int more)
{
	struct worker *w = &p->w[k];
	size_t index = w->busy;
	struct file_result *r = &p->results[index];
	const char *file = p->files[index];
	char *how = worker_stop(p, k, outcome == VS_SCAN_TIMEOUT);

	vs_buf_init(&r->json, 0);
	r->outcome = outcome;
	r->ncodes = r->nvalid = 0;
	if (outcome == VS_SCAN_TIMEOUT)
		r->message = vs_xasprintf("'%s': decoding took longer than %g s; decoder stopped",
					  file, p->opt->timeout);
	else
		r->message = vs_xasprintf("'%s': decoder process died (%s)", file, how);
	r->done = 1;
	free(how);
	return more ? worker_spawn(p, k) : 0;
}

/* Take a complete answer out of worker k's buffer, if there is one. */
static int worker_take_answer(struct pool *p, size_t k)
{
	struct worker *w = &p->w[k];
	struct wire_header h;
	struct file_result *r;

	if (w->in.len < sizeof(h))
		return 0;
	memcpy(&h, w->in.data, sizeof(h));
	if (h.index != w->busy || h.outcome > VS_SCAN_CRASHED || h.json_len > WIRE_MAX ||
	    h.msg_len > WIRE_MAX)
		return -1;
	if (w->in.len < sizeof(h) + h.json_len + h.msg_len)
		return 0;
	if (w->in.len != sizeof(h) + h.json_len + h.msg_len)
		return -1;
	r = &p->results[h.index];
	r->outcome = (enum vs_scan_outcome)h.outcome;
	r->ncodes = h.ncodes;
	r->nvalid = h.nvalid;
	vs_buf_init(&r->json, 0);
	vs_buf_add(&r->json, w->in.data + sizeof(h), h.json_len);
	r->message = h.msg_len ? vs_xstrndup(w->in.data + sizeof(h) + h.json_len, h.msg_len)
			       : NULL;
	r->done = 1;
	w->busy = SIZE_MAX;
	vs_buf_reset(&w->in);
	return 1;
}

/* Read what worker k has sent.  Returns 0, or -1 when it died or talked nonsense. */
static int worker_read(struct pool *p, size_t k)
{
	struct worker *w = &p->w[k];
	char chunk[65536];
	ssize_t got;

	got = read(w->result_fd, chunk, sizeof(chunk));
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (got <= 0 || vs_buf_add(&w->in, chunk, (size_t)got) != 0)
		return -1;
	return worker_take_answer(p, k) < 0 ? -1 : 0;
}

static int pool_run(struct pool *p, vs_scan_report_fn report, void *ctx)
{
	struct pollfd *pfd = vs_xcalloc(p->nw, sizeof(*pfd));
	size_t *pw = vs_xcalloc(p->nw, sizeof(*pw));
	size_t next_task = 0, next_report = 0, k;
	int rc = 0;

	for (k = 0; k < p->nw && !rc; k++)
		rc = worker_spawn(p, k);
	while (!rc) {
		size_t np = 0;
		double now = monotonic_now(), first = -1;
		int ms;

		for (k = 0; k < p->nw && !rc; k++) {
			struct worker *w = &p->w[k];
			uint64_t index = next_task;

			if (!w->pid || w->busy != SIZE_MAX || next_task >= p->n)
				continue;
			if (write_all(w->task_fd, &index, sizeof(index)) != 0) {
				/* It died while idle: replace it once and try again. */
				free(worker_stop(p, k, 1));
				if ((rc = worker_spawn(p, k)) != 0)
					break;
				if (write_all(w->task_fd, &index, sizeof(index)) != 0) {
					rc = vs_error_set(VS_EIO, "a new decoder process died at once");
					break;
				}
			}
			w->busy = next_task++;
			w->deadline = now + p->opt->timeout;
		}
		while (!rc && next_report < p->n && p->results[next_report].done) {
			rc = report_one(report, ctx, next_report, p->files[next_report],
					&p->results[next_report]);
			file_result_release(&p->results[next_report]);
			next_report++;
		}
		if (rc || next_report == p->n)
			break;

		for (k = 0; k < p->nw; k++) {
			if (!p->w[k].pid || p->w[k].busy == SIZE_MAX)
				continue;
			pfd[np].fd = p->w[k].result_fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			pw[np++] = k;
			if (first < 0 || p->w[k].deadline < first)
				first = p->w[k].deadline;
		}
		if (!np) {
			rc = vs_error_set(VS_EIO, "no decoder process left to scan with");
			break;
		}
		ms = first <= now ? 0 : (int)((first - now) * 1000.0) + 1;
		if (poll(pfd, np, ms) < 0 && errno != EINTR) {
			rc = vs_error_set(VS_EIO, "poll: %s", strerror(errno));
			break;
		}
		for (size_t i = 0; i < np && !rc; i++) {
			if (!pfd[i].revents)
				continue;
			if (worker_read(p, pw[i]) != 0)
				rc = worker_failed(p, pw[i], VS_SCAN_CRASHED, next_task < p->n);
		}
		now = monotonic_now();
		for (k = 0; k < p->nw && !rc; k++)
			if (p->w[k].pid && p->w[k].busy != SIZE_MAX && p->w[k].deadline <= now)
				rc = worker_failed(p, k, VS_SCAN_TIMEOUT, next_task < p->n);
	}
	for (k = 0; k < p->nw; k++)
		if (p->w[k].pid)
			free(worker_stop(p, k, p->w[k].busy != SIZE_MAX));
	free(pfd);
	free(pw);
	return rc;
}

int vs_scan_files(const char *const *files, size_t n, const struct vs_scan_options *opt,
		  vs_scan_report_fn report, void *ctx)
{
	struct sigaction ign, old;
	struct pool p;
	int rc;

	if (opt->jobs < 1 || opt->jobs > VS_SCAN_JOBS_MAX || !(opt->timeout > 0))
		return vs_error_set(VS_EINVAL, "scan: jobs must be 1 to %d and timeout above 0",
				    VS_SCAN_JOBS_MAX);
	if (n == 0)
		return 0;
	if (opt->jobs == 1)
		return scan_in_process(files, n, opt, report, ctx);

	memset(&p, 0, sizeof(p));
	p.files = files;
	p.n = n;
	p.opt = opt;
	p.nw = (size_t)opt->jobs < n ? (size_t)opt->jobs : n;
	p.w = vs_xcalloc(p.nw, sizeof(*p.w));
	for (size_t k = 0; k < p.nw; k++) {
		p.w[k].task_fd = p.w[k].result_fd = -1;
		p.w[k].busy = SIZE_MAX;
	}
	p.results = vs_xcalloc(n, sizeof(*p.results));

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	rc = pool_run(&p, report, ctx);
	sigaction(SIGPIPE, &old, NULL);

	for (size_t i = 0; i < n; i++)
		file_result_release(&p.results[i]);
	free(p.results);
	free(p.w);
	return rc;
}

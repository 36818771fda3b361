/*
 * The code service's HTTP layer (libmicrohttpd): routing, strict JSON request parsing
 * (jansson), authentication of operators, the verified-payload cache, Prometheus metrics,
 * and the server's life from listening to draining.  A request that writes is parsed and
 * checked on an HTTP thread, its connection suspended, and its job handed to the store's
 * writer (serve_store.c); the writer resumes the connection after the commit and the
 * HTTP thread sends the answer, so no thread waits on the disk and one commit answers
 * every request that arrived while the previous commit was being written.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>

#include "venuescan/audit.h"
#include "audit_int.h"
#include "venuescan/error.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"
#include "venuescan/rules.h"
#include "venuescan/serve.h"
#include "venuescan/time.h"
#include "serve_int.h"

/* ---- metrics ------------------------------------------------------------------------ */

enum route { R_SCAN, R_CODE, R_ASSIGN, R_AUDIT, R_HEALTHZ, R_METRICS, R_OTHER, R_N };
static const char *const route_names[R_N] = { "/v1/scan", "/v1/code", "/v1/assign",
	"/v1/audit", "/healthz", "/metrics", "other" };
static const int statuses[] = { 200, 400, 401, 403, 404, 405, 413, 422, 500, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]))
/* Scan latency histogram upper bounds, seconds (Prometheus convention). */
static const double lat_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBOUNDS (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

struct metrics {
	_Atomic uint64_t requests[R_N][NSTATUS + 1]; /* last: any other status */
	_Atomic uint64_t lat[NBOUNDS + 1];
	_Atomic uint64_t lat_sum_ns;
	_Atomic uint64_t lat_count;
	_Atomic uint64_t cache_hits, cache_misses;
};

/* ---- verified payload cache ----------------------------------------------------------- */

#define CACHE_SHARDS 64
#define CACHE_SHARD_MAX 4096

struct cached_code {
	struct cached_code *next;
	uint64_t hash;
	struct vs_venue_claims claims; /* signature verified; exp is checked per scan */
	char payload[];
};

struct cache_shard {
	pthread_mutex_t mu;
	struct cached_code *b[256];
	size_t n;
};

/* ---- the server --------------------------------------------------------------------- */

struct reader {
	struct reader *next;
	sqlite3 *db;
	sqlite3_stmt *code, *token;
};

struct vs_server {
	struct MHD_Daemon *mhd;
	struct store *store;
	struct vs_rule_set *rules;
	struct vs_trust_set *trust;
	char *db_path;
	char *authority;
	char address[80];
	size_t body_max;
	int listen_fd;
	atomic_int draining;
	atomic_int inflight;
	struct metrics m;
	struct cache_shard cache[CACHE_SHARDS];
	pthread_mutex_t readers_mu;
	struct reader *readers;
	struct MHD_Response *healthz;
};

/* One request in progress. */
struct req {
	enum route route;
	struct vs_buf body;
	int too_big;
	int phase;             /* 0 reading, 1 queued to the writer, 2 answered by it */
	struct timespec t0;
	struct job job;
	struct MHD_Connection *conn;
	struct vs_server *srv;
	int status;            /* the status sent, for metrics */
};

static double elapsed_ns(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e9 + (double)(t1.tv_nsec - t0->tv_nsec);
}

static void count_request(struct vs_server *s, enum route r, int status)
{
	size_t i;

	for (i = 0; i < NSTATUS && statuses[i] != status; i++)
		;
	atomic_fetch_add(&s->m.requests[r][i], 1);
}

/* ---- responses ---------------------------------------------------------------------- */

static enum MHD_Result send_body(struct req *q, int status, char *body)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result r;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					q->route == R_SCAN || q->route == R_ASSIGN ? "POST" : "GET");
	if (status == 413 || (status == 503 && atomic_load(&q->srv->draining)))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	q->status = status;
	r = MHD_queue_response(q->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result send_error(struct req *q, int status, const char *error,
				  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(struct req *q, int status, const char *error,
				  const char *fmt, ...)
{
	struct vs_buf b = VS_BUF_INIT;
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	vs_buf_adds(&b, "{\"error\":");
	vs_buf_add_json_string(&b, error, strlen(error));
	vs_buf_adds(&b, ",\"detail\":");
	vs_buf_add_json_string(&b, detail, strlen(detail));
	vs_buf_adds(&b, "}\n");
	return send_body(q, status, vs_buf_detach(&b, NULL));
}

/* ---- strict JSON fields ------------------------------------------------------------- */

struct field {
	const char *name;
	int type;      /* JSON_STRING, JSON_REAL (any number) */
	int required;
	json_t *val;   /* set by check_fields */
};

/* Unknown fields, missing ones and wrong types are 400 naming the field. */
static int check_fields(struct req *q, json_t *obj, struct field *f, size_t n)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		send_error(q, 400, "bad request", "the body is not a JSON object");
		return -1;
	}
	json_object_foreach(obj, key, v) {
		size_t i;
		for (i = 0; i < n && strcmp(f[i].name, key); i++)
			;
		if (i == n) {
			send_error(q, 400, "bad request", "unknown field '%s'", key);
			return -1;
		}
		if ((f[i].type == JSON_STRING && !json_is_string(v)) ||
		    (f[i].type == JSON_REAL && !json_is_number(v))) {
			send_error(q, 400, "bad request", "field '%s': not a %s", key,
				   f[i].type == JSON_STRING ? "string" : "number");
			return -1;
		}
		f[i].val = v;
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].required && !f[i].val) {
			send_error(q, 400, "bad request", "field '%s': missing", f[i].name);
			return -1;
		}
	return 0;
}

/* A string field's text when it is 1..max bytes without control characters, else 400. */
static const char *text_field(struct req *q, const struct field *f, size_t max)
{
	const char *s = json_string_value(f->val);
	size_t len = json_string_length(f->val);

	if (len == 0 || len > max || strlen(s) != len) {
		send_error(q, 400, "bad request", "field '%s': must be 1 to %zu bytes of text",
			   f->name, max);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			send_error(q, 400, "bad request", "field '%s': control character",
				   f->name);
			return NULL;
		}
	return s;
}

static json_t *parse_body(struct req *q)
{
	json_error_t err;
	json_t *root = json_loadb(q->body.data ? q->body.data : "", q->body.len,
				  JSON_REJECT_DUPLICATES, &err);

	if (!root)
		send_error(q, 400, "malformed JSON", "line %d column %d: %s", err.line,
			   err.column, err.text);
	return root;
}

/* ---- payload verification with a cache -------------------------------------------- */

static uint64_t bytes_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static void claims_copy(struct vs_venue_claims *dst, const struct vs_venue_claims *src)
{
	*dst = *src;
	dst->name = vs_xstrdup(src->name);
	dst->area = vs_xstrdup(src->area);
	dst->iss = vs_xstrdup(src->iss);
}

/* Verify payload as scanned at ts; on ok, *claims is filled (caller releases). */
static enum vs_code_status verify_payload(struct vs_server *s, const char *payload, size_t len,
					  int64_t ts, struct vs_venue_claims *claims)
{
	uint64_t h = bytes_hash(payload, len);
	struct cache_shard *sh = &s->cache[h % CACHE_SHARDS];
	struct cached_code *c;
	enum vs_code_status st;

	pthread_mutex_lock(&sh->mu);
	for (c = sh->b[(h >> 8) & 255]; c; c = c->next)
		if (c->hash == h && !strcmp(c->payload, payload))
			break;
	if (c)
		claims_copy(claims, &c->claims);
	pthread_mutex_unlock(&sh->mu);
	if (c) {
		atomic_fetch_add(&s->m.cache_hits, 1);
		st = VS_CODE_OK;
	} else {
		atomic_fetch_add(&s->m.cache_misses, 1);
		memset(claims, 0, sizeof(*claims));
		st = vs_venue_code_verify(payload, len, s->trust, ts, claims, NULL);
		if (st != VS_CODE_OK && st != VS_CODE_EXPIRED) {
			vs_venue_claims_release(claims);
			return st;
		}
		/* The signature holds: remember it (expiry depends on the scan's time). */
		c = vs_xmalloc(sizeof(*c) + len + 1);
		c->hash = h;
		claims_copy(&c->claims, claims);
		memcpy(c->payload, payload, len + 1);
		pthread_mutex_lock(&sh->mu);
		if (sh->n < CACHE_SHARD_MAX) {
			c->next = sh->b[(h >> 8) & 255];
			sh->b[(h >> 8) & 255] = c;
			sh->n++;
			c = NULL;
		}
		pthread_mutex_unlock(&sh->mu);
		if (c) {
			vs_venue_claims_release(&c->claims);
			free(c);
		}
	}
	if (claims->has_exp && ts > claims->exp) {
		vs_venue_claims_release(claims);
		return VS_CODE_EXPIRED;
	}
	return VS_CODE_OK;
}

/* ---- readers ------------------------------------------------------------------------ */

static _Thread_local struct reader *tl_reader;
static _Thread_local struct vs_server *tl_reader_srv;

static struct reader *reader_get(struct vs_server *s)
{
	struct reader *r;

	if (tl_reader && tl_reader_srv == s)
		return tl_reader;
	r = vs_xcalloc(1, sizeof(*r));
	if (vs_serve_db_open(s->db_path, 1, &r->db) != 0 ||
	    sqlite3_prepare_v3(r->db, "SELECT color, reason, authority, since, since_offset"
			       " FROM persons WHERE person_id = ?", -1, SQLITE_PREPARE_PERSISTENT,
			       &r->code, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(r->db, "SELECT operator, role FROM tokens WHERE hash = ?", -1,
			       SQLITE_PREPARE_PERSISTENT, &r->token, NULL) != SQLITE_OK) {
		sqlite3_finalize(r->code);
		sqlite3_close(r->db);
		free(r);
		return NULL;
	}
	pthread_mutex_lock(&s->readers_mu);
	r->next = s->readers;
	s->readers = r;
	pthread_mutex_unlock(&s->readers_mu);
	tl_reader = r;
	tl_reader_srv = s;
	return r;
}

/* ---- routes ------------------------------------------------------------------------- */

static void suspend_conn(void *arg)
{
	struct req *q = arg;

	q->phase = 1;
	MHD_suspend_connection(q->conn);
}

static void job_done(struct job *j)
{
	struct req *q = j->arg;

	q->phase = 2;
	MHD_resume_connection(q->conn);
}

static enum MHD_Result submit(struct req *q)
{
	q->job.done = job_done;
	q->job.arg = q;
	if (store_submit(q->srv->store, &q->job, suspend_conn, q) != 0)
		return send_error(q, 503, "unavailable", "the service is shutting down");
	return MHD_YES;
}

static int parse_ts(struct req *q, const struct field *f, int64_t *ts, int *off)
{
	if (vs_time_parse(json_string_value(f->val), ts, off) != 0) {
		send_error(q, 400, "bad request", "field '%s': %s", f->name, vs_error_message());
		return -1;
	}
	return 0;
}

/* The checked fields of a scan request. */
struct scan_fields {
	char person[VS_SERVE_PERSON_MAX + 1];
	char payload[VS_PAYLOAD_MAX + 1];
	size_t payload_len;
	double lat, lon;
	char ts[64];
};

/*
 * The fast path for the common request: a flat object of exactly the five fields, ASCII
 * strings without escapes or control characters, JSON numbers.  Returns 0 with f filled,
 * or -1 for anything else — which the jansson path then parses and, if it is wrong,
 * reports field by field.  It accepts nothing jansson would refuse.
 */
static int scan_fast(const char *p, size_t n, struct scan_fields *f)
{
	static const char *const keys[5] = { "person_id", "payload", "lat", "lon", "ts" };
	const char *end = p + n;
	unsigned seen = 0;

#define WS() while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++
	WS();
	if (p == end || *p++ != '{')
		return -1;
	for (;;) {
		const char *k, *v;
		size_t klen, vlen;
		int i;

		WS();
		if (p == end || *p++ != '"')
			return -1;
		k = p;
		while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
			p++;
		klen = (size_t)(p - k);
		if (p == end || *p++ != '"')
			return -1;
		for (i = 0; i < 5 && (strlen(keys[i]) != klen || memcmp(keys[i], k, klen)); i++)
			;
		if (i == 5 || (seen & (1u << i)))
			return -1;
		seen |= 1u << i;
		WS();
		if (p == end || *p++ != ':')
			return -1;
		WS();
		if (i == 2 || i == 3) {
			char num[40], *e;
			double d;
			v = p;
			if (p < end && *p == '-')
				p++;
			if (p == end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end &&
							      p[1] >= '0' && p[1] <= '9'))
				return -1;
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (p < end && *p == '.') {
				if (++p == end || *p < '0' || *p > '9')
					return -1;
				while (p < end && *p >= '0' && *p <= '9')
					p++;
			}
			if (p < end && (*p == 'e' || *p == 'E'))
				return -1;
			vlen = (size_t)(p - v);
			if (vlen >= 16)
				return -1;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			d = strtod(num, &e);
			if (*e)
				return -1;
			*(i == 2 ? &f->lat : &f->lon) = d;
		} else {
			size_t max = i == 0 ? VS_SERVE_PERSON_MAX : i == 1 ? VS_PAYLOAD_MAX : 63;
			char *dst = i == 0 ? f->person : i == 1 ? f->payload : f->ts;
			if (p == end || *p++ != '"')
				return -1;
			for (v = p; p < end && *p != '"'; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
					return -1;
			vlen = (size_t)(p - v);
			if (p == end || vlen == 0 || vlen > max)
				return -1;
			p++;
			memcpy(dst, v, vlen);
			dst[vlen] = '\0';
			if (i == 1)
				f->payload_len = vlen;
		}
		WS();
		if (p == end)
			return -1;
		if (*p == '}') {
			p++;
			break;
		}
		if (*p++ != ',')
			return -1;
	}
	WS();
#undef WS
	return p == end && seen == 31 ? 0 : -1;
}

/* The jansson path: any valid request, and a 400 naming what is wrong with the rest. */
static int scan_slow(struct req *q, struct scan_fields *sf)
{
	struct field f[] = { { "person_id", JSON_STRING, 1, NULL },
			     { "payload", JSON_STRING, 1, NULL },
			     { "lat", JSON_REAL, 1, NULL },
			     { "lon", JSON_REAL, 1, NULL },
			     { "ts", JSON_STRING, 1, NULL } };
	const char *person;
	json_t *root = parse_body(q);
	int rc = -1;

	if (!root)
		return -1;
	if (check_fields(q, root, f, 5) || !(person = text_field(q, &f[0], VS_SERVE_PERSON_MAX)))
		goto out;
	if (json_string_length(f[1].val) > VS_PAYLOAD_MAX) {
		send_error(q, 422, "malformed", "the payload is longer than %d bytes",
			   VS_PAYLOAD_MAX);
		goto out;
	}
	if (json_string_length(f[4].val) >= sizeof(sf->ts)) {
		send_error(q, 400, "bad request", "field 'ts': not an ISO 8601 time");
		goto out;
	}
	snprintf(sf->person, sizeof(sf->person), "%s", person);
	sf->payload_len = json_string_length(f[1].val);
	memcpy(sf->payload, json_string_value(f[1].val), sf->payload_len + 1);
	sf->lat = json_number_value(f[2].val);
	sf->lon = json_number_value(f[3].val);
	snprintf(sf->ts, sizeof(sf->ts), "%s", json_string_value(f[4].val));
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static enum MHD_Result route_scan(struct req *q)
{
	struct scan_fields sf;
	struct vs_venue_claims claims;
	enum vs_code_status st;

	if (scan_fast(q->body.data ? q->body.data : "", q->body.len, &sf) != 0 &&
	    scan_slow(q, &sf) != 0)
		return MHD_YES; /* the error is sent */
	q->job.lat = sf.lat;
	q->job.lon = sf.lon;
	if (!(q->job.lat >= -90 && q->job.lat <= 90))
		return send_error(q, 400, "bad request", "field 'lat': not in [-90, 90]");
	if (!(q->job.lon >= -180 && q->job.lon <= 180))
		return send_error(q, 400, "bad request", "field 'lon': not in [-180, 180]");
	if (vs_time_parse(sf.ts, &q->job.ts, &q->job.ts_offset) != 0)
		return send_error(q, 400, "bad request", "field 'ts': %s", vs_error_message());
	st = verify_payload(q->srv, sf.payload, sf.payload_len, q->job.ts, &claims);
	if (st != VS_CODE_OK) {
		static const char *const why[] = {
			[VS_CODE_BAD_SIGNATURE] = "the venue code's signature does not verify",
			[VS_CODE_UNKNOWN_ISSUER] = "the venue code's issuer is not trusted",
			[VS_CODE_EXPIRED] = "the venue code had expired at the scan's time",
			[VS_CODE_MALFORMED] = "the payload is not a well-formed VSC1 venue code",
			[VS_CODE_FOREIGN] = "the payload is not a VSC1 venue code",
		};
		return send_error(q, 422, vs_code_status_name(st), "%s", why[st]);
	}
	q->job.kind = JOB_SCAN;
	memcpy(q->job.person_id, sf.person, sizeof(q->job.person_id));
	memcpy(q->job.venue_id, claims.id, sizeof(q->job.venue_id));
	q->job.venue_name = claims.name;
	q->job.venue_area = claims.area;
	q->job.venue_lat = claims.lat;
	q->job.venue_lon = claims.lon;
	claims.name = claims.area = NULL;
	vs_venue_claims_release(&claims);
	return submit(q);
}

/* The operator behind "Authorization: Bearer TOKEN", or a 401/403 sent. */
static int authenticate(struct req *q, const char *need_role, char **operator_name)
{
	const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char hash[32];
	struct reader *rd;
	int rc = -1;

	if (!h || strncmp(h, "Bearer ", 7) || !h[7]) {
		send_error(q, 401, "unauthorized", "an 'Authorization: Bearer TOKEN' header is"
			   " required");
		return -1;
	}
	crypto_hash_sha256(hash, (const unsigned char *)h + 7, strlen(h + 7));
	if (!(rd = reader_get(q->srv))) {
		send_error(q, 500, "internal", "cannot read the database");
		return -1;
	}
	sqlite3_reset(rd->token);
	sqlite3_bind_blob(rd->token, 1, hash, sizeof(hash), SQLITE_STATIC);
	switch (sqlite3_step(rd->token)) {
	case SQLITE_ROW:
		if (strcmp((const char *)sqlite3_column_text(rd->token, 1), need_role)) {
			send_error(q, 403, "forbidden", "operator '%s' has role '%s', not '%s'",
				   (const char *)sqlite3_column_text(rd->token, 0),
				   (const char *)sqlite3_column_text(rd->token, 1), need_role);
			break;
		}
		*operator_name = vs_xstrdup((const char *)sqlite3_column_text(rd->token, 0));
		rc = 0;
		break;
	case SQLITE_DONE:
		send_error(q, 401, "unauthorized", "unknown token");
		break;
	default:
		send_error(q, 500, "internal", "database: %s", sqlite3_errmsg(rd->db));
	}
	sqlite3_reset(rd->token);
	return rc;
}

static enum MHD_Result route_assign(struct req *q)
{
	struct field f[] = { { "person_id", JSON_STRING, 1, NULL },
			     { "color", JSON_STRING, 1, NULL },
			     { "reason", JSON_STRING, 1, NULL },
			     { "justification", JSON_STRING, 0, NULL },
			     { "authority", JSON_STRING, 0, NULL },
			     { "ts", JSON_STRING, 0, NULL } };
	const char *person, *reason, *just, *auth = NULL;
	char *op = NULL;
	json_t *root;
	enum MHD_Result r = MHD_YES;

	if (authenticate(q, "assign", &op))
		return MHD_YES;
	if (!(root = parse_body(q)))
		goto out;
	if (check_fields(q, root, f, 6) || !(person = text_field(q, &f[0], VS_SERVE_PERSON_MAX)))
		goto out;
	if (vs_color_parse(json_string_value(f[1].val), &q->job.color)) {
		r = send_error(q, 400, "bad request", "field 'color': %s", vs_error_message());
		goto out;
	}
	if (!(reason = text_field(q, &f[2], VS_SERVE_TEXT_MAX)))
		goto out;
	if (!f[3].val || !*json_string_value(f[3].val) ||
	    !json_string_value(f[3].val)[strspn(json_string_value(f[3].val), " \t")]) {
		r = send_error(q, 400, "bad request", "field 'justification': a manual assignment"
			       " needs a justification");
		goto out;
	}
	if (!(just = text_field(q, &f[3], VS_SERVE_TEXT_MAX)))
		goto out;
	if (f[4].val && !(auth = text_field(q, &f[4], VS_SERVE_TEXT_MAX)))
		goto out;
	if (f[5].val) {
		if (parse_ts(q, &f[5], &q->job.ts, &q->job.ts_offset))
			goto out;
	} else {
		q->job.ts = vs_time_now();
		q->job.ts_offset = 0;
	}
	q->job.kind = JOB_ASSIGN;
	snprintf(q->job.person_id, sizeof(q->job.person_id), "%s", person);
	q->job.reason = vs_xstrdup(reason);
	q->job.justification = vs_xstrdup(just);
	q->job.authority = vs_xstrdup(auth ? auth : op);
	q->job.operator_name = op;
	op = NULL;
	r = submit(q);
out:
	free(op);
	json_decref(root);
	return r;
}

static enum MHD_Result route_code(struct req *q, const char *id)
{
	struct reader *rd = reader_get(q->srv);
	struct vs_buf b = VS_BUF_INIT;
	char since[VS_TIME_TEXT_MAX];
	enum MHD_Result r;
	int x;

	if (!*id || strchr(id, '/'))
		return send_error(q, 404, "not found", "no such route");
	if (!rd)
		return send_error(q, 500, "internal", "cannot read the database");
	sqlite3_reset(rd->code);
	sqlite3_bind_text(rd->code, 1, id, -1, SQLITE_TRANSIENT);
	x = sqlite3_step(rd->code);
	if (x == SQLITE_DONE) {
		sqlite3_reset(rd->code);
		return send_error(q, 404, "not found", "no code for person '%.200s'", id);
	}
	if (x != SQLITE_ROW) {
		r = send_error(q, 500, "internal", "database: %s", sqlite3_errmsg(rd->db));
		sqlite3_reset(rd->code);
		return r;
	}
	vs_time_format(sqlite3_column_int64(rd->code, 3), sqlite3_column_int(rd->code, 4), since);
	vs_buf_adds(&b, "{\"person_id\":");
	vs_buf_add_json_string(&b, id, strlen(id));
	vs_buf_addf(&b, ",\"color\":\"%s\",\"reason\":", sqlite3_column_text(rd->code, 0));
	vs_buf_add_json_string(&b, (const char *)sqlite3_column_text(rd->code, 1),
			       (size_t)sqlite3_column_bytes(rd->code, 1));
	vs_buf_adds(&b, ",\"authority\":");
	vs_buf_add_json_string(&b, (const char *)sqlite3_column_text(rd->code, 2),
			       (size_t)sqlite3_column_bytes(rd->code, 2));
	vs_buf_addf(&b, ",\"since\":\"%s\"}\n", since);
	sqlite3_reset(rd->code);
	return send_body(q, 200, vs_buf_detach(&b, NULL));
}

/* GET /v1/audit?from=SEQ: JSON lines, read in pages so no read transaction stays open. */
struct audit_stream {
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t next;
	struct vs_buf page;
	size_t off;
	int done;
};

static void audit_stream_free(void *cls)
{
	struct audit_stream *a = cls;

	sqlite3_finalize(a->st);
	sqlite3_close(a->db);
	vs_buf_release(&a->page);
	free(a);
}

static int audit_fill(struct audit_stream *a)
{
	int x, rows = 0;

	vs_buf_reset(&a->page);
	a->off = 0;
	sqlite3_reset(a->st);
	sqlite3_bind_int64(a->st, 1, a->next);
	while ((x = sqlite3_step(a->st)) == SQLITE_ROW) {
		struct vs_audit_entry e;
		char hex[2 * VS_AUDIT_HASH_LEN + 1];

		vs_audit_entry_from_row(a->st, &e);
		if (sqlite3_column_bytes(a->st, VS_AUDIT_HASH_COLUMN) == VS_AUDIT_HASH_LEN)
			vs_audit_hex(sqlite3_column_blob(a->st, VS_AUDIT_HASH_COLUMN), hex);
		else
			hex[0] = '\0';
		vs_audit_entry_json(&a->page, &e);
		a->page.len--; /* the closing brace */
		vs_buf_addf(&a->page, ",\"hash\":\"%s\"}\n", hex);
		a->next = e.seq + 1;
		rows++;
	}
	sqlite3_reset(a->st);
	if (x != SQLITE_DONE)
		return -1;
	if (!rows)
		a->done = 1;
	return 0;
}

static ssize_t audit_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct audit_stream *a = cls;
	size_t n;

	(void)pos;
	if (a->off == a->page.len) {
		if (a->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (audit_fill(a) != 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (a->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	n = a->page.len - a->off;
	if (n > max)
		n = max;
	memcpy(buf, a->page.data + a->off, n);
	a->off += n;
	return (ssize_t)n;
}

static enum MHD_Result route_audit(struct req *q)
{
	const char *from = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "from");
	struct audit_stream *a;
	struct MHD_Response *resp;
	int64_t seq = 1;
	enum MHD_Result r;

	if (from) {
		char *end;
		errno = 0;
		seq = strtoll(from, &end, 10);
		if (errno || end == from || *end || seq < 1)
			return send_error(q, 400, "bad request", "field 'from': not a seq (a whole"
					  " number from 1) '%.40s'", from);
	}
	a = vs_xcalloc(1, sizeof(*a));
	a->next = seq;
	vs_buf_init(&a->page, 0);
	if (vs_serve_db_open(q->srv->db_path, 1, &a->db) != 0 ||
	    sqlite3_prepare_v2(a->db, "SELECT " VS_AUDIT_COLUMNS
			       " FROM audit WHERE seq >= ? ORDER BY seq LIMIT 512", -1,
			       &a->st, NULL) != SQLITE_OK) {
		audit_stream_free(a);
		return send_error(q, 500, "internal", "cannot read the audit log");
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, audit_read, a,
						 audit_stream_free);
	if (!resp) {
		audit_stream_free(a);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	q->status = 200;
	r = MHD_queue_response(q->conn, 200, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result route_metrics(struct req *q)
{
	struct vs_server *s = q->srv;
	struct vs_buf b = VS_BUF_INIT;
	uint64_t cum = 0;

	vs_buf_adds(&b, "# HELP venuescan_http_requests_total HTTP requests answered, by route"
		    " and status.\n# TYPE venuescan_http_requests_total counter\n");
	for (int r = 0; r < R_N; r++)
		for (size_t i = 0; i <= NSTATUS; i++) {
			uint64_t n = atomic_load(&s->m.requests[r][i]);
			if (n)
				vs_buf_addf(&b, "venuescan_http_requests_total{route=\"%s\","
					    "status=\"%s%d\"} %llu\n", route_names[r],
					    i < NSTATUS ? "" : "other", i < NSTATUS ? statuses[i] : 0,
					    (unsigned long long)n);
		}
	vs_buf_adds(&b, "# HELP venuescan_scan_latency_seconds Time from a scan request's"
		    " arrival to its answer, durable write included.\n"
		    "# TYPE venuescan_scan_latency_seconds histogram\n");
	for (size_t i = 0; i <= NBOUNDS; i++) {
		cum += atomic_load(&s->m.lat[i]);
		if (i < NBOUNDS)
			vs_buf_addf(&b, "venuescan_scan_latency_seconds_bucket{le=\"%g\"} %llu\n",
				    lat_bounds[i], (unsigned long long)cum);
		else
			vs_buf_addf(&b, "venuescan_scan_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
				    (unsigned long long)cum);
	}
	vs_buf_addf(&b, "venuescan_scan_latency_seconds_sum %.9f\n"
		    "venuescan_scan_latency_seconds_count %llu\n",
		    (double)atomic_load(&s->m.lat_sum_ns) / 1e9,
		    (unsigned long long)atomic_load(&s->m.lat_count));
	vs_buf_addf(&b, "# HELP venuescan_audit_entries Length of the audit log.\n"
		    "# TYPE venuescan_audit_entries gauge\nvenuescan_audit_entries %lld\n"
		    "# HELP venuescan_persons Persons holding a code.\n"
		    "# TYPE venuescan_persons gauge\nvenuescan_persons %llu\n"
		    "# HELP venuescan_commits_total Write transactions committed.\n"
		    "# TYPE venuescan_commits_total counter\nvenuescan_commits_total %llu\n"
		    "# HELP venuescan_committed_requests_total Requests whose writes were"
		    " committed.\n# TYPE venuescan_committed_requests_total counter\n"
		    "venuescan_committed_requests_total %llu\n"
		    "# HELP venuescan_payload_cache_total Venue-code verifications by cache"
		    " outcome.\n# TYPE venuescan_payload_cache_total counter\n"
		    "venuescan_payload_cache_total{outcome=\"hit\"} %llu\n"
		    "venuescan_payload_cache_total{outcome=\"miss\"} %llu\n",
		    (long long)store_audit_length(s->store),
		    (unsigned long long)store_persons(s->store),
		    (unsigned long long)store_commits(s->store),
		    (unsigned long long)store_committed_jobs(s->store),
		    (unsigned long long)atomic_load(&s->m.cache_hits),
		    (unsigned long long)atomic_load(&s->m.cache_misses));
	{
		char *body = vs_buf_detach(&b, NULL);
		struct MHD_Response *resp = MHD_create_response_from_buffer(
			strlen(body), body, MHD_RESPMEM_MUST_FREE);
		enum MHD_Result r;
		if (!resp) {
			free(body);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; version=0.0.4");
		q->status = 200;
		r = MHD_queue_response(q->conn, 200, resp);
		MHD_destroy_response(resp);
		return r;
	}
}

static enum route route_of(const char *url)
{
	if (!strcmp(url, "/v1/scan"))
		return R_SCAN;
	if (!strncmp(url, "/v1/code/", 9))
		return R_CODE;
	if (!strcmp(url, "/v1/assign"))
		return R_ASSIGN;
	if (!strcmp(url, "/v1/audit"))
		return R_AUDIT;
	if (!strcmp(url, "/healthz"))
		return R_HEALTHZ;
	if (!strcmp(url, "/metrics"))
		return R_METRICS;
	return R_OTHER;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct vs_server *s = cls;
	struct req *q = *con_cls;
	int is_post = !strcmp(method, MHD_HTTP_METHOD_POST);
	int is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);

	(void)version;
	if (!q) {
		const char *cl;
		q = vs_xcalloc(1, sizeof(*q));
		clock_gettime(CLOCK_MONOTONIC, &q->t0);
		q->route = route_of(url);
		q->conn = conn;
		q->srv = s;
		vs_buf_init(&q->body, s->body_max);
		*con_cls = q;
		atomic_fetch_add(&s->inflight, 1);
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > s->body_max) {
			q->too_big = 1;
			return send_error(q, 413, "too large", "the body is over %zu bytes",
					  s->body_max);
		}
		return MHD_YES;
	}
	if (q->status) { /* answered already (413 before the body) */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!q->too_big && vs_buf_add(&q->body, upload, *upload_size) != 0)
			q->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->phase == 2) {
		char *body = q->job.body;
		q->job.body = NULL;
		return send_body(q, q->job.http_status, body);
	}
	if (q->phase == 1) /* resumed spuriously; still waiting for the writer */
		return MHD_YES;
	if (q->too_big)
		return send_error(q, 413, "too large", "the body is over %zu bytes", s->body_max);
	if (q->route == R_HEALTHZ && is_get) {
		q->status = 200;
		return MHD_queue_response(conn, 200, s->healthz);
	}
	if (atomic_load(&s->draining))
		return send_error(q, 503, "unavailable", "the service is shutting down");
	switch (q->route) {
	case R_SCAN:
		return is_post ? route_scan(q) : send_error(q, 405, "method not allowed",
							     "%s needs POST", url);
	case R_ASSIGN:
		return is_post ? route_assign(q) : send_error(q, 405, "method not allowed",
							       "%s needs POST", url);
	case R_CODE:
		return is_get ? route_code(q, url + 9) : send_error(q, 405, "method not allowed",
								     "%s needs GET", url);
	case R_AUDIT:
		return is_get ? route_audit(q) : send_error(q, 405, "method not allowed",
							     "%s needs GET", url);
	case R_METRICS:
		return is_get ? route_metrics(q) : send_error(q, 405, "method not allowed",
							       "%s needs GET", url);
	case R_HEALTHZ:
		return send_error(q, 405, "method not allowed", "%s needs GET", url);
	default:
		return send_error(q, 404, "not found", "no route '%.200s'", url);
	}
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct vs_server *s = cls;
	struct req *q = *con_cls;

	(void)conn;
	(void)toe;
	if (!q)
		return;
	if (q->status)
		count_request(s, q->route, q->status);
	if (q->route == R_SCAN && q->status) {
		double ns = elapsed_ns(&q->t0);
		size_t i;
		for (i = 0; i < NBOUNDS && ns > lat_bounds[i] * 1e9; i++)
			;
		atomic_fetch_add(&s->m.lat[i], 1);
		atomic_fetch_add(&s->m.lat_sum_ns, (uint64_t)ns);
		atomic_fetch_add(&s->m.lat_count, 1);
	}
	job_release(&q->job);
	vs_buf_release(&q->body);
	free(q);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

/* ---- life ----------------------------------------------------------------------------- */

static int listen_on(const char *spec, int *fd_out, char *addr_out, size_t addr_len,
		     int *is_v6)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_storage ss;
	socklen_t sl;
	long port;
	char *end;
	int fd = -1, one = 1;
	size_t hl;

	memset(&ss, 0, sizeof(ss));
	if (!colon)
		return vs_error_set(VS_EINVAL, "listen address '%s': not ADDRESS:PORT", spec);
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return vs_error_set(VS_EINVAL, "listen address '%s': no address", spec);
	memcpy(host, spec, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
		return vs_error_set(VS_EINVAL, "listen address '%s': port is not 0-65535", spec);
	*is_v6 = 0;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in6);
		*is_v6 = 1;
	} else {
		return vs_error_set(VS_EINVAL, "listen address '%s': '%s' is not a numeric IP"
				    " address", spec, host);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return vs_error_set(VS_EIO, "listen: socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 4096) != 0) {
		int e = errno;
		close(fd);
		return vs_error_set(VS_EIO, "listen on '%s': %s", spec, strerror(e));
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (*is_v6)
		snprintf(addr_out, addr_len, "[%s]:%u", host,
			 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	else
		snprintf(addr_out, addr_len, "%s:%u", host,
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	*fd_out = fd;
	return 0;
}

static void close_readers(struct vs_server *s)
{
	for (struct reader *r = s->readers, *n; r; r = n) {
		n = r->next;
		sqlite3_finalize(r->code);
		sqlite3_finalize(r->token);
		sqlite3_close(r->db);
		free(r);
	}
	s->readers = NULL;
}

static void server_free(struct vs_server *s)
{
	close_readers(s);
	for (int i = 0; i < CACHE_SHARDS; i++) {
		for (int k = 0; k < 256; k++)
			for (struct cached_code *c = s->cache[i].b[k], *n; c; c = n) {
				n = c->next;
				vs_venue_claims_release(&c->claims);
				free(c);
			}
		pthread_mutex_destroy(&s->cache[i].mu);
	}
	if (s->healthz)
		MHD_destroy_response(s->healthz);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	pthread_mutex_destroy(&s->readers_mu);
	vs_rules_free(s->rules);
	vs_trust_set_free(s->trust);
	free(s->db_path);
	free(s->authority);
	free(s);
}

/* A start that failed leaves no database it created behind (nor its WAL and shared memory). */
static void remove_new_database(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p = vs_xasprintf("%s%s", path, suffixes[i]);
		unlink(p);
		free(p);
	}
}

int vs_serve_start(const struct vs_serve_config *cfg, struct vs_server **out)
{
	static const char ok[] = "{\"status\":\"ok\"}\n";
	struct vs_server *s = vs_xcalloc(1, sizeof(*s));
	unsigned threads = cfg->threads;
	int rc, v6 = 0;
	long ncpu;

	int db_existed = access(cfg->db_path, F_OK) == 0;

	*out = NULL;
	s->listen_fd = -1;
	pthread_mutex_init(&s->readers_mu, NULL);
	for (int i = 0; i < CACHE_SHARDS; i++)
		pthread_mutex_init(&s->cache[i].mu, NULL);
	s->db_path = vs_xstrdup(cfg->db_path);
	s->body_max = cfg->body_max ? cfg->body_max : VS_SERVE_BODY_MAX;
	if ((rc = vs_crypto_init()) != 0)
		goto out;
	rc = cfg->rules_path ? vs_rules_load(cfg->rules_path, &s->rules)
			     : vs_rules_default(&s->rules);
	if (rc)
		goto out;
	s->trust = vs_trust_set_new();
	for (size_t i = 0; i < cfg->ntrust; i++)
		if ((rc = vs_trust_set_add_file(s->trust, cfg->trust_paths[i])) != 0)
			goto out;
	if ((rc = store_open(cfg->db_path, s->rules, cfg->areas_path, cfg->authority,
			     cfg->batch_max, &s->store)) != 0)
		goto out;
	if ((rc = listen_on(cfg->listen ? cfg->listen : "127.0.0.1:8080", &s->listen_fd,
			    s->address, sizeof(s->address), &v6)) != 0)
		goto out;
	s->healthz = MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)ok,
						     MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(s->healthz, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if ((rc = store_start(s->store)) != 0)
		goto out;
	if (!threads) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	/*
	 * poll(), not epoll: with libmicrohttpd 0.9.75's edge-triggered epoll, connections
	 * resumed after a commit sometimes sat with a request in their receive queue until
	 * the connection timeout (seen under replay at concurrency 128: 60,000 scans took
	 * minutes).  Level-triggered poll over a few hundred connections per thread costs
	 * little and never loses a wakeup (docs/SERVICE.md).
	 */
	s->mhd = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
				  MHD_ALLOW_SUSPEND_RESUME |
				  (v6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, handle, s,
				  MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
				  MHD_OPTION_THREAD_POOL_SIZE, threads,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  cfg->timeout_s ? cfg->timeout_s : 10u,
				  MHD_OPTION_CONNECTION_LIMIT, 10000u,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		rc = vs_error_set(VS_EIO, "cannot start the HTTP server on '%s'", s->address);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	if (s) {
		int keep = rc;
		store_close(s->store);
		server_free(s);
		if (!db_existed)
			remove_new_database(cfg->db_path);
		rc = keep;
	}
	return rc;
}

const char *vs_serve_address(const struct vs_server *s)
{
	return s->address;
}

int vs_serve_stop(struct vs_server *s, unsigned drain_s)
{
	struct timespec t0;
	int rc;

	if (!s)
		return 0;
	atomic_store(&s->draining, 1);
	MHD_quiesce_daemon(s->mhd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&s->inflight) > 0 && elapsed_ns(&t0) < drain_s * 1e9) {
		struct timespec d = { 0, 5000000 };
		nanosleep(&d, NULL);
	}
	/* The writer answers (and resumes) everything still queued before it exits;
	 * give the HTTP threads a moment to send those answers. */
	rc = store_stop(s->store);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&s->inflight) > 0 && elapsed_ns(&t0) < 1e9) {
		struct timespec d = { 0, 5000000 };
		nanosleep(&d, NULL);
	}
	MHD_stop_daemon(s->mhd);
	/* Readers first: the writer's connection, closed last, checkpoints the WAL into the
	 * database file and removes it, leaving one self-contained file. */
	close_readers(s);
	if (store_close(s->store) && !rc)
		rc = VS_EDB;
	server_free(s);
	return rc;
}

int vs_serve_run(const struct vs_serve_config *cfg, FILE *ready)
{
	struct vs_server *s;
	sigset_t set;
	int sig = 0, rc;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = vs_serve_start(cfg, &s)) != 0)
		return rc;
	fprintf(ready, "listening on %s\n", vs_serve_address(s));
	fflush(ready);
	sigwait(&set, &sig);
	return vs_serve_stop(s, 10);
}

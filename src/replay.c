/*
 * The load generator.  Everything that can be done before the clock starts is: the
 * dataset is read, scans sorted by time, one payload signed per venue, and the published
 * rules' colour for every scan computed (the reference answer).  Then one thread drives
 * libcurl's multi interface: a fixed set of easy handles (one per slot of concurrency,
 * each keeping its connection alive) is refilled in scan order as answers arrive, or as
 * each request's intended send time comes when a rate is set.  A person's next scan is not
 * sent while their previous one is unanswered (one phone, one scan at a time), so the
 * service sees each person's scans in time order, as the reference does.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "venuescan/dataset.h"
#include "venuescan/error.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"
#include "venuescan/replay.h"
#include "venuescan/rules.h"
#include "venuescan/serve.h"
#include "venuescan/time.h"
#include "venuescan/venues.h"

/* ---- histogram ------------------------------------------------------------------------ */

void vs_hist_init(struct vs_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static size_t hist_index(uint64_t v)
{
	int e;

	if (v < 2 * VS_HIST_SUB)
		return (size_t)v;
	e = 63 - __builtin_clzll(v);
	return 2 * VS_HIST_SUB + (size_t)(e - 7) * VS_HIST_SUB +
	       (size_t)((v >> (e - 6)) - VS_HIST_SUB);
}

/* The highest value that falls in bucket i. */
static uint64_t hist_high(size_t i)
{
	size_t k;
	int e;
	uint64_t m, low;

	if (i < 2 * VS_HIST_SUB)
		return i;
	k = i - 2 * VS_HIST_SUB;
	e = 7 + (int)(k / VS_HIST_SUB);
	m = VS_HIST_SUB + k % VS_HIST_SUB;
	low = m << (e - 6);
	return low + ((UINT64_C(1) << (e - 6)) - 1);
}

void vs_hist_record(struct vs_hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
}

void vs_hist_merge(struct vs_hist *a, const struct vs_hist *b)
{
	for (size_t i = 0; i < VS_HIST_BUCKETS; i++)
		a->b[i] += b->b[i];
	a->count += b->count;
	a->sum += b->sum;
	if (b->max > a->max)
		a->max = b->max;
	if (b->min < a->min)
		a->min = b->min;
}

uint64_t vs_hist_percentile(const struct vs_hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (p >= 100)
		return h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < VS_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_high(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

double vs_hist_mean(const struct vs_hist *h)
{
	return h->count ? (double)(h->sum / h->count) : 0;
}

/* ---- the dataset's scans -------------------------------------------------------------- */

struct scan {
	int64_t ts;
	int offset;
	uint32_t person;
	uint32_t venue;
	uint32_t order;          /* row order, the tie-break of the sort */
	double lat, lon;
	enum vs_color expect;    /* the published rules' colour */
};

struct plan {
	struct vs_person_table persons;
	struct vs_venue_list venues;
	char **payloads;         /* per venue */
	struct scan *scans;
	size_t n, alloc;
};

static void plan_release(struct plan *p)
{
	for (size_t i = 0; p->payloads && i < p->venues.n; i++)
		free(p->payloads[i]);
	free(p->payloads);
	vs_venue_list_release(&p->venues);
	vs_person_table_release(&p->persons);
	free(p->scans);
	memset(p, 0, sizeof(*p));
}

static int venue_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct vs_venue *)a)->id, ((const struct vs_venue *)b)->id);
}

static long venue_find(const struct vs_venue_list *l, const char *id)
{
	struct vs_venue key;
	const struct vs_venue *v;

	snprintf(key.id, sizeof(key.id), "%s", id);
	v = l->n ? bsearch(&key, l->items, l->n, sizeof(*l->items), venue_cmp) : NULL;
	return v ? v - l->items : -1;
}

static int scan_cmp(const void *a, const void *b)
{
	const struct scan *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int read_scans(struct plan *p, const char *dir, uint64_t max)
{
	struct vs_event_reader *r = NULL;
	struct vs_event ev;
	char *path = vs_xasprintf("%s/%s", dir, VS_DATASET_EVENTS);
	int rc;

	if ((rc = vs_events_open(&r, path, &p->persons)) != 0)
		goto out;
	while ((rc = vs_events_next(r, &ev)) == 1) {
		struct scan *s;
		long v;

		if (ev.kind != VS_EVENT_SCAN)
			continue;
		if ((v = venue_find(&p->venues, ev.venue_id)) < 0) {
			rc = vs_error_set(VS_EFORMAT, "%s:%lu: field 'venue_id': venue '%s' is not in"
					  " venues.csv", path, ev.line, ev.venue_id);
			goto out;
		}
		if (p->n >= UINT32_MAX) {
			rc = vs_error_set(VS_ETOOBIG, "%s: too many scans", path);
			goto out;
		}
		VS_ALLOC_GROW(p->scans, p->n + 1, p->alloc);
		s = &p->scans[p->n];
		s->ts = ev.ts;
		s->offset = ev.offset_min;
		s->person = ev.person;
		s->venue = (uint32_t)v;
		s->order = (uint32_t)p->n;
		s->lat = ev.has_pos ? ev.lat : p->venues.items[v].lat;
		s->lon = ev.has_pos ? ev.lon : p->venues.items[v].lon;
		p->n++;
	}
	if (rc == 0) {
		qsort(p->scans, p->n, sizeof(*p->scans), scan_cmp);
		if (max && p->n > max)
			p->n = (size_t)max;
	}
out:
	vs_events_close(r);
	free(path);
	return rc;
}

/*
 * The reference: the published rules on what the service is told — presence in the
 * venue's area (at its risk level at the time) when the device is within
 * VS_SERVE_NEAR_KM of the venue; a person's time never goes backwards.
 */
static int reference(struct plan *p, const char *dir, const char *rules_path)
{
	struct vs_rule_set *rs = NULL;
	struct vs_risk_map *risk = vs_risk_map_new();
	size_t nr;
	int64_t *state = NULL, *last = NULL;
	char *areas = vs_xasprintf("%s/%s", dir, VS_DATASET_AREAS);
	int rc;

	rc = rules_path ? vs_rules_load(rules_path, &rs) : vs_rules_default(&rs);
	if (rc || (rc = vs_areas_read(areas, risk, 1)) != 0)
		goto out;
	nr = vs_rules_count(rs);
	state = vs_xreallocarray(NULL, p->persons.n ? p->persons.n * nr : 1, sizeof(*state));
	last = vs_xreallocarray(NULL, p->persons.n ? p->persons.n : 1, sizeof(*last));
	for (size_t i = 0; i < p->persons.n; i++) {
		vs_rules_state_init(rs, state + i * nr);
		last[i] = INT64_MIN;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct scan *s = &p->scans[i];
		const struct vs_venue *v = &p->venues.items[s->venue];
		int64_t *st = state + (size_t)s->person * nr;
		int64_t t = s->ts > last[s->person] ? s->ts : last[s->person];

		if (vs_distance_km(s->lat, s->lon, v->lat, v->lon) <= VS_SERVE_NEAR_KM)
			vs_rules_observe(rs, st, VS_FACT_PRESENCE,
					 vs_risk_level_name(vs_risk_map_level(risk, v->area, s->ts)),
					 t);
		last[s->person] = t;
		s->expect = vs_rules_color_at(rs, st, t, NULL);
	}
out:
	free(state);
	free(last);
	free(areas);
	vs_rules_free(rs);
	vs_risk_map_free(risk);
	return rc;
}

/* Secret keys of dir (*.key); the venue's key is the only one, or its province's. */
static int sign_payloads(struct plan *p, const char *dir)
{
	struct vs_issuer_key *keys = NULL;
	size_t nkeys = 0, alloc = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t iat = p->n ? p->scans[0].ts - 86400 : 0;
	int rc = 0;

	if (!d)
		return vs_error_set(VS_ENOTFOUND, "'%s': cannot open the keys folder", dir);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *path;
		if (len < 5 || strcmp(de->d_name + len - 4, ".key"))
			continue;
		VS_ALLOC_GROW(keys, nkeys + 1, alloc);
		path = vs_xasprintf("%s/%s", dir, de->d_name);
		rc = vs_key_load_secret(path, &keys[nkeys]);
		free(path);
		if (rc)
			goto out;
		nkeys++;
	}
	if (!nkeys) {
		rc = vs_error_set(VS_ENOTFOUND, "'%s': no issuer keys (*.key) to sign venue codes"
				  " with", dir);
		goto out;
	}
	p->payloads = vs_xcalloc(p->venues.n ? p->venues.n : 1, sizeof(*p->payloads));
	for (size_t i = 0; i < p->venues.n; i++) {
		struct vs_venue *v = &p->venues.items[i];
		const struct vs_issuer_key *k = nkeys == 1 ? &keys[0] : NULL;
		size_t plen = strcspn(v->area, "/");

		for (size_t j = 0; !k && j < nkeys; j++)
			if (strlen(keys[j].issuer) == plen && !strncmp(keys[j].issuer, v->area, plen))
				k = &keys[j];
		if (!k) {
			rc = vs_error_set(VS_ENOTFOUND, "venue '%s' (area '%s'): no key in '%s' named"
					  " after its province", v->id, v->area, dir);
			goto out;
		}
		if ((rc = vs_venue_code_sign_venue(v, k, iat, 0, &p->payloads[i])) != 0)
			goto out;
	}
out:
	for (size_t i = 0; i < nkeys; i++)
		vs_key_release(&keys[i]);
	free(keys);
	closedir(d);
	return rc;
}

static int plan_read(struct plan *p, const struct vs_replay_config *cfg)
{
	char *path = vs_xasprintf("%s/%s", cfg->dir, VS_DATASET_PERSONS);
	char *keys = cfg->keys_dir ? NULL : vs_xasprintf("%s/keys", cfg->dir);
	int rc;

	if ((rc = vs_persons_read(path, &p->persons)) != 0)
		goto out;
	free(path);
	path = vs_xasprintf("%s/%s", cfg->dir, VS_DATASET_VENUES);
	if ((rc = vs_venues_read(path, &p->venues)) != 0)
		goto out;
	if (p->venues.n)
		qsort(p->venues.items, p->venues.n, sizeof(*p->venues.items), venue_cmp);
	if ((rc = read_scans(p, cfg->dir, cfg->max_requests)) != 0 ||
	    (rc = reference(p, cfg->dir, cfg->rules_path)) != 0 ||
	    (rc = sign_payloads(p, cfg->keys_dir ? cfg->keys_dir : keys)) != 0)
		goto out;
out:
	free(path);
	free(keys);
	return rc;
}

/* ---- driving the target ----------------------------------------------------------------- */

#define ANSWER_MAX 4096

struct slot {
	CURL *h;
	size_t scan;             /* index of the request in flight */
	uint64_t t_send;         /* ns */
	uint64_t t_intended;     /* ns */
	struct vs_buf body;
	char answer[ANSWER_MAX];
	size_t alen;
	int busy;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	size_t len = size * n, room = ANSWER_MAX - 1 - s->alen;

	memcpy(s->answer + s->alen, data, len < room ? len : room);
	s->alen += len < room ? len : room;
	return len;
}

static void count_kind(struct vs_replay_result *res, const char *kind)
{
	size_t i;

	for (i = 0; i < res->nkinds && strcmp(res->kind_names[i], kind); i++)
		;
	if (i == res->nkinds) {
		if (res->nkinds == VS_REPLAY_KINDS) {
			i = VS_REPLAY_KINDS - 1;
			free(res->kind_names[i]);
			res->kind_names[i] = vs_xstrdup("other");
		} else {
			res->kind_names[res->nkinds++] = vs_xstrdup(kind);
		}
	}
	res->kind_counts[i]++;
}

/* The string value of "key":"..." in a flat JSON answer (no escapes needed here). */
static int json_str(const char *text, const char *key, char *out, size_t max)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	if (!(p = strstr(text, pat)))
		return -1;
	p += strlen(pat);
	for (e = p; *e && *e != '"'; e++)
		if (*e == '\\' && e[1])
			e++;
	if (!*e || (size_t)(e - p) >= max)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static void finish(struct vs_replay_result *res, const struct vs_replay_config *cfg,
		   const struct plan *p, struct slot *s, CURLcode code, uint64_t t_done,
		   size_t max_examples)
{
	long status = 0;
	char color[16], buf[160];

	s->answer[s->alen] = '\0';
	vs_hist_record(&res->latency, t_done - (cfg->rate > 0 ? s->t_intended : s->t_send));
	if (code != CURLE_OK) {
		snprintf(buf, sizeof(buf), "transport: %s", curl_easy_strerror(code));
		count_kind(res, buf);
		res->errors++;
		return;
	}
	res->answered++;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char err[64];
		if (json_str(s->answer, "error", err, sizeof(err)))
			snprintf(err, sizeof(err), "?");
		snprintf(buf, sizeof(buf), "http %ld %s", status, err);
		count_kind(res, buf);
		res->errors++;
		return;
	}
	res->ok++;
	if (cfg->get_path)
		return;
	res->checked++;
	{
		const struct scan *sc = &p->scans[s->scan];
		enum vs_color got;
		if (json_str(s->answer, "color", color, sizeof(color)) ||
		    vs_color_parse(color, &got)) {
			count_kind(res, "answer without a colour");
			res->disagree++;
			return;
		}
		if (got == sc->expect)
			return;
		res->disagree++;
		if (res->nexamples < max_examples) {
			char ts[VS_TIME_TEXT_MAX], reason[256], auth[128];
			if (json_str(s->answer, "reason", reason, sizeof(reason)))
				reason[0] = '\0';
			if (json_str(s->answer, "authority", auth, sizeof(auth)))
				auth[0] = '\0';
			vs_time_format(sc->ts, sc->offset, ts);
			res->examples = vs_xreallocarray(res->examples, res->nexamples + 1,
							 sizeof(*res->examples));
			res->examples[res->nexamples++] = vs_xasprintf(
				"person '%s' at %s, venue %s: the service said %s (reason '%s',"
				" authority '%s'); the published rules give %s",
				p->persons.items[sc->person].id, ts, p->venues.items[sc->venue].id,
				color, reason, auth, vs_color_name(sc->expect));
		}
	}
}

static void build_body(struct slot *s, const struct plan *p, size_t i)
{
	const struct scan *sc = &p->scans[i];
	const char *id = p->persons.items[sc->person].id;
	char ts[VS_TIME_TEXT_MAX];

	vs_time_format(sc->ts, sc->offset, ts);
	vs_buf_reset(&s->body);
	vs_buf_adds(&s->body, "{\"person_id\":");
	vs_buf_add_json_string(&s->body, id, strlen(id));
	vs_buf_addf(&s->body, ",\"payload\":\"%s\",\"lat\":%.7f,\"lon\":%.7f,\"ts\":\"%s\"}",
		    p->payloads[sc->venue], sc->lat, sc->lon, ts);
}

/* libcurl's socket interface over one epoll set: sockets to watch and one timer. */
struct loop {
	int ep;
	int64_t timer_ns;        /* when libcurl wants its timeout action; -1: none */
};

static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct loop *l = arg;
	struct epoll_event ev;

	(void)e;
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	(void)sockp;
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
		epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *arg)
{
	struct loop *l = arg;

	(void)m;
	l->timer_ns = timeout_ms < 0 ? -1 : (int64_t)(now_ns() + (uint64_t)timeout_ms * 1000000u);
	return 0;
}

/*
 * One driving thread's share: the scans idx[0..n) (indices into the plan, in time order;
 * idx NULL for --get, n requests), conc connections, rate requests per second.  busy is
 * the per-person in-flight flag array, shared: each thread owns distinct persons.
 */
struct share {
	const struct vs_replay_config *cfg;
	const struct plan *p;
	const size_t *idx;
	uint64_t n;
	unsigned conc;
	double rate;
	unsigned char *busy;
	struct vs_replay_result res;
	int rc;
	char err[256];
};

static int drive(struct share *sh)
{
	const struct vs_replay_config *cfg = sh->cfg;
	const struct plan *p = sh->p;
	const size_t *idx = sh->idx;
	struct vs_replay_result *res = &sh->res;
	unsigned conc = sh->conc;
	uint64_t total = sh->n;
	size_t max_examples = cfg->max_examples ? cfg->max_examples : 5;
	unsigned char *busy = sh->busy;
	struct slot *slots = vs_xcalloc(conc, sizeof(*slots));
	struct slot **idle = vs_xcalloc(conc, sizeof(*idle));
	struct curl_slist *hdrs = NULL;
	struct loop lp = { -1, -1 };
	char *url = NULL, *auth = NULL;
	CURLM *m = NULL;
	uint64_t t0, next = 0, inflight = 0, t_last = 0;
	size_t nidle = 0;
	double interval = sh->rate > 0 ? 1e9 / sh->rate : 0;
	uint64_t deadline = cfg->duration_s > 0 ? (uint64_t)(cfg->duration_s * 1e9) : UINT64_MAX;
	int rc = 0, running = 0;

	if ((lp.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		rc = vs_error_set(VS_EIO, "epoll: %s", strerror(errno));
		goto out;
	}
	url = vs_xasprintf("%s%s", cfg->target, cfg->get_path ? cfg->get_path : "/v1/scan");
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (cfg->token) {
		auth = vs_xasprintf("Authorization: Bearer %s", cfg->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
	/* HTTP/1.1 only: without this libcurl considers multiplexing new transfers onto a
	 * busy connection and crowds them onto the first one (measured: 52k/s against 43k/s
	 * on /healthz with 64 connections). */
	curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
	curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &lp);
	curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(m, CURLMOPT_TIMERDATA, &lp);
	for (unsigned i = 0; i < conc; i++) {
		struct slot *s = &slots[i];
		vs_buf_init(&s->body, 0);
		s->h = curl_easy_init();
		if (!s->h) {
			rc = vs_error_set(VS_ENOMEM, "libcurl: cannot make a handle");
			goto out;
		}
		if (curl_easy_setopt(s->h, CURLOPT_URL, url) != CURLE_OK) {
			rc = vs_error_set(VS_EINVAL, "target '%s': not a URL libcurl accepts",
					  cfg->target);
			goto out;
		}
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
		/* No proxy: the target is addressed directly (and libcurl skips the proxy
		 * environment lookups it would otherwise do per request). */
		curl_easy_setopt(s->h, CURLOPT_PROXY, "");
		if (!cfg->get_path)
			curl_easy_setopt(s->h, CURLOPT_POST, 1L);
		idle[nidle++] = &slots[conc - 1 - i];
	}
	t0 = now_ns();
	while (next < total || inflight) {
		struct epoll_event evs[64];
		uint64_t now = now_ns();
		int64_t wait_ns = -1;
		int n, msgs;
		CURLMsg *msg;

		/* Send what is due, in order, while a slot is free. */
		while (nidle && next < total) {
			struct slot *s;
			uint64_t intended = t0 + (uint64_t)((double)next * interval);
			if (now - t0 > deadline) {
				total = next;
				break;
			}
			if (interval > 0 && now < intended) {
				wait_ns = (int64_t)(intended - now);
				break;
			}
			if (busy && busy[p->scans[idx[next]].person])
				break; /* this person's previous scan is unanswered */
			s = idle[--nidle];
			s->scan = idx ? idx[next] : 0;
			s->t_intended = interval > 0 ? intended : now;
			s->t_send = now;
			s->alen = 0;
			if (!cfg->get_path) {
				build_body(s, p, s->scan);
				busy[p->scans[s->scan].person] = 1;
				curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body.data);
				curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->body.len);
			}
			curl_multi_add_handle(m, s->h);
			s->busy = 1;
			inflight++;
			next++;
			res->sent++;
		}
		if (lp.timer_ns >= 0) {
			int64_t d = lp.timer_ns - (int64_t)now;
			if (d < 0)
				d = 0;
			if (wait_ns < 0 || d < wait_ns)
				wait_ns = d;
		}
		if (wait_ns < 0)
			wait_ns = 100000000; /* nothing due: wake at least every 100 ms */
		/* Nanosecond waits: at 10,000 requests/s the next send is 100 us away, and a
		 * millisecond timeout would either be late or spin a core the server needs. */
		{
			struct timespec ts = { (time_t)(wait_ns / 1000000000),
					       (long)(wait_ns % 1000000000) };
			n = epoll_pwait2(lp.ep, evs, 64, &ts, NULL);
			if (n < 0 && errno == ENOSYS)
				n = epoll_wait(lp.ep, evs, 64, (int)((wait_ns + 999999) / 1000000));
		}
		for (int i = 0; i < n; i++) {
			int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
			curl_multi_socket_action(m, evs[i].data.fd, flags, &running);
		}
		if (lp.timer_ns >= 0 && (int64_t)now_ns() >= lp.timer_ns) {
			lp.timer_ns = -1;
			curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		while ((msg = curl_multi_info_read(m, &msgs))) {
			struct slot *s;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			t_last = now_ns();
			finish(res, cfg, p, s, msg->data.result, t_last, max_examples);
			curl_multi_remove_handle(m, s->h);
			if (busy)
				busy[p->scans[s->scan].person] = 0;
			s->busy = 0;
			idle[nidle++] = s;
			inflight--;
		}
	}
	res->elapsed_s = (double)((t_last > t0 ? t_last : now_ns()) - t0) / 1e9;
out:
	for (unsigned i = 0; i < conc; i++) {
		if (slots[i].h) {
			if (slots[i].busy)
				curl_multi_remove_handle(m, slots[i].h);
			curl_easy_cleanup(slots[i].h);
		}
		vs_buf_release(&slots[i].body);
	}
	curl_multi_cleanup(m);
	if (lp.ep >= 0)
		close(lp.ep);
	curl_slist_free_all(hdrs);
	free(slots);
	free(idle);
	free(url);
	free(auth);
	if (rc)
		snprintf(sh->err, sizeof(sh->err), "%s", vs_error_message());
	sh->rc = rc;
	return rc;
}

static void *drive_main(void *arg)
{
	drive(arg);
	return NULL;
}

/* Add b's counts, kinds and examples into a. */
static void result_merge(struct vs_replay_result *a, struct vs_replay_result *b,
			 size_t max_examples)
{
	a->sent += b->sent;
	a->answered += b->answered;
	a->ok += b->ok;
	a->errors += b->errors;
	a->checked += b->checked;
	a->disagree += b->disagree;
	if (b->elapsed_s > a->elapsed_s)
		a->elapsed_s = b->elapsed_s;
	vs_hist_merge(&a->latency, &b->latency);
	for (size_t i = 0; i < b->nkinds; i++)
		for (uint64_t k = 0; k < b->kind_counts[i]; k++)
			count_kind(a, b->kind_names[i]);
	for (size_t i = 0; i < b->nexamples; i++) {
		if (a->nexamples < max_examples) {
			a->examples = vs_xreallocarray(a->examples, a->nexamples + 1,
						       sizeof(*a->examples));
			a->examples[a->nexamples++] = b->examples[i];
			b->examples[i] = NULL;
		}
	}
}

/* Split the work over cfg->threads threads (persons by id index modulo threads). */
static int drive_all(const struct vs_replay_config *cfg, const struct plan *p,
		     struct vs_replay_result *res)
{
	unsigned nt = cfg->threads ? cfg->threads : 1;
	unsigned conc = cfg->concurrency ? cfg->concurrency : 32;
	uint64_t total = cfg->get_path ? (cfg->max_requests ? cfg->max_requests : 100000)
				       : (uint64_t)p->n;
	struct share *sh;
	pthread_t *th;
	size_t **idx;
	unsigned char *busy = NULL;
	int rc = 0;

	if (nt > conc)
		nt = conc;
	sh = vs_xcalloc(nt, sizeof(*sh));
	th = vs_xcalloc(nt, sizeof(*th));
	idx = vs_xcalloc(nt, sizeof(*idx));
	if (!cfg->get_path) {
		busy = vs_xcalloc(p->persons.n ? p->persons.n : 1, 1);
		for (unsigned t = 0; t < nt; t++)
			idx[t] = vs_xreallocarray(NULL, p->n ? p->n : 1, sizeof(**idx));
		for (size_t i = 0; i < p->n; i++) {
			unsigned t = p->scans[i].person % nt;
			idx[t][sh[t].n++] = i;
		}
	}
	for (unsigned t = 0; t < nt; t++) {
		sh[t].cfg = cfg;
		sh[t].p = p;
		sh[t].idx = idx[t];
		if (cfg->get_path)
			sh[t].n = total / nt + (t < total % nt);
		sh[t].conc = conc / nt + (t < conc % nt);
		sh[t].rate = cfg->rate > 0 ? cfg->rate * (double)sh[t].n / (double)(total ? total : 1) : 0;
		sh[t].busy = busy;
		vs_hist_init(&sh[t].res.latency);
	}
	if (nt == 1) {
		drive(&sh[0]);
	} else {
		unsigned started = 0;
		for (; started < nt; started++)
			if (pthread_create(&th[started], NULL, drive_main, &sh[started]) != 0)
				break;
		if (started < nt) {
			/* run the shares that got no thread here, one after another */
			for (unsigned t = started; t < nt; t++)
				drive(&sh[t]);
		}
		for (unsigned t = 0; t < started; t++)
			pthread_join(th[t], NULL);
	}
	res->from_intended = cfg->rate > 0;
	for (unsigned t = 0; t < nt; t++) {
		if (sh[t].rc && !rc)
			rc = vs_error_set(sh[t].rc, "%s", sh[t].err);
		result_merge(res, &sh[t].res, cfg->max_examples ? cfg->max_examples : 5);
		vs_replay_result_release(&sh[t].res);
		free(idx[t]);
	}
	free(sh);
	free(th);
	free(idx);
	free(busy);
	return rc;
}

int vs_replay_run(const struct vs_replay_config *cfg, struct vs_replay_result *res)
{
	struct plan p;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	vs_hist_init(&res->latency);
	if (strncmp(cfg->target, "http://", 7) && strncmp(cfg->target, "https://", 8))
		return vs_error_set(VS_EINVAL, "target '%s': not an http:// or https:// URL",
				    cfg->target);
	if (!cfg->get_path) {
		if ((rc = vs_crypto_init()) != 0 || (rc = plan_read(&p, cfg)) != 0)
			goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rc = vs_error_set(VS_EIO, "cannot initialise libcurl");
		goto out;
	}
	rc = drive_all(cfg, &p, res);
	curl_global_cleanup();
out:
	plan_release(&p);
	return rc;
}

void vs_replay_result_release(struct vs_replay_result *res)
{
	for (size_t i = 0; i < res->nkinds; i++)
		free(res->kind_names[i]);
	for (size_t i = 0; i < res->nexamples; i++)
		free(res->examples[i]);
	free(res->examples);
	memset(res, 0, sizeof(*res));
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

void vs_replay_print_text(FILE *out, const struct vs_replay_config *cfg,
			  const struct vs_replay_result *res)
{
	const struct vs_hist *h = &res->latency;
	const char *what = cfg->get_path ? "requests" : "scans";

	fprintf(out, "target: %s%s\n", cfg->target, cfg->get_path ? cfg->get_path : "/v1/scan");
	fprintf(out, "sent %llu %s in %.3f s: %.0f %s/s answered 200 (concurrency %u, ",
		(unsigned long long)res->sent, what, res->elapsed_s,
		res->elapsed_s > 0 ? (double)res->ok / res->elapsed_s : 0, what,
		cfg->concurrency ? cfg->concurrency : 32);
	if (cfg->rate > 0)
		fprintf(out, "rate %.0f/s)\n", cfg->rate);
	else
		fprintf(out, "full speed)\n");
	fprintf(out, "answers: %llu ok, %llu errors\n", (unsigned long long)res->ok,
		(unsigned long long)res->errors);
	for (size_t i = 0; i < res->nkinds; i++)
		fprintf(out, "  %-40s %llu\n", res->kind_names[i],
			(unsigned long long)res->kind_counts[i]);
	fprintf(out, "latency from %s (ms): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
		res->from_intended ? "intended send time" : "send time",
		ms(vs_hist_percentile(h, 50)), ms(vs_hist_percentile(h, 90)),
		ms(vs_hist_percentile(h, 99)), ms(vs_hist_percentile(h, 99.9)), ms(h->max));
	if (!cfg->get_path) {
		fprintf(out, "checked against the published rules: %llu answers, %llu disagree\n",
			(unsigned long long)res->checked, (unsigned long long)res->disagree);
		for (size_t i = 0; i < res->nexamples; i++)
			fprintf(out, "  e.g. %s\n", res->examples[i]);
	}
}

static void json_text(FILE *out, const char *s)
{
	struct vs_buf b = VS_BUF_INIT;

	vs_buf_add_json_string(&b, s, strlen(s));
	fputs(b.data, out);
	vs_buf_release(&b);
}

void vs_replay_print_json(FILE *out, const struct vs_replay_config *cfg,
			  const struct vs_replay_result *res)
{
	const struct vs_hist *h = &res->latency;
	char *url = vs_xasprintf("%s%s", cfg->target, cfg->get_path ? cfg->get_path : "/v1/scan");

	fputs("{\"target\":", out);
	json_text(out, url);
	free(url);
	fprintf(out, ",\"concurrency\":%u,\"rate\":%.3f,\"sent\":%llu,\"answered\":%llu,"
		"\"ok\":%llu,\"errors\":%llu,\"elapsed_s\":%.6f,\"per_s\":%.1f,\"error_kinds\":{",
		cfg->concurrency ? cfg->concurrency : 32, cfg->rate > 0 ? cfg->rate : 0,
		(unsigned long long)res->sent, (unsigned long long)res->answered,
		(unsigned long long)res->ok, (unsigned long long)res->errors, res->elapsed_s,
		res->elapsed_s > 0 ? (double)res->ok / res->elapsed_s : 0);
	for (size_t i = 0; i < res->nkinds; i++) {
		fputs(i ? "," : "", out);
		json_text(out, res->kind_names[i]);
		fprintf(out, ":%llu", (unsigned long long)res->kind_counts[i]);
	}
	fprintf(out, "},\"latency_from\":\"%s\",\"latency_ms\":{\"p50\":%.4f,\"p90\":%.4f,"
		"\"p99\":%.4f,\"p99_9\":%.4f,\"max\":%.4f,\"mean\":%.4f}",
		res->from_intended ? "intended" : "sent", ms(vs_hist_percentile(h, 50)),
		ms(vs_hist_percentile(h, 90)), ms(vs_hist_percentile(h, 99)),
		ms(vs_hist_percentile(h, 99.9)), ms(h->max), vs_hist_mean(h) / 1e6);
	fprintf(out, ",\"checked\":%llu,\"disagree\":%llu,\"examples\":[",
		(unsigned long long)res->checked, (unsigned long long)res->disagree);
	for (size_t i = 0; i < res->nexamples; i++) {
		fputs(i ? "," : "", out);
		json_text(out, res->examples[i]);
	}
	fputs("]}\n", out);
}

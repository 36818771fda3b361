/*
 * Unit tests for scan.c: the JSON line of each status (parsed back with jansson), foreign
 * formats, bytes that are not UTF-8, and the worker pool: input order whatever the finish
 * order, unreadable files, and — in VS_FAULT_INJECTION builds — workers that crash or
 * hang on one image and are replaced while the other images are still scanned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"
#include "venuescan/qr.h"
#include "venuescan/scan.h"

#define NOW 1654950000 /* 2022-06-11T20:20:00+08:00 */

static struct vs_issuer_key station_key;
static struct vs_issuer_key impostor_key; /* same issuer name, other key pair */

static void make_key(struct vs_issuer_key *k, const char *issuer)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->issuer, sizeof(k->issuer), "%s", issuer);
	assert_int_equal(crypto_sign_keypair(k->pk, k->sk), 0);
	k->has_secret = 1;
}

static int setup_keys(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	make_key(&station_key, "henan-hc");
	make_key(&impostor_key, "henan-hc");
	return 0;
}

static char *sign_station(int64_t exp)
{
	struct vs_venue_claims c;
	char *payload = NULL;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", "6f1c2a3e-8d4b-4e0f-9a51-2b7c9d0e1f23");
	c.name = "郑州车站西南出口";
	c.area = "Henan/Zhengzhou/Erqi";
	c.lat = 34.7447;
	c.lon = 113.6566;
	c.iss = "henan-hc";
	c.iat = NOW - 3600;
	c.exp = exp;
	c.has_exp = exp != 0;
	assert_int_equal(vs_venue_code_sign(&c, &station_key, &payload), 0);
	return payload;
}

/* Describe data and parse the line back; the caller json_decrefs the result. */
static json_t *describe(const char *file, const void *data, size_t len,
			const struct vs_trust_set *trust, enum vs_code_status *st)
{
	struct vs_buf out = VS_BUF_INIT;
	json_error_t err;
	json_t *root;

	assert_int_equal(vs_scan_describe(file, data, len, trust, NOW, &out, st), 0);
	assert_null(memchr(out.data, '\n', out.len));
	root = json_loadb(out.data, out.len, 0, &err);
	if (!root)
		fail_msg("not JSON (%s): %s", err.text, out.data);
	assert_true(json_is_object(root));
	/* The contract's keys come first, in order. */
	assert_true(!strncmp(out.data, "{\"file\":", 8));
	assert_non_null(strstr(out.data, ",\"payload\":"));
	assert_true(strstr(out.data, ",\"payload\":") < strstr(out.data, ",\"valid\":"));
	assert_true(strstr(out.data, ",\"valid\":") < strstr(out.data, ",\"status\":"));
	assert_true(strstr(out.data, ",\"status\":") < strstr(out.data, ",\"claims\":"));
	vs_buf_release(&out);
	return root;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static struct vs_trust_set *trust_with(const struct vs_issuer_key *k)
{
	struct vs_trust_set *t = vs_trust_set_new();
	struct vs_issuer_key pub = *k;

	memset(pub.sk, 0, sizeof(pub.sk));
	pub.has_secret = 0;
	assert_int_equal(vs_trust_set_add(t, &pub), 0);
	return t;
}

static void test_describe_ok_keeps_chinese_name(void **state)
{
	struct vs_trust_set *t = trust_with(&station_key);
	char *payload = sign_station(0);
	enum vs_code_status st;
	json_t *j, *claims;
	(void)state;

	j = describe("poster.png", payload, strlen(payload), t, &st);
	assert_int_equal(st, VS_CODE_OK);
	assert_string_equal(jstr(j, "file"), "poster.png");
	assert_string_equal(jstr(j, "payload"), payload);
	assert_true(json_is_true(json_object_get(j, "valid")));
	assert_string_equal(jstr(j, "status"), "ok");
	claims = json_object_get(j, "claims");
	assert_true(json_is_object(claims));
	assert_string_equal(jstr(claims, "name"), "郑州车站西南出口");
	assert_string_equal(jstr(claims, "area"), "Henan/Zhengzhou/Erqi");
	assert_string_equal(jstr(claims, "iss"), "henan-hc");
	assert_true(json_real_value(json_object_get(claims, "lat")) == 34.7447);
	assert_null(json_object_get(j, "format"));
	assert_null(json_object_get(j, "payload_base64"));
	json_decref(j);
	free(payload);
	vs_trust_set_free(t);
}

static void test_describe_each_failure_status(void **state)
{
	struct vs_trust_set *right = trust_with(&station_key);
	struct vs_trust_set *wrong = trust_with(&impostor_key);
	char *fresh = sign_station(0), *rotating = sign_station(NOW - 60);
	static const char mangled[] = "VSC1.not base64!.AAAA";
	enum vs_code_status st;
	json_t *j;
	(void)state;

	j = describe("a.png", fresh, strlen(fresh), wrong, &st);
	assert_int_equal(st, VS_CODE_BAD_SIGNATURE);
	assert_string_equal(jstr(j, "status"), "bad_signature");
	assert_true(json_is_false(json_object_get(j, "valid")));
	assert_true(json_is_object(json_object_get(j, "claims")));
	json_decref(j);

	j = describe("a.png", fresh, strlen(fresh), NULL, &st);
	assert_int_equal(st, VS_CODE_UNKNOWN_ISSUER);
	assert_string_equal(jstr(j, "status"), "unknown_issuer");
	assert_string_equal(jstr(json_object_get(j, "claims"), "iss"), "henan-hc");
	json_decref(j);

	j = describe("a.png", rotating, strlen(rotating), right, &st);
	assert_int_equal(st, VS_CODE_EXPIRED);
	assert_string_equal(jstr(j, "status"), "expired");
	assert_true(json_is_integer(json_object_get(json_object_get(j, "claims"), "exp")));
	json_decref(j);

	j = describe("a.png", mangled, strlen(mangled), right, &st);
	assert_int_equal(st, VS_CODE_MALFORMED);
	assert_string_equal(jstr(j, "status"), "malformed");
	assert_string_equal(jstr(j, "payload"), mangled);
	assert_true(json_is_null(json_object_get(j, "claims")));
	json_decref(j);

	free(fresh);
	free(rotating);
	vs_trust_set_free(right);
	vs_trust_set_free(wrong);
}

static void test_describe_foreign(void **state)
{
	/* {"gln":"9429047300217","ver":"c19:1","typ":"entry","opn":"Cafe","adr":"1 Queen St"} */
	static const char nz[] =
		"NZCOVIDTRACER:eyJnbG4iOiI5NDI5MDQ3MzAwMjE3IiwidmVyIjoiYzE5OjEiLCJ0eXAiOiJlbnRyeSIs"
		"Im9wbiI6IkNhZmUiLCJhZHIiOiIxIFF1ZWVuIFN0In0";
	static const char url[] = "https://example.org/check-in?v=1";
	static const char broken_nz[] = "NZCOVIDTRACER:%%%";
	enum vs_code_status st;
	json_t *j, *fields;
	(void)state;

	j = describe("nz.png", nz, strlen(nz), NULL, &st);
	assert_int_equal(st, VS_CODE_FOREIGN);
	assert_string_equal(jstr(j, "status"), "foreign");
	assert_true(json_is_false(json_object_get(j, "valid")));
	assert_string_equal(jstr(j, "payload"), nz);
	assert_true(json_is_null(json_object_get(j, "claims")));
	assert_string_equal(jstr(j, "format"), "nzcovidtracer");
	fields = json_object_get(j, "fields");
	assert_true(json_is_object(fields));
	assert_string_equal(jstr(fields, "opn"), "Cafe");
	json_decref(j);

	j = describe("url.png", url, strlen(url), NULL, &st);
	assert_int_equal(st, VS_CODE_FOREIGN);
	assert_string_equal(jstr(j, "payload"), url);
	assert_null(json_object_get(j, "format"));
	assert_null(json_object_get(j, "fields"));
	json_decref(j);

	j = describe("nz.png", broken_nz, strlen(broken_nz), NULL, &st);
	assert_string_equal(jstr(j, "format"), "nzcovidtracer");
	assert_true(json_is_null(json_object_get(j, "fields")));
	json_decref(j);
}

static void test_describe_bytes_that_are_not_utf8(void **state)
{
	/* GBK for 郑州 (not UTF-8), a lone continuation byte, a control character, a valid
	 * 州 and a truncated sequence at the end. */
	static const unsigned char raw[] = { 0xd6, 0xa3, 0xd6, 0xdd, 'x', 0x80, 0x01, 0xe5,
					     0xb7, 0x9e, 'y', 0xe9, 0x83 };
	static const char file[] = "bad\xff.png";
	enum vs_code_status st;
	const char *text;
	json_t *j;
	(void)state;

	j = describe(file, raw, sizeof(raw), NULL, &st);
	assert_int_equal(st, VS_CODE_FOREIGN);
	assert_string_equal(jstr(j, "file"), "bad\xef\xbf\xbd.png");
	text = jstr(j, "payload");
	/* d6 a3 happens to be UTF-8 (U+05A3); d6 and dd each start a sequence 'x' breaks. */
	assert_string_equal(text, "\xd6\xa3\xef\xbf\xbd\xef\xbf\xbd"
				  "x\xef\xbf\xbd\x01\xe5\xb7\x9ey\xef\xbf\xbd\xef\xbf\xbd");
	text = jstr(j, "payload_base64");
	assert_string_equal(text, "1qPW3XiAAeW3nnnpgw==");
	json_decref(j);
}

static void test_describe_all_byte_values(void **state)
{
	unsigned char all[256];
	enum vs_code_status st;
	json_t *j;
	(void)state;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	/* Valid JSON even with a NUL and every control: jansson refuses \u0000 unless asked. */
	{
		struct vs_buf out = VS_BUF_INIT;
		json_error_t err;

		assert_int_equal(vs_scan_describe("all.png", all, sizeof(all), NULL, NOW, &out, &st),
				 0);
		j = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &err);
		if (!j)
			fail_msg("not JSON (%s): %s", err.text, out.data);
		assert_non_null(json_object_get(j, "payload_base64"));
		assert_int_equal(strlen(jstr(j, "payload_base64")), 344);
		json_decref(j);
		vs_buf_release(&out);
	}
}

/* --- the worker pool ------------------------------------------------------------------- */

static char tmpdir[64];

struct collected {
	size_t n;
	size_t index[32];
	enum vs_scan_outcome outcome[32];
	size_t ncodes[32];
	char *json[32];
	char *message[32];
};

static int collect(void *ctx, size_t index, const char *file, const struct vs_scan_file_result *r)
{
	struct collected *c = ctx;

	(void)file;
	assert_true(c->n < 32);
	c->index[c->n] = index;
	c->outcome[c->n] = r->outcome;
	c->ncodes[c->n] = r->ncodes;
	c->json[c->n] = vs_xstrndup(r->json, r->json_len);
	assert_int_equal(strlen(c->json[c->n]), r->json_len);
	c->message[c->n] = vs_xstrdup(r->message);
	c->n++;
	return 0;
}

static void collected_release(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->json[i]);
		free(c->message[i]);
	}
	memset(c, 0, sizeof(*c));
}

static char *make_file(const char *name, const char *payload)
{
	struct vs_qr_style style = VS_QR_STYLE_DEFAULT;
	char *path = vs_xasprintf("%s/%s", tmpdir, name);

	assert_int_equal(vs_qr_render_file(payload, strlen(payload), &style, path), 0);
	return path;
}

static int setup_images(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/vs-test-scan.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_images(void **state)
{
	(void)state;
	return vs_remove_tree(tmpdir);
}

#define NFILES 10

static void make_set(char *paths[NFILES])
{
	static const char junk[] = "this is not an image\n";
	char *p;

	for (int i = 0; i < 8; i++) {
		char name[32], payload[32];

		snprintf(name, sizeof(name), "f%d.png", i);
		snprintf(payload, sizeof(payload), "payload-%d", i);
		paths[i] = make_file(name, payload);
	}
	paths[8] = vs_xasprintf("%s/missing.png", tmpdir);
	p = vs_xasprintf("%s/junk.png", tmpdir);
	assert_int_equal(vs_file_write_atomic(p, junk, sizeof(junk) - 1, 0644), 0);
	paths[9] = p;
}

/* crashed: the names of the files whose worker died, space-separated; hung: one name. */
static void check_set(const struct collected *c, const char *crashed, const char *hung)
{
	assert_int_equal(c->n, NFILES);
	for (size_t i = 0; i < NFILES; i++) {
		char name[32], want[64];

		assert_int_equal(c->index[i], i);
		if (i >= 8)
			continue;
		snprintf(name, sizeof(name), "f%zu.png", i);
		if (crashed && strstr(crashed, name)) {
			assert_int_equal(c->outcome[i], VS_SCAN_CRASHED);
			assert_non_null(strstr(c->message[i], name));
			assert_non_null(strstr(c->message[i], "died"));
			continue;
		}
		if (hung && !strcmp(name, hung)) {
			assert_int_equal(c->outcome[i], VS_SCAN_TIMEOUT);
			assert_non_null(strstr(c->message[i], name));
			assert_non_null(strstr(c->message[i], "longer than"));
			continue;
		}
		assert_int_equal(c->outcome[i], VS_SCAN_DECODED);
		assert_int_equal(c->ncodes[i], 1);
		snprintf(want, sizeof(want), "\"payload\":\"payload-%zu\"", i);
		assert_non_null(strstr(c->json[i], want));
	}
	assert_int_equal(c->outcome[8], VS_SCAN_UNREADABLE);
	assert_non_null(strstr(c->message[8], "missing.png"));
	assert_int_equal(c->outcome[9], VS_SCAN_UNREADABLE);
	assert_non_null(strstr(c->message[9], "junk.png"));
}

static void free_set(char *paths[NFILES])
{
	for (int i = 0; i < NFILES; i++)
		free(paths[i]);
}

static void test_pool_reports_in_input_order(void **state)
{
	struct vs_scan_options opt = { NULL, NOW, 2, 10.0 };
	struct collected one, two;
	char *paths[NFILES];
	(void)state;

	memset(&one, 0, sizeof(one));
	memset(&two, 0, sizeof(two));
	make_set(paths);
	opt.jobs = 1;
	assert_int_equal(vs_scan_files((const char *const *)paths, NFILES, &opt, collect, &one),
			 0);
	check_set(&one, NULL, NULL);
	opt.jobs = 3;
	assert_int_equal(vs_scan_files((const char *const *)paths, NFILES, &opt, collect, &two),
			 0);
	check_set(&two, NULL, NULL);
	for (size_t i = 0; i < NFILES; i++) {
		assert_string_equal(one.json[i], two.json[i]);
		assert_string_equal(one.message[i], two.message[i]);
	}
	collected_release(&one);
	collected_release(&two);
	free_set(paths);
}

static int stop_after_three(void *ctx, size_t index, const char *file,
			    const struct vs_scan_file_result *r)
{
	(void)file;
	(void)r;
	*(size_t *)ctx = index + 1;
	return index == 2 ? VS_EIO : 0;
}

static void test_pool_stops_when_report_fails(void **state)
{
	struct vs_scan_options opt = { NULL, NOW, 2, 10.0 };
	char *paths[NFILES];
	size_t seen = 0;
	(void)state;

	make_set(paths);
	assert_int_equal(vs_scan_files((const char *const *)paths, NFILES, &opt,
				       stop_after_three, &seen),
			 VS_EIO);
	assert_int_equal(seen, 3);
	free_set(paths);
}

#ifdef VS_FAULT_INJECTION
static void test_pool_slow_first_file_keeps_order(void **state)
{
	struct vs_scan_options opt = { NULL, NOW, 2, 10.0 };
	struct collected c;
	char *paths[NFILES];
	(void)state;

	memset(&c, 0, sizeof(c));
	make_set(paths);
	setenv("VS_FAULT_SCAN", "slow:f0.png", 1);
	assert_int_equal(vs_scan_files((const char *const *)paths, NFILES, &opt, collect, &c), 0);
	unsetenv("VS_FAULT_SCAN");
	check_set(&c, NULL, NULL);
	collected_release(&c);
	free_set(paths);
}

static void test_pool_replaces_crashed_worker(void **state)
{
	struct vs_scan_options opt = { NULL, NOW, 2, 10.0 };
	struct collected c;
	char *paths[NFILES];
	(void)state;

	memset(&c, 0, sizeof(c));
	make_set(paths);
	setenv("VS_FAULT_SCAN", "crash:f1.png,crash:f6.png", 1);
	assert_int_equal(vs_scan_files((const char *const *)paths, NFILES, &opt, collect, &c), 0);
	check_set(&c, "f1.png f6.png", NULL);
	collected_release(&c);
	/* Every worker crashing on every file it gets still ends, file by file. */
	setenv("VS_FAULT_SCAN", "crash:f0.png,crash:f1.png,crash:f2.png", 1);
	assert_int_equal(vs_scan_files((const char *const *)paths, 3, &opt, collect, &c), 0);
	unsetenv("VS_FAULT_SCAN");
	assert_int_equal(c.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.outcome[i], VS_SCAN_CRASHED);
	collected_release(&c);
	free_set(paths);
}

static void test_pool_kills_hung_worker(void **state)
{
	struct vs_scan_options opt = { NULL, NOW, 2, 0.5 };
	struct collected c;
	char *paths[NFILES];
	(void)state;

	memset(&c, 0, sizeof(c));
	make_set(paths);
	setenv("VS_FAULT_SCAN", "hang:f3.png", 1);
	assert_int_equal(vs_scan_files((const char *const *)paths, NFILES, &opt, collect, &c), 0);
	unsetenv("VS_FAULT_SCAN");
	check_set(&c, NULL, "f3.png");
	collected_release(&c);
	free_set(paths);
}
#endif

int main(void)
{
	const struct CMUnitTest describe_tests[] = {
		cmocka_unit_test(test_describe_ok_keeps_chinese_name),
		cmocka_unit_test(test_describe_each_failure_status),
		cmocka_unit_test(test_describe_foreign),
		cmocka_unit_test(test_describe_bytes_that_are_not_utf8),
		cmocka_unit_test(test_describe_all_byte_values),
	};
	const struct CMUnitTest pool_tests[] = {
		cmocka_unit_test(test_pool_reports_in_input_order),
		cmocka_unit_test(test_pool_stops_when_report_fails),
#ifdef VS_FAULT_INJECTION
		cmocka_unit_test(test_pool_slow_first_file_keeps_order),
		cmocka_unit_test(test_pool_replaces_crashed_worker),
		cmocka_unit_test(test_pool_kills_hung_worker),
#endif
	};
	int failed = cmocka_run_group_tests(describe_tests, setup_keys, NULL);

	failed += cmocka_run_group_tests(pool_tests, setup_images, teardown_images);
	return failed ? 1 : 0;
}

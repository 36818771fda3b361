/*
 * Unit tests for the code service (serve.c, serve_store.c) run in-process on 127.0.0.1
 * with a port the kernel picks: a signed scan is answered from the rules and stored, state survives a stop and start, tokens are
 * stored as hashes only, a broken chain refuses to start, and stop drains cleanly.
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
#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/payload.h"
#include "venuescan/serve.h"

struct fx {
	char dir[64];
	char db[128], pub[128], areas[128];
	char *payload;
};

static int setup(void **state)
{
	struct fx *f = vs_xcalloc(1, sizeof(*f));
	struct vs_issuer_key k;
	struct vs_venue_claims c = { "aefc12d2-3c1c-56b1-b29c-2a52f2f02db7", "station",
				     "Henan/Zhengzhou/Erqi", 34.7447, 113.6566, "Henan",
				     1654000000, 0, 0 };
	char key[160];
	static const char areas[] =
		"area,level,start,end\n"
		"Henan/Zhengzhou,high,2022-06-11T00:00:00+08:00,2022-06-14T12:00:00+08:00\n";

	snprintf(f->dir, sizeof(f->dir), "/tmp/vs-test-serve.XXXXXX");
	if (!mkdtemp(f->dir) || vs_keygen("Henan", f->dir) != 0)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/s.db", f->dir);
	snprintf(f->pub, sizeof(f->pub), "%s/Henan.pub", f->dir);
	snprintf(f->areas, sizeof(f->areas), "%s/areas.csv", f->dir);
	snprintf(key, sizeof(key), "%s/Henan.key", f->dir);
	if (vs_key_load_secret(key, &k) != 0 || vs_venue_code_sign(&c, &k, &f->payload) != 0 ||
	    vs_file_write_atomic(f->areas, areas, strlen(areas), 0644) != 0)
		return -1;
	vs_key_release(&k);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vs_remove_tree(f->dir);
	free(f->payload);
	free(f);
	return 0;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	vs_buf_add(arg, data, size * n);
	return size * n;
}

/* One request; returns the status and leaves the body in out. */
static long request(const char *base, const char *path, const char *post, const char *auth,
		    struct vs_buf *out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char *url = vs_xasprintf("http://%s%s", base, path);
	long status = 0;

	vs_buf_reset(out);
	hd = curl_slist_append(hd, "Content-Type: application/json");
	if (auth)
		hd = curl_slist_append(hd, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
	if (post)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hd);
	curl_easy_cleanup(h);
	free(url);
	return status;
}

static void test_scan_store_restart(void **state)
{
	struct fx *f = *state;
	const char *trust[1] = { f->pub };
	struct vs_serve_config cfg = { 0 };
	struct vs_server *s;
	struct vs_buf b = VS_BUF_INIT;
	char *body;

	cfg.db_path = f->db;
	cfg.listen = "127.0.0.1:0";
	cfg.areas_path = f->areas;
	cfg.trust_paths = trust;
	cfg.ntrust = 1;
	cfg.threads = 2;
	assert_int_equal(vs_serve_start(&cfg, &s), 0);
	assert_int_equal(strncmp(vs_serve_address(s), "127.0.0.1:", 10), 0);
	assert_int_equal(request(vs_serve_address(s), "/healthz", NULL, NULL, &b), 200);
	body = vs_xasprintf("{\"person_id\":\"deng\",\"payload\":\"%s\",\"lat\":34.7447,"
			    "\"lon\":113.6566,\"ts\":\"2022-06-11T20:15:00+08:00\"}", f->payload);
	assert_int_equal(request(vs_serve_address(s), "/v1/scan", body, NULL, &b), 200);
	assert_non_null(strstr(b.data, "\"color\":\"red\""));
	assert_non_null(strstr(b.data, "\"reason\":\"high_risk\""));
	assert_int_equal(request(vs_serve_address(s), "/v1/scan", "{\"person_id\":1}", NULL, &b),
			 400);
	assert_non_null(strstr(b.data, "field 'person_id'"));
	assert_int_equal(vs_serve_stop(s, 5), 0);

	/* restarted without --areas: the stored areas and the scans' facts still hold */
	cfg.areas_path = NULL;
	assert_int_equal(vs_serve_start(&cfg, &s), 0);
	assert_int_equal(request(vs_serve_address(s), "/v1/code/deng", NULL, NULL, &b), 200);
	assert_non_null(strstr(b.data, "\"color\":\"red\""));
	free(body);
	body = vs_xasprintf("{\"person_id\":\"deng\",\"payload\":\"%s\",\"lat\":38.04,"
			    "\"lon\":114.51,\"ts\":\"2022-06-20T09:00:00+08:00\"}", f->payload);
	assert_int_equal(request(vs_serve_address(s), "/v1/scan", body, NULL, &b), 200);
	assert_non_null(strstr(b.data, "\"color\":\"red\"")); /* within 14 days of the trigger */
	free(body);
	body = vs_xasprintf("{\"person_id\":\"deng\",\"payload\":\"%s\",\"lat\":38.04,"
			    "\"lon\":114.51,\"ts\":\"2022-06-26T09:00:00+08:00\"}", f->payload);
	assert_int_equal(request(vs_serve_address(s), "/v1/scan", body, NULL, &b), 200);
	assert_non_null(strstr(b.data, "\"color\":\"green\"")); /* released after 14 days */
	assert_non_null(strstr(b.data, "\"reason\":\"release\""));
	assert_int_equal(vs_serve_stop(s, 5), 0);
	free(body);
	vs_buf_release(&b);
}

static void test_tokens_hashed(void **state)
{
	struct fx *f = *state;
	char *tok = NULL, *bad = NULL;
	unsigned char h[32];
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(vs_serve_token_add(f->db, "alice", "assign", &tok), 0);
	assert_int_equal(strlen(tok), 4 + 43);
	assert_int_equal(vs_serve_token_add(f->db, "alice", "root", &bad), VS_EINVAL);
	assert_null(bad);
	crypto_hash_sha256(h, (unsigned char *)tok, strlen(tok));
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT operator, role FROM tokens WHERE hash = ?",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "alice");
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "assign");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(tok);
}

static void test_broken_chain_refuses(void **state)
{
	struct fx *f = *state;
	struct vs_serve_config cfg = { 0 };
	struct vs_server *s = NULL;
	sqlite3 *db;

	cfg.db_path = f->db;
	cfg.listen = "127.0.0.1:0";
	cfg.areas_path = f->areas;
	assert_int_equal(vs_serve_start(&cfg, &s), 0);
	assert_int_equal(vs_serve_stop(s, 5), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO audit_head VALUES (1, 5, zeroblob(32))",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(vs_serve_start(&cfg, &s), VS_EFORMAT);
	assert_non_null(strstr(vs_error_message(), "audit log seq 1: missing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_store_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_chain_refuses, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

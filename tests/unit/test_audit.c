/*
 * Unit tests for the audit hash chain (audit.c): the canonical serialisation byte for byte,
 * the hash as SHA-256(prev || canonical), appending with the head row, and verification
 * finding the first bad seq for each kind of tampering, plus published checkpoints.
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
#include <sodium.h>
#include <sqlite3.h>

#include "venuescan/audit.h"
#include "venuescan/error.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"
#include "venuescan/serve.h"

#define T0 INT64_C(1654949700) /* 2022-06-11T20:15:00+08:00 */

static struct vs_audit_entry entry(const char *person, const char *old, const char *new_color,
				   const char *op, const char *just)
{
	struct vs_audit_entry e = { 0, T0, 480, T0 + 60, person, old, new_color,
				    "正在实施集中或居家医学隔离观察的入境人员", "Henan",
				    op, just, op[0] ? "" : "high_risk" };
	return e;
}

static void test_canonical_form(void **state)
{
	struct vs_buf b = VS_BUF_INIT;
	struct vs_audit_entry e = entry("deng \"D\"", "green", "red", "alice", "line1\nline2");

	(void)state;
	e.seq = 3;
	assert_int_equal(vs_audit_entry_json(&b, &e), 0);
	assert_string_equal(b.data,
		"{\"seq\":3,\"ts\":\"2022-06-11T20:15:00+08:00\",\"recorded_at\":\"2022-06-11T12:16:00+00:00\","
		"\"person_id\":\"deng \\\"D\\\"\",\"old\":\"green\",\"new\":\"red\","
		"\"reason\":\"正在实施集中或居家医学隔离观察的入境人员\",\"authority\":\"Henan\","
		"\"operator\":\"alice\",\"justification\":\"line1\\nline2\",\"rule\":\"\"}");
	vs_buf_release(&b);
}

static void test_hash_is_sha256_of_prev_and_form(void **state)
{
	unsigned char prev[32], h[32], want[32];
	struct vs_buf b = VS_BUF_INIT;
	struct vs_audit_entry e = entry("p1", "green", "red", "", "");
	crypto_hash_sha256_state st;
	char hex[65];

	(void)state;
	for (int i = 0; i < 32; i++)
		prev[i] = (unsigned char)i;
	e.seq = 1;
	assert_int_equal(vs_audit_entry_hash(prev, &e, h), 0);
	vs_audit_entry_json(&b, &e);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, 32);
	crypto_hash_sha256_update(&st, (unsigned char *)b.data, b.len);
	crypto_hash_sha256_final(&st, want);
	assert_memory_equal(h, want, 32);
	/* one byte of the previous hash changes everything */
	prev[31] ^= 1;
	assert_int_equal(vs_audit_entry_hash(prev, &e, want), 0);
	assert_memory_not_equal(h, want, 32);
	vs_audit_hex(h, hex);
	assert_int_equal(strlen(hex), 64);
	vs_buf_release(&b);
}

struct fx {
	char path[64];
	sqlite3 *db;
};

/* A database with 10 entries. */
static int setup(void **state)
{
	struct fx *f = vs_xcalloc(1, sizeof(*f));
	struct vs_audit_head head;

	if (vs_crypto_init() != 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/vs-test-audit.XXXXXX");
	close(mkstemp(f->path));
	if (vs_serve_db_open(f->path, 0, &f->db) != 0)
		return -1;
	assert_int_equal(vs_audit_head_load(f->db, &head), 0);
	assert_int_equal(head.seq, 0);
	sqlite3_exec(f->db, "BEGIN", NULL, NULL, NULL);
	for (int i = 0; i < 10; i++) {
		char person[16];
		struct vs_audit_entry e;
		snprintf(person, sizeof(person), "p%d", i);
		e = entry(person, i % 2 ? "red" : "green", i % 2 ? "green" : "red",
			  i == 4 ? "alice" : "", i == 4 ? "order 17" : "");
		e.ts += i;
		if (vs_audit_append(f->db, &head, &e) != 0)
			return -1;
		assert_int_equal(e.seq, i + 1);
	}
	sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
	assert_int_equal(head.seq, 10);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[80];

	sqlite3_close(f->db);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

static int64_t first_bad(struct fx *f, const char *sql)
{
	struct vs_audit_verdict v;

	if (sql)
		assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(vs_audit_verify_db(f->db, &v), 0);
	return v.first_bad;
}

static void test_intact(void **state)
{
	struct fx *f = *state;
	struct vs_audit_verdict v;
	struct vs_audit_head head;
	char hex[65];

	assert_int_equal(vs_audit_verify_db(f->db, &v), 0);
	assert_int_equal(v.first_bad, 0);
	assert_int_equal(v.entries, 10);
	assert_int_equal(v.head_seq, 10);
	assert_int_equal(vs_audit_head_load(f->db, &head), 0);
	vs_audit_hex(head.hash, hex);
	assert_string_equal(v.head_hex, hex);
}

static void test_edit(void **state)
{
	assert_int_equal(first_bad(*state, "UPDATE audit SET justification = 'none' WHERE seq = 5"), 5);
}

static void test_edit_time(void **state)
{
	assert_int_equal(first_bad(*state, "UPDATE audit SET ts_offset = 0 WHERE seq = 2"), 2);
}

static void test_delete(void **state)
{
	assert_int_equal(first_bad(*state, "DELETE FROM audit WHERE seq = 6"), 6);
}

static void test_reorder(void **state)
{
	assert_int_equal(first_bad(*state, "UPDATE audit SET seq = 100 WHERE seq = 7;"
				   "UPDATE audit SET seq = 7 WHERE seq = 8;"
				   "UPDATE audit SET seq = 8 WHERE seq = 100"), 7);
}

static void test_truncate(void **state)
{
	assert_int_equal(first_bad(*state, "DELETE FROM audit WHERE seq >= 9"), 9);
}

static void test_head_forged(void **state)
{
	assert_int_equal(first_bad(*state, "UPDATE audit_head SET hash = zeroblob(32)"), 10);
}

static void test_checkpoint(void **state)
{
	struct fx *f = *state;
	struct vs_audit_verdict v;
	char cp[100];

	assert_int_equal(vs_audit_verify_db(f->db, &v), 0);
	snprintf(cp, sizeof(cp), "10:%s", v.head_hex);
	assert_int_equal(vs_audit_verify(f->path, cp, &v), 0);
	assert_int_equal(v.first_bad, 0);
	/* cut the tail and forge the head to match: only the checkpoint notices */
	first_bad(f, "DELETE FROM audit WHERE seq > 8;"
		  "UPDATE audit_head SET seq = 8, hash = (SELECT hash FROM audit WHERE seq = 8)");
	assert_int_equal(vs_audit_verify(f->path, NULL, &v), 0);
	assert_int_equal(v.first_bad, 0);
	assert_int_equal(vs_audit_verify(f->path, cp, &v), 0);
	assert_int_equal(v.first_bad, 9);
	assert_int_equal(vs_audit_verify(f->path, "10:abc", &v), VS_EINVAL);
	assert_int_equal(vs_audit_verify("/nonexistent/x.db", NULL, &v), VS_EDB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_form),
		cmocka_unit_test(test_hash_is_sha256_of_prev_and_form),
		cmocka_unit_test_setup_teardown(test_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
	};
	if (vs_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

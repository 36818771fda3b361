/*
 * Unit tests for keys.c: keygen's files and modes, loading both halves, every corrupt key
 * sample in fixtures/bad/ (copied to a 0600 temporary, since git keeps no modes), the
 * permission check, and the trust set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"


static const char *fixtures(void)
{
	const char *f = getenv("FIXTURES");
	return f ? f : "fixtures";
}

static char *tmp_path(const char *name)
{
	return vs_xasprintf("%s/%s", tmpdir, name);
}

/* Copy fixtures/bad/NAME to the temporary folder with mode; returns the new path. */
static char *copy_bad(const char *name, mode_t mode)
{
	char *src = vs_xasprintf("%s/bad/%s", fixtures(), name), *dst = tmp_path(name);
	struct vs_buf b;

	if (vs_file_read_all(src, 4096, &b) != 0)
		fail_msg("%s", vs_error_message());
	assert_int_equal(vs_file_write_atomic(dst, b.data, b.len, mode), 0);
	vs_buf_release(&b);
	free(src);
	return dst;
}

static void test_issuer_names(void **state)
{
	char long_name[VS_ISSUER_MAX + 2];
	(void)state;

	assert_true(vs_issuer_name_valid("henan.gov"));
	assert_true(vs_issuer_name_valid("Zhengzhou_2022-v1"));
	memset(long_name, 'a', sizeof(long_name));
	long_name[VS_ISSUER_MAX] = '\0';
	assert_true(vs_issuer_name_valid(long_name));
	long_name[VS_ISSUER_MAX] = 'a';
	long_name[VS_ISSUER_MAX + 1] = '\0';
	assert_false(vs_issuer_name_valid(long_name));
	assert_false(vs_issuer_name_valid(""));
	assert_false(vs_issuer_name_valid(NULL));
	assert_false(vs_issuer_name_valid("."));
	assert_false(vs_issuer_name_valid(".."));
	assert_false(vs_issuer_name_valid("a/b"));
	assert_false(vs_issuer_name_valid("a b"));
	assert_false(vs_issuer_name_valid("\xe9\x83\x91")); /* 郑: names are ASCII */
}

static void test_keygen_writes_both_files_with_modes(void **state)
{
	struct vs_issuer_key sk, pk;
	char *dir = tmp_path("new/sub"), *kpath, *ppath;
	struct stat st;
	(void)state;

	assert_int_equal(vs_keygen_flags("henan", dir, 0), 0);
	kpath = vs_xasprintf("%s/henan.key", dir);
	ppath = vs_xasprintf("%s/henan.pub", dir);
	assert_int_equal(stat(kpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(ppath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	assert_int_equal(vs_key_load_secret(kpath, &sk), 0);
	assert_int_equal(sk.has_secret, 1);
	assert_string_equal(sk.issuer, "henan");
	assert_int_equal(vs_key_load_public(ppath, &pk), 0);
	assert_int_equal(pk.has_secret, 0);
	assert_string_equal(pk.issuer, "henan");
	assert_memory_equal(sk.pk, pk.pk, sizeof(pk.pk));

	/* without the flag an existing pair is kept; with it (and vs_keygen) replaced */
	assert_int_equal(vs_keygen_flags("henan", dir, 0), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "already exists"));
	assert_int_equal(vs_key_load_public(ppath, &pk), 0);
	assert_memory_equal(sk.pk, pk.pk, sizeof(pk.pk));
	assert_int_equal(vs_keygen("henan", dir), 0);
	assert_int_equal(vs_key_load_public(ppath, &pk), 0);
	assert_memory_not_equal(sk.pk, pk.pk, sizeof(pk.pk));

	vs_key_release(&sk);
	for (size_t i = 0; i < sizeof(sk.sk); i++)
		assert_int_equal(sk.sk[i], 0);
	assert_int_equal(sk.has_secret, 0);
	free(kpath);
	free(ppath);
	free(dir);
}

static void test_keygen_refuses_bad_name_and_bad_folder(void **state)
{
	char *file = tmp_path("plainfile"), *under = tmp_path("plainfile/keys");
	char *stray;
	(void)state;

	assert_int_equal(vs_keygen("a/b", tmpdir), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "'a/b'"));
	assert_int_equal(vs_file_write_atomic(file, "x", 1, 0644), 0);
	assert_int_equal(vs_keygen("ok", under), VS_EIO);
	assert_non_null(strstr(vs_error_message(), "cannot create folder"));
	stray = tmp_path("ok.key");
	assert_int_not_equal(access(stray, F_OK), 0);
	free(stray);
	free(file);
	free(under);
}

static void test_secret_key_permissions(void **state)
{
	char *dir = tmp_path("perm"), *kpath;
	struct vs_issuer_key k;
	(void)state;

	assert_int_equal(vs_keygen("perm", dir), 0);
	kpath = vs_xasprintf("%s/perm.key", dir);
	assert_int_equal(chmod(kpath, 0644), 0);
	assert_int_equal(vs_key_load_secret(kpath, &k), VS_EPERM);
	assert_non_null(strstr(vs_error_message(), "permissions 0644 are too open; chmod 600"));
	assert_non_null(strstr(vs_error_message(), "perm.key'"));
	assert_int_equal(k.has_secret, 0);
	assert_int_equal(chmod(kpath, 0640), 0);
	assert_int_equal(vs_key_load_secret(kpath, &k), VS_EPERM);
	assert_int_equal(chmod(kpath, 0400), 0);
	assert_int_equal(vs_key_load_secret(kpath, &k), 0);
	vs_key_release(&k);
	free(kpath);
	free(dir);
}

static void test_bad_secret_keys(void **state)
{
	static const struct {
		const char *file;
		int rc;
		const char *msg;
	} bad[] = {
		{ "key-short.key", VS_EFORMAT, "key is 12 bytes, expected 64" },
		{ "key-badheader.key", VS_EFORMAT, "expected it to start with 'vs-ed25519-key '" },
		{ "key-pub-as-secret.key", VS_EFORMAT, "start with 'vs-ed25519-key '" },
		{ "key-badname.key", VS_EFORMAT, "issuer name 'bad/name' is not valid" },
		{ "key-badbase64.key", VS_EFORMAT, "not valid base64url" },
		{ "key-mismatch.key", VS_ECRYPTO, "public half does not match" },
		{ "key-twolines.key", VS_EFORMAT, "more than one line" },
		{ "key-empty.key", VS_EFORMAT, "not a key file" },
		{ "key-noname.key", VS_EFORMAT, "expected 'vs-ed25519-key NAME KEY'" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = copy_bad(bad[i].file, 0600);
		struct vs_issuer_key k;
		int rc = vs_key_load_secret(path, &k);

		if (rc != bad[i].rc || !strstr(vs_error_message(), bad[i].msg) ||
		    !strstr(vs_error_message(), bad[i].file))
			fail_msg("%s: rc %d, message '%s'", bad[i].file, rc, vs_error_message());
		assert_int_equal(k.has_secret, 0);
		free(path);
	}
}

static void test_bad_public_keys(void **state)
{
	static const struct {
		const char *file;
		const char *msg;
	} bad[] = {
		{ "key-short.pub", "key is 31 bytes, expected 32" },
		{ "key-badheader.pub", "start with 'vs-ed25519-pub '" },
		{ "key-short.key", "start with 'vs-ed25519-pub '" },
	};
	struct vs_issuer_key k;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = vs_xasprintf("%s/bad/%s", fixtures(), bad[i].file);
		int rc = vs_key_load_public(path, &k);

		if (rc != VS_EFORMAT || !strstr(vs_error_message(), bad[i].msg))
			fail_msg("%s: rc %d, message '%s'", bad[i].file, rc, vs_error_message());
		free(path);
	}
	assert_int_equal(vs_key_load_public("/nonexistent/x.pub", &k), VS_ENOTFOUND);
	assert_non_null(strstr(vs_error_message(), "'/nonexistent/x.pub'"));
	assert_int_equal(vs_key_load_public(tmpdir, &k), VS_EFORMAT); /* a folder */
}

static void test_trust_set(void **state)
{
	char *dir = tmp_path("trust"), *a1, *b, *a2dir, *a2;
	struct vs_trust_set *set = vs_trust_set_new();
	struct vs_issuer_key ka, kb;
	(void)state;

	assert_int_equal(vs_keygen("alpha", dir), 0);
	assert_int_equal(vs_keygen("beta", dir), 0);
	a2dir = tmp_path("trust2");
	assert_int_equal(vs_keygen("alpha", a2dir), 0);
	a1 = vs_xasprintf("%s/alpha.pub", dir);
	b = vs_xasprintf("%s/beta.pub", dir);
	a2 = vs_xasprintf("%s/alpha.pub", a2dir);

	assert_null(vs_trust_set_find(set, "alpha"));
	assert_int_equal(vs_trust_set_add_file(set, a1), 0);
	assert_int_equal(vs_trust_set_add_file(set, a1), 0); /* the same key twice: once */
	assert_int_equal(vs_trust_set_add_file(set, b), 0);
	assert_int_equal(vs_trust_set_count(set), 2);
	assert_int_equal(vs_trust_set_add_file(set, a2), VS_EINVAL);
	assert_non_null(strstr(vs_error_message(), "two different public keys"));
	assert_int_equal(vs_trust_set_count(set), 2);

	assert_int_equal(vs_key_load_public(a1, &ka), 0);
	assert_int_equal(vs_key_load_public(b, &kb), 0);
	assert_memory_equal(vs_trust_set_find(set, "alpha")->pk, ka.pk, 32);
	assert_memory_equal(vs_trust_set_find(set, "beta")->pk, kb.pk, 32);
	assert_int_equal(vs_trust_set_find(set, "beta")->has_secret, 0);
	assert_null(vs_trust_set_find(set, "gamma"));
	assert_null(vs_trust_set_find(NULL, "alpha"));
	assert_int_equal(vs_trust_set_count(NULL), 0);

	vs_trust_set_free(set);
	vs_trust_set_free(NULL);
	free(a1);
	free(a2);
	free(b);
	free(a2dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issuer_names),
		cmocka_unit_test(test_keygen_writes_both_files_with_modes),
		cmocka_unit_test(test_keygen_refuses_bad_name_and_bad_folder),
		cmocka_unit_test(test_secret_key_permissions),
		cmocka_unit_test(test_bad_secret_keys),
		cmocka_unit_test(test_bad_public_keys),
		cmocka_unit_test(test_trust_set),
	};
	return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}

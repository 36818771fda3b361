/*
 * Issuer keys: making Ed25519 key pairs, reading and writing the one-line key files, and
 * the trust set a scan verifies against.  A key file is read whole (it is tiny), checked
 * word by word, and refused with a message that names the file and the first thing wrong
 * with it; a secret key is also refused when others can read it and when its embedded
 * public half does not match its seed, so a corrupted key never signs anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "venuescan/codec.h"
#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/keys.h"
#include "venuescan/mem.h"

#define KEY_FILE_MAX 512 /* a key line is under 200 bytes */
#define PUB_WORD "vs-ed25519-pub"
#define SEC_WORD "vs-ed25519-key"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void sodium_start(void)
{
	sodium_status = sodium_init() < 0 ? -1 : 0;
}

int vs_crypto_init(void)
{
	pthread_once(&sodium_once, sodium_start);
	if (sodium_status)
		return vs_error_set(VS_ECRYPTO, "libsodium failed to initialise");
	return 0;
}

int vs_issuer_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	for (n = 0; name[n]; n++) {
		char c = name[n];
		if (n >= VS_ISSUER_MAX ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	/* "." and ".." would make NAME.key a path outside the folder's naming scheme */
	return n > 0 && strcmp(name, ".") && strcmp(name, "..");
}

/* Make path and its missing parents as folders. */
static int make_dirs(const char *path)
{
	char *p = vs_xstrdup(path), *s;
	struct stat st;
	int rc = 0;

	for (s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			rc = vs_error_set(VS_EIO, "'%s': cannot create folder: %s", p,
					  strerror(errno));
			goto out;
		}
		*s = c;
		if (!c)
			break;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		rc = vs_error_set(VS_EIO, "'%s': not a folder", path);
out:
	free(p);
	return rc;
}

static char *key_line(const char *word, const char *issuer, const unsigned char *k, size_t n)
{
	char *b64 = vs_base64url_encode(k, n);
	char *line = vs_xasprintf("%s %s %s\n", word, issuer, b64);

	sodium_memzero(b64, strlen(b64));
	free(b64);
	return line;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int vs_keygen_flags(const char *issuer, const char *dir, unsigned flags)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	struct vs_outfile *kf = NULL, *pf = NULL;
	char *kpath = NULL, *ppath = NULL, *kline = NULL, *pline = NULL;
	int rc;

	if (!vs_issuer_name_valid(issuer))
		return vs_error_set(VS_EINVAL, "issuer name '%s' is not valid: use 1-%d characters "
					       "of A-Z a-z 0-9 . _ -", issuer ? issuer : "",
				    VS_ISSUER_MAX);
	if ((rc = vs_crypto_init()) != 0)
		return rc;
	kpath = vs_xasprintf("%s/%s.key", dir, issuer);
	ppath = vs_xasprintf("%s/%s.pub", dir, issuer);
	if (!(flags & VS_KEYGEN_OVERWRITE) && (exists(kpath) || exists(ppath))) {
		rc = vs_error_set(VS_EINVAL, "'%s': already exists; not replacing a key "
				  "(use --force)", exists(kpath) ? kpath : ppath);
		goto out;
	}
	if ((rc = make_dirs(dir)) != 0)
		goto out;
	/* Open both temporaries before committing either, so most failures leave nothing. */
	if ((rc = vs_outfile_open(&kf, kpath, 0600)) != 0 ||
	    (rc = vs_outfile_open(&pf, ppath, 0644)) != 0)
		goto out;
	crypto_sign_keypair(pk, sk);
	kline = key_line(SEC_WORD, issuer, sk, sizeof(sk));
	pline = key_line(PUB_WORD, issuer, pk, sizeof(pk));
	if (fputs(kline, vs_outfile_stream(kf)) == EOF ||
	    fputs(pline, vs_outfile_stream(pf)) == EOF) {
		rc = vs_error_set(VS_EIO, "'%s': write failed: %s", dir, strerror(errno));
		goto out;
	}
	rc = vs_outfile_commit(kf);
	kf = NULL;
	if (rc)
		goto out;
	rc = vs_outfile_commit(pf);
	pf = NULL;
	if (rc)
		unlink(kpath); /* a secret key without its public half is of no use */
out:
	vs_outfile_abort(kf);
	vs_outfile_abort(pf);
	sodium_memzero(sk, sizeof(sk));
	if (kline) {
		sodium_memzero(kline, strlen(kline));
		free(kline);
	}
	free(pline);
	free(kpath);
	free(ppath);
	return rc;
}

int vs_keygen(const char *issuer, const char *dir)
{
	return vs_keygen_flags(issuer, dir, VS_KEYGEN_OVERWRITE);
}

/*
 * Read a key file into buf, refusing a secret key that group or others can read.  The
 * mode is taken from the open descriptor, so it is the mode of the file actually read.
 */
static int read_key_file(const char *path, int secret, struct vs_buf *buf)
{
	char chunk[KEY_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	vs_buf_init(buf, KEY_FILE_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return vs_error_set(errno == ENOENT ? VS_ENOTFOUND : VS_EIO, "'%s': %s", path,
				    strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = vs_error_set(VS_EIO, "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a regular file", path);
		goto out;
	}
	if (secret && (st.st_mode & 077)) {
		rc = vs_error_set(VS_EPERM, "'%s': permissions %04o are too open; chmod 600", path,
				  (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = vs_error_set(VS_EIO, "'%s': %s", path, strerror(errno));
			goto out;
		}
		if ((rc = vs_buf_add(buf, chunk, (size_t)n)) != 0) {
			rc = vs_error_set(VS_EFORMAT, "'%s': larger than %d bytes; not a key file",
					  path, KEY_FILE_MAX);
			goto out;
		}
	}
	if (!buf->data)
		vs_buf_add(buf, "", 0);
out:
	sodium_memzero(chunk, sizeof(chunk));
	close(fd);
	if (rc) {
		if (buf->data)
			sodium_memzero(buf->data, buf->cap);
		vs_buf_release(buf);
	}
	return rc;
}

/*
 * Parse "WORD NAME BASE64URL\n" (the newline optional) into key->issuer and out, which
 * receives exactly want bytes.
 */
static int parse_key_line(const char *path, const struct vs_buf *text, const char *word,
			  size_t want, struct vs_issuer_key *key, unsigned char *out)
{
	struct vs_buf raw;
	const char *p = text->data, *end = text->data + text->len, *name, *b64;
	size_t wlen = strlen(word), nlen;
	int rc;

	vs_buf_init(&raw, 256);
	if (end > p && end[-1] == '\n')
		end--;
	if (memchr(p, '\n', (size_t)(end - p)) || memchr(p, '\0', (size_t)(end - p))) {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a key file: more than one line", path);
		goto out;
	}
	if ((size_t)(end - p) <= wlen || memcmp(p, word, wlen) || p[wlen] != ' ') {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a key file: expected it to start with "
				  "'%s '", path, word);
		goto out;
	}
	name = p + wlen + 1;
	b64 = memchr(name, ' ', (size_t)(end - name));
	if (!b64) {
		rc = vs_error_set(VS_EFORMAT, "'%s': not a key file: expected '%s NAME KEY'", path,
				  word);
		goto out;
	}
	nlen = (size_t)(b64 - name);
	b64++;
	if (nlen > VS_ISSUER_MAX) {
		rc = vs_error_set(VS_EFORMAT, "'%s': issuer name is %zu characters, at most %d",
				  path, nlen, VS_ISSUER_MAX);
		goto out;
	}
	memcpy(key->issuer, name, nlen);
	key->issuer[nlen] = '\0';
	if (!vs_issuer_name_valid(key->issuer)) {
		rc = vs_error_set(VS_EFORMAT, "'%s': issuer name '%s' is not valid", path,
				  key->issuer);
		goto out;
	}
	if (vs_base64url_decode(b64, (size_t)(end - b64), &raw) != 0) {
		rc = vs_error_set(VS_EFORMAT, "'%s': key is not valid base64url: %s", path,
				  vs_error_message());
		goto out;
	}
	if (raw.len != want) {
		rc = vs_error_set(VS_EFORMAT, "'%s': key is %zu bytes, expected %zu", path, raw.len,
				  want);
		goto out;
	}
	memcpy(out, raw.data, want);
	rc = 0;
out:
	if (raw.data)
		sodium_memzero(raw.data, raw.cap);
	vs_buf_release(&raw);
	return rc;
}

int vs_key_load_secret(const char *path, struct vs_issuer_key *key)
{
	unsigned char seed[crypto_sign_SEEDBYTES], derived_pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char derived_sk[crypto_sign_SECRETKEYBYTES];
	struct vs_buf text;
	int rc;

	memset(key, 0, sizeof(*key));
	if ((rc = vs_crypto_init()) != 0)
		return rc;
	if ((rc = read_key_file(path, 1, &text)) != 0)
		return rc;
	rc = parse_key_line(path, &text, SEC_WORD, sizeof(key->sk), key, key->sk);
	if (rc)
		goto out;
	/* A libsodium secret key is seed || public key: the second half must follow from the
	 * first, or signatures made with it would not verify against the .pub. */
	crypto_sign_ed25519_sk_to_seed(seed, key->sk);
	crypto_sign_seed_keypair(derived_pk, derived_sk, seed);
	crypto_sign_ed25519_sk_to_pk(key->pk, key->sk);
	if (sodium_memcmp(derived_pk, key->pk, sizeof(key->pk)) != 0) {
		rc = vs_error_set(VS_ECRYPTO, "'%s': key is corrupt: its public half does not "
					      "match its secret seed", path);
		goto out;
	}
	key->has_secret = 1;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(derived_sk, sizeof(derived_sk));
	sodium_memzero(text.data, text.cap);
	vs_buf_release(&text);
	if (rc)
		sodium_memzero(key, sizeof(*key));
	return rc;
}

int vs_key_load_public(const char *path, struct vs_issuer_key *key)
{
	struct vs_buf text;
	int rc;

	memset(key, 0, sizeof(*key));
	if ((rc = read_key_file(path, 0, &text)) != 0)
		return rc;
	rc = parse_key_line(path, &text, PUB_WORD, sizeof(key->pk), key, key->pk);
	vs_buf_release(&text);
	if (rc)
		memset(key, 0, sizeof(*key));
	return rc;
}

void vs_key_release(struct vs_issuer_key *key)
{
	if (!key)
		return;
	sodium_memzero(key->sk, sizeof(key->sk));
	key->has_secret = 0;
}

struct vs_trust_set {
	struct vs_issuer_key *keys; /* public halves only */
	size_t n, alloc;
};

struct vs_trust_set *vs_trust_set_new(void)
{
	return vs_xcalloc(1, sizeof(struct vs_trust_set));
}

int vs_trust_set_add(struct vs_trust_set *set, const struct vs_issuer_key *key)
{
	const struct vs_issuer_key *have = vs_trust_set_find(set, key->issuer);
	struct vs_issuer_key *k;

	if (!vs_issuer_name_valid(key->issuer))
		return vs_error_set(VS_EINVAL, "issuer name '%s' is not valid", key->issuer);
	if (have) {
		if (memcmp(have->pk, key->pk, sizeof(key->pk)) != 0)
			return vs_error_set(VS_EINVAL, "issuer '%s': two different public keys "
						       "given", key->issuer);
		return 0;
	}
	VS_ALLOC_GROW(set->keys, set->n + 1, set->alloc);
	k = &set->keys[set->n++];
	memset(k, 0, sizeof(*k));
	memcpy(k->issuer, key->issuer, sizeof(k->issuer));
	memcpy(k->pk, key->pk, sizeof(k->pk));
	return 0;
}

int vs_trust_set_add_file(struct vs_trust_set *set, const char *path)
{
	struct vs_issuer_key key;
	int rc = vs_key_load_public(path, &key);

	if (rc)
		return rc;
	if ((rc = vs_trust_set_add(set, &key)) != 0)
		vs_error_prefix("'%s'", path);
	return rc;
}

const struct vs_issuer_key *vs_trust_set_find(const struct vs_trust_set *set, const char *issuer)
{
	/* A handful of issuers at most: a linear search beats any index here. */
	for (size_t i = 0; set && issuer && i < set->n; i++)
		if (!strcmp(set->keys[i].issuer, issuer))
			return &set->keys[i];
	return NULL;
}

size_t vs_trust_set_count(const struct vs_trust_set *set)
{
	return set ? set->n : 0;
}

void vs_trust_set_free(struct vs_trust_set *set)
{
	if (!set)
		return;
	free(set->keys);
	free(set);
}

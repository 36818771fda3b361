/*
 * Issuer keys: Ed25519 key pairs made by keygen, and the set of trusted public keys a
 * scan verifies against.  Key files are one text line each:
 *   NAME.pub  "vs-ed25519-pub NAME <base64url of the 32-byte public key>\n"   (mode 0644)
 *   NAME.key  "vs-ed25519-key NAME <base64url of the 64-byte secret key>\n"   (mode 0600)
 * A secret key file readable by group or others is refused (like ssh).  Issuer names are
 * 1-64 characters of [A-Za-z0-9._-].  Secret key bytes are wiped (sodium_memzero) when
 * released.
 */
#ifndef VENUESCAN_KEYS_H
#define VENUESCAN_KEYS_H

#include <stddef.h>

#define VS_ISSUER_MAX 64

struct vs_issuer_key {
	char issuer[VS_ISSUER_MAX + 1];
	unsigned char pk[32];
	unsigned char sk[64]; /* all zero when has_secret is 0 */
	int has_secret;
};

/* Initialise libsodium once per process (safe from any thread); VS_ECRYPTO if it cannot. */
int vs_crypto_init(void);

/* 1 if name is a valid issuer name, else 0. */
int vs_issuer_name_valid(const char *name);

/* Make a key pair and write DIR/NAME.key and DIR/NAME.pub atomically (DIR created if missing). */
int vs_keygen(const char *issuer, const char *dir);

#define VS_KEYGEN_OVERWRITE 1u /* replace existing key files (vs_keygen always does) */
/*
 * vs_keygen with flags: without VS_KEYGEN_OVERWRITE an existing DIR/NAME.key or NAME.pub
 * fails with VS_EINVAL before anything is written.  Both files are staged before either is
 * committed; if the second commit fails the new .key is removed again.
 */
int vs_keygen_flags(const char *issuer, const char *dir, unsigned flags);

/*
 * Load a key file into *key (overwritten; release with vs_key_release).  Errors name the
 * file: VS_ENOTFOUND/VS_EIO reading it, VS_EPERM for a secret key readable by group or
 * others, VS_EFORMAT for a wrong first word, bad issuer name, bad base64url or wrong size,
 * VS_ECRYPTO for a secret key whose public half does not match its seed.  The issuer is
 * the name written in the file; the file's own name does not matter.
 */
int vs_key_load_secret(const char *path, struct vs_issuer_key *key);
int vs_key_load_public(const char *path, struct vs_issuer_key *key);
/* Wipe the secret part. */
void vs_key_release(struct vs_issuer_key *key);

/* A set of trusted public keys, looked up by issuer name.  Owned by the caller. */
struct vs_trust_set;

struct vs_trust_set *vs_trust_set_new(void);
/*
 * Load a .pub file into the set; two different keys for one issuer fail with VS_EINVAL,
 * the same key twice is accepted once.  Only the public half of a key is kept.
 */
int vs_trust_set_add_file(struct vs_trust_set *set, const char *path);
int vs_trust_set_add(struct vs_trust_set *set, const struct vs_issuer_key *key);
/* The public key for issuer, or NULL. */
const struct vs_issuer_key *vs_trust_set_find(const struct vs_trust_set *set, const char *issuer);
size_t vs_trust_set_count(const struct vs_trust_set *set);
void vs_trust_set_free(struct vs_trust_set *set);

#endif

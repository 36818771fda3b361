#!/usr/bin/env bash
# keygen: the two files and their modes, refusing to overwrite, --force, bad names and
# folders (one-line error, exit 2, nothing left behind), and the secret never printed.
. "$(dirname "$0")/lib.sh"

mode() { stat -c %a "$1"; }
leftovers() { find "$1" -name '*.tmp.*' 2>/dev/null | wc -l; }

run vs keygen --issuer henan.gov --out "$TMP/keys/nested"
is "$rc" 0 "keygen exits 0"
is "$out" "$TMP/keys/nested/henan.gov.key
$TMP/keys/nested/henan.gov.pub" "prints the two paths written"
is "$err" "" "nothing on stderr"
is "$(mode "$TMP/keys/nested/henan.gov.key")" 600 "secret key is mode 0600"
is "$(mode "$TMP/keys/nested/henan.gov.pub")" 644 "public key is mode 0644"
like "$(cat "$TMP/keys/nested/henan.gov.key")" '^vs-ed25519-key henan\.gov [A-Za-z0-9_-]{86}$' \
	"secret key file is one line: word, issuer, 64 bytes base64url"
like "$(cat "$TMP/keys/nested/henan.gov.pub")" '^vs-ed25519-pub henan\.gov [A-Za-z0-9_-]{43}$' \
	"public key file is one line: word, issuer, 32 bytes base64url"
is "$(wc -l <"$TMP/keys/nested/henan.gov.key")" 1 "secret key file ends with one newline"
secret=$(cut -d' ' -f3 "$TMP/keys/nested/henan.gov.key")
unlike "$out$err" "$secret" "the secret key is never printed"
is "$(leftovers "$TMP/keys")" 0 "no temporary files left"

# An existing key is kept unless --force.
before=$(cat "$TMP/keys/nested/henan.gov.key" "$TMP/keys/nested/henan.gov.pub")
run vs keygen --issuer henan.gov --out "$TMP/keys/nested"
is_error 2 "henan\.gov\.key'.*already exists" "existing key: one-line error, exit 2"
is "$(cat "$TMP/keys/nested/henan.gov.key" "$TMP/keys/nested/henan.gov.pub")" "$before" \
	"existing key pair left untouched"
rm "$TMP/keys/nested/henan.gov.key"
run vs keygen --issuer henan.gov --out "$TMP/keys/nested"
is_error 2 "henan\.gov\.pub'.*already exists" "an existing .pub alone is also kept"
run vs keygen --issuer henan.gov --out "$TMP/keys/nested" --force
is "$rc" 0 "--force replaces the pair"
unlike "$(cat "$TMP/keys/nested/henan.gov.pub")" "$(printf '%s\n' "$before" | tail -1 | cut -d' ' -f3)" \
	"--force wrote a new key"
is "$(mode "$TMP/keys/nested/henan.gov.key")" 600 "replaced secret key is mode 0600"

# Usage errors.
run vs keygen --out "$TMP/k2"
is_error 2 "keygen: --issuer NAME is required.*--help" "missing --issuer: usage error"
run vs keygen --issuer x
is_error 2 "keygen: --out DIR is required" "missing --out: usage error"
run vs keygen --issuer x --out "$TMP/k2" extra
is_error 2 "unexpected argument 'extra'" "stray argument: usage error"
run vs keygen --issuer --out "$TMP/k2"
is "$rc" 2 "--issuer swallowing the next flag is not a name"
for bad in "a/b" "" ".." "has space" "$(printf 'x%.0s' $(seq 65))" "郑州"; do
	run vs keygen --issuer "$bad" --out "$TMP/k2"
	is_error 2 "option '--issuer': '.*' is not a valid issuer name" "bad issuer name '$bad' refused"
done
ok "$([ ! -e "$TMP/k2" ]; echo $?)" "nothing created for refused names"

# Folders that cannot be written: one line, exit 2, no partial files.
: >"$TMP/plainfile"
run vs keygen --issuer x --out "$TMP/plainfile/keys"
is_error 2 "plainfile.*cannot create folder" "out under a regular file: one-line error, exit 2"
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$TMP/readonly" && chmod 555 "$TMP/readonly"
	run vs keygen --issuer x --out "$TMP/readonly"
	is_error 2 "readonly/x\.key'" "read-only folder: one-line error, exit 2"
	is "$(ls -A "$TMP/readonly" | wc -l)" 0 "read-only folder: nothing written"
	chmod 755 "$TMP/readonly"
fi
if [ -d /proc/self ]; then
	run vs keygen --issuer x --out /proc/self
	is "$rc" 2 "unwritable /proc folder: exit 2"
	is "$(printf '%s\n' "$err" | grep -c .)" 1 "unwritable /proc folder: one-line error"
fi

# Help lists every flag.
run vs keygen --help
for flag in --issuer --out --force; do
	like "$out" "^  $flag( |$)" "--help documents $flag"
done
like "$out" '^options:' "--help has an options: list"
done_testing

#!/usr/bin/env bash
# make install: binary, library, headers, pkg-config file, man page and data land under
# DESTDIR/PREFIX, and a program builds and runs against the library through pkg-config.
. "$(dirname "$0")/lib.sh"
stage=$TMP/stage
build=${BUILD_DIR:-$TOP/build}

run make -s -C "$TOP" BUILD="$build" SANITIZE="${SANITIZE:-address,undefined}" \
	CFLAGS="-O1 -g" PREFIX=/usr/local DESTDIR="$stage" install
is "$rc" 0 "make install exits 0"
for f in bin/venuescan lib/libvenuescan.a include/venuescan/payload.h \
	lib/pkgconfig/venuescan.pc share/man/man1/venuescan.1 \
	share/venuescan/rules/henan-2021.rules share/venuescan/scenarios/zhengzhou-2022-06.ini \
	share/venuescan/venues/venues.csv; do
	ok "$([ -s "$stage/usr/local/$f" ]; echo $?)" "installed $f"
done
is "$("$stage/usr/local/bin/venuescan" --version)" "$(vs --version)" "the installed binary runs"

cat >"$TMP/t.c" <<'C'
#include <stdio.h>
#include <venuescan/payload.h>
int main(void)
{
	enum vs_code_status s = vs_venue_code_verify("VSC1.x.y", 8, NULL, 0, NULL, NULL);
	printf("%s\n", vs_code_status_name(s));
	return 0;
}
C
pc() { PKG_CONFIG_PATH=$stage/usr/local/lib/pkgconfig pkg-config \
	--define-variable=prefix="$stage/usr/local" "$@" venuescan; }
# The library in this build may carry the sanitizers; the test program then needs them too.
san=""
nm "$stage/usr/local/lib/libvenuescan.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046,SC2086
run cc $san "$TMP/t.c" $(pc --cflags --libs) -o "$TMP/t"
is "$rc" 0 "a program links against the installed library via pkg-config"
run "$TMP/t"
is "$out" "malformed" "... and runs"

run make -s -C "$TOP" BUILD="$build" PREFIX=/usr/local DESTDIR="$stage" uninstall
is "$(find "$stage" -type f | wc -l)" 0 "make uninstall removes every installed file"
done_testing

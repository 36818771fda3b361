#!/usr/bin/env bash
# One source per command's documentation: every command in `venuescan --help` has a
# section in docs/venuescan.1, every flag its --help names is in that section, and every
# section names a command that exists.
. "$(dirname "$0")/lib.sh"
man="$TOP/docs/venuescan.1"

ok "$([ -f "$man" ]; echo $?)" "docs/venuescan.1 exists"

# The text of the man page section for one command: from `.SS <cmd>` to the next .SS/.SH.
section() {
	awk -v want=".SS \"$1\"" '
		$0 == want { on = 1; next }
		on && /^\.S[SH] / { exit }
		on { print }' "$man" | sed 's/\\-/-/g; s/\\f[BIRP]//g'
}

commands=$(vs --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { sub(/^  /, ""); split($0, w, "  "); print w[1] } on && /^$/ { exit }' | sed 's/ *$//')
ok "$([ -n "$commands" ]; echo $?)" "--help lists commands"

while IFS= read -r c; do
	[ -n "$c" ] || continue
	text=$(section "$c")
	ok "$([ -n "$text" ]; echo $?)" "man page has a section for '$c'"
	# shellcheck disable=SC2086
	flags=$(vs $c --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	missing=""
	for f in $flags; do
		[ "$f" = "--help" ] && continue
		printf '%s' "$text" | grep -qF -- "$f" || missing="$missing $f"
	done
	is "$missing" "" "every flag of '$c --help' is in its man page section"
done <<<"$commands"

# And the other way: each man page section is a real command.
while IFS= read -r s; do
	printf '%s\n' "$commands" | grep -qxF -- "$s"
	ok $? "man page section '$s' is a command in --help"
done < <(sed -n 's/^\.SS "\(.*\)"$/\1/p' "$man")

# The exit statuses documented are the ones the code uses.
like "$(sed 's/\\-/-/g' "$man")" 'EXIT STATUS' "man page documents exit statuses"
done_testing

/*
 * What the unit test programs share: a temporary folder made before a group's tests and
 * removed after them (tmpdir, setup, teardown: pass setup and teardown to
 * cmocka_run_group_tests), and where the fixtures are.  Header-only; each test program
 * includes it once.
 */
#ifndef VS_UNIT_H
#define VS_UNIT_H

#include <stdlib.h>

#include "venuescan/fileio.h"

static char tmpdir[] = "/tmp/vs-unit.XXXXXX";

static __attribute__((unused)) int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static __attribute__((unused)) int teardown(void **state)
{
	(void)state;
	return vs_remove_tree(tmpdir) ? -1 : 0;
}

/* The fixtures folder: $FIXTURES (set by make check), else ./fixtures. */
static __attribute__((unused)) const char *unit_fixtures(void)
{
	const char *fx = getenv("FIXTURES");

	return fx ? fx : "fixtures";
}

#endif

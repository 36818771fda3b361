/*
 * libFuzzer harness for the foreign QR formats (foreign.h): NZCOVIDTRACER:, UKC19TRACING:1:
 * and HC1: bodies (base64, JWT, Base45 + zlib + COSE/CBOR) decoded from arbitrary bytes.
 * Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/foreign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *json = NULL;
	const char *fmt = vs_foreign_identify(data, size, &json);

	if (!fmt && json)
		abort(); /* the contract: no fields for an unrecognised text */
	if (json)
		(void)strlen(json);
	free(json);
	return 0;
}

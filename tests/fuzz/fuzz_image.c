/*
 * libFuzzer harness for PNG and PGM decoding from memory (image.h).  Built and run by
 * `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>

#include "venuescan/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_image img = { 0 };
	size_t n, sum = 0, i;

	if (vs_image_read_mem(data, size, "fuzz", &img) != 0)
		return 0;
	if (img.width < 1 || img.height < 1 || !img.pixels)
		abort();
	n = (size_t)img.width * (size_t)img.height;
	if (n > VS_IMAGE_MAX_PIXELS)
		abort();
	for (i = 0; i < n; i++) /* every pixel must be initialised and inside the buffer */
		sum += img.pixels[i];
	if (sum == (size_t)-1)
		abort();
	vs_image_release(&img);
	return 0;
}

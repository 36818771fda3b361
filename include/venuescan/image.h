/*
 * Grey-scale images in memory, and reading and writing them as PNG (libpng) or binary
 * PGM (P5).  Readers recognise the format by its magic bytes, not the file name, accept
 * colour/alpha/16-bit/palette PNGs (converted to 8-bit grey, alpha composed over white)
 * and refuse images over VS_IMAGE_MAX_PIXELS.  Writers choose the format by extension.
 */
#ifndef VENUESCAN_IMAGE_H
#define VENUESCAN_IMAGE_H

#include <stddef.h>

#define VS_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)

/* An 8-bit grey image, row-major, width*height bytes; owns pixels. */
struct vs_image {
	int width;
	int height;
	unsigned char *pixels;
};

/* Allocate a w*h image filled with value; w, h >= 1 and within the pixel limit. */
int vs_image_init(struct vs_image *img, int w, int h, unsigned char value);
void vs_image_release(struct vs_image *img);
/* Make out (uninitialised) a copy of in; out owns its own pixels. */
int vs_image_copy(const struct vs_image *in, struct vs_image *out);

/* Read a PNG or PGM file; errors name the file and what is wrong with it. */
int vs_image_read(const char *path, struct vs_image *img);
/* The same from memory; name is used in error messages. */
int vs_image_read_mem(const void *data, size_t len, const char *name, struct vs_image *img);
/* Write atomically as PNG or PGM, by the extension of path (.png, .pgm). */
int vs_image_write(const char *path, const struct vs_image *img);
/* The extension of path's last component without the dot ("png"), or "" if it has none. */
const char *vs_image_extension(const char *path);

/*
 * Write a black-and-white image given as height rows of 1-bit pixels (most significant bit
 * first, 1 = white, (width + 7) / 8 bytes each; rows may repeat a pointer) as a 1-bit grey
 * PNG, atomically.  The fast path for QR posters: no 8-bit image is made.
 */
int vs_image_write_bilevel_png(const char *path, unsigned char *const *rows, int width,
			       int height);

#endif

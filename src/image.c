/*
 * Grey-scale images: the one pixel format every other module works in (QR rendering,
 * decoding, photo degradation), and the two file formats it travels in.  PNG goes through
 * libpng, whose errors arrive by longjmp; each libpng call is wrapped so that its message
 * names the file and the function still has a single cleanup path.  PGM (P5) is parsed by
 * hand.  Both readers check the claimed size against VS_IMAGE_MAX_PIXELS before they
 * allocate anything, so a 20-byte file claiming 100000x100000 pixels costs nothing.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <png.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/mem.h"

/* Largest image file read: a 16-bit PGM at the pixel limit, plus room for its header. */
#define IMAGE_FILE_MAX ((size_t)VS_IMAGE_MAX_PIXELS * 2 + 4096)

static int dims_ok(uint64_t w, uint64_t h)
{
	return w >= 1 && h >= 1 && w <= INT_MAX && h <= INT_MAX &&
	       w * h <= VS_IMAGE_MAX_PIXELS;
}

int vs_image_init(struct vs_image *img, int w, int h, unsigned char value)
{
	img->width = img->height = 0;
	img->pixels = NULL;
	if (w < 1 || h < 1 || !dims_ok((uint64_t)w, (uint64_t)h))
		return vs_error_set(VS_EINVAL, "image size %dx%d: not within 1x1 and %u pixels", w,
				    h, VS_IMAGE_MAX_PIXELS);
	img->pixels = vs_xmalloc((size_t)w * (size_t)h);
	memset(img->pixels, value, (size_t)w * (size_t)h);
	img->width = w;
	img->height = h;
	return 0;
}

void vs_image_release(struct vs_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	img->pixels = NULL;
	img->width = img->height = 0;
}

int vs_image_copy(const struct vs_image *in, struct vs_image *out)
{
	int rc = vs_image_init(out, in->width, in->height, 0);

	if (!rc)
		memcpy(out->pixels, in->pixels, (size_t)in->width * (size_t)in->height);
	return rc;
}

/* --- PNG ---------------------------------------------------------------------------- */

/* What libpng's callbacks need: where the bytes are and where its message goes. */
struct png_ctx {
	const char *name;
	const unsigned char *data; /* reading: the whole file */
	size_t len;
	size_t pos;
	char msg[256];
};

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct png_ctx *ctx = png_get_error_ptr(png);

	snprintf(ctx->msg, sizeof(ctx->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* warnings (e.g. a bad gamma chunk) do not stop a read */
}

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
	struct png_ctx *ctx = png_get_io_ptr(png);

	if (n > ctx->len - ctx->pos)
		png_error(png, "file is truncated");
	memcpy(out, ctx->data + ctx->pos, n);
	ctx->pos += n;
}

/*
 * Decode a PNG into 8-bit grey.  Palette, low bit depths and tRNS are expanded, 16-bit
 * samples scaled, colour turned to luminance (ITU-R BT.709 weights, libpng's default)
 * and any alpha composed over white here, in integer arithmetic.
 */
static int png_decode(struct png_ctx *ctx, struct vs_image *img)
{
	png_structp png;
	png_infop info = NULL;
	unsigned char *volatile rows_buf = NULL;
	png_bytep *volatile rows = NULL;
	png_uint_32 w, h;
	int depth, colour, channels, rc = 0;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, png_on_error, png_on_warning);
	if (!png || !(info = png_create_info_struct(png))) {
		rc = vs_error_set(VS_ENOMEM, "'%s': cannot start the PNG reader", ctx->name);
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = vs_error_set(VS_EFORMAT, "'%s': bad PNG image: %s", ctx->name, ctx->msg);
		goto out;
	}
	png_set_read_fn(png, ctx, png_read_mem);
	/* libpng's own 1,000,000-pixel side limit would refuse some images we accept. */
	png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &colour, NULL, NULL, NULL);
	if (!dims_ok(w, h)) {
		rc = vs_error_set(VS_ETOOBIG, "'%s': image too large (%lux%lu pixels; the limit is "
					      "%u pixels)", ctx->name, (unsigned long)w,
				  (unsigned long)h, VS_IMAGE_MAX_PIXELS);
		goto out;
	}
	if (colour == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (colour == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	if (depth == 16)
		png_set_scale_16(png);
	if (colour & PNG_COLOR_MASK_COLOR || colour == PNG_COLOR_TYPE_PALETTE)
		png_set_rgb_to_gray_fixed(png, 1, -1, -1);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	channels = png_get_channels(png, info);
	if ((channels != 1 && channels != 2) || png_get_bit_depth(png, info) != 8 ||
	    png_get_rowbytes(png, info) != (size_t)w * (size_t)channels) {
		rc = vs_error_set(VS_EUNSUPPORTED, "'%s': unsupported PNG pixel layout", ctx->name);
		goto out;
	}
	rows_buf = vs_xmalloc((size_t)w * h * (size_t)channels);
	rows = vs_xmalloc(sizeof(*rows) * h);
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = rows_buf + (size_t)y * w * (size_t)channels;
	png_read_image(png, rows);
	png_read_end(png, NULL);

	rc = vs_image_init(img, (int)w, (int)h, 0);
	if (rc)
		goto out;
	if (channels == 1) {
		memcpy(img->pixels, rows_buf, (size_t)w * h);
	} else {
		size_t n = (size_t)w * h;
		for (size_t i = 0; i < n; i++) {
			unsigned g = rows_buf[2 * i], a = rows_buf[2 * i + 1];
			img->pixels[i] = (unsigned char)((g * a + 255u * (255u - a) + 127u) / 255u);
		}
	}
out:
	png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
	free(rows);
	free(rows_buf);
	return rc;
}

/* Is every pixel black (0) or white (255)? */
static int is_bilevel(const struct vs_image *img)
{
	size_t n = (size_t)img->width * (size_t)img->height;

	for (size_t i = 0; i < n; i++)
		if (img->pixels[i] != 0 && img->pixels[i] != 255)
			return 0;
	return 1;
}

/* Pack a bilevel image into 1-bit rows (most significant bit first, 1 = white). */
static unsigned char *pack_bilevel(const struct vs_image *img, size_t *stride)
{
	unsigned char *bits;

	*stride = ((size_t)img->width + 7) / 8;
	bits = vs_xcalloc((size_t)img->height, *stride);
	for (int y = 0; y < img->height; y++) {
		const unsigned char *src = img->pixels + (size_t)y * (size_t)img->width;
		unsigned char *dst = bits + (size_t)y * *stride;
		for (int x = 0; x < img->width; x++)
			if (src[x])
				dst[x >> 3] |= (unsigned char)(0x80u >> (x & 7));
	}
	return bits;
}

/* Write height rows of the given bit depth as a grey PNG to stream; errors name path. */
static int grey_png_write(FILE *stream, const char *path, png_bytep *rows, int width,
			  int height, int depth)
{
	struct png_ctx ctx = { .name = path };
	png_structp png;
	png_infop info = NULL;
	volatile int rc = 0;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
	if (!png || !(info = png_create_info_struct(png))) {
		rc = vs_error_set(VS_ENOMEM, "'%s': cannot start the PNG writer", path);
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = vs_error_set(VS_EIO, "'%s': cannot write PNG: %s", path, ctx.msg);
		goto out;
	}
	png_init_io(png, stream);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, depth,
		     PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	if (depth == 1)
		png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
out:
	png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
	return rc;
}

/*
 * Write img as a grey PNG to stream.  A bilevel image (a QR poster) is written with 1 bit
 * per pixel and no row filter, as qrencode does: an eighth of the data to compress, and a
 * smaller file.
 */
static int png_encode(FILE *stream, const char *path, const struct vs_image *img)
{
	size_t stride = (size_t)img->width;
	int bilevel = is_bilevel(img);
	unsigned char *packed = bilevel ? pack_bilevel(img, &stride) : NULL;
	png_bytep *rows = vs_xmalloc(sizeof(*rows) * (size_t)img->height);
	int rc;

	for (int y = 0; y < img->height; y++)
		rows[y] = (packed ? packed : img->pixels) + (size_t)y * stride;
	rc = grey_png_write(stream, path, rows, img->width, img->height, bilevel ? 1 : 8);
	free(rows);
	free(packed);
	return rc;
}

/* --- PGM ---------------------------------------------------------------------------- */

/* Skip whitespace and '#' comments (which run to the end of the line). */
static void pgm_skip_space(const unsigned char *p, size_t len, size_t *pos)
{
	while (*pos < len) {
		if (p[*pos] == '#') {
			while (*pos < len && p[*pos] != '\n' && p[*pos] != '\r')
				(*pos)++;
		} else if (p[*pos] == ' ' || p[*pos] == '\t' || p[*pos] == '\n' ||
			   p[*pos] == '\r' || p[*pos] == '\v' || p[*pos] == '\f') {
			(*pos)++;
		} else {
			break;
		}
	}
}

/* A header number: decimal digits, at most 9 of them (so it fits without overflow). */
static int pgm_number(const unsigned char *p, size_t len, size_t *pos, uint64_t *out)
{
	size_t start;
	uint64_t v = 0;

	pgm_skip_space(p, len, pos);
	start = *pos;
	while (*pos < len && p[*pos] >= '0' && p[*pos] <= '9' && *pos - start < 10)
		v = v * 10 + (uint64_t)(p[(*pos)++] - '0');
	if (*pos == start || *pos - start > 9 || (*pos < len && p[*pos] >= '0' && p[*pos] <= '9'))
		return -1;
	*out = v;
	return 0;
}

static int pgm_decode(const unsigned char *p, size_t len, const char *name,
		      struct vs_image *img)
{
	uint64_t w, h, maxval;
	size_t pos = 2, need, n;
	int rc = 0;

	if (pgm_number(p, len, &pos, &w) || pgm_number(p, len, &pos, &h) ||
	    pgm_number(p, len, &pos, &maxval) || pos >= len ||
	    !(p[pos] == ' ' || p[pos] == '\t' || p[pos] == '\n' || p[pos] == '\r')) {
		rc = vs_error_set(VS_EFORMAT, "'%s': bad PGM header", name);
		goto out;
	}
	pos++; /* the single whitespace before the raster */
	if (maxval < 1 || maxval > 65535) {
		rc = vs_error_set(VS_EFORMAT, "'%s': bad PGM header: maxval %llu is not 1-65535",
				  name, (unsigned long long)maxval);
		goto out;
	}
	if (!dims_ok(w, h)) {
		rc = vs_error_set(w && h ? VS_ETOOBIG : VS_EFORMAT,
				  "'%s': image %s (%llux%llu pixels; the limit is %u pixels)", name,
				  w && h ? "too large" : "empty", (unsigned long long)w,
				  (unsigned long long)h, VS_IMAGE_MAX_PIXELS);
		goto out;
	}
	n = (size_t)w * (size_t)h;
	need = n * (maxval > 255 ? 2 : 1);
	if (len - pos < need) {
		rc = vs_error_set(VS_EFORMAT, "'%s': PGM image is truncated (%zu of %zu pixel "
					      "bytes)", name, len - pos, need);
		goto out;
	}
	rc = vs_image_init(img, (int)w, (int)h, 0);
	if (rc)
		goto out;
	p += pos;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = maxval > 255 ? (uint64_t)p[2 * i] << 8 | p[2 * i + 1] : p[i];
		if (v > maxval)
			v = maxval;
		img->pixels[i] = (unsigned char)((v * 255 + maxval / 2) / maxval);
	}
out:
	return rc;
}

static int pgm_encode(FILE *stream, const char *path, const struct vs_image *img)
{
	size_t n = (size_t)img->width * (size_t)img->height;

	if (fprintf(stream, "P5\n%d %d\n255\n", img->width, img->height) < 0 ||
	    fwrite(img->pixels, 1, n, stream) != n)
		return vs_error_set(VS_EIO, "'%s': write failed: %s", path, strerror(errno));
	return 0;
}

/* --- by magic and by extension ------------------------------------------------------- */

int vs_image_read_mem(const void *data, size_t len, const char *name, struct vs_image *img)
{
	static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	const unsigned char *p = data;

	img->width = img->height = 0;
	img->pixels = NULL;
	if (len == 0)
		return vs_error_set(VS_EFORMAT, "'%s': empty file, not a PNG or PGM image", name);
	if (len >= 8 && memcmp(p, png_magic, 8) == 0) {
		struct png_ctx ctx = { .name = name, .data = p, .len = len };
		return png_decode(&ctx, img);
	}
	if (len >= 2 && p[0] == 'P' && p[1] == '5')
		return pgm_decode(p, len, name, img);
	return vs_error_set(VS_EFORMAT, "'%s': not a PNG or PGM image", name);
}

int vs_image_read(const char *path, struct vs_image *img)
{
	struct vs_buf buf;
	int rc;

	img->width = img->height = 0;
	img->pixels = NULL;
	rc = vs_file_read_all(path, IMAGE_FILE_MAX, &buf);
	if (rc)
		goto out;
	rc = vs_image_read_mem(buf.data, buf.len, path, img);
out:
	vs_buf_release(&buf);
	return rc;
}

const char *vs_image_extension(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');

	if (!dot || (slash && dot < slash) || dot == path || dot[-1] == '/')
		return "";
	return dot + 1;
}

int vs_image_write(const char *path, const struct vs_image *img)
{
	const char *ext = vs_image_extension(path);
	struct vs_outfile *f = NULL;
	int is_png, rc;

	is_png = !strcasecmp(ext, "png");
	if (!is_png && strcasecmp(ext, "pgm")) {
		rc = vs_error_set(VS_EINVAL, "'%s': unknown image type '.%s' (use .png or .pgm)",
				  path, ext);
		goto out;
	}
	if (!img->pixels || img->width < 1 || img->height < 1) {
		rc = vs_error_set(VS_EINVAL, "'%s': no image to write", path);
		goto out;
	}
	rc = vs_outfile_open(&f, path, 0644);
	if (rc)
		goto out;
	rc = is_png ? png_encode(vs_outfile_stream(f), path, img)
		    : pgm_encode(vs_outfile_stream(f), path, img);
	if (rc)
		goto out;
	rc = vs_outfile_commit(f);
	f = NULL;
out:
	vs_outfile_abort(f);
	return rc;
}

int vs_image_write_bilevel_png(const char *path, unsigned char *const *rows, int width,
			       int height)
{
	struct vs_outfile *f = NULL;
	int rc;

	if (width < 1 || height < 1)
		return vs_error_set(VS_EINVAL, "'%s': no image to write", path);
	if ((rc = vs_outfile_open(&f, path, 0644)) != 0)
		return rc;
	rc = grey_png_write(vs_outfile_stream(f), path, (png_bytep *)rows, width, height, 1);
	if (rc) {
		vs_outfile_abort(f);
		return rc;
	}
	return vs_outfile_commit(f);
}

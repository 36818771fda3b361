/*
 * QR codes: rendering text with libqrencode (8-bit mode, so bytes are kept as they are)
 * to an image, PNG, SVG or PGM; and finding every QR code in an image with ZBar, set to
 * QR only, binary mode (no charset guessing) and inverted codes too.
 */
#ifndef VENUESCAN_QR_H
#define VENUESCAN_QR_H

#include <stddef.h>

#include "venuescan/image.h"
#include "venuescan/mem.h"

enum vs_qr_level { VS_QR_LEVEL_L, VS_QR_LEVEL_M, VS_QR_LEVEL_Q, VS_QR_LEVEL_H };

struct vs_qr_style {
	enum vs_qr_level level; /* error correction; default M */
	int scale;              /* pixels (SVG: user units) per module; default 4 */
	int margin;             /* quiet zone in modules; default 4 */
};

#define VS_QR_STYLE_DEFAULT { VS_QR_LEVEL_M, 4, 4 }

/* Parse "L", "M", "Q" or "H". */
int vs_qr_level_parse(const char *s, enum vs_qr_level *out);

/* Render data as a QR code image. */
int vs_qr_render_image(const void *data, size_t len, const struct vs_qr_style *style,
		       struct vs_image *out);
/* Render data to path atomically: PNG, SVG or PGM by the extension; others fail VS_EINVAL. */
int vs_qr_render_file(const void *data, size_t len, const struct vs_qr_style *style,
		      const char *path);

/* One decoded symbol: its bytes exactly as encoded (NUL-terminated for convenience). */
struct vs_qr_symbol {
	unsigned char *data;
	size_t len;
};

/*
 * A reusable decoder.  Not thread-safe: one per thread.  It recreates its ZBar scanner
 * every few hundred images (ZBar grows per decoded code, zbar#258).
 */
struct vs_qr_decoder;

int vs_qr_decoder_new(struct vs_qr_decoder **out);
void vs_qr_decoder_free(struct vs_qr_decoder *d);
/*
 * Find every QR code in img.  On success *syms is a newly allocated array of *n symbols
 * in ZBar's order (possibly 0); free it with vs_qr_symbols_free.
 */
int vs_qr_decode(struct vs_qr_decoder *d, const struct vs_image *img,
		 struct vs_qr_symbol **syms, size_t *n);
void vs_qr_symbols_free(struct vs_qr_symbol *syms, size_t n);

#endif

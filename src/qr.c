/*
 * QR codes in and out.  Rendering asks libqrencode for an 8-bit-mode symbol (so the bytes
 * of a payload are encoded as given, never reinterpreted as Kanji or alphanumerics) and
 * draws it as pixels or as one SVG path.  Decoding drives a ZBar image scanner restricted
 * to QR, in binary mode so that ZBar returns the bytes instead of guessing a charset and
 * converting them (zbar#212), and told to try the inverted image when nothing is found
 * (light-on-dark codes).  ZBar's scanner accumulates memory across images (zbar#258), so
 * a decoder replaces it every QR_SCANNER_LIFETIME images.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qrencode.h>
#include <zbar.h>

#include "venuescan/error.h"
#include "venuescan/fileio.h"
#include "venuescan/image.h"
#include "venuescan/qr.h"

#define QR_SCALE_MAX 100
#define QR_MARGIN_MAX 100
#define QR_SCANNER_LIFETIME 200

int vs_qr_level_parse(const char *s, enum vs_qr_level *out)
{
	static const char names[] = "LMQH";

	if (s && s[0] && !s[1] && strchr(names, s[0] & ~0x20)) {
		*out = (enum vs_qr_level)(strchr(names, s[0] & ~0x20) - names);
		return 0;
	}
	return vs_error_set(VS_EINVAL, "'%s': not an error correction level (L, M, Q or H)",
			    s ? s : "");
}

static int style_check(const struct vs_qr_style *st)
{
	if (st->level < VS_QR_LEVEL_L || st->level > VS_QR_LEVEL_H)
		return vs_error_set(VS_EINVAL, "bad QR error correction level %d", (int)st->level);
	if (st->scale < 1 || st->scale > QR_SCALE_MAX)
		return vs_error_set(VS_EINVAL, "QR scale %d: not from 1 to %d", st->scale,
				    QR_SCALE_MAX);
	if (st->margin < 0 || st->margin > QR_MARGIN_MAX)
		return vs_error_set(VS_EINVAL, "QR margin %d: not from 0 to %d", st->margin,
				    QR_MARGIN_MAX);
	return 0;
}

/* Encode data with libqrencode; *qr is freed by the caller with QRcode_free. */
static int qr_encode(const void *data, size_t len, const struct vs_qr_style *st, QRcode **qr)
{
	static const QRecLevel levels[] = { QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q,
					    QR_ECLEVEL_H };
	int rc = style_check(st);

	*qr = NULL;
	if (rc)
		return rc;
	if (len == 0)
		return vs_error_set(VS_EINVAL, "nothing to encode in a QR code");
	if (len > 8000)
		return vs_error_set(VS_ETOOBIG, "%zu bytes: too long for a QR code", len);
	errno = 0;
	*qr = QRcode_encodeData((int)len, data, 0, levels[st->level]);
	if (!*qr) {
		if (errno == ERANGE)
			return vs_error_set(VS_ETOOBIG, "%zu bytes: too long for a QR code "
					    "at level %c", len, "LMQH"[st->level]);
		if (errno == ENOMEM)
			return vs_error_set(VS_ENOMEM, "out of memory encoding a QR code");
		return vs_error_set(VS_EINVAL, "cannot encode %zu bytes as a QR code: %s", len,
				    strerror(errno));
	}
	return 0;
}

/* 1 if module (x, y) of qr is dark; coordinates are in modules, without the margin. */
static int qr_dark(const QRcode *qr, int x, int y)
{
	return qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1;
}

int vs_qr_render_image(const void *data, size_t len, const struct vs_qr_style *style,
		       struct vs_image *out)
{
	QRcode *qr = NULL;
	int rc, side, modules;

	out->width = out->height = 0;
	out->pixels = NULL;
	rc = qr_encode(data, len, style, &qr);
	if (rc)
		goto out;
	modules = qr->width + 2 * style->margin;
	side = modules * style->scale;
	rc = vs_image_init(out, side, side, 255);
	if (rc)
		goto out;
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width; x++) {
			if (!qr_dark(qr, x, y))
				continue;
			for (int dy = 0; dy < style->scale; dy++) {
				size_t row = (size_t)((y + style->margin) * style->scale + dy);
				memset(out->pixels + row * (size_t)side +
					       (size_t)((x + style->margin) * style->scale),
				       0, (size_t)style->scale);
			}
		}
	}
out:
	QRcode_free(qr);
	return rc;
}

/* One <path> of horizontal runs of dark modules, in module units scaled by the style. */
static int svg_write(FILE *f, const QRcode *qr, const struct vs_qr_style *st)
{
	int side = (qr->width + 2 * st->margin) * st->scale, s = st->scale;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		   "height=\"%d\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n"
		   "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
		   "<path fill=\"#000000\" d=\"",
		side, side, side, side, side, side);
	for (int y = 0; y < qr->width; y++) {
		int x = 0;
		while (x < qr->width) {
			int run;
			if (!qr_dark(qr, x, y)) {
				x++;
				continue;
			}
			for (run = 0; x + run < qr->width && qr_dark(qr, x + run, y); run++)
				;
			fprintf(f, "M%d %dh%dv%dh-%dz", (x + st->margin) * s, (y + st->margin) * s,
				run * s, s, run * s);
			x += run;
		}
	}
	fputs("\"/>\n</svg>\n", f);
	return 0;
}

/*
 * Write qr as a 1-bit PNG straight from its modules: one packed row per module row, its
 * pointer repeated scale times, so the poster costs a few kilobytes whatever its size.
 */
static int png_write_modules(const QRcode *qr, const struct vs_qr_style *st, const char *path)
{
	int side = (qr->width + 2 * st->margin) * st->scale;
	size_t stride = ((size_t)side + 7) / 8;
	int nrows = qr->width + 2 * st->margin;
	unsigned char *packed = vs_xcalloc((size_t)nrows, stride);
	unsigned char **rows = vs_xmalloc(sizeof(*rows) * (size_t)side);
	int rc;

	for (int my = 0; my < nrows; my++) {
		unsigned char *row = packed + (size_t)my * stride;
		int qy = my - st->margin;
		for (int x = 0; x < side; x++) {
			int qx = x / st->scale - st->margin;
			int inside = qx >= 0 && qy >= 0 && qx < qr->width && qy < qr->width;
			if (!inside || !qr_dark(qr, qx, qy))
				row[x >> 3] |= (unsigned char)(0x80u >> (x & 7));
		}
	}
	for (int y = 0; y < side; y++)
		rows[y] = packed + (size_t)(y / st->scale) * stride;
	rc = vs_image_write_bilevel_png(path, rows, side, side);
	free(rows);
	free(packed);
	return rc;
}

int vs_qr_render_file(const void *data, size_t len, const struct vs_qr_style *style,
		      const char *path)
{
	const char *ext = vs_image_extension(path);
	struct vs_image img = { 0, 0, NULL };
	struct vs_outfile *f = NULL;
	QRcode *qr = NULL;
	int rc;

	if (strcasecmp(ext, "svg") == 0) {
		rc = qr_encode(data, len, style, &qr);
		if (rc)
			goto out;
		rc = vs_outfile_open(&f, path, 0644);
		if (rc)
			goto out;
		svg_write(vs_outfile_stream(f), qr, style);
		rc = vs_outfile_commit(f); /* reports any stream error and removes the temporary */
		f = NULL;
	} else if (strcasecmp(ext, "png") == 0) {
		rc = qr_encode(data, len, style, &qr);
		if (!rc)
			rc = png_write_modules(qr, style, path);
	} else if (strcasecmp(ext, "pgm") == 0) {
		rc = vs_qr_render_image(data, len, style, &img);
		if (!rc)
			rc = vs_image_write(path, &img);
	} else {
		rc = vs_error_set(VS_EINVAL, "'%s': unknown output type '.%s' (use .png, .svg or "
					     ".pgm)", path, ext);
	}
out:
	vs_outfile_abort(f);
	QRcode_free(qr);
	vs_image_release(&img);
	return rc;
}

/* --- decoding ----------------------------------------------------------------------- */

struct vs_qr_decoder {
	zbar_image_scanner_t *scanner;
	unsigned images; /* scanned by the current scanner */
};

static int scanner_create(struct vs_qr_decoder *d)
{
	zbar_image_scanner_t *s = zbar_image_scanner_create();

	if (!s)
		return vs_error_set(VS_ENOMEM, "cannot create a ZBar image scanner");
	/* QR only: symbology 0 addresses every decoder at once. */
	zbar_image_scanner_set_config(s, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(s, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(s, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zbar_image_scanner_set_config(s, 0, ZBAR_CFG_TEST_INVERTED, 1);
	if (d->scanner)
		zbar_image_scanner_destroy(d->scanner);
	d->scanner = s;
	d->images = 0;
	return 0;
}

int vs_qr_decoder_new(struct vs_qr_decoder **out)
{
	struct vs_qr_decoder *d = vs_xcalloc(1, sizeof(*d));
	int rc = scanner_create(d);

	if (rc) {
		free(d);
		d = NULL;
	}
	*out = d;
	return rc;
}

void vs_qr_decoder_free(struct vs_qr_decoder *d)
{
	if (!d)
		return;
	if (d->scanner)
		zbar_image_scanner_destroy(d->scanner);
	free(d);
}

void vs_qr_symbols_free(struct vs_qr_symbol *syms, size_t n)
{
	for (size_t i = 0; syms && i < n; i++)
		free(syms[i].data);
	free(syms);
}

/* Scan pixels (w*h grey) once; append every QR symbol found to *syms. */
static int scan_once(struct vs_qr_decoder *d, const unsigned char *pixels, int w, int h,
		     struct vs_qr_symbol **syms, size_t *n, size_t *alloc)
{
	zbar_image_t *zimg = zbar_image_create();
	const zbar_symbol_t *sym;
	int rc = 0;

	if (!zimg)
		return vs_error_set(VS_ENOMEM, "cannot create a ZBar image");
	zbar_image_set_format(zimg, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zimg, (unsigned)w, (unsigned)h);
	zbar_image_set_data(zimg, pixels, (unsigned long)w * (unsigned long)h, NULL);
	if (zbar_scan_image(d->scanner, zimg) < 0) {
		rc = vs_error_set(VS_EIO, "ZBar failed to scan an image");
		goto out;
	}
	for (sym = zbar_image_first_symbol(zimg); sym; sym = zbar_symbol_next(sym)) {
		const char *data = zbar_symbol_get_data(sym);
		size_t len = zbar_symbol_get_data_length(sym);
		struct vs_qr_symbol *s;

		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
			continue;
		VS_ALLOC_GROW(*syms, *n + 1, *alloc);
		s = &(*syms)[(*n)++];
		s->len = len;
		s->data = vs_xmalloc(len + 1);
		if (len)
			memcpy(s->data, data, len);
		s->data[len] = '\0';
	}
out:
	zbar_image_destroy(zimg);
	return rc;
}

/*
 * ZBar 0.23.92 (Debian 12) honours both ZBAR_CFG_BINARY (a 256-byte 0x00-0xff payload
 * comes back as 256 bytes, not 384 bytes of UTF-8) and ZBAR_CFG_TEST_INVERTED (a
 * light-on-dark code is found without inverting it here); test_qr.c checks both.
 */
int vs_qr_decode(struct vs_qr_decoder *d, const struct vs_image *img,
		 struct vs_qr_symbol **syms, size_t *n)
{
	size_t alloc = 0;
	int rc;

	*syms = NULL;
	*n = 0;
	if (!img->pixels || img->width < 1 || img->height < 1) {
		rc = vs_error_set(VS_EINVAL, "no image to decode");
		goto out;
	}
	if (d->images >= QR_SCANNER_LIFETIME && (rc = scanner_create(d)) != 0)
		goto out;
	d->images++;
	rc = scan_once(d, img->pixels, img->width, img->height, syms, n, &alloc);
out:
	if (rc) {
		vs_qr_symbols_free(*syms, *n);
		*syms = NULL;
		*n = 0;
	}
	return rc;
}

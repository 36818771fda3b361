/*
 * The bare-library baseline for `make bench`: the least work a program could do to make
 * or scan the same codes, calling libqrencode, libpng and ZBar directly with no checks,
 * no signing and no JSON.  venuescan's own figures are compared against these.
 *
 *   bare make OUTDIR < payloads      one PNG per line of standard input (scale 4, margin 4, level M)
 *   bare scan FILE...                decode every file, print how many codes were found
 *
 * Posters are 1-bit grey PNGs, as venuescan and qrencode write them.  Single-threaded on
 * purpose: it is the cost of the library calls themselves (the bench runs two at once for
 * the both-cores figure).
 */
#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

#define SCALE 4
#define MARGIN 4

static int write_png(const char *path, const QRcode *qr)
{
	int side = (qr->width + 2 * MARGIN) * SCALE;
	unsigned char *row = malloc((size_t)side / 8 + 1);
	FILE *f = fopen(path, "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);

	if (!row || !f || !png || !info || setjmp(png_jmpbuf(png)))
		return -1;
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1, PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(png, info);
	for (int y = 0; y < side; y++) {
		int my = y / SCALE - MARGIN;
		memset(row, 0, (size_t)side / 8 + 1);
		for (int x = 0; x < side; x++) {
			int mx = x / SCALE - MARGIN;
			int dark = mx >= 0 && my >= 0 && mx < qr->width && my < qr->width &&
				   (qr->data[my * qr->width + mx] & 1);
			if (!dark)
				row[x >> 3] |= (unsigned char)(0x80u >> (x & 7));
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	fclose(f);
	free(row);
	return 0;
}

static int bare_make(const char *dir)
{
	char line[4096], path[4200];
	int n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		size_t len = strcspn(line, "\n");
		QRcode *qr = QRcode_encodeData((int)len, (unsigned char *)line, 0, QR_ECLEVEL_M);
		if (!qr)
			return 1;
		snprintf(path, sizeof(path), "%s/%d.png", dir, n++);
		if (write_png(path, qr))
			return 1;
		QRcode_free(qr);
	}
	printf("%d\n", n);
	return 0;
}

static unsigned char *read_gray_png(const char *path, int *w, int *h)
{
	png_image img;
	unsigned char *buf;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path))
		return NULL;
	img.format = PNG_FORMAT_GRAY;
	buf = malloc(PNG_IMAGE_SIZE(img));
	if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
		free(buf);
		return NULL;
	}
	*w = (int)img.width;
	*h = (int)img.height;
	return buf;
}

static int bare_scan(int argc, char **argv)
{
	zbar_image_scanner_t *scanner = zbar_image_scanner_create();
	long found = 0;

	zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_BINARY, 1);
	for (int i = 0; i < argc; i++) {
		int w, h;
		unsigned char *px = read_gray_png(argv[i], &w, &h);
		zbar_image_t *zi;

		if (!px)
			return 1;
		zi = zbar_image_create();
		zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
		zbar_image_set_size(zi, (unsigned)w, (unsigned)h);
		zbar_image_set_data(zi, px, (unsigned long)w * (unsigned long)h, NULL);
		found += zbar_scan_image(scanner, zi);
		zbar_image_destroy(zi);
		free(px);
	}
	zbar_image_scanner_destroy(scanner);
	printf("%ld\n", found);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "make"))
		return bare_make(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "scan"))
		return bare_scan(argc - 2, argv + 2);
	fprintf(stderr, "usage: bare make OUTDIR < payloads | bare scan FILE...\n");
	return 2;
}

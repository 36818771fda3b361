/*
 * Degrading a poster as a forwarded phone photo of it is degraded, for the scenario the
 * seeds describe (a photo of the station's code scanned hundreds of kilometres away) and
 * for measuring how robust our codes are (docs/PHOTO.md).  The pipeline follows the light:
 * the printed poster (paper not quite white, ink not quite black) hangs on a background
 * and is photographed at an angle (a projective warp, sampled bilinearly at 3x3 points per
 * output pixel, which is also the downscale to the camera's resolution), under uneven
 * light; the lens blurs, the sensor adds noise, and the messenger re-encodes it as JPEG
 * (a real 8x8 DCT and quantisation with the JPEG luminance table).
 *
 * Determinism: every random draw comes from a counter-based generator (rng.h's
 * vs_rng_mix, splitmix64's mixer, over seed, stream and index), so a pixel's noise
 * depends on its position, not on the order of work.  Arithmetic is IEEE-754 double with only +, -, *, / and two libm
 * functions that are exact or correctly rounded everywhere (floor, sqrt); sine and cosine
 * of the small rotation angle are Taylor polynomials here and the DCT's cosines are
 * constants.  a*b+c is never fused into one rounding (GCC's C11 mode implies
 * -ffp-contract=off; Clang is told so below), so one binary gives the same pixels on every
 * run and thread count, and IEEE-754 machines agree with each other (test_photo.c checks
 * a checksum of one degraded image).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "venuescan/error.h"
#include "venuescan/image.h"
#include "venuescan/mem.h"
#include "venuescan/photo.h"
#include "venuescan/rng.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* Clang fuses a*b+c by default even in C11 mode; GCC does not */
#endif

#define SUPERSAMPLE 3  /* samples per output pixel along each axis */
#define MARGIN 0.15    /* background around the poster, as a fraction of its size */
#define MIN_SIDE 16

/* How hard each level hits; index 0 (identity) is not used. */
struct photo_params {
	double rot_deg;  /* rotation drawn from [-rot_deg, rot_deg] */
	double persp;    /* each corner moved by up to this fraction of the poster's size */
	double scale_lo; /* output pixels per poster pixel, drawn from [scale_lo, scale_hi] */
	double scale_hi;
	double blur;     /* passes of the [1 2 1]/4 filter, drawn from [0.5, 1] * blur; a */
			 /* fraction of a pass blends the last pass in part */
	double noise;    /* sensor noise standard deviation, grey levels */
	double light;    /* depth of the lighting gradient and vignette */
	double fade;     /* ink lifted and paper darkened by up to this many grey levels */
	int quality;     /* JPEG quality, IJG scale 1-100 */
};

static const struct photo_params levels[VS_PHOTO_LEVEL_MAX + 1] = {
	{ 0, 0, 1, 1, 0, 0, 0, 0, 100 },
	{ 3, 0.02, 0.75, 0.95, 1.0, 3, 0.15, 20, 80 },
	{ 6, 0.04, 0.60, 0.80, 1.2, 6, 0.25, 35, 60 },
	{ 10, 0.06, 0.52, 0.74, 1.2, 8, 0.35, 50, 45 },
	{ 13, 0.08, 0.48, 0.68, 1.4, 11, 0.45, 60, 35 },
	{ 16, 0.10, 0.43, 0.63, 1.6, 14, 0.55, 70, 25 },
};

/* Random streams: one per kind of draw, so adding a draw never shifts another. */
enum { STREAM_SCENE = 1, STREAM_NOISE = 2 };

/* The index-th draw of stream under seed: a uniform double in [0, 1). */
static double draw(uint64_t seed, uint64_t stream, uint64_t index)
{
	uint64_t r = vs_rng_mix(vs_rng_mix(seed ^ (stream * 0xd1b54a32d192ed03u)) + index);
	return (double)(r >> 11) * (1.0 / 9007199254740992.0);
}

static double draw_range(uint64_t seed, uint64_t stream, uint64_t index, double lo, double hi)
{
	return lo + (hi - lo) * draw(seed, stream, index);
}

/* sin and cos of |x| <= 0.5 by Taylor series (error below 1e-13), same on every libm. */
static void small_sincos(double x, double *s, double *c)
{
	double x2 = x * x;

	*s = x * (1 - x2 / 6 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72 * (1 - x2 / 110)))));
	*c = 1 - x2 / 2 * (1 - x2 / 12 * (1 - x2 / 30 * (1 - x2 / 56 * (1 - x2 / 90))));
}

/*
 * The projective map from the unit square to the quadrilateral q (corners in the order
 * (0,0) (1,0) (1,1) (0,1)), as a 3x3 matrix m (Heckbert's closed form), then inverted
 * by its adjugate (the scale of a homography does not matter).
 */
static void quad_to_square(const double q[4][2], double inv[9])
{
	double a, b, c, d, e, f, g, h;
	double sx = q[0][0] - q[1][0] + q[2][0] - q[3][0];
	double sy = q[0][1] - q[1][1] + q[2][1] - q[3][1];
	double dx1 = q[1][0] - q[2][0], dx2 = q[3][0] - q[2][0];
	double dy1 = q[1][1] - q[2][1], dy2 = q[3][1] - q[2][1];
	double den = dx1 * dy2 - dx2 * dy1;

	g = (sx * dy2 - dx2 * sy) / den;
	h = (dx1 * sy - sx * dy1) / den;
	a = q[1][0] - q[0][0] + g * q[1][0];
	b = q[3][0] - q[0][0] + h * q[3][0];
	c = q[0][0];
	d = q[1][1] - q[0][1] + g * q[1][1];
	e = q[3][1] - q[0][1] + h * q[3][1];
	f = q[0][1];
	/* m = [a b c; d e f; g h 1]; inv = adj(m) */
	inv[0] = e - f * h;
	inv[1] = c * h - b;
	inv[2] = b * f - c * e;
	inv[3] = f * g - d;
	inv[4] = a - c * g;
	inv[5] = c * d - a * f;
	inv[6] = d * h - e * g;
	inv[7] = b * g - a * h;
	inv[8] = a * e - b * d;
}

/* Bilinear sample of img at (x, y) in pixel-centre coordinates, clamped at the edges. */
static double sample(const struct vs_image *img, double x, double y)
{
	int x0, y0, x1, y1;
	double fx, fy, top, bottom;
	const unsigned char *p = img->pixels;
	size_t w = (size_t)img->width;

	x = x < 0 ? 0 : x > img->width - 1 ? img->width - 1 : x;
	y = y < 0 ? 0 : y > img->height - 1 ? img->height - 1 : y;
	x0 = (int)x;
	y0 = (int)y;
	x1 = x0 + 1 < img->width ? x0 + 1 : x0;
	y1 = y0 + 1 < img->height ? y0 + 1 : y0;
	fx = x - x0;
	fy = y - y0;
	top = p[(size_t)y0 * w + (size_t)x0] * (1 - fx) + p[(size_t)y0 * w + (size_t)x1] * fx;
	bottom = p[(size_t)y1 * w + (size_t)x0] * (1 - fx) + p[(size_t)y1 * w + (size_t)x1] * fx;
	return top * (1 - fy) + bottom * fy;
}

/* Photograph the poster: warp, downscale, background and lighting, into buf (w*h). */
static void photograph(const struct vs_image *in, const struct photo_params *pp,
		       uint64_t seed, double *buf, int w, int h)
{
	double quad[4][2], inv[9], s, c, dirx, diry, norm;
	double pw = in->width, ph = in->height, size = pw > ph ? pw : ph;
	double cw = pw * (1 + 2 * MARGIN), ch = ph * (1 + 2 * MARGIN);
	double angle = draw_range(seed, STREAM_SCENE, 0, -pp->rot_deg, pp->rot_deg) *
		       (3.14159265358979323846 / 180);
	double bg = draw_range(seed, STREAM_SCENE, 1, 70, 190);
	double ink = draw_range(seed, STREAM_SCENE, 2, 0, pp->fade);
	double paper = 255 - draw_range(seed, STREAM_SCENE, 3, 0, pp->fade * 0.6);
	static const double corner[4][2] = { { -0.5, -0.5 }, { 0.5, -0.5 }, { 0.5, 0.5 },
					     { -0.5, 0.5 } };

	small_sincos(angle, &s, &c);
	for (int i = 0; i < 4; i++) {
		double jx = draw_range(seed, STREAM_SCENE, 10 + 2 * (uint64_t)i, -1, 1);
		double jy = draw_range(seed, STREAM_SCENE, 11 + 2 * (uint64_t)i, -1, 1);
		double x = corner[i][0] * pw + jx * pp->persp * size;
		double y = corner[i][1] * ph + jy * pp->persp * size;
		quad[i][0] = cw / 2 + c * x - s * y;
		quad[i][1] = ch / 2 + s * x + c * y;
	}
	quad_to_square(quad, inv);
	dirx = draw_range(seed, STREAM_SCENE, 4, -1, 1);
	diry = draw_range(seed, STREAM_SCENE, 5, -1, 1);
	norm = sqrt(dirx * dirx + diry * diry);
	if (norm < 1e-3) {
		dirx = 1;
		diry = 0;
		norm = 1;
	}
	dirx /= norm;
	diry /= norm;

	for (int oy = 0; oy < h; oy++) {
		for (int ox = 0; ox < w; ox++) {
			double sum = 0, nx, ny, gain;

			for (int sy = 0; sy < SUPERSAMPLE; sy++) {
				for (int sx = 0; sx < SUPERSAMPLE; sx++) {
					double x = (ox + (sx + 0.5) / SUPERSAMPLE) * cw / w;
					double y = (oy + (sy + 0.5) / SUPERSAMPLE) * ch / h;
					double u = inv[0] * x + inv[1] * y + inv[2];
					double v = inv[3] * x + inv[4] * y + inv[5];
					double q = inv[6] * x + inv[7] * y + inv[8];
					double p = bg;

					u /= q;
					v /= q;
					if (u >= 0 && u < 1 && v >= 0 && v < 1)
						p = ink + (paper - ink) / 255 *
							    sample(in, u * pw - 0.5, v * ph - 0.5);
					sum += p;
				}
			}
			nx = 2.0 * ox / w - 1;
			ny = 2.0 * oy / h - 1;
			gain = 1 - pp->light * (0.5 + 0.5 * (dirx * nx + diry * ny)) -
			       pp->light * 0.25 * (nx * nx + ny * ny);
			if (gain < 0.15)
				gain = 0.15;
			buf[(size_t)oy * (size_t)w + (size_t)ox] =
				sum / (SUPERSAMPLE * SUPERSAMPLE) * gain;
		}
	}
}

/*
 * One pass of the [1 2 1]/4 filter along rows and then columns, edges clamped; a
 * strength t below 1 blends the result with the input, (1 - t) * in + t * filtered.
 */
static void blur_pass(double *buf, double *tmp, int w, int h, double t)
{
	for (int y = 0; y < h; y++) {
		const double *r = buf + (size_t)y * (size_t)w;
		for (int x = 0; x < w; x++) {
			double l = r[x > 0 ? x - 1 : x], m = r[x], rr = r[x + 1 < w ? x + 1 : x];
			tmp[(size_t)y * (size_t)w + (size_t)x] = (l + 2 * m + rr) / 4;
		}
	}
	for (int y = 0; y < h; y++) {
		const double *u = tmp + (size_t)(y > 0 ? y - 1 : y) * (size_t)w;
		const double *m = tmp + (size_t)y * (size_t)w;
		const double *d = tmp + (size_t)(y + 1 < h ? y + 1 : y) * (size_t)w;
		for (int x = 0; x < w; x++) {
			double *p = buf + (size_t)y * (size_t)w + (size_t)x;
			*p = (1 - t) * *p + t * ((u[x] + 2 * m[x] + d[x]) / 4);
		}
	}
}

static unsigned char to_byte(double v)
{
	v = floor(v + 0.5);
	return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* cos(m * pi / 16) for any whole m, from constants (the DCT's only trigonometry). */
static double dct_cos(int m)
{
	static const double c[9] = {
		1.0, 0.98078528040323044913, 0.92387953251128675613, 0.83146961230254523708,
		0.70710678118654752440, 0.55557023301960222474, 0.38268343236508977173,
		0.19509032201612826785, 0.0,
	};

	m %= 32;
	if (m > 16)
		m = 32 - m;
	return m > 8 ? -c[16 - m] : c[m];
}

/*
 * JPEG's lossy step on the luminance plane: each 8x8 block (edge blocks padded by
 * repeating the last row and column) is DCT-transformed, divided by the JPEG Annex K
 * luminance table scaled to the IJG quality, rounded, multiplied back and inverted.
 */
static void jpeg_quantise(struct vs_image *img, int quality)
{
	static const int base[64] = {
		16, 11, 10, 16, 24, 40, 51, 61,     12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56,     14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77,   24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
	};
	double basis[8][8], table[64];
	int scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;

	for (int i = 0; i < 64; i++) {
		int q = (base[i] * scale + 50) / 100;
		table[i] = q < 1 ? 1 : q > 255 ? 255 : q;
	}
	for (int x = 0; x < 8; x++)
		for (int u = 0; u < 8; u++)
			basis[x][u] = dct_cos((2 * x + 1) * u) * (u ? 0.5 : 0.35355339059327376220);

	for (int by = 0; by < img->height; by += 8) {
		for (int bx = 0; bx < img->width; bx += 8) {
			double blk[8][8], tmp[8][8];

			for (int y = 0; y < 8; y++) {
				int sy = by + y < img->height ? by + y : img->height - 1;
				for (int x = 0; x < 8; x++) {
					int sx = bx + x < img->width ? bx + x : img->width - 1;
					blk[y][x] = img->pixels[(size_t)sy * (size_t)img->width +
								(size_t)sx] - 128.0;
				}
			}
			/* forward: rows, then columns (orthonormal DCT-II) */
			for (int y = 0; y < 8; y++)
				for (int u = 0; u < 8; u++) {
					double acc = 0;
					for (int x = 0; x < 8; x++)
						acc += blk[y][x] * basis[x][u];
					tmp[y][u] = acc;
				}
			for (int v = 0; v < 8; v++)
				for (int u = 0; u < 8; u++) {
					double acc = 0;
					for (int y = 0; y < 8; y++)
						acc += tmp[y][u] * basis[y][v];
					double q = table[v * 8 + u];
					blk[v][u] = floor(acc / q + 0.5) * q;
				}
			/* inverse: columns, then rows */
			for (int y = 0; y < 8; y++)
				for (int u = 0; u < 8; u++) {
					double acc = 0;
					for (int v = 0; v < 8; v++)
						acc += blk[v][u] * basis[y][v];
					tmp[y][u] = acc;
				}
			for (int y = 0; y < 8 && by + y < img->height; y++)
				for (int x = 0; x < 8 && bx + x < img->width; x++) {
					double acc = 0;
					for (int u = 0; u < 8; u++)
						acc += tmp[y][u] * basis[x][u];
					img->pixels[(size_t)(by + y) * (size_t)img->width +
						    (size_t)(bx + x)] = to_byte(acc + 128);
				}
		}
	}
}

int vs_photo_degrade(const struct vs_image *in, int level, uint64_t seed, struct vs_image *out)
{
	const struct photo_params *pp;
	double *buf = NULL, *tmp = NULL;
	double dw, dh, scale, blur;
	int rc, w, h;
	size_t n;

	out->width = out->height = 0;
	out->pixels = NULL;
	if (level < 0 || level > VS_PHOTO_LEVEL_MAX) {
		rc = vs_error_set(VS_EINVAL, "photo level %d: not from 0 to %d", level,
				  VS_PHOTO_LEVEL_MAX);
		goto out;
	}
	if (!in->pixels || in->width < 1 || in->height < 1) {
		rc = vs_error_set(VS_EINVAL, "no image to degrade");
		goto out;
	}
	if (level == 0) {
		rc = vs_image_copy(in, out);
		goto out;
	}
	pp = &levels[level];
	scale = draw_range(seed, STREAM_SCENE, 6, pp->scale_lo, pp->scale_hi);
	blur = draw_range(seed, STREAM_SCENE, 7, 0.5, 1) * pp->blur;
	dw = floor(in->width * (1 + 2 * MARGIN) * scale + 0.5);
	dh = floor(in->height * (1 + 2 * MARGIN) * scale + 0.5);
	w = dw < MIN_SIDE ? MIN_SIDE : (int)dw;
	h = dh < MIN_SIDE ? MIN_SIDE : (int)dh;
	rc = vs_image_init(out, w, h, 0);
	if (rc)
		goto out;
	n = (size_t)w * (size_t)h;
	buf = vs_xreallocarray(NULL, n, sizeof(*buf));
	tmp = vs_xreallocarray(NULL, n, sizeof(*tmp));

	photograph(in, pp, seed, buf, w, h);
	for (; blur >= 1; blur -= 1)
		blur_pass(buf, tmp, w, h, 1);
	if (blur > 0)
		blur_pass(buf, tmp, w, h, blur);
	for (size_t i = 0; i < n; i++) {
		/* a sum of four uniforms, centred and scaled to unit variance: near-Gaussian */
		double g = draw(seed, STREAM_NOISE, 4 * (uint64_t)i) +
			   draw(seed, STREAM_NOISE, 4 * (uint64_t)i + 1) +
			   draw(seed, STREAM_NOISE, 4 * (uint64_t)i + 2) +
			   draw(seed, STREAM_NOISE, 4 * (uint64_t)i + 3) - 2;
		out->pixels[i] = to_byte(buf[i] + pp->noise * 1.7320508075688772 * g);
	}
	jpeg_quantise(out, pp->quality);
out:
	free(buf);
	free(tmp);
	return rc;
}

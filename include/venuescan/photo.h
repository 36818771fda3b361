/*
 * Forwarded-photo simulation: degrading a venue-code poster the way a phone photo of it,
 * shared in a chat group, is degraded — the scene the June 2022 seeds describe, where
 * people far from Zhengzhou scanned a photo of the station's code.  The result is
 * deterministic for a given (image, level, seed): same pixels from the same binary on
 * every run and every thread count; docs/PHOTO.md has the pipeline and read rates.
 */
#ifndef VENUESCAN_PHOTO_H
#define VENUESCAN_PHOTO_H

#include <stdint.h>

#include "venuescan/image.h"

#define VS_PHOTO_LEVEL_MAX 5

/*
 * Degrade in into out (uninitialised; the caller releases it).  level 0 is an identical
 * copy; 1-5 place the poster on a background with growing rotation, perspective, down-
 * scaling, blur, uneven lighting, sensor noise and JPEG-like 8x8 DCT quantisation.  The
 * output is usually smaller than the input.  A level outside 0-5 fails with VS_EINVAL.
 */
int vs_photo_degrade(const struct vs_image *in, int level, uint64_t seed, struct vs_image *out);

#endif

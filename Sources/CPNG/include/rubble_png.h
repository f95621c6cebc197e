/*
 * A small, crash-free front end to libpng for Rubble's Vision module.
 *
 * libpng reports errors through an error callback that must not return; every function here
 * does its own setjmp, so errors come back as a code plus a message in `rubble_png_info`.
 * A file that ends early (even if only the IEND chunk is missing) is RUBBLE_PNG_TRUNCATED.
 * All size arithmetic is overflow-checked; no buffer is sized before the header's width and
 * height have passed the caller's pixel limit.
 */
#ifndef RUBBLE_PNG_H
#define RUBBLE_PNG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes (the same numbers as rubble_jpeg.h uses; 8 is PNG's own). */
enum {
    RUBBLE_PNG_OK = 0,
    RUBBLE_PNG_UNREADABLE = 1,  /* the file could not be opened or read (errno text in message) */
    RUBBLE_PNG_CORRUPT = 2,     /* not a valid PNG stream (bad signature, CRC, zlib data...) */
    RUBBLE_PNG_TRUNCATED = 3,   /* the data ends before the image does */
    RUBBLE_PNG_UNSUPPORTED = 4,
    RUBBLE_PNG_NO_MEMORY = 5,   /* allocation failed, or a buffer size does not fit in memory */
    RUBBLE_PNG_ARGUMENT = 6,    /* bad call (null pointer, bad size, colour type or depth) */
    RUBBLE_PNG_TOO_MANY_PIXELS = 7, /* the header's width * height exceeds max_pixels */
    RUBBLE_PNG_NOT_SINGLE_CHANNEL = 8 /* rubble_png_decode_samples_*: an RGB, RGBA or gray + alpha PNG */
};

/* PNG colour types (the numbers of the PNG specification). */
enum {
    RUBBLE_PNG_GRAY = 0,
    RUBBLE_PNG_RGB = 2,
    RUBBLE_PNG_PALETTE = 3,
    RUBBLE_PNG_GRAY_ALPHA = 4,
    RUBBLE_PNG_RGBA = 6
};

/* Largest box-filter reduction factor (its 8-bit sums fit in 32 bits: 4096^2 * 255 < 2^32). */
#define RUBBLE_PNG_MAX_FACTOR 4096

#define RUBBLE_PNG_MESSAGE_CAPACITY 256

typedef struct rubble_png_info {
    int code;         /* one of RUBBLE_PNG_* */
    int image_width;  /* size stored in the file (IHDR) */
    int image_height;
    int width;        /* size of the decoded pixels (after the box reduction); the stored size for headers */
    int height;
    int factor;       /* 1, or the box-filter factor f of a reduced decode */
    int bit_depth;    /* as stored: 1, 2, 4, 8 or 16 */
    int color_type;   /* as stored: RUBBLE_PNG_GRAY ... RUBBLE_PNG_RGBA */
    int interlaced;   /* 1 for Adam7 */
    int warnings;     /* libpng warnings seen */
    char message[RUBBLE_PNG_MESSAGE_CAPACITY];
} rubble_png_info;

/* Reads the signature and IHDR only (width/height = image_width/image_height). */
int rubble_png_header_mem(const unsigned char *data, size_t size, rubble_png_info *info);
int rubble_png_header_file(const char *path, rubble_png_info *info);

/*
 * The reduction factor a decode with (min_width, min_height) uses for a width x height image:
 * the largest integer f <= RUBBLE_PNG_MAX_FACTOR (and <= the longer side) with
 * ceil(width / f) >= min_width and ceil(height / f) >= min_height; a minimum <= 0 places no
 * constraint, both <= 0 (or an image already smaller than the request) give 1.
 */
size_t rubble_png_reduction_factor(size_t width, size_t height, int min_width, int min_height);

/*
 * Decodes any PNG to 8-bit RGB, row-major, 3 bytes a pixel: palettes expanded, gray copied to
 * R=G=B, 16-bit samples reduced to their high byte, alpha (and tRNS) discarded without
 * compositing (as PIL's convert("RGB") does), interlacing undone, no gamma correction.
 *
 * An image whose stored width * height exceeds max_pixels fails with
 * RUBBLE_PNG_TOO_MANY_PIXELS (image_width/image_height filled) before any pixel buffer exists.
 *
 * min_width/min_height > 0 ask for a streaming reduction by the factor f of
 * rubble_png_reduction_factor: rows are decoded one at a time and summed into f x f blocks,
 * each output pixel the rounded mean (sum + n/2) / n of the n pixels of its block that exist
 * (blocks at the right and bottom edges are cut off by the image), so the output is
 * ceil(width / f) x ceil(height / f) and the full-size image never exists in memory. Adam7
 * images are reduced the same way (each pass's pixels are added to their blocks), with
 * identical results. Memory besides the output: one decoded row, and 4 bytes per output
 * sample of sums (one row of blocks, or all of them for Adam7).
 *
 * The caller allocates the output: `out` must hold exactly out_size = width * height * 3 bytes
 * of the decoded size (the stored size, or ceil(size / f) with f = rubble_png_reduction_factor,
 * planned from the header), else RUBBLE_PNG_ARGUMENT (the file changed since its header was
 * read). So the pixels go straight into the caller's buffer, with no copy. On failure `out`
 * holds garbage.
 */
int rubble_png_decode_mem(const unsigned char *data, size_t size, int min_width, int min_height,
                          unsigned long long max_pixels, unsigned char *out, size_t out_size, rubble_png_info *info);
int rubble_png_decode_file(const char *path, int min_width, int min_height, unsigned long long max_pixels,
                           unsigned char *out, size_t out_size, rubble_png_info *info);

/*
 * Decodes a single-channel PNG to its raw samples, one a pixel, row-major, without colour
 * conversion: gray values as stored (1, 2 and 4-bit samples unpacked to one byte each and NOT
 * scaled: a 2-bit sample 3 stays 3), palette images as their INDICES (the palette is not
 * applied), 16-bit gray as native-endian 16-bit values; tRNS, gamma and sBIT are ignored and
 * interlacing is undone. For class masks (indices per pixel) and depth maps.
 *
 * RGB, RGBA and gray + alpha PNGs fail with RUBBLE_PNG_NOT_SINGLE_CHANNEL (color_type filled),
 * and an image of more than max_pixels stored pixels with RUBBLE_PNG_TOO_MANY_PIXELS, both
 * before `out` is touched. `out` must hold exactly out_size = width * height * (bit_depth == 16
 * ? 2 : 1) bytes of the stored size (planned from the header; 16-bit samples aligned for
 * uint16_t), else RUBBLE_PNG_ARGUMENT. On failure `out` holds garbage.
 */
int rubble_png_decode_samples_mem(const unsigned char *data, size_t size, unsigned long long max_pixels, void *out,
                                  size_t out_size, rubble_png_info *info);
int rubble_png_decode_samples_file(const char *path, unsigned long long max_pixels, void *out, size_t out_size,
                                   rubble_png_info *info);

/*
 * Encodes rows of `samples` laid out as libpng expects for (color_type, bit_depth): samples
 * packed into bytes for depths < 8, big-endian for 16, no padding between rows. For
 * RUBBLE_PNG_PALETTE, `palette` holds palette_count (1...256) RGB triples. interlace != 0 writes
 * Adam7. compression_level is zlib's 0...9 (-1 = default). On success *out holds *out_size bytes
 * from malloc (free with rubble_png_free).
 */
int rubble_png_encode_mem(const unsigned char *samples, int width, int height, int color_type, int bit_depth,
                          int interlace, const unsigned char *palette, int palette_count, int compression_level,
                          unsigned char **out, size_t *out_size, rubble_png_info *info);

/*
 * Fills `row` (the stride of one row of the image being encoded, laid out as above) with row
 * `y`. Must not fail; may be called more than once for the same row (7 times for Adam7).
 */
typedef void (*rubble_png_row_source)(void *context, int y, unsigned char *row);

/*
 * As rubble_png_encode_mem, but the rows come one at a time from `source` (gray, RGB, gray +
 * alpha or RGBA; no palette), so an image far larger than memory can be written: memory is one
 * row plus the compressed output.
 */
int rubble_png_encode_rows_mem(int width, int height, int color_type, int bit_depth, int interlace,
                               int compression_level, rubble_png_row_source source, void *context,
                               unsigned char **out, size_t *out_size, rubble_png_info *info);

void rubble_png_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif

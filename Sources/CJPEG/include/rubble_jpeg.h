/*
 * A small, crash-free front end to libjpeg(-turbo) for Rubble's Vision module.
 *
 * libjpeg reports errors by calling error_exit, which must not return; the usual answer is
 * setjmp/longjmp, which Swift cannot take part in. Every function here does its own setjmp,
 * so errors come back as a code plus a message in `rubble_jpeg_info`; nothing prints or exits.
 *
 * A truncated file is an error (RUBBLE_JPEG_TRUNCATED): libjpeg itself only warns ("Premature
 * end of JPEG file") and pads the missing part with gray.
 */
#ifndef RUBBLE_JPEG_H
#define RUBBLE_JPEG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes (the same numbers as rubble_png.h uses). */
enum {
    RUBBLE_JPEG_OK = 0,
    RUBBLE_JPEG_UNREADABLE = 1,  /* the file could not be opened or read (errno text in message) */
    RUBBLE_JPEG_CORRUPT = 2,     /* not a valid JPEG stream */
    RUBBLE_JPEG_TRUNCATED = 3,   /* the data ends before the image does */
    RUBBLE_JPEG_UNSUPPORTED = 4, /* valid but not decodable to RGB here (e.g. 2-channel) */
    RUBBLE_JPEG_NO_MEMORY = 5,   /* allocation failed, or a buffer size does not fit in memory */
    RUBBLE_JPEG_ARGUMENT = 6,    /* bad call (null pointer, bad size or quality) */
    RUBBLE_JPEG_TOO_MANY_PIXELS = 7 /* the header's width * height exceeds max_pixels */
};

#define RUBBLE_JPEG_MESSAGE_CAPACITY 256

typedef struct rubble_jpeg_info {
    int code;             /* one of RUBBLE_JPEG_* */
    int image_width;      /* size stored in the file */
    int image_height;
    int width;            /* size of the decoded pixels (after DCT scaling) */
    int height;
    int scale_denom;      /* 1, 2, 4 or 8: decoded at 1/scale_denom */
    int components;       /* colour components in the file: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK */
    int warnings;         /* non-fatal libjpeg warnings seen (corrupt-data warnings other than EOF) */
    char message[RUBBLE_JPEG_MESSAGE_CAPACITY];
} rubble_jpeg_info;

/* Reads only the header: fills image_width/image_height/components. */
int rubble_jpeg_header_mem(const unsigned char *data, size_t size, rubble_jpeg_info *info);
int rubble_jpeg_header_file(const char *path, rubble_jpeg_info *info);

/*
 * Decodes to 8-bit RGB, row-major, 3 bytes a pixel. Grayscale is expanded, CMYK/YCCK converted
 * (Adobe files store inverted CMYK; that is what an Adobe marker means here, as in PIL).
 * An image whose stored image_width * image_height exceeds max_pixels fails with
 * RUBBLE_JPEG_TOO_MANY_PIXELS right after the header is read, before libjpeg or this shim
 * allocate any image buffer (image_width/image_height are filled).
 * min_width/min_height > 0 ask for DCT scaling: the smallest of 1/8, 1/4, 1/2, 1/1 whose output
 * is still >= both (each <= 0 means "no constraint"). An image already smaller decodes at 1/1.
 * The caller allocates the output: `out` must hold exactly out_size = width * height * 3 bytes
 * of the decoded size (rubble_jpeg_scaled_size of the header's size), else RUBBLE_JPEG_ARGUMENT
 * (the file changed since its header was read). So the pixels go straight into the caller's
 * buffer, with no copy. On failure `out` holds garbage.
 */
int rubble_jpeg_decode_mem(const unsigned char *data, size_t size, int min_width, int min_height,
                           unsigned long long max_pixels, unsigned char *out, size_t out_size, rubble_jpeg_info *info);
int rubble_jpeg_decode_file(const char *path, int min_width, int min_height, unsigned long long max_pixels,
                            unsigned char *out, size_t out_size, rubble_jpeg_info *info);

/*
 * The size a decode of a width x height JPEG with (min_width, min_height) produces:
 * ceil(size / denom) for the denominator (1, 2, 4 or 8) chosen as above, which it returns.
 */
int rubble_jpeg_scaled_size(int width, int height, int min_width, int min_height, int *out_width, int *out_height);

/*
 * Encodes `components` (1 gray, 3 RGB, 4 CMYK written inverted the Adobe way) 8-bit samples,
 * row-major, at `quality` 1...100 (4:2:0 chroma subsampling for RGB, libjpeg's default).
 * On success *out holds *out_size bytes from malloc (free with rubble_jpeg_free).
 */
int rubble_jpeg_encode_mem(const unsigned char *pixels, int width, int height, int components,
                           int quality, unsigned char **out, size_t *out_size, rubble_jpeg_info *info);

void rubble_jpeg_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif

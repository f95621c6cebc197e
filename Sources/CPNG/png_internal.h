/*
 * Shared by the CPNG sources (not part of the public header): the per-call `job`, libpng's
 * error and warning callbacks, and overflow-checked size arithmetic.
 *
 * Each `run_*` function owns the setjmp and keeps everything it changes in a `job` that belongs
 * to its caller, which cleans up after success and failure alike (a longjmp can come from any
 * libpng call, including those made by the helpers in png_reduce.c).
 */
#ifndef RUBBLE_PNG_INTERNAL_H
#define RUBBLE_PNG_INTERNAL_H

#include "rubble_png.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <png.h>

struct job {
    jmp_buf jump;
    char message[RUBBLE_PNG_MESSAGE_CAPACITY];
    int code;          /* set before a longjmp when the cause is known, else CORRUPT */
    int warnings;
    png_structp png;
    png_infop info;
    /* decoding: input and request */
    const unsigned char *data;
    size_t size, position;
    FILE *file;
    int min_width, min_height;
    int raw_samples;   /* rubble_png_decode_samples_*: one raw sample a pixel (png_samples.c) */
    unsigned long long max_pixels;
    /* decoding: the caller's output buffer, and scratch (freed by the caller of run_decode) */
    unsigned char *pixels;
    size_t out_size;
    png_bytep *rows;
    unsigned char *row;   /* one decoded (or to-be-encoded) row */
    uint32_t *sums;       /* box sums of the reduction */
    /* encoding */
    unsigned char *buffer;
    size_t capacity, length;
};

void rubble_png_on_error(png_structp png, png_const_charp message);
void rubble_png_on_warning(png_structp png, png_const_charp message);

/* Sets the job's code and message, then lets libpng longjmp (never returns). */
void rubble_png_fail(struct job *job, int code, const char *message);

/* Sets the job's code and message (for a return without longjmp); returns the code. */
int rubble_png_set_error(struct job *job, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

void rubble_png_set_message(rubble_png_info *info, int code, const char *text);

/*
 * *out = a * b (and * c), returning 1 when it overflows or exceeds PTRDIFF_MAX (the largest
 * count Swift can hold), else 0.
 */
static inline int rubble_png_mul(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out) || *out > (size_t)PTRDIFF_MAX;
}

static inline int rubble_png_mul3(size_t a, size_t b, size_t c, size_t *out) {
    size_t ab;
    return rubble_png_mul(a, b, &ab) || rubble_png_mul(ab, c, out);
}

/*
 * Streaming reductions (png_reduce.c), called after png_read_update_info with the rows set up
 * for 8-bit RGB and job->pixels holding ceil(w / f) x ceil(h / f) x 3 bytes. They allocate
 * their scratch in the job and read every row of the image (all passes for Adam7).
 */
int rubble_png_reduce_rows(struct job *job, size_t width, size_t height, size_t factor);
int rubble_png_reduce_adam7(struct job *job, size_t width, size_t height, size_t factor);

/*
 * The raw single-channel decode (png_samples.c), called after png_read_info and the pixel
 * limit, with job->pixels holding job->out_size bytes for the caller.
 */
int rubble_png_read_samples(struct job *job, rubble_png_info *info);

#endif

/*
 * Shared by the CJPEG sources (not part of the public header): the per-call `job`, the error
 * manager that turns libjpeg's error_exit into a longjmp, and checked size arithmetic.
 *
 * Every libjpeg call happens inside a `run_*` function that owns the setjmp. The state those
 * functions change lives in a `job` struct that belongs to their caller, so its values are
 * well defined after a longjmp (C11 7.13.2.1 only protects non-volatile locals of the function
 * that called setjmp when they were not modified) and the caller cleans up in one place.
 */
#ifndef RUBBLE_JPEG_INTERNAL_H
#define RUBBLE_JPEG_INTERNAL_H

#include "rubble_jpeg.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>
#include <jerror.h>

/*
 * *out = a * b * c, returning 1 when it overflows or exceeds PTRDIFF_MAX (the largest count
 * Swift can hold), else 0.
 */
static inline int rubble_jpeg_mul3(size_t a, size_t b, size_t c, size_t *out) {
    size_t ab;
    return __builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, out) || *out > (size_t)PTRDIFF_MAX;
}

struct error_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int code;
    char message[JMSG_LENGTH_MAX];
};

struct mem_dest {
    struct jpeg_destination_mgr pub;
    unsigned char *buffer;
    size_t capacity;
    size_t size;
    int failed;
};

struct job {
    struct error_mgr err;
    struct jpeg_decompress_struct dinfo;
    struct jpeg_compress_struct cinfo;
    int created;
    struct mem_dest dest;
    FILE *file;
    unsigned char *pixels; /* the caller's output buffer */
    size_t out_size;
};

void rubble_jpeg_set_message(rubble_jpeg_info *info, int code, const char *text);
void rubble_jpeg_init_error(struct job *job);
/* A zeroed job with libjpeg's error handling set up, or NULL (and `info` says out of memory). */
struct job *rubble_jpeg_new_job(rubble_jpeg_info *info);
void rubble_jpeg_clear_info(rubble_jpeg_info *info);

#endif

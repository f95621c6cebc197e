/*
 * libjpeg(-turbo) decoding: header, pixel limit, DCT scaling and conversion to 8-bit RGB into
 * the caller's buffer (see rubble_jpeg.h).
 */
#include "jpeg_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Output size of libjpeg for 1/denom scaling: ceil(size / denom). */
static int scaled(int size, int denom) { return (int)(((long long)size + denom - 1) / denom); }

static int choose_denominator(int width, int height, int min_width, int min_height) {
    if (min_width <= 0 && min_height <= 0) return 1;
    for (int denom = 8; denom > 1; denom /= 2) {
        if (scaled(width, denom) >= min_width && scaled(height, denom) >= min_height) return denom;
    }
    return 1;
}

int rubble_jpeg_scaled_size(int width, int height, int min_width, int min_height, int *out_width, int *out_height) {
    int denom = width > 0 && height > 0 ? choose_denominator(width, height, min_width, min_height) : 1;
    if (out_width) *out_width = width > 0 ? scaled(width, denom) : 0;
    if (out_height) *out_height = height > 0 ? scaled(height, denom) : 0;
    return denom;
}

static inline unsigned char mul255(unsigned a, unsigned b) {
    unsigned t = a * b + 128;
    return (unsigned char)((t + (t >> 8)) >> 8); /* round(a * b / 255) */
}

/* Header (and optionally the pixels). Source already attached by the caller. */
static int run_decode(struct job *job, const unsigned char *data, size_t size, int header_only,
                      int min_width, int min_height, unsigned long long max_pixels, rubble_jpeg_info *info) {
    struct jpeg_decompress_struct *d = &job->dinfo;
    if (setjmp(job->err.jump)) return job->err.code;
    d->err = &job->err.pub;
    jpeg_create_decompress(d);
    job->created = 1;
    if (job->file) jpeg_stdio_src(d, job->file);
    else jpeg_mem_src(d, (unsigned char *)data, (unsigned long)size);
    jpeg_read_header(d, TRUE);
    info->image_width = (int)d->image_width;
    info->image_height = (int)d->image_height;
    info->components = d->num_components;
    if (header_only) return RUBBLE_JPEG_OK;

    size_t stored;
    if (rubble_jpeg_mul3(d->image_width, d->image_height, 1, &stored) || stored > max_pixels) {
        snprintf(job->err.message, sizeof job->err.message, "%ux%u pixels exceed the limit of %llu",
                 (unsigned)d->image_width, (unsigned)d->image_height, max_pixels);
        return RUBBLE_JPEG_TOO_MANY_PIXELS;
    }
    int cmyk = 0;
    switch (d->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        d->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        d->out_color_space = JCS_CMYK;
        cmyk = 1;
        break;
    default:
        snprintf(job->err.message, sizeof job->err.message,
                 "unsupported JPEG colour space with %d components", d->num_components);
        return RUBBLE_JPEG_UNSUPPORTED;
    }
    int denom = choose_denominator((int)d->image_width, (int)d->image_height, min_width, min_height);
    d->scale_num = 1;
    d->scale_denom = (unsigned)denom;
    jpeg_calc_output_dimensions(d);
    size_t w = d->output_width, h = d->output_height, bytes;
    if (w == 0 || h == 0) {
        snprintf(job->err.message, sizeof job->err.message, "image of %zux%zu pixels", w, h);
        return RUBBLE_JPEG_CORRUPT;
    }
    if (rubble_jpeg_mul3(w, h, 3, &bytes)) {
        snprintf(job->err.message, sizeof job->err.message, "%zux%zu RGB pixels do not fit in memory", w, h);
        return RUBBLE_JPEG_NO_MEMORY;
    }
    info->width = (int)w;
    info->height = (int)h;
    info->scale_denom = denom;

    if (bytes != job->out_size) {
        snprintf(job->err.message, sizeof job->err.message,
                 "%zu bytes given for %zux%zu RGB pixels (did the file change meanwhile?)", job->out_size, w, h);
        return RUBBLE_JPEG_ARGUMENT;
    }
    jpeg_start_decompress(d);
    if (!cmyk) {
        while (d->output_scanline < d->output_height) {
            JSAMPROW row = job->pixels + (size_t)d->output_scanline * w * 3;
            jpeg_read_scanlines(d, &row, 1);
        }
    } else {
        /* Released by jpeg_destroy_decompress, so no leak on a longjmp. */
        JSAMPARRAY buffer = (*d->mem->alloc_sarray)((j_common_ptr)d, JPOOL_IMAGE, (JDIMENSION)(w * 4), 1);
        int inverted = d->saw_Adobe_marker;
        while (d->output_scanline < d->output_height) {
            unsigned char *out = job->pixels + (size_t)d->output_scanline * w * 3;
            jpeg_read_scanlines(d, buffer, 1);
            const unsigned char *in = buffer[0];
            for (size_t x = 0; x < w; x++, in += 4, out += 3) {
                /* ink amounts c,m,y,k in 0...255; R = (255 - c)(255 - k) / 255 (PIL's cmyk2rgb) */
                unsigned nc = inverted ? in[0] : 255u - in[0];
                unsigned nm = inverted ? in[1] : 255u - in[1];
                unsigned ny = inverted ? in[2] : 255u - in[2];
                unsigned nk = inverted ? in[3] : 255u - in[3];
                out[0] = mul255(nc, nk);
                out[1] = mul255(nm, nk);
                out[2] = mul255(ny, nk);
            }
        }
    }
    jpeg_finish_decompress(d);
    info->warnings = (int)d->err->num_warnings;
    return RUBBLE_JPEG_OK;
}

static int decode_common(const char *path, const unsigned char *data, size_t size, int header_only,
                         int min_width, int min_height, unsigned long long max_pixels, unsigned char *out,
                         size_t out_size, rubble_jpeg_info *info) {
    if (!info) return RUBBLE_JPEG_ARGUMENT;
    rubble_jpeg_clear_info(info);
    if ((!path && !data) || (!header_only && !out)) {
        rubble_jpeg_set_message(info, RUBBLE_JPEG_ARGUMENT, "no input or output given");
        return info->code;
    }
    if (!path && size == 0) {
        rubble_jpeg_set_message(info, RUBBLE_JPEG_TRUNCATED, "empty input");
        return info->code;
    }
    struct job *job = rubble_jpeg_new_job(info);
    if (!job) return info->code;
    job->pixels = out;
    job->out_size = out_size;
    if (path) {
        job->file = fopen(path, "rb");
        if (!job->file) {
            rubble_jpeg_set_message(info, RUBBLE_JPEG_UNREADABLE, strerror(errno));
            free(job);
            return info->code;
        }
    }
    int code = run_decode(job, data, size, header_only, min_width, min_height, max_pixels, info);
    if (code == RUBBLE_JPEG_OK && job->file && ferror(job->file)) {
        snprintf(job->err.message, sizeof job->err.message, "read error");
        code = RUBBLE_JPEG_UNREADABLE;
    }
    if (job->created) jpeg_destroy_decompress(&job->dinfo);
    if (job->file) fclose(job->file);
    if (code == RUBBLE_JPEG_OK) {
        info->code = RUBBLE_JPEG_OK;
    } else {
        info->width = info->height = 0;
        rubble_jpeg_set_message(info, code, job->err.message[0] ? job->err.message : "JPEG decoding failed");
    }
    free(job);
    return info->code;
}

int rubble_jpeg_header_mem(const unsigned char *data, size_t size, rubble_jpeg_info *info) {
    return decode_common(NULL, data, size, 1, 0, 0, 0, NULL, 0, info);
}

int rubble_jpeg_header_file(const char *path, rubble_jpeg_info *info) {
    if (!path) {
        if (info) { rubble_jpeg_clear_info(info); rubble_jpeg_set_message(info, RUBBLE_JPEG_ARGUMENT, "no path given"); }
        return RUBBLE_JPEG_ARGUMENT;
    }
    return decode_common(path, NULL, 0, 1, 0, 0, 0, NULL, 0, info);
}

int rubble_jpeg_decode_mem(const unsigned char *data, size_t size, int min_width, int min_height,
                           unsigned long long max_pixels, unsigned char *out, size_t out_size,
                           rubble_jpeg_info *info) {
    return decode_common(NULL, data, size, 0, min_width, min_height, max_pixels, out, out_size, info);
}

int rubble_jpeg_decode_file(const char *path, int min_width, int min_height, unsigned long long max_pixels,
                            unsigned char *out, size_t out_size, rubble_jpeg_info *info) {
    if (!path) {
        if (info) { rubble_jpeg_clear_info(info); rubble_jpeg_set_message(info, RUBBLE_JPEG_ARGUMENT, "no path given"); }
        return RUBBLE_JPEG_ARGUMENT;
    }
    return decode_common(path, NULL, 0, 0, min_width, min_height, max_pixels, out, out_size, info);
}

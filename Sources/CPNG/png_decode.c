/*
 * libpng decoding: header, pixel limit, conversion to 8-bit RGB, and the choice between a
 * full-size decode and a streaming box reduction (png_reduce.c). See rubble_png.h.
 */
#include "png_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void read_data(png_structp png, png_bytep out, size_t count) {
    struct job *job = (struct job *)png_get_io_ptr(png);
    if (job->file) {
        size_t got = fread(out, 1, count, job->file);
        if (got != count) {
            if (ferror(job->file)) rubble_png_fail(job, RUBBLE_PNG_UNREADABLE, strerror(errno ? errno : EIO));
            rubble_png_fail(job, RUBBLE_PNG_TRUNCATED, "unexpected end of file");
        }
        return;
    }
    if (job->size - job->position < count) rubble_png_fail(job, RUBBLE_PNG_TRUNCATED, "unexpected end of data");
    memcpy(out, job->data + job->position, count);
    job->position += count;
}

static void fill_info(struct job *job, rubble_png_info *info) {
    /* libpng refuses widths and heights above 2^31 - 1 (and, by default, above 10^6). */
    info->image_width = info->width = (int)png_get_image_width(job->png, job->info);
    info->image_height = info->height = (int)png_get_image_height(job->png, job->info);
    info->bit_depth = png_get_bit_depth(job->png, job->info);
    info->color_type = png_get_color_type(job->png, job->info);
    info->interlaced = png_get_interlace_type(job->png, job->info) != PNG_INTERLACE_NONE;
    info->factor = 1;
}

size_t rubble_png_reduction_factor(size_t width, size_t height, int min_width, int min_height) {
    if (width == 0 || height == 0 || (min_width <= 0 && min_height <= 0)) return 1;
    /* ceil(n / f) >= m  <=>  n > (m - 1) f  <=>  f <= (n - 1) / (m - 1), for m >= 2 */
    size_t factor = RUBBLE_PNG_MAX_FACTOR;
    size_t longer = width > height ? width : height;
    if (longer < factor) factor = longer;
    if (min_width > 1) {
        size_t most = (width - 1) / (size_t)(min_width - 1);
        if (most < factor) factor = most;
    }
    if (min_height > 1) {
        size_t most = (height - 1) / (size_t)(min_height - 1);
        if (most < factor) factor = most;
    }
    return factor < 1 ? 1 : factor;
}

/* Sets up libpng's transformations to 8-bit RGB (3 bytes a pixel). */
static void convert_to_rgb8(png_structp png, int type, int depth) {
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png); /* high byte, like PIL's "RGB;16B" */
    if (type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
}

static int run_decode(struct job *job, int header_only, rubble_png_info *info) {
    if (setjmp(job->jump)) return job->code;
    png_structp png = job->png;
    png_infop pinfo = job->info;
    png_set_read_fn(png, job, read_data);
    png_read_info(png, pinfo);
    fill_info(job, info);
    if (header_only) return RUBBLE_PNG_OK;

    size_t w = (size_t)info->image_width, h = (size_t)info->image_height, count, row_bytes, bytes;
    if (w == 0 || h == 0)
        return rubble_png_set_error(job, RUBBLE_PNG_CORRUPT, "image of %zux%zu pixels", w, h);
    if (rubble_png_mul(w, h, &count) || count > job->max_pixels)
        return rubble_png_set_error(job, RUBBLE_PNG_TOO_MANY_PIXELS,
                                    "%zux%zu pixels exceed the limit of %llu", w, h, job->max_pixels);
    if (job->raw_samples) return rubble_png_read_samples(job, info);
    int type = info->color_type, depth = info->bit_depth;
    convert_to_rgb8(png, type, depth);
    size_t factor = rubble_png_reduction_factor(w, h, job->min_width, job->min_height);
    /* A reduced Adam7 decode takes each pass's rows as they are (png_reduce.c places them). */
    if (factor == 1) png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    if (rubble_png_mul(w, 3, &row_bytes) || png_get_rowbytes(png, pinfo) != row_bytes ||
        png_get_channels(png, pinfo) != 3 || png_get_bit_depth(png, pinfo) != 8)
        return rubble_png_set_error(job, RUBBLE_PNG_UNSUPPORTED,
                                    "cannot convert colour type %d, depth %d to 8-bit RGB", type, depth);
    size_t out_w = (w - 1) / factor + 1, out_h = (h - 1) / factor + 1;
    if (rubble_png_mul3(out_w, out_h, 3, &bytes))
        return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "%zux%zu RGB pixels do not fit in memory", out_w, out_h);
    if (bytes != job->out_size)
        return rubble_png_set_error(job, RUBBLE_PNG_ARGUMENT,
                                    "%zu bytes given for %zux%zu RGB pixels (did the file change meanwhile?)",
                                    job->out_size, out_w, out_h);

    int code = RUBBLE_PNG_OK;
    if (factor == 1) {
        size_t pointers;
        if (rubble_png_mul(h, sizeof(png_bytep), &pointers) || !(job->rows = (png_bytep *)malloc(pointers)))
            return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "out of memory for %zu row pointers", h);
        for (size_t y = 0; y < h; y++) job->rows[y] = job->pixels + y * row_bytes;
        png_read_image(png, job->rows);
    } else if (info->interlaced) {
        code = rubble_png_reduce_adam7(job, w, h, factor);
    } else {
        code = rubble_png_reduce_rows(job, w, h, factor);
    }
    if (code != RUBBLE_PNG_OK) return code;
    png_read_end(png, NULL); /* checks the remaining chunks' CRCs and that IEND is there */
    info->width = (int)out_w;
    info->height = (int)out_h;
    info->factor = (int)factor;
    return RUBBLE_PNG_OK;
}

static int decode_common(const char *path, const unsigned char *data, size_t size, int header_only, int min_width,
                         int min_height, int raw_samples, unsigned long long max_pixels, unsigned char *out,
                         size_t out_size, rubble_png_info *info) {
    if (!info) return RUBBLE_PNG_ARGUMENT;
    memset(info, 0, sizeof *info);
    if ((!path && !data) || (!header_only && !out)) {
        rubble_png_set_message(info, RUBBLE_PNG_ARGUMENT, "no input or output given");
        return info->code;
    }
    if (!path && size == 0) {
        rubble_png_set_message(info, RUBBLE_PNG_TRUNCATED, "empty input");
        return info->code;
    }
    struct job *job = (struct job *)calloc(1, sizeof *job);
    if (!job) {
        rubble_png_set_message(info, RUBBLE_PNG_NO_MEMORY, "out of memory");
        return info->code;
    }
    job->data = data;
    job->size = size;
    job->min_width = min_width;
    job->min_height = min_height;
    job->raw_samples = raw_samples;
    job->max_pixels = max_pixels;
    job->pixels = out;
    job->out_size = out_size;
    if (path) {
        job->file = fopen(path, "rb");
        if (!job->file) {
            rubble_png_set_message(info, RUBBLE_PNG_UNREADABLE, strerror(errno));
            free(job);
            return info->code;
        }
    }
    int code;
    job->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job, rubble_png_on_error, rubble_png_on_warning);
    job->info = job->png ? png_create_info_struct(job->png) : NULL;
    if (!job->png || !job->info) {
        code = RUBBLE_PNG_NO_MEMORY;
        snprintf(job->message, sizeof job->message, "out of memory");
    } else {
        code = run_decode(job, header_only, info);
    }
    if (job->png) png_destroy_read_struct(&job->png, job->info ? &job->info : NULL, NULL);
    if (job->file) fclose(job->file);
    free(job->rows);
    free(job->row);
    free(job->sums);
    info->warnings = job->warnings;
    if (code == RUBBLE_PNG_OK) {
        info->code = RUBBLE_PNG_OK;
    } else {
        info->width = info->height = 0;  /* image_width/image_height and color_type stay */
        rubble_png_set_message(info, code, job->message[0] ? job->message : "PNG decoding failed");
    }
    free(job);
    return info->code;
}

int rubble_png_header_mem(const unsigned char *data, size_t size, rubble_png_info *info) {
    return decode_common(NULL, data, size, 1, 0, 0, 0, 0, NULL, 0, info);
}

int rubble_png_header_file(const char *path, rubble_png_info *info) {
    if (!path) {
        if (info) { memset(info, 0, sizeof *info); rubble_png_set_message(info, RUBBLE_PNG_ARGUMENT, "no path given"); }
        return RUBBLE_PNG_ARGUMENT;
    }
    return decode_common(path, NULL, 0, 1, 0, 0, 0, 0, NULL, 0, info);
}

int rubble_png_decode_mem(const unsigned char *data, size_t size, int min_width, int min_height,
                          unsigned long long max_pixels, unsigned char *out, size_t out_size, rubble_png_info *info) {
    return decode_common(NULL, data, size, 0, min_width, min_height, 0, max_pixels, out, out_size, info);
}

int rubble_png_decode_file(const char *path, int min_width, int min_height, unsigned long long max_pixels,
                           unsigned char *out, size_t out_size, rubble_png_info *info) {
    if (!path) {
        if (info) { memset(info, 0, sizeof *info); rubble_png_set_message(info, RUBBLE_PNG_ARGUMENT, "no path given"); }
        return RUBBLE_PNG_ARGUMENT;
    }
    return decode_common(path, NULL, 0, 0, min_width, min_height, 0, max_pixels, out, out_size, info);
}

int rubble_png_decode_samples_mem(const unsigned char *data, size_t size, unsigned long long max_pixels, void *out,
                                  size_t out_size, rubble_png_info *info) {
    return decode_common(NULL, data, size, 0, 0, 0, 1, max_pixels, (unsigned char *)out, out_size, info);
}

int rubble_png_decode_samples_file(const char *path, unsigned long long max_pixels, void *out, size_t out_size,
                                   rubble_png_info *info) {
    if (!path) {
        if (info) { memset(info, 0, sizeof *info); rubble_png_set_message(info, RUBBLE_PNG_ARGUMENT, "no path given"); }
        return RUBBLE_PNG_ARGUMENT;
    }
    return decode_common(path, NULL, 0, 0, 0, 0, 1, max_pixels, (unsigned char *)out, out_size, info);
}

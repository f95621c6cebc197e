/*
 * libpng encoding to memory, from a buffer of rows or row by row from a callback
 * (see rubble_png.h).
 */
#include "png_internal.h"

#include <stdlib.h>
#include <string.h>

static void write_data(png_structp png, png_bytep bytes, size_t count) {
    struct job *job = (struct job *)png_get_io_ptr(png);
    if (job->capacity - job->length < count) {
        size_t capacity = job->capacity ? job->capacity : 1 << 16;
        while (capacity - job->length < count) {
            if (capacity > (size_t)PTRDIFF_MAX / 2) rubble_png_fail(job, RUBBLE_PNG_NO_MEMORY, "output too large");
            capacity *= 2;
        }
        unsigned char *grown = (unsigned char *)realloc(job->buffer, capacity);
        if (!grown) rubble_png_fail(job, RUBBLE_PNG_NO_MEMORY, "out of memory");
        job->buffer = grown;
        job->capacity = capacity;
    }
    memcpy(job->buffer + job->length, bytes, count);
    job->length += count;
}

static void flush_data(png_structp png) { (void)png; }

static int channels_of(int color_type) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_PALETTE: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 0;
    }
}

static int valid_depth(int color_type, int depth) {
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case PNG_COLOR_TYPE_PALETTE: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    default: return depth == 8 || depth == 16;
    }
}

/* What to encode: either `samples` (all rows) or `source` called for each row. */
struct encode_request {
    const unsigned char *samples;
    rubble_png_row_source source;
    void *context;
    int width, height, color_type, depth, interlace;
    const unsigned char *palette;
    int palette_count, level;
};

static int run_encode(struct job *job, const struct encode_request *r) {
    if (setjmp(job->jump)) return job->code;
    png_structp png = job->png;
    png_set_write_fn(png, job, write_data, flush_data);
    png_set_IHDR(png, job->info, (png_uint_32)r->width, (png_uint_32)r->height, r->depth, r->color_type,
                 r->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (r->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color colors[256];
        for (int i = 0; i < r->palette_count; i++) {
            colors[i].red = r->palette[3 * i];
            colors[i].green = r->palette[3 * i + 1];
            colors[i].blue = r->palette[3 * i + 2];
        }
        png_set_PLTE(png, job->info, colors, r->palette_count);
    }
    if (r->level >= 0) png_set_compression_level(png, r->level);
    png_write_info(png, job->info);
    size_t bits, stride;
    if (rubble_png_mul3((size_t)r->width, (size_t)channels_of(r->color_type), (size_t)r->depth, &bits))
        rubble_png_fail(job, RUBBLE_PNG_ARGUMENT, "row size overflows");
    stride = bits / 8 + (bits % 8 != 0);
    if (r->source) {
        int passes = png_set_interlace_handling(png); /* 7 for Adam7: every row once per pass */
        job->row = (unsigned char *)malloc(stride);
        if (!job->row) rubble_png_fail(job, RUBBLE_PNG_NO_MEMORY, "out of memory");
        for (int pass = 0; pass < passes; pass++) {
            for (int y = 0; y < r->height; y++) {
                r->source(r->context, y, job->row);
                png_write_row(png, job->row);
            }
        }
    } else {
        size_t pointers;
        if (rubble_png_mul((size_t)r->height, sizeof(png_bytep), &pointers) ||
            !(job->rows = (png_bytep *)malloc(pointers)))
            rubble_png_fail(job, RUBBLE_PNG_NO_MEMORY, "out of memory");
        for (size_t y = 0; y < (size_t)r->height; y++) job->rows[y] = (png_bytep)(r->samples + y * stride);
        png_write_image(png, job->rows); /* runs the Adam7 passes itself */
    }
    png_write_end(png, NULL);
    return RUBBLE_PNG_OK;
}

static int encode_common(const struct encode_request *r, unsigned char **out, size_t *out_size,
                         rubble_png_info *info) {
    if (out) *out = NULL;
    if (out_size) *out_size = 0;
    if (!info) return RUBBLE_PNG_ARGUMENT;
    memset(info, 0, sizeof *info);
    int is_palette = r->color_type == PNG_COLOR_TYPE_PALETTE;
    if ((!r->samples && !r->source) || !out || !out_size || r->width <= 0 || r->height <= 0 ||
        r->width > 0x7fffffff / 8 || channels_of(r->color_type) == 0 || !valid_depth(r->color_type, r->depth) ||
        (is_palette && (r->source || !r->palette || r->palette_count < 1 || r->palette_count > 256)) ||
        r->level > 9) {
        rubble_png_set_message(info, RUBBLE_PNG_ARGUMENT, "invalid PNG encoding arguments");
        return info->code;
    }
    struct job *job = (struct job *)calloc(1, sizeof *job);
    if (!job) {
        rubble_png_set_message(info, RUBBLE_PNG_NO_MEMORY, "out of memory");
        return info->code;
    }
    int code;
    job->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job, rubble_png_on_error, rubble_png_on_warning);
    job->info = job->png ? png_create_info_struct(job->png) : NULL;
    if (!job->png || !job->info) {
        code = RUBBLE_PNG_NO_MEMORY;
        snprintf(job->message, sizeof job->message, "out of memory");
    } else {
        code = run_encode(job, r);
    }
    if (job->png) png_destroy_write_struct(&job->png, job->info ? &job->info : NULL);
    free(job->rows);
    free(job->row);
    info->warnings = job->warnings;
    if (code == RUBBLE_PNG_OK) {
        *out = job->buffer;
        *out_size = job->length;
        info->code = RUBBLE_PNG_OK;
        info->width = info->image_width = r->width;
        info->height = info->image_height = r->height;
        info->factor = 1;
        info->bit_depth = r->depth;
        info->color_type = r->color_type;
        info->interlaced = r->interlace != 0;
    } else {
        free(job->buffer);
        rubble_png_set_message(info, code, job->message[0] ? job->message : "PNG encoding failed");
    }
    free(job);
    return info->code;
}

int rubble_png_encode_mem(const unsigned char *samples, int width, int height, int color_type, int bit_depth,
                          int interlace, const unsigned char *palette, int palette_count, int compression_level,
                          unsigned char **out, size_t *out_size, rubble_png_info *info) {
    struct encode_request r = {samples, NULL, NULL, width, height, color_type, bit_depth, interlace,
                               palette, palette_count, compression_level};
    return encode_common(&r, out, out_size, info);
}

int rubble_png_encode_rows_mem(int width, int height, int color_type, int bit_depth, int interlace,
                               int compression_level, rubble_png_row_source source, void *context,
                               unsigned char **out, size_t *out_size, rubble_png_info *info) {
    struct encode_request r = {NULL, source, context, width, height, color_type, bit_depth, interlace,
                               NULL, 0, compression_level};
    return encode_common(&r, out, out_size, info);
}

void rubble_png_free(void *pointer) { free(pointer); }

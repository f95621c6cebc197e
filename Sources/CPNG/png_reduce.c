/*
 * Streaming box reduction of a PNG while it is decoded (see rubble_png_decode_mem): rows are
 * read one at a time and summed into f x f blocks, so the full-size image never exists.
 *
 * Output pixel (X, Y) is the rounded mean (sum + n/2) / n of the n pixels (x, y) of the image
 * with x / f == X and y / f == Y, per channel: full blocks hold f * f pixels, blocks at the
 * right and bottom edges only the pixels that exist. Sums are 32-bit: at most 255 * f * f,
 * which fits for f <= RUBBLE_PNG_MAX_FACTOR.
 */
#include "png_internal.h"

#include <stdlib.h>

/* Divides one row of block sums into 8-bit means and clears the sums for the next row. */
static void emit_row(unsigned char *out, uint32_t *sums, size_t out_w, size_t full_blocks, size_t factor,
                     size_t tail, size_t rows) {
    for (size_t b = 0; b < out_w; b++, out += 3, sums += 3) {
        uint64_t n = (uint64_t)(b < full_blocks ? factor : tail) * rows, half = n / 2;
        out[0] = (unsigned char)(((uint64_t)sums[0] + half) / n);
        out[1] = (unsigned char)(((uint64_t)sums[1] + half) / n);
        out[2] = (unsigned char)(((uint64_t)sums[2] + half) / n);
        sums[0] = sums[1] = sums[2] = 0;
    }
}

/* Allocates the row buffer (width RGB pixels) and `blocks` zeroed RGB sums in the job. */
static int allocate_scratch(struct job *job, size_t width, size_t blocks) {
    size_t row_bytes, sum_count;
    if (rubble_png_mul(width, 3, &row_bytes) || rubble_png_mul3(blocks, 3, sizeof(uint32_t), &sum_count))
        return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "reduction buffers for %zu pixels do not fit", width);
    job->row = (unsigned char *)malloc(row_bytes);
    job->sums = (uint32_t *)calloc(blocks * 3, sizeof(uint32_t));
    if (!job->row || !job->sums)
        return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "out of memory for a reduction of %zu pixels a row", width);
    return RUBBLE_PNG_OK;
}

/* Adds `count` RGB pixels from `p` into the block sums `s[0..2]`; returns the pixel after them. */
static const unsigned char *add_run(const unsigned char *p, size_t count, uint32_t *s) {
    uint32_t r = 0, g = 0, b = 0;
    for (size_t k = 0; k < count; k++, p += 3) {
        r += p[0];
        g += p[1];
        b += p[2];
    }
    s[0] += r;
    s[1] += g;
    s[2] += b;
    return p;
}

int rubble_png_reduce_rows(struct job *job, size_t width, size_t height, size_t factor) {
    size_t out_w = (width - 1) / factor + 1;
    int code = allocate_scratch(job, width, out_w);
    if (code != RUBBLE_PNG_OK) return code;
    size_t full_blocks = width / factor, tail = width - full_blocks * factor;
    unsigned char *out = job->pixels;
    uint32_t *const sums = job->sums;
    size_t row_in_block = 0;
    for (size_t y = 0; y < height; y++) {
        png_read_row(job->png, job->row, NULL);
        const unsigned char *p = job->row;
        uint32_t *s = sums;
        for (size_t b = 0; b < full_blocks; b++, s += 3) p = add_run(p, factor, s);
        if (tail) add_run(p, tail, s);
        if (++row_in_block == factor || y + 1 == height) {
            emit_row(out, sums, out_w, full_blocks, factor, tail, row_in_block);
            out += out_w * 3;
            row_in_block = 0;
        }
    }
    return RUBBLE_PNG_OK;
}

/*
 * Adam7: libpng (without png_set_interlace_handling) returns each pass's rows as they are
 * stored, passes in order, empty passes skipped. Every pixel of the image comes exactly once,
 * so adding each to its block gives the same sums as the row-by-row reduction.
 */
int rubble_png_reduce_adam7(struct job *job, size_t width, size_t height, size_t factor) {
    size_t out_w = (width - 1) / factor + 1, out_h = (height - 1) / factor + 1, blocks;
    if (rubble_png_mul(out_w, out_h, &blocks))
        return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "%zux%zu blocks do not fit", out_w, out_h);
    int code = allocate_scratch(job, width, blocks);
    if (code != RUBBLE_PNG_OK) return code;
    uint32_t *const sums = job->sums;
    for (int pass = 0; pass < 7; pass++) {
        size_t pass_w = PNG_PASS_COLS(width, pass), pass_h = PNG_PASS_ROWS(height, pass);
        if (pass_w == 0 || pass_h == 0) continue;
        size_t x0 = PNG_PASS_START_COL(pass), dx = PNG_PASS_COL_OFFSET(pass);
        size_t y0 = PNG_PASS_START_ROW(pass), dy = PNG_PASS_ROW_OFFSET(pass);
        for (size_t r = 0; r < pass_h; r++) {
            png_read_row(job->png, job->row, NULL);
            const unsigned char *p = job->row;
            uint32_t *s = sums + (y0 + r * dy) / factor * out_w * 3;
            size_t x = x0, edge = factor; /* x of the first pixel of the next block */
            for (size_t c = 0; c < pass_w; c++, p += 3, x += dx) {
                while (x >= edge) {
                    s += 3;
                    edge += factor;
                }
                s[0] += p[0];
                s[1] += p[1];
                s[2] += p[2];
            }
        }
    }
    size_t full_blocks = width / factor, tail = width - full_blocks * factor;
    size_t full_rows = height / factor, tail_rows = height - full_rows * factor;
    for (size_t y = 0; y < out_h; y++) {
        emit_row(job->pixels + y * out_w * 3, sums + y * out_w * 3, out_w, full_blocks, factor, tail,
                 y < full_rows ? factor : tail_rows);
    }
    return RUBBLE_PNG_OK;
}

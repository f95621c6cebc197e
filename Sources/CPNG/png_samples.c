/*
 * The raw single-channel decode behind rubble_png_decode_samples_* (see rubble_png.h): gray and
 * palette PNGs to one sample a pixel, values as stored (class indices, depth), no conversion.
 */
#include "png_internal.h"

#include <stdlib.h>

int rubble_png_read_samples(struct job *job, rubble_png_info *info) {
    png_structp png = job->png;
    png_infop pinfo = job->info;
    int type = info->color_type, depth = info->bit_depth;
    /* The message is the colour type's name alone: the Swift side puts it in a sentence. */
    if (type == PNG_COLOR_TYPE_RGB) return rubble_png_set_error(job, RUBBLE_PNG_NOT_SINGLE_CHANNEL, "RGB");
    if (type == PNG_COLOR_TYPE_RGB_ALPHA) return rubble_png_set_error(job, RUBBLE_PNG_NOT_SINGLE_CHANNEL, "RGBA");
    if (type == PNG_COLOR_TYPE_GRAY_ALPHA)
        return rubble_png_set_error(job, RUBBLE_PNG_NOT_SINGLE_CHANNEL, "gray + alpha");
    if (type != PNG_COLOR_TYPE_GRAY && type != PNG_COLOR_TYPE_PALETTE)
        return rubble_png_set_error(job, RUBBLE_PNG_NOT_SINGLE_CHANNEL, "colour type %d", type);
    size_t w = (size_t)info->image_width, h = (size_t)info->image_height;
    size_t sample_bytes = depth == 16 ? 2 : 1, row_bytes, bytes;
    if (depth < 8) png_set_packing(png); /* one byte a sample, the value unscaled */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (depth == 16) png_set_swap(png);  /* PNG stores big-endian; hand back native uint16 */
#endif
    png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    if (rubble_png_mul(w, sample_bytes, &row_bytes) || png_get_rowbytes(png, pinfo) != row_bytes ||
        png_get_channels(png, pinfo) != 1)
        return rubble_png_set_error(job, RUBBLE_PNG_UNSUPPORTED, "cannot unpack colour type %d, depth %d", type, depth);
    if (rubble_png_mul(row_bytes, h, &bytes))
        return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "%zux%zu samples do not fit in memory", w, h);
    if (bytes != job->out_size)
        return rubble_png_set_error(job, RUBBLE_PNG_ARGUMENT,
                                    "%zu bytes given for %zux%zu samples of %zu bytes (did the file change meanwhile?)",
                                    job->out_size, w, h, sample_bytes);
    size_t pointers;
    if (rubble_png_mul(h, sizeof(png_bytep), &pointers) || !(job->rows = (png_bytep *)malloc(pointers)))
        return rubble_png_set_error(job, RUBBLE_PNG_NO_MEMORY, "out of memory for %zu row pointers", h);
    for (size_t y = 0; y < h; y++) job->rows[y] = job->pixels + y * row_bytes;
    png_read_image(png, job->rows);
    png_read_end(png, NULL); /* checks the remaining chunks' CRCs and that IEND is there */
    return RUBBLE_PNG_OK;
}

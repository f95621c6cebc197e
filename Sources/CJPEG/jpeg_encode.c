/*
 * libjpeg(-turbo) encoding to a growing memory buffer (see rubble_jpeg.h).
 */
#include "jpeg_internal.h"

#include <stdlib.h>
#include <string.h>

static void dest_init(j_compress_ptr c) {
    struct mem_dest *dest = (struct mem_dest *)c->dest;
    dest->capacity = 1 << 16;
    dest->buffer = (unsigned char *)malloc(dest->capacity);
    if (!dest->buffer) ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
    dest->pub.next_output_byte = dest->buffer;
    dest->pub.free_in_buffer = dest->capacity;
}

static boolean dest_empty(j_compress_ptr c) {
    struct mem_dest *dest = (struct mem_dest *)c->dest;
    size_t old = dest->capacity;
    unsigned char *grown = (unsigned char *)realloc(dest->buffer, old * 2);
    if (!grown) ERREXIT1(c, JERR_OUT_OF_MEMORY, 1);
    dest->buffer = grown;
    dest->capacity = old * 2;
    dest->pub.next_output_byte = grown + old;
    dest->pub.free_in_buffer = old;
    return TRUE;
}

static void dest_term(j_compress_ptr c) {
    struct mem_dest *dest = (struct mem_dest *)c->dest;
    dest->size = dest->capacity - dest->pub.free_in_buffer;
}

static int run_encode(struct job *job, const unsigned char *pixels, int width, int height,
                      int components, int quality) {
    struct jpeg_compress_struct *c = &job->cinfo;
    if (setjmp(job->err.jump)) return job->err.code;
    c->err = &job->err.pub;
    jpeg_create_compress(c);
    job->created = 1;
    job->dest.pub.init_destination = dest_init;
    job->dest.pub.empty_output_buffer = dest_empty;
    job->dest.pub.term_destination = dest_term;
    c->dest = &job->dest.pub;
    c->image_width = (JDIMENSION)width;
    c->image_height = (JDIMENSION)height;
    c->input_components = components;
    c->in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, quality, TRUE);
    jpeg_start_compress(c, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    if (components != 4) {
        while (c->next_scanline < c->image_height) {
            JSAMPROW row = (JSAMPROW)(pixels + (size_t)c->next_scanline * stride);
            jpeg_write_scanlines(c, &row, 1);
        }
    } else {
        JSAMPARRAY buffer = (*c->mem->alloc_sarray)((j_common_ptr)c, JPOOL_IMAGE, (JDIMENSION)stride, 1);
        while (c->next_scanline < c->image_height) {
            const unsigned char *in = pixels + (size_t)c->next_scanline * stride;
            for (size_t i = 0; i < stride; i++) buffer[0][i] = (JSAMPLE)(255 - in[i]);
            jpeg_write_scanlines(c, buffer, 1);
        }
    }
    jpeg_finish_compress(c);
    return RUBBLE_JPEG_OK;
}

int rubble_jpeg_encode_mem(const unsigned char *pixels, int width, int height, int components,
                           int quality, unsigned char **out, size_t *out_size, rubble_jpeg_info *info) {
    if (out) *out = NULL;
    if (out_size) *out_size = 0;
    if (!info) return RUBBLE_JPEG_ARGUMENT;
    rubble_jpeg_clear_info(info);
    if (!pixels || !out || !out_size || width <= 0 || height <= 0 || width > JPEG_MAX_DIMENSION ||
        height > JPEG_MAX_DIMENSION || (components != 1 && components != 3 && components != 4) ||
        quality < 1 || quality > 100) {
        rubble_jpeg_set_message(info, RUBBLE_JPEG_ARGUMENT, "invalid JPEG encoding arguments (size, components or quality)");
        return info->code;
    }
    struct job *job = rubble_jpeg_new_job(info);
    if (!job) return info->code;
    int code = run_encode(job, pixels, width, height, components, quality);
    if (job->created) jpeg_destroy_compress(&job->cinfo);
    if (code == RUBBLE_JPEG_OK) {
        *out = job->dest.buffer;
        *out_size = job->dest.size;
        info->code = RUBBLE_JPEG_OK;
        info->width = info->image_width = width;
        info->height = info->image_height = height;
        info->components = components;
    } else {
        free(job->dest.buffer);
        rubble_jpeg_set_message(info, code, job->err.message[0] ? job->err.message : "JPEG encoding failed");
    }
    free(job);
    return info->code;
}

/*
 * The JPEG marker walk to the Exif segment, libexif on that segment under a memory budget, and
 * the copy of the few values Vision keeps (see rubble_exif.h).
 */
#include "rubble_exif.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-mem.h>
#include <libexif/exif-utils.h>

static const unsigned char exif_header[6] = {'E', 'x', 'i', 'f', 0, 0};

int rubble_exif_find_segment(const unsigned char *d, size_t n, size_t *offset, size_t *length) {
    if (offset) *offset = 0;
    if (length) *length = 0;
    if (!d || n < 4 || d[0] != 0xFF || d[1] != 0xD8) return RUBBLE_EXIF_NONE;
    size_t p = 2;
    /* Every turn moves p forward by at least 2 bytes (a marker byte after at least one 0xFF),
       so the walk ends within n / 2 turns. */
    for (;;) {
        if (p >= n) return RUBBLE_EXIF_TRUNCATED;
        if (d[p] != 0xFF) return RUBBLE_EXIF_CORRUPT;
        while (p < n && d[p] == 0xFF) p++; /* fill bytes */
        if (p >= n) return RUBBLE_EXIF_TRUNCATED;
        unsigned marker = d[p++];
        if (marker == 0xDA || marker == 0xD9) return RUBBLE_EXIF_NONE;      /* SOS, EOI */
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; /* TEM, RSTn: no length */
        if (marker == 0x00 || marker == 0xD8) return RUBBLE_EXIF_CORRUPT;   /* stuffed byte, second SOI */
        if (n - p < 2) return RUBBLE_EXIF_TRUNCATED;
        size_t segment = ((size_t)d[p] << 8) | d[p + 1]; /* counts its own two bytes */
        if (segment < 2) return RUBBLE_EXIF_CORRUPT;
        if (segment > n - p) return RUBBLE_EXIF_TRUNCATED;
        if (marker == 0xE1 && segment - 2 >= sizeof exif_header &&
            memcmp(d + p + 2, exif_header, sizeof exif_header) == 0) {
            if (offset) *offset = p + 2;
            if (length) *length = segment - 2;
            return RUBBLE_EXIF_OK;
        }
        p += segment;
    }
}

/* --- libexif's allocations, counted against a per-thread budget ------------------------------ */

/* Each block starts with its size, so that realloc and free can account for it. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header;

static _Thread_local size_t budget_used, budget_peak;

size_t rubble_exif_last_peak_bytes(void) { return budget_peak; }

static void note_peak(void) {
    if (budget_used > budget_peak) budget_peak = budget_used;
}

static void *budget_alloc(ExifLong size) {
    if (size > RUBBLE_EXIF_MEMORY_BUDGET - budget_used) return NULL;
    block_header *block = calloc(1, sizeof(block_header) + (size_t)size);
    if (!block) return NULL;
    block->size = size;
    budget_used += size;
    note_peak();
    return block + 1;
}

static void budget_free(void *pointer) {
    if (!pointer) return;
    block_header *block = (block_header *)pointer - 1;
    budget_used -= block->size;
    free(block);
}

static void *budget_realloc(void *pointer, ExifLong size) {
    if (!pointer) return budget_alloc(size);
    block_header *block = (block_header *)pointer - 1;
    size_t old = block->size;
    if (size > old && size - old > RUBBLE_EXIF_MEMORY_BUDGET - budget_used) return NULL;
    block_header *moved = realloc(block, sizeof(block_header) + (size_t)size);
    if (!moved) return NULL;
    moved->size = size;
    budget_used = budget_used - old + size;
    note_peak();
    return moved + 1;
}

/* --- copying values out ------------------------------------------------------------------- */

static ExifEntry *entry(ExifData *data, ExifIfd ifd, ExifTag tag) {
    return data->ifd[ifd] ? exif_content_get_entry(data->ifd[ifd], tag) : NULL;
}

static void copy_text(ExifData *data, ExifIfd ifd, ExifTag tag, char out[RUBBLE_EXIF_TEXT_CAPACITY]) {
    out[0] = 0;
    ExifEntry *e = entry(data, ifd, tag);
    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size == 0 ||
        e->size >= RUBBLE_EXIF_TEXT_CAPACITY || e->components != e->size)
        return;
    memcpy(out, e->data, e->size);
    out[e->size] = 0;
}

static void copy_rationals(ExifData *data, ExifIfd ifd, ExifTag tag, ExifByteOrder order,
                           rubble_exif_rationals *out) {
    memset(out, 0, sizeof *out);
    ExifEntry *e = entry(data, ifd, tag);
    if (!e || e->format != EXIF_FORMAT_RATIONAL || !e->data || e->components < 1 || e->components > 3 ||
        e->size < 8 * e->components)
        return;
    for (unsigned long i = 0; i < e->components; i++) {
        ExifRational r = exif_get_rational(e->data + 8 * i, order);
        out->numerator[i] = r.numerator;
        out->denominator[i] = r.denominator;
    }
    out->count = (int)e->components;
}

static void clear(rubble_exif_info *info) {
    memset(info, 0, sizeof *info);
    info->orientation = -1;
}

int rubble_exif_read_segment(const unsigned char *segment, size_t size, rubble_exif_info *info) {
    if (!info) return RUBBLE_EXIF_NONE;
    clear(info);
    if (!segment || size < sizeof exif_header || memcmp(segment, exif_header, sizeof exif_header) != 0)
        return RUBBLE_EXIF_NONE;
    if (size > RUBBLE_EXIF_MAX_SEGMENT) return RUBBLE_EXIF_CORRUPT;

    budget_used = budget_peak = 0;
    ExifMem *mem = exif_mem_new(budget_alloc, budget_realloc, budget_free);
    if (!mem) return RUBBLE_EXIF_NO_MEMORY;
    ExifData *data = exif_data_new_mem(mem);
    exif_mem_unref(mem); /* data holds its own reference */
    if (!data) return RUBBLE_EXIF_NO_MEMORY;
    /* No fix-ups: with this option libexif adds the tags the specification makes mandatory,
       with made-up values (XResolution 72, ExifVersion, ColorSpace...), and "corrects" others. */
    exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(data, segment, (unsigned int)size);
    info->segment_size = (int)size;

    ExifByteOrder order = exif_data_get_byte_order(data);
    copy_text(data, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, info->date_time_original);
    copy_text(data, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_DIGITIZED, info->date_time_digitized);
    copy_text(data, EXIF_IFD_0, EXIF_TAG_DATE_TIME, info->date_time);
    copy_text(data, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, info->offset_time_original);
    copy_text(data, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_DIGITIZED, info->offset_time_digitized);
    copy_text(data, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME, info->offset_time);
    copy_text(data, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, info->gps_latitude_ref);
    copy_text(data, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, info->gps_longitude_ref);
    copy_rationals(data, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE, order, &info->gps_latitude);
    copy_rationals(data, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE, order, &info->gps_longitude);
    ExifEntry *e = entry(data, EXIF_IFD_0, EXIF_TAG_ORIENTATION);
    if (e && e->format == EXIF_FORMAT_SHORT && e->components == 1 && e->data && e->size >= 2)
        info->orientation = exif_get_short(e->data, order);

    exif_data_unref(data);
    return RUBBLE_EXIF_OK;
}

int rubble_exif_read_jpeg(const unsigned char *jpeg, size_t size, rubble_exif_info *info) {
    if (!info) return RUBBLE_EXIF_NONE;
    clear(info);
    size_t offset = 0, length = 0;
    int code = rubble_exif_find_segment(jpeg, size, &offset, &length);
    if (code != RUBBLE_EXIF_OK) return code;
    return rubble_exif_read_segment(jpeg + offset, length, info);
}

/* libFuzzer harness for the EXIF shim (Sources/CEXIF/exif_shim.c) and, through it, Debian's
   libexif, as the Vision module calls it (PhotoMetadata.read): an input starting FF D8 is a JPEG
   (rubble_exif_read_jpeg: the marker walk to the Exif APP1 segment, then libexif on that
   segment alone); any other input is an APP1 payload handed over directly
   (rubble_exif_read_segment), so mutations of the TIFF structure are not spent on JPEG markers.
   Besides ASan's checks, every call must keep the shim's promises: the segment found lies inside
   the input and is at most 65533 bytes, libexif's allocations stay under the budget and are all
   freed, every text field is NUL-terminated, rationals number 0 to 3. Built by scripts/fuzz.sh
   with -fsanitize=fuzzer,address (libexif itself is not instrumented: ASan sees its reads only
   through the interceptors, e.g. memcpy, and its heap blocks through the shim's allocator). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rubble_exif.h"

static void check_text(const char *text) {
    if (!memchr(text, 0, RUBBLE_EXIF_TEXT_CAPACITY)) abort();
}

static void check_rationals(const rubble_exif_rationals *r) {
    if (r->count < 0 || r->count > 3) abort();
}

static void check(const rubble_exif_info *info) {
    check_text(info->date_time_original);
    check_text(info->date_time_digitized);
    check_text(info->date_time);
    check_text(info->offset_time_original);
    check_text(info->offset_time_digitized);
    check_text(info->offset_time);
    check_text(info->gps_latitude_ref);
    check_text(info->gps_longitude_ref);
    check_rationals(&info->gps_latitude);
    check_rationals(&info->gps_longitude);
    if (info->orientation < -1 || info->orientation > 65535) abort();
    if (info->segment_size < 0 || (unsigned)info->segment_size > RUBBLE_EXIF_MAX_SEGMENT) abort();
    if (rubble_exif_last_peak_bytes() > RUBBLE_EXIF_MEMORY_BUDGET) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rubble_exif_info info;
    if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8) {
        size_t offset = 0, length = 0;
        int found = rubble_exif_find_segment(data, size, &offset, &length);
        if (found == RUBBLE_EXIF_OK &&
            (offset > size || length > size - offset || length > RUBBLE_EXIF_MAX_SEGMENT || length < 6))
            abort();
        int code = rubble_exif_read_jpeg(data, size, &info);
        if (code != found && !(found == RUBBLE_EXIF_OK && code == RUBBLE_EXIF_NO_MEMORY)) abort();
        if (code == RUBBLE_EXIF_OK && (size_t)info.segment_size != length) abort();
    } else {
        rubble_exif_read_segment(data, size, &info);
    }
    check(&info);
    return 0;
}

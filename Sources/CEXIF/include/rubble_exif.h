/*
 * A small front end to Debian's libexif for Rubble's Vision module: the few EXIF values a
 * screened photo keeps (capture time, GPS position, orientation), copied out as raw text and
 * numbers; Vision validates and normalises them (PhotoMetadata).
 *
 * Every input is hostile. The shim walks the JPEG markers only as far as the first APP1 segment
 * that starts "Exif\0\0" (stopping at SOS or EOI, checking every segment length against the
 * buffer), and hands libexif that one segment: at most 65533 bytes, the most an APP1 can hold.
 * libexif runs with its "follow the specification" fix-ups off (they add the tags the
 * specification makes mandatory, with made-up values: XResolution 72, ExifVersion 2.1, ...) and
 * on a per-call allocator with a budget (RUBBLE_EXIF_MEMORY_BUDGET), so a 64 KiB segment whose
 * entries all point at the same large value cannot make it copy that value hundreds of times. Only raw entry bytes are read (never libexif's value formatting), and
 * only entries of the expected type and count. Nothing prints, exits or keeps state between calls;
 * every function may be called from many threads at once.
 */
#ifndef RUBBLE_EXIF_H
#define RUBBLE_EXIF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    RUBBLE_EXIF_OK = 0,        /* an Exif segment was found and given to libexif */
    RUBBLE_EXIF_NONE = 1,      /* no Exif APP1 segment before the image data (or not a JPEG) */
    RUBBLE_EXIF_CORRUPT = 2,   /* the marker structure is broken before an Exif segment was found
                                  (a segment length under 2, a byte that is no marker), or a
                                  segment of over 65533 bytes was given directly */
    RUBBLE_EXIF_NO_MEMORY = 3, /* libexif could not even allocate its handle */
    RUBBLE_EXIF_TRUNCATED = 4  /* the buffer ends before SOS / EOI and before an Exif segment, or a
                                  segment (an Exif one included) runs past its end: a file read in
                                  part may find it in more of the file */
};

/* The largest APP1 payload (a 16-bit length that counts its own 2 bytes). */
#define RUBBLE_EXIF_MAX_SEGMENT 65533u
/* The most libexif may hold allocated during one call (beyond it, its allocations fail, which it
   handles by skipping the entry). A real segment's values do not overlap, so libexif copies at
   most the segment's 64 KiB for the entries, as much again for a thumbnail and for a maker note,
   plus its own small structures; entries that all point at the same bytes (known tags of five
   IFDs, all of them one table) would otherwise copy them hundreds of times. */
#define RUBBLE_EXIF_MEMORY_BUDGET (2u << 20)
/* Room for one ASCII value, its NUL included; a longer value is not copied (left empty). */
#define RUBBLE_EXIF_TEXT_CAPACITY 40

/* Up to three unsigned rationals (GPS degrees, minutes, seconds) as stored. */
typedef struct rubble_exif_rationals {
    int count;                  /* 1...3 when present as RATIONAL with 1 to 3 components, else 0 */
    unsigned int numerator[3];
    unsigned int denominator[3];
} rubble_exif_rationals;

/* What was found; text fields are NUL-terminated copies of the stored bytes (empty when the tag
   is absent, not ASCII, or too long), numbers are as stored. */
typedef struct rubble_exif_info {
    int segment_size;           /* bytes of the Exif segment handed to libexif (0: none) */
    char date_time_original[RUBBLE_EXIF_TEXT_CAPACITY];   /* EXIF IFD 0x9003 */
    char date_time_digitized[RUBBLE_EXIF_TEXT_CAPACITY];  /* EXIF IFD 0x9004 */
    char date_time[RUBBLE_EXIF_TEXT_CAPACITY];            /* IFD0 0x0132 */
    char offset_time_original[RUBBLE_EXIF_TEXT_CAPACITY]; /* EXIF IFD 0x9011 */
    char offset_time_digitized[RUBBLE_EXIF_TEXT_CAPACITY];/* EXIF IFD 0x9012 */
    char offset_time[RUBBLE_EXIF_TEXT_CAPACITY];          /* EXIF IFD 0x9010 */
    char gps_latitude_ref[RUBBLE_EXIF_TEXT_CAPACITY];     /* GPS IFD 0x0001 */
    char gps_longitude_ref[RUBBLE_EXIF_TEXT_CAPACITY];    /* GPS IFD 0x0003 */
    rubble_exif_rationals gps_latitude;                   /* GPS IFD 0x0002 */
    rubble_exif_rationals gps_longitude;                  /* GPS IFD 0x0004 */
    int orientation;            /* IFD0 0x0112 as one SHORT, else -1 */
} rubble_exif_info;

/*
 * Finds the first APP1 segment of a JPEG whose payload starts "Exif\0\0": *offset and *length
 * (at most RUBBLE_EXIF_MAX_SEGMENT) locate the payload inside `jpeg`. Returns RUBBLE_EXIF_OK,
 * RUBBLE_EXIF_NONE (not a JPEG, or no such segment before SOS / EOI), RUBBLE_EXIF_TRUNCATED or
 * RUBBLE_EXIF_CORRUPT.
 */
int rubble_exif_find_segment(const unsigned char *jpeg, size_t size, size_t *offset, size_t *length);

/* Reads an Exif APP1 payload ("Exif\0\0" then TIFF data) into *info (always cleared first). */
int rubble_exif_read_segment(const unsigned char *segment, size_t size, rubble_exif_info *info);

/* The most bytes libexif held allocated (its own structures included) during the last
   rubble_exif_read_segment on this thread: never more than RUBBLE_EXIF_MEMORY_BUDGET. */
size_t rubble_exif_last_peak_bytes(void);

/* rubble_exif_find_segment, then rubble_exif_read_segment on what it found. */
int rubble_exif_read_jpeg(const unsigned char *jpeg, size_t size, rubble_exif_info *info);

#ifdef __cplusplus
}
#endif

#endif /* RUBBLE_EXIF_H */

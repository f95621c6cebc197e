/* libFuzzer harness for the JPEG shim (Sources/CJPEG/jpeg_shim.c) as the Vision module calls it:
   the header from memory, then the decode into a buffer the caller sizes from the header
   (rubble_jpeg_scaled_size) under a pixel limit of 2^22, at the DCT scales the Vision module
   asks for. One input in four passes a buffer 3 bytes short, which the shim must refuse
   (RUBBLE_JPEG_ARGUMENT) without writing past it. Built by scripts/fuzz.sh with
   -fsanitize=fuzzer,address, so every byte the shim writes is checked against the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rubble_jpeg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const unsigned long long max_pixels = 1ull << 22;
    rubble_jpeg_info info;
    memset(&info, 0, sizeof info);
    if (rubble_jpeg_header_mem(data, size, &info) != RUBBLE_JPEG_OK) return 0;
    /* The last byte picks the requested minimum size (no scaling, 1/2, 1/4, 1/8 candidates)
       and whether the buffer is short. */
    static const int minimums[4] = {0, 100, 40, 8};
    int minimum = size ? minimums[data[size - 1] % 4] : 0;
    int short_buffer = size && (data[size - 1] >> 2) % 4 == 0;
    int width = 0, height = 0;
    rubble_jpeg_scaled_size(info.image_width, info.image_height, minimum, minimum, &width, &height);
    if (width <= 0 || height <= 0 || (unsigned long long)width * (unsigned long long)height > max_pixels) {
        /* The shim must refuse it before allocating: ask it to. */
        unsigned char none[3];
        rubble_jpeg_decode_mem(data, size, minimum, minimum, max_pixels, none, sizeof none, &info);
        return 0;
    }
    size_t bytes = (size_t)width * (size_t)height * 3;
    size_t given = short_buffer ? bytes - 3 : bytes;
    unsigned char *pixels = malloc(given ? given : 1);
    if (!pixels) return 0;
    int code = rubble_jpeg_decode_mem(data, size, minimum, minimum, max_pixels, pixels, given, &info);
    if (code == RUBBLE_JPEG_OK) {
        volatile unsigned sum = 0;
        for (size_t i = 0; i < given; i++) sum += pixels[i];
        (void)sum;
    }
    free(pixels);
    return 0;
}

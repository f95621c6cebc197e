/* libFuzzer harness for the PNG shim (Sources/CPNG/) as the Vision module calls it: the header
   from memory, then the decode into a buffer the caller sizes from the header (the stored size,
   or ceil(size / f) with f = rubble_png_reduction_factor for the streaming box reduction) under
   a pixel limit of 2^22. One input in four passes a buffer 3 bytes short, which the shim must
   refuse (RUBBLE_PNG_ARGUMENT) without writing past it. Single-channel inputs (gray, palette)
   also go through the raw-sample decode (rubble_png_decode_samples_mem, class masks and depth
   maps), with the same short-buffer rule. Built by scripts/fuzz.sh with
   -fsanitize=fuzzer,address, so every byte the shim writes is checked against the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rubble_png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const unsigned long long max_pixels = 1ull << 22;
    rubble_png_info info;
    memset(&info, 0, sizeof info);
    if (rubble_png_header_mem(data, size, &info) != RUBBLE_PNG_OK) return 0;
    /* The last byte picks the requested minimum size (full size or a reduction) and whether
       the buffer is short. */
    static const int minimums[4] = {0, 100, 24, 3};
    int minimum = size ? minimums[data[size - 1] % 4] : 0;
    int short_buffer = size && (data[size - 1] >> 2) % 4 == 0;
    size_t w = (size_t)(info.image_width > 0 ? info.image_width : 0);
    size_t h = (size_t)(info.image_height > 0 ? info.image_height : 0);
    if (w == 0 || h == 0 || (unsigned long long)w * (unsigned long long)h > max_pixels) {
        /* The shim must refuse it before allocating: ask it to. */
        unsigned char none[3];
        rubble_png_decode_mem(data, size, minimum, minimum, max_pixels, none, sizeof none, &info);
        return 0;
    }
    if (info.color_type == RUBBLE_PNG_GRAY || info.color_type == RUBBLE_PNG_PALETTE) {
        size_t sample_bytes = (size_t)w * h * (info.bit_depth == 16 ? 2 : 1);
        size_t sample_given = short_buffer ? sample_bytes - 1 : sample_bytes;
        uint16_t *samples = malloc(sample_given ? sample_given : 1);
        if (samples) {
            rubble_png_info sample_info;
            if (rubble_png_decode_samples_mem(data, size, max_pixels, samples, sample_given, &sample_info) ==
                RUBBLE_PNG_OK) {
                volatile unsigned sum = 0;
                for (size_t i = 0; i < sample_given; i++) sum += ((const unsigned char *)samples)[i];
                (void)sum;
            }
            free(samples);
        }
    }
    size_t f = rubble_png_reduction_factor(w, h, minimum, minimum);
    if (f == 0) f = 1;
    size_t width = (w + f - 1) / f, height = (h + f - 1) / f;
    size_t bytes = width * height * 3;
    size_t given = short_buffer ? bytes - 3 : bytes;
    unsigned char *pixels = malloc(given ? given : 1);
    if (!pixels) return 0;
    int code = rubble_png_decode_mem(data, size, minimum, minimum, max_pixels, pixels, given, &info);
    if (code == RUBBLE_PNG_OK) {
        volatile unsigned sum = 0;
        for (size_t i = 0; i < given; i++) sum += pixels[i];
        (void)sum;
    }
    free(pixels);
    return 0;
}

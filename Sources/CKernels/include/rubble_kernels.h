#ifndef RUBBLE_KERNELS_H
#define RUBBLE_KERNELS_H

/* Float kernels for the loops that dominate transformer inference (softmax rows, GELU, layer
   normalisation, the decode head's resized sum), each compiled three times: AVX-512F/DQ, AVX2 +
   FMA and portable C (the build's baseline). The variant is chosen once, at the first call, from
   what the CPU reports (__builtin_cpu_supports), never from its name; tests may force a lower
   one. All functions are single-threaded: callers split rows over their own threads. */

#include <stdint.h>

enum {
    RUBBLE_KERNELS_PORTABLE = 0,
    RUBBLE_KERNELS_AVX2 = 1,   /* AVX2 + FMA */
    RUBBLE_KERNELS_AVX512 = 2, /* AVX-512F + AVX-512DQ */
};

/* The best variant this CPU (and build) can run. */
int rubble_kernels_best_variant(void);
/* The variant in use. */
int rubble_kernels_variant(void);
/* Uses `variant` from now on (clamped to the best one); returns the variant in use before. */
int rubble_kernels_set_variant(int variant);

/* exp (Cephes' expf: relative error within 2 ulp on [-87, 88], 0 below -87.3, +inf above
   88.7, NaN through) and erf (Abramowitz & Stegun 7.1.26, absolute error below 5e-7), `count`
   floats of `x` into `y` (which may be `x`). */
void rubble_exp(const float *x, float *y, long count);
void rubble_erf(const float *x, float *y, long count);

/* Softmax of each of `rows` rows of `width` floats, in place: max, exp(x - max) and the sum
   in one pass, then the scale. NaN is skipped by the max and then spreads over its row. */
void rubble_softmax_rows(float *rows, long count, long width);
/* The softmax pullback row by row: d = p (d - Σ d p), `d` in place. */
void rubble_softmax_pullback_rows(const float *p, float *d, long rows, long width);

/* GELU, x Φ(x) = x (1 + erf(x / √2)) / 2, and its backward pass dx = g (Φ(x) + x φ(x)). */
void rubble_gelu(const float *x, float *y, long count);
void rubble_gelu_backward(const float *x, const float *g, float *dx, long count);
/* The logistic function (exp evaluated down into the subnormals, so it is exactly 0 only
   below about -104 and exactly 1 above about 17) and swish x · sigmoid(x). */
void rubble_sigmoid(const float *x, float *y, long count);
void rubble_swish(const float *x, float *y, long count);

/* Layer normalisation of `rows` rows of `width`: y = (x - mean) / √(var + epsilon) · gamma +
   beta with the biased variance (corrected two-pass statistics). `normalised` (x̂, rows ·
   width) and `inverse_deviation` (rows) are written when not NULL. */
void rubble_layer_norm_rows(const float *x, float *y, float *normalised, float *inverse_deviation,
                            const float *gamma, const float *beta, long rows, long width, float epsilon);
/* sum = a + b, then y = layer norm of sum (as above, without x̂): a residual add and the
   normalisation that follows it in one pass. */
void rubble_add_layer_norm_rows(const float *a, const float *b, float *sum, float *y, const float *gamma,
                                const float *beta, long rows, long width, float epsilon);

/* `rows` copies of `row` (`width` floats) one after another from `target`. */
void rubble_fill_rows(float *target, const float *row, long rows, long width);

/* One source map of a bilinear resize, as seen from one output row: its two source rows, the
   weight of the lower one, and per output column the element offsets (column · channels) of
   the left and right source pixels and the weight of the right one. */
typedef struct {
    const float *top;
    const float *bottom;
    float bottom_weight;
    const int32_t *left;
    const int32_t *right;
    const float *right_weight;
} rubble_resize_source;

/* One output row of `width` pixels x `channels`: out = base + constant + Σ bilinear(source),
   then max(·, 0) when `relu` (NaN passes). `base` (width · channels) and `constant`
   (channels) may be NULL. */
void rubble_resized_sum_row(float *out, const float *base, const float *constant, long width, long channels,
                            const rubble_resize_source *sources, long source_count, int relu);

/* The window of a 2-D convolution over NHWC input (Layers' WindowGeometry). */
typedef struct {
    long batch, input_height, input_width, channels;
    long window_height, window_width, stride_height, stride_width;
    long output_height, output_width, pad_top, pad_left;
} rubble_window_geometry;

/* What is applied to a convolution's sums before they are stored. */
enum {
    RUBBLE_EPILOGUE_NONE = 0,
    RUBBLE_EPILOGUE_RELU = 1,  /* max(x, 0), NaN passes */
    RUBBLE_EPILOGUE_GELU = 2,  /* exact (erf) GELU */
    RUBBLE_EPILOGUE_RELU6 = 3, /* min(max(x, 0), 6), NaN passes */
    RUBBLE_EPILOGUE_SWISH = 4, /* x * sigmoid(x) */
};

/* Depthwise convolution with one filter per channel (depth multiplier 1), NHWC: output rows
   `first_row..<end_row` of the batch · output_height rows, each output pixel the bias (none
   when NULL) plus its window's taps inside the image (padding is never read), then the
   epilogue. `kernel` is [window_height, window_width, channels]. */
void rubble_depthwise_rows(const rubble_window_geometry *geometry, const float *x, const float *kernel,
                           const float *bias, float *y, long first_row, long end_row, int epilogue);

/* A convolution's output pass over `rows` rows of `width` values in place:
   c = epilogue((c + bias) + residual), the bias (`width` values, NULL for none) added first,
   then the residual (`rows * width` values laid out as c, NULL for none). */
void rubble_epilogue_rows(float *c, const float *bias, const float *residual, long rows, long width, int epilogue);

/* Columns per panel of a packed GEMM operand (every variant uses the same layout). */
#define RUBBLE_GEMM_PANEL 32

/* Floats of `rubble_gemm_pack`'s output for a [k, n] operand: ceil(n / 32) panels of k x 32. */
static inline long rubble_gemm_packed_count(long k, long n) {
    return (n + RUBBLE_GEMM_PANEL - 1) / RUBBLE_GEMM_PANEL * RUBBLE_GEMM_PANEL * k;
}

/* Packs b ([k, n] row-major, leading dimension ldb) into panels of 32 columns: panel p holds,
   for each of the k rows, columns 32p..<32p+32 (zeros past n). */
void rubble_gemm_pack(const float *b, long k, long n, long ldb, float *packed);

/* Rows first_row..<end_row and panels first_panel..<end_panel of
   c = epilogue((a · b + bias) + residual), b given packed by rubble_gemm_pack: a is [m, k]
   (leading dimension lda), c [m, n] (ldc), bias n values or NULL, residual [m, n] (ldr) or
   NULL. Single-threaded; disjoint ranges may run on different threads. */
void rubble_gemm_packed(long first_row, long end_row, long first_panel, long end_panel, long n, long k,
                        const float *a, long lda, const float *packed, float *c, long ldc, const float *bias,
                        const float *residual, long ldr, int epilogue);

#endif

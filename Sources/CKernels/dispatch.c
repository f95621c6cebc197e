/* The variant in use, chosen once from the CPU's features, and the exported entry points. */
#include "kernels_private.h"

static int best_variant(void) {
#ifdef RUBBLE_KERNELS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return RUBBLE_KERNELS_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return RUBBLE_KERNELS_AVX2;
#endif
    return RUBBLE_KERNELS_PORTABLE;
}

static const rubble_kernel_table *table_of(int variant) {
#ifdef RUBBLE_KERNELS_X86
    if (variant == RUBBLE_KERNELS_AVX512) return &rubble_kernels_avx512;
    if (variant == RUBBLE_KERNELS_AVX2) return &rubble_kernels_avx2;
#endif
    (void)variant;
    return &rubble_kernels_portable;
}

/* -1 until the first call; then the variant in use (every thread computes the same value, so
   the race of two first calls is harmless, and atomics keep it defined). */
static int best = -1, current = -1;

int rubble_kernels_best_variant(void) {
    int value = __atomic_load_n(&best, __ATOMIC_RELAXED);
    if (value < 0) {
        value = best_variant();
        __atomic_store_n(&best, value, __ATOMIC_RELAXED);
    }
    return value;
}

int rubble_kernels_variant(void) {
    int value = __atomic_load_n(&current, __ATOMIC_RELAXED);
    if (value < 0) {
        int expected = -1;
        value = rubble_kernels_best_variant();
        if (!__atomic_compare_exchange_n(&current, &expected, value, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            value = expected;
    }
    return value;
}

int rubble_kernels_set_variant(int variant) {
    const int top = rubble_kernels_best_variant();
    if (variant < RUBBLE_KERNELS_PORTABLE) variant = RUBBLE_KERNELS_PORTABLE;
    if (variant > top) variant = top;
    const int before = rubble_kernels_variant();
    __atomic_store_n(&current, variant, __ATOMIC_RELAXED);
    return before;
}

static inline const rubble_kernel_table *kernels(void) { return table_of(rubble_kernels_variant()); }

void rubble_exp(const float *x, float *y, long count) { kernels()->exp(x, y, count); }
void rubble_erf(const float *x, float *y, long count) { kernels()->erf(x, y, count); }
void rubble_softmax_rows(float *rows, long count, long width) { kernels()->softmax_rows(rows, count, width); }
void rubble_softmax_pullback_rows(const float *p, float *d, long rows, long width) {
    kernels()->softmax_pullback_rows(p, d, rows, width);
}
void rubble_gelu(const float *x, float *y, long count) { kernels()->gelu(x, y, count); }
void rubble_gelu_backward(const float *x, const float *g, float *dx, long count) {
    kernels()->gelu_backward(x, g, dx, count);
}
void rubble_sigmoid(const float *x, float *y, long count) { kernels()->sigmoid(x, y, count); }
void rubble_swish(const float *x, float *y, long count) { kernels()->swish(x, y, count); }
void rubble_layer_norm_rows(const float *x, float *y, float *normalised, float *inverse_deviation,
                            const float *gamma, const float *beta, long rows, long width, float epsilon) {
    kernels()->layer_norm_rows(x, y, normalised, inverse_deviation, gamma, beta, rows, width, epsilon);
}
void rubble_add_layer_norm_rows(const float *a, const float *b, float *sum, float *y, const float *gamma,
                                const float *beta, long rows, long width, float epsilon) {
    kernels()->add_layer_norm_rows(a, b, sum, y, gamma, beta, rows, width, epsilon);
}
void rubble_fill_rows(float *target, const float *row, long rows, long width) {
    kernels()->fill_rows(target, row, rows, width);
}
void rubble_resized_sum_row(float *out, const float *base, const float *constant, long width, long channels,
                            const rubble_resize_source *sources, long source_count, int relu) {
    kernels()->resized_sum_row(out, base, constant, width, channels, sources, source_count, relu);
}
void rubble_depthwise_rows(const rubble_window_geometry *geometry, const float *x, const float *kernel,
                           const float *bias, float *y, long first_row, long end_row, int epilogue) {
    kernels()->depthwise_rows(geometry, x, kernel, bias, y, first_row, end_row, epilogue);
}
void rubble_epilogue_rows(float *c, const float *bias, const float *residual, long rows, long width, int epilogue) {
    kernels()->epilogue_rows(c, bias, residual, rows, width, epilogue);
}
void rubble_gemm_pack(const float *b, long k, long n, long ldb, float *packed) {
    kernels()->gemm_pack(b, k, n, ldb, packed);
}
void rubble_gemm_packed(long first_row, long end_row, long first_panel, long end_panel, long n, long k,
                        const float *a, long lda, const float *packed, float *c, long ldc, const float *bias,
                        const float *residual, long ldr, int epilogue) {
    kernels()->gemm_packed(first_row, end_row, first_panel, end_panel, n, k, a, lda, packed, c, ldc, bias, residual,
                           ldr, epilogue);
}

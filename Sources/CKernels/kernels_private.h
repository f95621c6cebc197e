#ifndef RUBBLE_KERNELS_PRIVATE_H
#define RUBBLE_KERNELS_PRIVATE_H

#include <math.h>
#include "rubble_kernels.h"

/* One variant's functions, in the order of rubble_kernels.h. */
typedef struct {
    void (*exp)(const float *, float *, long);
    void (*erf)(const float *, float *, long);
    void (*softmax_rows)(float *, long, long);
    void (*softmax_pullback_rows)(const float *, float *, long, long);
    void (*gelu)(const float *, float *, long);
    void (*gelu_backward)(const float *, const float *, float *, long);
    void (*sigmoid)(const float *, float *, long);
    void (*swish)(const float *, float *, long);
    void (*layer_norm_rows)(const float *, float *, float *, float *, const float *, const float *, long, long, float);
    void (*add_layer_norm_rows)(const float *, const float *, float *, float *, const float *, const float *, long, long,
                                float);
    void (*fill_rows)(float *, const float *, long, long);
    void (*resized_sum_row)(float *, const float *, const float *, long, long, const rubble_resize_source *, long, int);
    void (*depthwise_rows)(const rubble_window_geometry *, const float *, const float *, const float *, float *, long,
                           long, int);
    void (*epilogue_rows)(float *, const float *, const float *, long, long, int);
    void (*gemm_pack)(const float *, long, long, long, float *);
    void (*gemm_packed)(long, long, long, long, long, long, const float *, long, const float *, float *, long,
                        const float *, const float *, long, int);
} rubble_kernel_table;

extern const rubble_kernel_table rubble_kernels_portable;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define RUBBLE_KERNELS_X86 1
extern const rubble_kernel_table rubble_kernels_avx2;
extern const rubble_kernel_table rubble_kernels_avx512;
#endif

#endif

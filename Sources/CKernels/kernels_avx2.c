/* The AVX2 + FMA variant: eight lanes. */
#include "kernels_private.h"

#ifdef RUBBLE_KERNELS_X86
#include <immintrin.h>

#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

#define W 8
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vm;
#define NAME(n) n##_avx2

/* -1 in the first n of eight lanes. */
static inline __m256i lanes_below(long n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline __m256 load_first(const float *p, long n, float fill) {
    const __m256i mask = lanes_below(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
}
static inline float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
static inline float max8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

#define VSET(x) _mm256_set1_ps((float)(x))
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps(p, v)
#define VLOADN(p, n, fill) load_first(p, n, fill)
#define VSTOREN(p, n, v) _mm256_maskstore_ps(p, lanes_below(n), v)
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VDIV _mm256_div_ps
#define VRECIP(a) _mm256_div_ps(_mm256_set1_ps(1), a)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VMIN(a, b) _mm256_min_ps(a, b)
#define VLT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define VGT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define VNAN(a) _mm256_cmp_ps(a, a, _CMP_UNORD_Q)
#define VSEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define VABS(a) _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)))
#define VNEG(a) _mm256_xor_ps(a, _mm256_set1_ps(-0.0f))
#define VHSUM(v) sum8(v)
#define VHMAX(v) max8(v)
#define VBITS(v) _mm256_castps_si256(v)
#define VFLOAT(i) _mm256_castsi256_ps(i)
#define VISET(n) _mm256_set1_epi32(n)
#define VIADD _mm256_add_epi32
#define VISUB _mm256_sub_epi32
#define VISRA1(a) _mm256_srai_epi32(a, 1)
#define VISHL23(a) _mm256_slli_epi32(a, 23)

#define GEMM_MR 2
#include "kernels_body.h"

#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif

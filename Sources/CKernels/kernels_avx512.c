/* The AVX-512F/DQ variant: sixteen lanes, tails through mask registers. */
#include "kernels_private.h"

#ifdef RUBBLE_KERNELS_X86
#include <immintrin.h>

#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq")
#endif

#define W 16
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vm;
#define NAME(n) n##_avx512

static inline __mmask16 lanes_below(long n) { return (__mmask16)((1u << n) - 1); }
/* 1/a from the 14-bit estimate and one Newton step (within 1 ulp; no divider latency). */
static inline __m512 reciprocal(__m512 a) {
    const __m512 r = _mm512_rcp14_ps(a);
    return _mm512_fmadd_ps(r, _mm512_fnmadd_ps(a, r, _mm512_set1_ps(1)), r);
}

#define VSET(x) _mm512_set1_ps((float)(x))
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps(p, v)
#define VLOADN(p, n, fill) _mm512_mask_loadu_ps(_mm512_set1_ps(fill), lanes_below(n), p)
#define VSTOREN(p, n, v) _mm512_mask_storeu_ps(p, lanes_below(n), v)
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VDIV _mm512_div_ps
#define VRECIP(a) reciprocal(a)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VMIN(a, b) _mm512_min_ps(a, b)
#define VROUND(a) _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VSCALE(y, n, zero) _mm512_maskz_scalef_ps((__mmask16)~(zero), y, n)
#define VLT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define VGT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define VNAN(a) _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)
#define VSEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define VABS(a) _mm512_abs_ps(a)
#define VNEG(a) _mm512_castsi512_ps(_mm512_xor_epi32(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)))
#define VHSUM(v) _mm512_reduce_add_ps(v)
#define VHMAX(v) _mm512_reduce_max_ps(v)
#define VBITS(v) _mm512_castps_si512(v)
#define VFLOAT(i) _mm512_castsi512_ps(i)
#define VISET(n) _mm512_set1_epi32(n)
#define VIADD _mm512_add_epi32
#define VISUB _mm512_sub_epi32
#define VISRA1(a) _mm512_srai_epi32(a, 1)
#define VISHL23(a) _mm512_slli_epi32(a, 23)

#define GEMM_MR 12
#include "kernels_body.h"

#ifdef __clang__
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif

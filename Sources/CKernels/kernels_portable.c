/* The portable variant: one lane, plain C (the compiler may still vectorise for the build's
   baseline). The reference the vector variants are tested against. */
#include <string.h>
#include "kernels_private.h"

#define W 1
typedef float vf;
typedef int32_t vi;
typedef int vm;
#define NAME(n) n##_portable

static inline vi bits_of(vf v) { vi i; memcpy(&i, &v, sizeof i); return i; }
static inline vf float_of(vi i) { vf v; memcpy(&v, &i, sizeof v); return v; }

#define VSET(x) ((float)(x))
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VLOADN(p, n, fill) ((void)(n), (void)(fill), *(p)) /* never used: W is 1 */
#define VSTOREN(p, n, v) ((void)(n), *(p) = (v))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VRECIP(a) (1 / (a))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
#define VLT(a, b) ((a) < (b))
#define VGT(a, b) ((a) > (b))
#define VNAN(a) ((a) != (a))
#define VSEL(m, a, b) ((m) ? (a) : (b))
#define VABS(a) fabsf(a)
#define VNEG(a) (-(a))
#define VHSUM(v) (v)
#define VHMAX(v) (v)
#define VBITS(v) bits_of(v)
#define VFLOAT(i) float_of(i)
#define VISET(n) ((vi)(n))
#define VIADD(a, b) ((vi)((uint32_t)(a) + (uint32_t)(b)))
#define VISUB(a, b) ((vi)((uint32_t)(a) - (uint32_t)(b)))
#define VISRA1(a) ((a) >> 1)
#define VISHL23(a) ((vi)((uint32_t)(a) << 23))

#define GEMM_MR 1
#include "kernels_body.h"


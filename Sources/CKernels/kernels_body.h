/* The kernels, written once over a small vector vocabulary that each variant's file defines
   before including this one:
     W                    lanes (1 for the portable build)
     vf, vi, vm           float vector, int32 vector, comparison mask
     NAME(n)              n with the variant's suffix
     VSET(x) VLOAD(p) VSTORE(p, v)
     VLOADN(p, n, fill)   the first n < W floats of p, the other lanes `fill`
     VSTOREN(p, n, v)     the first n < W lanes of v into p
     VADD VSUB VMUL VDIV  lane-wise
     VRECIP(a)            1 / a, correctly rounded or within 1 ulp
     VFMA(a, b, c)        a · b + c (fused where the variant has FMA)
     VMAX(a, b)           a > b ? a : b (b when a is NaN); VMIN(a, b) likewise
     VSCALE, VROUND       optional (see exp_below)
     VLT(a, b) VGT(a, b)  ordered comparisons; VNAN(a) is a != a
     VSEL(m, a, b)        m ? a : b
     VABS(a) VNEG(a)
     VHSUM(v) VHMAX(v)    horizontal sum and maximum
     VBITS(v) VFLOAT(i)   bit casts; VISET(n) VIADD VISUB VISRA1(i) VISHL23(i) on int32 lanes
   Everything here is static but the table, rubble_kernels_<variant>. */

/* e^x as Cephes' expf: x = n ln2 + r, a degree-5 polynomial for e^r on |r| <= ln2/2, then the
   scale by 2^n. Below `low` the result is 0, above 88.72283 +inf, NaN passes through. Variants
   with VSCALE(y, n, zero) (y · 2^n, 0 where `zero`: AVX-512's vscalefps, which over- and
   underflows as the product would) clamp x into a range where the reduction stays exact and
   scale in one step; the others build 2^n in the exponent bits as 2^(n/2) · 2^(n - n/2), so
   that n from -150 to 128 stays in range, and mask the ends. */
static inline vf NAME(exp_below)(vf x, float low) {
#ifdef VSCALE
    const vm tooSmall = VLT(x, VSET(low));
    /* NaN passes both clamps (the second operand is kept when either is NaN). */
    const vf clamped = VMIN(VSET(89.0f), VMAX(VSET(-104.0f), x));
    const vf n = VROUND(VMUL(clamped, VSET(1.44269504088896341f)));
#else
    const vm tooSmall = VLT(x, VSET(low)), tooLarge = VGT(x, VSET(88.72283f)), nan = VNAN(x);
    vf clamped = VSEL(tooSmall, VSET(low), x);
    clamped = VSEL(tooLarge, VSET(88.72283f), clamped);
    clamped = VSEL(nan, VSET(0), clamped);
    /* n = round(x / ln2) through the 1.5·2^23 trick: the sum's low mantissa bits hold n. */
    const vf shifter = VSET(12582912.0f);
    const vf biased = VFMA(clamped, VSET(1.44269504088896341f), shifter);
    const vf n = VSUB(biased, shifter);
#endif
    vf r = VFMA(n, VSET(-0.693359375f), clamped);
    r = VFMA(n, VSET(2.12194440e-4f), r);
    vf p = VSET(1.9875691500e-4f);
    p = VFMA(p, r, VSET(1.3981999507e-3f));
    p = VFMA(p, r, VSET(8.3334519073e-3f));
    p = VFMA(p, r, VSET(4.1665795894e-2f));
    p = VFMA(p, r, VSET(1.6666665459e-1f));
    p = VFMA(p, r, VSET(5.0000001201e-1f));
    const vf y = VADD(VFMA(p, VMUL(r, r), r), VSET(1));
#ifdef VSCALE
    return VSCALE(y, n, tooSmall);
#else
    const vi integer = VISUB(VBITS(biased), VBITS(shifter));
    const vi half = VISRA1(integer);
    const vf scaleLow = VFLOAT(VISHL23(VIADD(half, VISET(127))));
    const vf scaleHigh = VFLOAT(VISHL23(VIADD(VISUB(integer, half), VISET(127))));
    vf result = VMUL(VMUL(y, scaleLow), scaleHigh);
    result = VSEL(tooSmall, VSET(0), result);
    result = VSEL(tooLarge, VSET(INFINITY), result);
    return VSEL(nan, x, result);
#endif
}

/* exp with float32's normal range: exactly 0 below -87.33654. */
static inline vf NAME(exp)(vf x) { return NAME(exp_below)(x, -87.33654f); }

/* 1 - erf(a) for a = |u| >= 0 as Abramowitz & Stegun 7.1.26 (p(t) t e^(-a²)), with
   e = e^(-a²) given (GELU's derivative reuses it). */
static inline vf NAME(erfc_of_abs)(vf a, vf e) {
    const vf t = VRECIP(VFMA(a, VSET(0.3275911f), VSET(1)));
    vf p = VSET(1.061405429f);
    p = VFMA(p, t, VSET(-1.453152027f));
    p = VFMA(p, t, VSET(1.421413741f));
    p = VFMA(p, t, VSET(-0.284496736f));
    p = VFMA(p, t, VSET(0.254829592f));
    return VMUL(VMUL(p, t), e);
}

static inline vf NAME(erf)(vf x) {
    const vf a = VABS(x);
    const vf y = VSUB(VSET(1), NAME(erfc_of_abs)(a, NAME(exp)(VNEG(VMUL(a, a)))));
    return VSEL(VNAN(x), x, VSEL(VLT(x, VSET(0)), VNEG(y), y));
}

/* 1 + erf(x / √2) and e^(-x²/2), from which GELU and its derivative follow; for negative x
   1 + erf is the tail itself, without the cancellation of 1 - (1 - tail). */
static inline vf NAME(one_plus_erf)(vf x, vf *gaussian) {
    const vf u = VMUL(x, VSET(0.70710678118654752f));
    const vf a = VABS(u);
    const vf e = NAME(exp)(VNEG(VMUL(a, a)));
    const vf tail = NAME(erfc_of_abs)(a, e);
    *gaussian = e;
    const vf sum = VSEL(VLT(x, VSET(0)), tail, VSUB(VSET(2), tail));
    return VSEL(VNAN(x), x, sum);
}

static inline vf NAME(gelu1)(vf x) {
    vf e;
    return VMUL(VMUL(VSET(0.5f), x), NAME(one_plus_erf)(x, &e));
}

/* Φ(x) + x φ(x). */
static inline vf NAME(gelu_derivative1)(vf x) {
    vf e;
    const vf cdf = VMUL(VSET(0.5f), NAME(one_plus_erf)(x, &e));
    return VFMA(VMUL(x, e), VSET(0.39894228040143268f), cdf);
}

/* 1 / (1 + e^-x) through e^x / (1 + e^x) for negative x, so exp never overflows; exp runs down
   into the subnormals (0 only below -103.97). */
static inline vf NAME(sigmoid1)(vf x) {
    const vm negative = VLT(x, VSET(0));
    const vf e = NAME(exp_below)(VSEL(negative, x, VNEG(x)), -103.972f);
    const vf s = VDIV(VSEL(negative, e, VSET(1)), VADD(VSET(1), e));
    return VSEL(VNAN(x), x, s);
}

static inline vf NAME(swish1)(vf x) { return VMUL(x, NAME(sigmoid1)(x)); }

/* The element loops: W at a time, the tail through masked loads and stores. */
#define RUBBLE_MAP(function, body)                                                    \
    static void NAME(function)(const float *x, float *y, long count) {                 \
        long i = 0;                                                                    \
        for (; i + W <= count; i += W) VSTORE(y + i, body(VLOAD(x + i)));              \
        if (i < count) VSTOREN(y + i, count - i, body(VLOADN(x + i, count - i, 0)));   \
    }

RUBBLE_MAP(exp_array, NAME(exp))
RUBBLE_MAP(erf_array, NAME(erf))
RUBBLE_MAP(gelu, NAME(gelu1))
RUBBLE_MAP(sigmoid, NAME(sigmoid1))
RUBBLE_MAP(swish, NAME(swish1))
#undef RUBBLE_MAP

static void NAME(gelu_backward)(const float *x, const float *g, float *dx, long count) {
    long i = 0;
    for (; i + W <= count; i += W) VSTORE(dx + i, VMUL(VLOAD(g + i), NAME(gelu_derivative1)(VLOAD(x + i))));
    if (i < count) {
        const long n = count - i;
        VSTOREN(dx + i, n, VMUL(VLOADN(g + i, n, 0), NAME(gelu_derivative1)(VLOADN(x + i, n, 0))));
    }
}

static void NAME(softmax_rows)(float *rows, long count, long width) {
    for (long r = 0; r < count; r++) {
        float *row = rows + r * width;
        vf best = VSET(-INFINITY);
        long i = 0;
        for (; i + W <= width; i += W) best = VMAX(VLOAD(row + i), best);
        if (i < width) best = VMAX(VLOADN(row + i, width - i, -INFINITY), best);
        const vf shift = VSET(VHMAX(best));
        vf sums = VSET(0);
        for (i = 0; i + W <= width; i += W) {
            const vf e = NAME(exp)(VSUB(VLOAD(row + i), shift));
            VSTORE(row + i, e);
            sums = VADD(sums, e);
        }
        if (i < width) {
            const vf e = NAME(exp)(VSUB(VLOADN(row + i, width - i, -INFINITY), shift));
            VSTOREN(row + i, width - i, e);
            sums = VADD(sums, e);
        }
        const vf factor = VSET(1 / VHSUM(sums));
        for (i = 0; i + W <= width; i += W) VSTORE(row + i, VMUL(VLOAD(row + i), factor));
        if (i < width) VSTOREN(row + i, width - i, VMUL(VLOADN(row + i, width - i, 0), factor));
    }
}

static void NAME(softmax_pullback_rows)(const float *p, float *d, long rows, long width) {
    for (long r = 0; r < rows; r++) {
        const float *pRow = p + r * width;
        float *dRow = d + r * width;
        vf dots = VSET(0);
        long i = 0;
        for (; i + W <= width; i += W) dots = VFMA(VLOAD(dRow + i), VLOAD(pRow + i), dots);
        if (i < width) dots = VFMA(VLOADN(dRow + i, width - i, 0), VLOADN(pRow + i, width - i, 0), dots);
        const vf dot = VSET(VHSUM(dots));
        for (i = 0; i + W <= width; i += W) VSTORE(dRow + i, VMUL(VLOAD(pRow + i), VSUB(VLOAD(dRow + i), dot)));
        if (i < width) {
            const long n = width - i;
            VSTOREN(dRow + i, n, VMUL(VLOADN(pRow + i, n, 0), VSUB(VLOADN(dRow + i, n, 0), dot)));
        }
    }
}

/* The mean (as center + shift, kept apart so that x - mean loses nothing to its rounding)
   and 1/σ of one row: a first mean, then the deviations from it and their squares, the mean
   corrected by the deviations' mean (the corrected two-pass algorithm). */
typedef struct { float center, shift, inverse; } NAME(row_moments);

static inline NAME(row_moments) NAME(row_statistics)(const float *row, long width, float epsilon) {
    vf sums = VSET(0);
    long i = 0;
    for (; i + W <= width; i += W) sums = VADD(sums, VLOAD(row + i));
    if (i < width) sums = VADD(sums, VLOADN(row + i, width - i, 0));
    const float first = VHSUM(sums) / (float)width;
    const vf center = VSET(first);
    vf deviations = VSET(0), squares = VSET(0);
    for (i = 0; i + W <= width; i += W) {
        const vf d = VSUB(VLOAD(row + i), center);
        deviations = VADD(deviations, d);
        squares = VFMA(d, d, squares);
    }
    if (i < width) {
        const vf d = VSUB(VLOADN(row + i, width - i, first), center);
        deviations = VADD(deviations, d);
        squares = VFMA(d, d, squares);
    }
    const double shift = (double)VHSUM(deviations) / (double)width;
    double variance = (double)VHSUM(squares) / (double)width - shift * shift;
    if (variance < 0) variance = 0;
    const NAME(row_moments) moments = { first, (float)shift, (float)(1 / sqrt(variance + (double)epsilon)) };
    return moments;
}

/* y = (x - mean) · inverse · gamma + beta for one row, x̂ into `normalised` when not NULL. */
static inline void NAME(row_affine)(const float *row, float *out, float *normalised, const float *gamma,
                                    const float *beta, long width, NAME(row_moments) moments) {
    const vf center = VSET(moments.center), shift = VSET(moments.shift), s = VSET(moments.inverse);
    long i = 0;
    for (; i + W <= width; i += W) {
        const vf h = VMUL(VSUB(VSUB(VLOAD(row + i), center), shift), s);
        if (normalised) VSTORE(normalised + i, h);
        VSTORE(out + i, VFMA(h, VLOAD(gamma + i), VLOAD(beta + i)));
    }
    if (i < width) {
        const long n = width - i;
        const vf h = VMUL(VSUB(VSUB(VLOADN(row + i, n, 0), center), shift), s);
        if (normalised) VSTOREN(normalised + i, n, h);
        VSTOREN(out + i, n, VFMA(h, VLOADN(gamma + i, n, 0), VLOADN(beta + i, n, 0)));
    }
}

static void NAME(layer_norm_rows)(const float *x, float *y, float *normalised, float *inverse_deviation,
                                  const float *gamma, const float *beta, long rows, long width, float epsilon) {
    for (long r = 0; r < rows; r++) {
        const NAME(row_moments) moments = NAME(row_statistics)(x + r * width, width, epsilon);
        if (inverse_deviation) inverse_deviation[r] = moments.inverse;
        NAME(row_affine)(x + r * width, y + r * width, normalised ? normalised + r * width : 0, gamma, beta,
                         width, moments);
    }
}

static void NAME(add_layer_norm_rows)(const float *a, const float *b, float *sum, float *y, const float *gamma,
                                      const float *beta, long rows, long width, float epsilon) {
    for (long r = 0; r < rows; r++) {
        const float *aRow = a + r * width, *bRow = b + r * width;
        float *sRow = sum + r * width;
        long i = 0;
        for (; i + W <= width; i += W) VSTORE(sRow + i, VADD(VLOAD(aRow + i), VLOAD(bRow + i)));
        if (i < width) VSTOREN(sRow + i, width - i, VADD(VLOADN(aRow + i, width - i, 0), VLOADN(bRow + i, width - i, 0)));
        NAME(row_affine)(sRow, y + r * width, 0, gamma, beta, width, NAME(row_statistics)(sRow, width, epsilon));
    }
}

static void NAME(fill_rows)(float *target, const float *row, long rows, long width) {
    for (long r = 0; r < rows; r++) {
        float *out = target + r * width;
        long i = 0;
        for (; i + W <= width; i += W) VSTORE(out + i, VLOAD(row + i));
        if (i < width) VSTOREN(out + i, width - i, VLOADN(row + i, width - i, 0));
    }
}

/* The four taps of one source at one output pixel, W channels from offset c. */
static inline vf NAME(bilinear_taps)(const rubble_resize_source *s, long x, long c, vf acc) {
    const float wx1 = s->right_weight[x], wx0 = 1 - wx1, wy1 = s->bottom_weight, wy0 = 1 - wy1;
    const float *tl = s->top + s->left[x] + c, *tr = s->top + s->right[x] + c;
    const float *bl = s->bottom + s->left[x] + c, *br = s->bottom + s->right[x] + c;
    acc = VFMA(VSET(wy0 * wx0), VLOAD(tl), acc);
    acc = VFMA(VSET(wy0 * wx1), VLOAD(tr), acc);
    acc = VFMA(VSET(wy1 * wx0), VLOAD(bl), acc);
    return VFMA(VSET(wy1 * wx1), VLOAD(br), acc);
}

static inline vf NAME(bilinear_taps_n)(const rubble_resize_source *s, long x, long c, long n, vf acc) {
    const float wx1 = s->right_weight[x], wx0 = 1 - wx1, wy1 = s->bottom_weight, wy0 = 1 - wy1;
    const float *tl = s->top + s->left[x] + c, *tr = s->top + s->right[x] + c;
    const float *bl = s->bottom + s->left[x] + c, *br = s->bottom + s->right[x] + c;
    acc = VFMA(VSET(wy0 * wx0), VLOADN(tl, n, 0), acc);
    acc = VFMA(VSET(wy0 * wx1), VLOADN(tr, n, 0), acc);
    acc = VFMA(VSET(wy1 * wx0), VLOADN(bl, n, 0), acc);
    return VFMA(VSET(wy1 * wx1), VLOADN(br, n, 0), acc);
}

static void NAME(resized_sum_row)(float *out, const float *base, const float *constant, long width, long channels,
                                  const rubble_resize_source *sources, long source_count, int relu) {
    for (long x = 0; x < width; x++) {
        float *target = out + x * channels;
        const float *from = base ? base + x * channels : 0;
        long c = 0;
        for (; c + W <= channels; c += W) {
            vf acc = from ? VLOAD(from + c) : VSET(0);
            if (constant) acc = VADD(acc, VLOAD(constant + c));
            for (long k = 0; k < source_count; k++) acc = NAME(bilinear_taps)(sources + k, x, c, acc);
            if (relu) acc = VMAX(VSET(0), acc);
            VSTORE(target + c, acc);
        }
        if (c < channels) {
            const long n = channels - c;
            vf acc = from ? VLOADN(from + c, n, 0) : VSET(0);
            if (constant) acc = VADD(acc, VLOADN(constant + c, n, 0));
            for (long k = 0; k < source_count; k++) acc = NAME(bilinear_taps_n)(sources + k, x, c, n, acc);
            if (relu) acc = VMAX(VSET(0), acc);
            VSTOREN(target + c, n, acc);
        }
    }
}

static inline vf NAME(epilogue)(vf v, int epilogue) {
    if (epilogue == RUBBLE_EPILOGUE_GELU) return NAME(gelu1)(v);
    if (epilogue == RUBBLE_EPILOGUE_RELU) return VMAX(VSET(0), v);
    if (epilogue == RUBBLE_EPILOGUE_RELU6) return VMIN(VSET(6), VMAX(VSET(0), v));
    if (epilogue == RUBBLE_EPILOGUE_SWISH) return NAME(swish1)(v);
    return v;
}

static void NAME(epilogue_rows)(float *c, const float *bias, const float *residual, long rows, long width,
                                int epilogue) {
    for (long r = 0; r < rows; r++) {
        float *row = c + r * width;
        const float *res = residual ? residual + r * width : 0;
        long j = 0;
        for (; j + W <= width; j += W) {
            vf v = VLOAD(row + j);
            if (bias) v = VADD(v, VLOAD(bias + j));
            if (res) v = VADD(v, VLOAD(res + j));
            VSTORE(row + j, NAME(epilogue)(v, epilogue));
        }
        if (j < width) {
            const long n = width - j;
            vf v = VLOADN(row + j, n, 0);
            if (bias) v = VADD(v, VLOADN(bias + j, n, 0));
            if (res) v = VADD(v, VLOADN(res + j, n, 0));
            VSTOREN(row + j, n, NAME(epilogue)(v, epilogue));
        }
    }
}

/* `lanes` vectors of channels from c (4, 1, or a partial one of n < W lanes when n > 0): the
   taps of rows first_i..<end_i and columns first_j..<end_j of one output pixel. */
#define RUBBLE_DEPTHWISE_TAPS(LOAD_AT)                                                         \
    for (long i = first_i; i < end_i; i++) {                                                   \
        const float *xrow = x + origin + (i * W_in + first_j) * C, *krow = k + (i * KW + first_j) * C; \
        for (long j = first_j; j < end_j; j++, xrow += C, krow += C) { LOAD_AT }               \
    }

static void NAME(depthwise_rows)(const rubble_window_geometry *g, const float *x, const float *k, const float *bias,
                                 float *y, long first_row, long end_row, int epilogue) {
    const long C = g->channels, W_in = g->input_width, KW = g->window_width;
    for (long row = first_row; row < end_row; row++) {
        const long n = row / g->output_height, oh = row % g->output_height;
        const long origin_i = oh * g->stride_height - g->pad_top;
        const long first_i = origin_i < 0 ? -origin_i : 0;
        long end_i = g->input_height - origin_i;
        if (end_i > g->window_height) end_i = g->window_height;
        if (end_i < first_i) end_i = first_i;
        for (long ow = 0; ow < g->output_width; ow++) {
            const long origin_j = ow * g->stride_width - g->pad_left;
            const long first_j = origin_j < 0 ? -origin_j : 0;
            long end_j = W_in - origin_j;
            if (end_j > KW) end_j = KW;
            if (end_j < first_j) end_j = first_j;
            /* The flat index of input pixel (origin_i, origin_j) of image n (perhaps outside the
               image, even negative): only taps inside the image are added to it. */
            const long origin = ((n * g->input_height + origin_i) * W_in + origin_j) * C;
            float *out = y + (row * g->output_width + ow) * C;
            long c = 0;
            for (; c + 4 * W <= C; c += 4 * W) {
                vf a0 = bias ? VLOAD(bias + c) : VSET(0), a1 = bias ? VLOAD(bias + c + W) : VSET(0);
                vf a2 = bias ? VLOAD(bias + c + 2 * W) : VSET(0), a3 = bias ? VLOAD(bias + c + 3 * W) : VSET(0);
                RUBBLE_DEPTHWISE_TAPS(
                    a0 = VFMA(VLOAD(xrow + c), VLOAD(krow + c), a0);
                    a1 = VFMA(VLOAD(xrow + c + W), VLOAD(krow + c + W), a1);
                    a2 = VFMA(VLOAD(xrow + c + 2 * W), VLOAD(krow + c + 2 * W), a2);
                    a3 = VFMA(VLOAD(xrow + c + 3 * W), VLOAD(krow + c + 3 * W), a3);)
                VSTORE(out + c, NAME(epilogue)(a0, epilogue));
                VSTORE(out + c + W, NAME(epilogue)(a1, epilogue));
                VSTORE(out + c + 2 * W, NAME(epilogue)(a2, epilogue));
                VSTORE(out + c + 3 * W, NAME(epilogue)(a3, epilogue));
            }
            for (; c + W <= C; c += W) {
                vf a = bias ? VLOAD(bias + c) : VSET(0);
                RUBBLE_DEPTHWISE_TAPS(a = VFMA(VLOAD(xrow + c), VLOAD(krow + c), a);)
                VSTORE(out + c, NAME(epilogue)(a, epilogue));
            }
            if (c < C) {
                const long m = C - c;
                vf a = bias ? VLOADN(bias + c, m, 0) : VSET(0);
                RUBBLE_DEPTHWISE_TAPS(a = VFMA(VLOADN(xrow + c, m, 0), VLOADN(krow + c, m, 0), a);)
                VSTOREN(out + c, m, NAME(epilogue)(a, epilogue));
            }
        }
    }
}
#undef RUBBLE_DEPTHWISE_TAPS

#include "gemm_body.h"

const rubble_kernel_table NAME(rubble_kernels) = {
    NAME(exp_array), NAME(erf_array), NAME(softmax_rows), NAME(softmax_pullback_rows), NAME(gelu),
    NAME(gelu_backward), NAME(sigmoid), NAME(swish), NAME(layer_norm_rows), NAME(add_layer_norm_rows),
    NAME(fill_rows), NAME(resized_sum_row), NAME(depthwise_rows), NAME(epilogue_rows), NAME(gemm_pack),
    NAME(gemm_packed),
};

/* C = epilogue((A · B + bias) + residual) with B packed once (a layer's fixed weights) into
   panels of RUBBLE_GEMM_PANEL columns: no operand is repacked per call, as OpenBLAS repacks
   its B for every sgemm (at batch 1 that copy of the weights costs more than a fifth of a
   ResNet's time). Included by kernels_body.h; each variant defines GEMM_MR, the rows of its
   register tile (the tile is GEMM_MR x RUBBLE_GEMM_PANEL accumulators).

   Blocking: k in blocks of GEMM_KC (a panel's block, KC x 32 floats = 32 KB, stays in L1
   across the row tiles), rows in blocks of GEMM_MC (the A block, MC x KC floats, in L2). A is
   read where it lies (row-major, stride lda): each tile broadcasts one element of each of
   its rows per step. */

#define GEMM_VECTORS (RUBBLE_GEMM_PANEL / W)
#define GEMM_KC 256
#define GEMM_MC (GEMM_MR * 10)

static void NAME(gemm_pack)(const float *b, long k, long n, long ldb, float *packed) {
    const long panels = (n + RUBBLE_GEMM_PANEL - 1) / RUBBLE_GEMM_PANEL;
    for (long p = 0; p < panels; p++) {
        const long c0 = p * RUBBLE_GEMM_PANEL;
        const long width = n - c0 < RUBBLE_GEMM_PANEL ? n - c0 : RUBBLE_GEMM_PANEL;
        float *dst = packed + p * k * RUBBLE_GEMM_PANEL;
        for (long kk = 0; kk < k; kk++, dst += RUBBLE_GEMM_PANEL) {
            const float *src = b + kk * ldb + c0;
            long j = 0;
            for (; j < width; j++) dst[j] = src[j];
            for (; j < RUBBLE_GEMM_PANEL; j++) dst[j] = 0;
        }
    }
}

/* One register tile: GEMM_MR rows of `a` (stride lda; only rows r < mr are stored), columns
   j < nc of the panel block `bp` (kc x RUBBLE_GEMM_PANEL). `first`: store the sums, else add
   them to c; `last`: then bias, residual and the epilogue. The loops over rows and vectors
   are unrolled so that the accumulators live in registers. */
#ifdef __clang__
#define GEMM_UNROLL _Pragma("clang loop unroll(full)")
#else
#define GEMM_UNROLL
#endif
static inline void NAME(gemm_tile)(long mr, long nc, long kc, const float *a, long lda, const float *bp, float *c,
                                   long ldc, int first, int last, const float *bias, const float *residual, long ldr,
                                   int epilogue) {
    vf acc[GEMM_MR][GEMM_VECTORS];
    GEMM_UNROLL for (int r = 0; r < GEMM_MR; r++) {
        GEMM_UNROLL for (int v = 0; v < GEMM_VECTORS; v++) acc[r][v] = VSET(0);
    }
    for (long kk = 0; kk < kc; kk++, bp += RUBBLE_GEMM_PANEL) {
        vf b[GEMM_VECTORS];
        GEMM_UNROLL for (int v = 0; v < GEMM_VECTORS; v++) b[v] = VLOAD(bp + v * W);
        GEMM_UNROLL for (int r = 0; r < GEMM_MR; r++) {
            const vf x = VSET(a[r * lda + kk]);
            GEMM_UNROLL for (int v = 0; v < GEMM_VECTORS; v++) acc[r][v] = VFMA(x, b[v], acc[r][v]);
        }
    }
    GEMM_UNROLL for (int r = 0; r < GEMM_MR; r++) {
        if (r >= mr) break;
        float *row = c + r * ldc;
        const float *res = residual ? residual + r * ldr : 0;
        GEMM_UNROLL for (int v = 0; v < GEMM_VECTORS; v++) {
            const long col = (long)v * W;
            if (col >= nc) break;
            if (nc - col >= W) {
                vf y = acc[r][v];
                if (!first) y = VADD(VLOAD(row + col), y);
                if (last) {
                    if (bias) y = VADD(y, VLOAD(bias + col));
                    if (res) y = VADD(y, VLOAD(res + col));
                    y = NAME(epilogue)(y, epilogue);
                }
                VSTORE(row + col, y);
            } else {
                const long n = nc - col;
                vf y = acc[r][v];
                if (!first) y = VADD(VLOADN(row + col, n, 0), y);
                if (last) {
                    if (bias) y = VADD(y, VLOADN(bias + col, n, 0));
                    if (res) y = VADD(y, VLOADN(res + col, n, 0));
                    y = NAME(epilogue)(y, epilogue);
                }
                VSTOREN(row + col, n, y);
            }
        }
    }
}
#undef GEMM_UNROLL

static void NAME(gemm_packed)(long first_row, long end_row, long first_panel, long end_panel, long n, long k,
                              const float *a, long lda, const float *packed, float *c, long ldc, const float *bias,
                              const float *residual, long ldr, int epilogue) {
    if (k == 0) {
        /* An empty sum: the epilogue of the bias and residual alone. */
        for (long r = first_row; r < end_row; r++)
            for (long p = first_panel; p < end_panel; p++) {
                const long c0 = p * RUBBLE_GEMM_PANEL;
                const long nc = n - c0 < RUBBLE_GEMM_PANEL ? n - c0 : RUBBLE_GEMM_PANEL;
                for (long j = 0; j < nc; j++) c[r * ldc + c0 + j] = 0;
                NAME(epilogue_rows)(c + r * ldc + c0, bias ? bias + c0 : 0, residual ? residual + r * ldr + c0 : 0,
                                    1, nc, epilogue);
            }
        return;
    }
    /* The rows of a last, partial row tile, copied with zero rows below them so that every
       tile reads GEMM_MR rows. */
    float tail[GEMM_MR * GEMM_KC];
    for (long k0 = 0; k0 < k; k0 += GEMM_KC) {
        const long kc = k - k0 < GEMM_KC ? k - k0 : GEMM_KC;
        const int first = k0 == 0, last = k0 + kc == k;
        for (long m0 = first_row; m0 < end_row; m0 += GEMM_MC) {
            const long m1 = end_row - m0 < GEMM_MC ? end_row : m0 + GEMM_MC;
            const long partial = (m1 - m0) % GEMM_MR, whole = m1 - partial;
            if (partial) {
                for (long r = 0; r < GEMM_MR; r++)
                    for (long kk = 0; kk < kc; kk++) tail[r * kc + kk] = r < partial ? a[(whole + r) * lda + k0 + kk] : 0;
            }
            for (long p = first_panel; p < end_panel; p++) {
                const float *bp = packed + (p * k + k0) * RUBBLE_GEMM_PANEL;
                const long c0 = p * RUBBLE_GEMM_PANEL;
                const long nc = n - c0 < RUBBLE_GEMM_PANEL ? n - c0 : RUBBLE_GEMM_PANEL;
                const float *b = bias ? bias + c0 : 0;
                for (long r = m0; r < whole; r += GEMM_MR)
                    NAME(gemm_tile)(GEMM_MR, nc, kc, a + r * lda + k0, lda, bp, c + r * ldc + c0, ldc, first, last, b,
                                    residual ? residual + r * ldr + c0 : 0, ldr, epilogue);
                if (partial)
                    NAME(gemm_tile)(partial, nc, kc, tail, kc, bp, c + whole * ldc + c0, ldc, first, last, b,
                                    residual ? residual + whole * ldr + c0 : 0, ldr, epilogue);
            }
        }
    }
}

#undef GEMM_VECTORS
#undef GEMM_KC
#undef GEMM_MC

extension Tensor {
    /// Matrix products over leading batch axes: `op(a) [..., m, k] x op(b) [..., k, n] -> [..., m, n]`
    /// (PyTorch `torch.matmul` on equal batch shapes, e.g. attention's `[b, h, n, d] x [b, h, d, m]`).
    /// One OpenBLAS call per matrix, on the stored buffers (no copies of the operands).
    public static func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false,
                                     transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && a.rank == b.rank && a.shape.dims.dropLast(2) == b.shape.dims.dropLast(2),
                     "batched matmul of \(a.shape) and \(b.shape)")
        let rank = a.rank
        let (aRows, aCols) = (a.shape[rank - 2], a.shape[rank - 1])
        let (bRows, bCols) = (b.shape[rank - 2], b.shape[rank - 1])
        let (m, k) = transposeA ? (aCols, aRows) : (aRows, aCols)
        let (k2, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        precondition(k == k2, "batched matmul: inner sizes differ, \(a.shape) x \(b.shape)")
        let batchDims = Array(a.shape.dims.dropLast(2))
        let batch = batchDims.reduce(1, *)
        let out = Tensor.uninitialized(Shape(batchDims + [m, n]))
        if k == 0 {
            out.storage.base.initialize(repeating: 0, count: out.count)
        } else {
            for item in 0..<batch {
                BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           a: a.storage.base + item * aRows * aCols, lda: aCols,
                           b: b.storage.base + item * bRows * bCols, ldb: bCols,
                           c: out.storage.base + item * m * n, ldc: n)
            }
        }
        let ad = a.detached, bd = b.detached
        return out.recordingGradient(from: [
            (a, { g in transposeA ? batchedMatmul(bd, g, transposeA: transposeB, transposeB: true)
                                  : batchedMatmul(g, bd, transposeB: !transposeB) }),
            (b, { g in transposeB ? batchedMatmul(g, ad, transposeA: true, transposeB: transposeA)
                                  : batchedMatmul(ad, g, transposeA: !transposeA) }),
        ])
    }
}

import CKernels

extension Tensor {
    /// Matrix product of 2-D tensors, `op(a) [m, k] x op(b) [k, n] -> [m, n]`, on OpenBLAS.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false,
                              transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(k == k2, "matmul: inner sizes differ, \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
        let out = Tensor.uninitialized([m, n])
        if k == 0 {
            out.storage.base.initialize(repeating: 0, count: m * n)
        } else {
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: a.storage.base, lda: a.shape[1], b: b.storage.base, ldb: b.shape[1],
                       c: out.storage.base, ldc: n)
        }
        let ad = a.detached, bd = b.detached
        return out.recordingGradient(from: [
            (a, { g in transposeA ? matmul(bd, g, transposeA: transposeB, transposeB: true)
                                  : matmul(g, bd, transposeB: !transposeB) }),
            (b, { g in transposeB ? matmul(g, ad, transposeA: true, transposeB: transposeA)
                                  : matmul(ad, g, transposeA: !transposeA) }),
        ])
    }

    /// The transpose of a 2-D tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a 2-D tensor, got \(shape)")
        let rows = shape[0], cols = shape[1]
        let out = Tensor.uninitialized([cols, rows])
        let src = storage.base, dst = out.storage.base
        for r in 0..<rows { for c in 0..<cols { dst[c * rows + r] = src[r * cols + c] } }
        return out.recordingGradient(from: self) { $0.transposed() }
    }
}

extension Tensor {
    /// Rows per block of ``linear(_:weight:bias:)``: about 128 KB of output, and at least 256 rows
    /// so that the weights OpenBLAS packs for each block serve enough rows.
    static func linearBlockRows(outputs: Int) -> Int { Swift.max(256, 32768 / Swift.max(outputs, 1)) }

    /// `x · weight + bias` for `x [rows, in]`, `weight [in, out]`, `bias [out]`: the bias is
    /// written into the output first and the product accumulated onto it by OpenBLAS (one pass
    /// over the output, not a matmul then a broadcast add), block of rows by block of rows so
    /// that each block is still in cache when the product lands on it; the blocks are split over
    /// the cores, OpenBLAS held to one thread. Gradients: `g · weightᵀ`, `xᵀ · g` and the column
    /// sums of `g`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
        precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[0] && bias.shape == [weight.shape[1]],
                     "linear of \(x.shape) with weight \(weight.shape) and bias \(bias.shape)")
        let (rows, inputs, outputs) = (x.shape[0], x.shape[1], weight.shape[1])
        let out = Tensor.uninitialized([rows, outputs])
        let pointers = UncheckedSendable((x: x.storage.base, w: weight.storage.base, b: bias.storage.base,
                                          c: out.storage.base))
        let block = linearBlockRows(outputs: outputs)
        let body = { (first: Int, count: Int) in
            let p = pointers.value
            rubble_fill_rows(p.c + first * outputs, p.b, count, outputs)
            if inputs > 0 {
                BLAS.sgemm(m: count, n: outputs, k: inputs, a: p.x + first * inputs, lda: inputs, b: p.w, ldb: outputs,
                           beta: 1, c: p.c + first * outputs, ldc: outputs)
            }
        }
        if rows < 2 * block {
            body(0, rows)
        } else {
            BLAS.withOneThread {
                Parallel.forEachRange((rows + block - 1) / block) { range in
                    for index in range { body(index * block, Swift.min(block, rows - index * block)) }
                }
            }
        }
        let xd = x.detached, wd = weight.detached
        return out.recordingGradient(from: [
            (x, { g in matmul(g, wd, transposeB: true) }),
            (weight, { g in matmul(xd, g, transposeA: true) }),
            (bias, { g in g.sum(alongAxes: [0]) }),
        ])
    }
}

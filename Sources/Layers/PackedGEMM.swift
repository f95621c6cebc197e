import CKernels
import Tensor

/// GEMMs against a fixed operand packed once (`rubble_gemm_packed`): a layer's kernel at
/// inference, or a frozen layer's, is laid out in panels of 32 columns when first used and
/// kept (``WinogradKernelCache/packed(_:)``), so no call copies the weights again, and the
/// epilogue (bias, residual, activation) runs as each tile is stored.
enum PackedGEMM {
    /// Rows per thread below which the threads split the output columns instead of the rows.
    static let minimumRowsPerThread = 96

    /// `b` (`[k, n]`, row-major) in panels of 32 columns (`[ceil(n/32) * k * 32]`).
    static func pack(_ b: Tensor) -> Tensor {
        let k = b.shape.count / b.shape[b.shape.rank - 1], n = b.shape[b.shape.rank - 1]
        return Tensor(unsafeUninitializedShape: [rubble_gemm_packed_count(k, n)]) { out in
            b.withUnsafeBufferPointer { rubble_gemm_pack($0.baseAddress!, k, n, n, out.baseAddress!) }
        }
    }

    /// `c = epilogue((a · b + bias) + residual)` for `m` rows: `a` `[m, k]` (row stride `k`),
    /// `packed` the packed `[k, n]`, `c` and `residual` `[m, n]`. With `parallel`, the rows are
    /// split over the threads when each gets at least `minimumRowsPerThread`, else the 32-wide
    /// column panels (a batch of one still uses every core); otherwise single-threaded.
    static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                         c: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue, bias: UnsafePointer<Float>?,
                         residual: UnsafePointer<Float>?, parallel: Bool) {
        guard m > 0, n > 0 else { return }
        let panels = (n + Int(RUBBLE_GEMM_PANEL) - 1) / Int(RUBBLE_GEMM_PANEL)
        let threads = parallel && !Parallel.isNested && m * n * k >= 1 << 17 ? Parallel.threadCount : 1
        let byRows = m >= threads * minimumRowsPerThread
        let parts = byRows ? threads : min(threads, panels)
        let as_ = UncheckedSendable(a), ps = UncheckedSendable(packed), cs = UncheckedSendable(c)
        let bs = UncheckedSendable(bias), rs = UncheckedSendable(residual)
        let run = { (part: Int) in
            if byRows {
                rubble_gemm_packed(m * part / parts, m * (part + 1) / parts, 0, panels, n, k, as_.value, k, ps.value,
                                   cs.value, n, bs.value, rs.value, n, epilogue.rawValue)
            } else {
                rubble_gemm_packed(0, m, panels * part / parts, panels * (part + 1) / parts, n, k, as_.value, k,
                                   ps.value, cs.value, n, bs.value, rs.value, n, epilogue.rawValue)
            }
        }
        guard parts > 1 else { return run(0) }
        Parallel.forEachRange(parts) { range in
            for part in range { run(part) }
        }
    }
}

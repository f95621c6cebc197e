import Synchronization
import Tensor

/// The three GEMM-based passes of convolution (ARCHITECTURE.md §2), on raw NHWC/HWIO buffers: im2col
/// + sgemm here, Winograd for 3x3 stride-1 layers where it pays (`Winograd*.swift`; the rule
/// is `algorithm(for:_:filters:cachedKernel:)`).
///
/// Output pixels are processed in chunks of rows whose column matrix (`rows x patchLength`)
/// comes from `Workspace`. When there are enough rows, every thread runs its own chunks end
/// to end -- im2col, a single-threaded sgemm, the epilogue -- in a column buffer small enough
/// to stay in its core's cache (`Workspace.chunkBytes`); OpenBLAS is held to one thread
/// meanwhile, so its workers and ours never compete for the cores. With few rows (small
/// batches of deep layers) one chunk is gathered by all threads and OpenBLAS parallelises
/// the GEMM. All column buffers of one call together stay under `Workspace.capBytes`.
public enum ConvolutionKernels {
    /// Fewest rows a per-thread chunk should have: below this OpenBLAS' packing of the
    /// `[K, N]` operand (repeated for every call) outweighs the cache benefit. Chunks also
    /// get at least `N` rows, so that packing costs no more than the im2col copy.
    static let minimumChunkRows = 256

    /// How one pass splits its `count` rows.
    struct Plan {
        /// Rows per chunk (the last chunk may be shorter).
        var rows: Int
        var chunks: Int
        /// Whether each thread runs whole chunks with single-threaded sgemm.
        var perThread: Bool
        var threads: Int

        func range(_ chunk: Int, of count: Int) -> Range<Int> {
            chunk * rows..<min(count, (chunk + 1) * rows)
        }
    }

    /// Splits `count` rows of `rowFloats` column floats each, for a GEMM `outputs` wide, with
    /// `reservedBytes` of the workspace cap taken by other buffers of the same call.
    static func plan(rows count: Int, rowFloats: Int, outputs: Int = 0, reservedBytes: Int = 0,
                     allowPerThread: Bool = true) -> Plan {
        let threads = Parallel.threadCount
        let rowBytes = 4 * max(rowFloats, 1)
        let cap = max(1, (Workspace.capBytes - reservedBytes) / rowBytes)
        if allowPerThread && threads > 1 && count >= threads * minimumChunkRows && cap / threads >= minimumChunkRows {
            let target = max(minimumChunkRows, outputs, Workspace.chunkBytes / rowBytes)
            var rows = min(target, cap / threads, (count + threads - 1) / threads)
            // A multiple of `threads` chunks of near-equal size, so no core idles at the end.
            var chunks = (count + rows - 1) / rows
            chunks = (chunks + threads - 1) / threads * threads
            rows = (count + chunks - 1) / chunks
            chunks = (count + rows - 1) / rows
            return Plan(rows: rows, chunks: chunks, perThread: true, threads: threads)
        }
        let rows = max(1, min(count, cap))
        return Plan(rows: rows, chunks: (count + rows - 1) / rows, perThread: false, threads: threads)
    }

    /// Runs `body(worker, buffer)` on every thread of a per-thread plan with OpenBLAS held to
    /// one thread; `buffer` holds `bufferFloats` floats, the worker's own.
    static func onEveryThread(_ plan: Plan, bufferFloats: Int,
                              _ body: (Int, UnsafeMutablePointer<Float>) -> Void) {
        let blasThreads = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = blasThreads }
        Parallel.forEachRange(plan.threads) { workers in
            for worker in workers {
                Workspace.shared.withBuffer(floats: bufferFloats) { body(worker, $0) }
            }
        }
    }

    /// Whether the input itself is the column matrix (1x1 window, stride 1, no padding).
    static func isPointwise(_ g: WindowGeometry) -> Bool {
        g.windowHeight == 1 && g.windowWidth == 1 && g.strideHeight == 1 && g.strideWidth == 1
            && g.padTop == 0 && g.padLeft == 0
    }

    /// The algorithm of every pass (`ConvolutionAlgorithm`): `.automatic` lets
    /// `algorithm(for:_:filters:cachedKernel:)` pick per layer; tests and benchmarks force one.
    @TaskLocal public static var algorithm = ConvolutionAlgorithm.automatic

    /// `y = act(conv(x, W) + b)`; input `[n, h, w, c]`, kernel `[kh, kw, c, f]`, bias `[f]` or
    /// `nil` for none (no bias is added: nothing is allocated for it).
    /// im2col + sgemm or Winograd (see `algorithm(for:_:filters:cachedKernel:)`);
    /// `kernelCache` keeps the Winograd-transformed kernel between calls (for a kernel that
    /// does not change: inference, frozen layers).
    public static func forward(_ g: WindowGeometry, input: Tensor, kernel: Tensor, bias: Tensor?, relu: Bool,
                               kernelCache: WinogradKernelCache? = nil) -> Tensor {
        forward(g, input: input, kernel: kernel, bias: bias, epilogue: relu ? .relu : .none, kernelCache: kernelCache)
    }

    /// `y = epilogue((conv(x, W) + b) + residual)`: as `forward(_:input:kernel:bias:relu:kernelCache:)`
    /// with any fused activation and, optionally, a residual of the output's shape added before
    /// it (a ResNet block's shortcut), all in the pass that stores each chunk of the output.
    public static func forward(_ g: WindowGeometry, input: Tensor, kernel: Tensor, bias: Tensor?,
                               epilogue: KernelEpilogue, residual: Tensor? = nil,
                               kernelCache: WinogradKernelCache? = nil) -> Tensor {
        let filters = kernel.shape[3]
        let choice = algorithm(for: .forward, g, filters: filters, cachedKernel: kernelCache != nil)
        return Tensor(unsafeUninitializedShape: [g.batch, g.outputHeight, g.outputWidth, filters]) { out in
            input.withUnsafeBufferPointer { x in
                withBias(bias) { bias in
                    withBias(residual) { residual in
                        // Winograd fuses bias and ReLU into its output transform; anything more
                        // is one pass after it.
                        let winogradReLU = epilogue == .relu && residual == nil
                        let after: KernelEpilogue? = winogradReLU || (epilogue == .none && residual == nil)
                            ? nil : epilogue
                        switch choice {
                        case .winograd2:
                            winograd(WinogradF2.self, g, input: x.baseAddress!, kernel: kernel, rotated: false,
                                     filters: filters, bias: bias, relu: winogradReLU, output: out.baseAddress!,
                                     cache: kernelCache)
                        case .winograd3:
                            winograd(WinogradF3.self, g, input: x.baseAddress!, kernel: kernel, rotated: false,
                                     filters: filters, bias: bias, relu: winogradReLU, output: out.baseAddress!,
                                     cache: kernelCache)
                        case .winograd4:
                            winograd(WinogradF4.self, g, input: x.baseAddress!, kernel: kernel, rotated: false,
                                     filters: filters, bias: bias, relu: winogradReLU, output: out.baseAddress!,
                                     cache: kernelCache)
                        case .im2col, .automatic:
                            let packed = usesPackedKernels ? kernelCache?.packed(kernel) : nil
                            kernel.withUnsafeBufferPointer { w in
                                withBias(packed) { packed in
                                    convolve(g, input: x.baseAddress!, kernel: w.baseAddress!, packedKernel: packed,
                                             filters: filters, bias: bias, epilogue: epilogue, residual: residual,
                                             output: out.baseAddress!)
                                }
                            }
                            return
                        }
                        after?.applyInParallel(to: out.baseAddress!, rows: g.outputPixels, width: filters, bias: nil,
                                               residual: residual)
                    }
                }
            }
        }
    }

    /// `body` with the bias' elements, or `nil` without a bias.
    @inline(__always)
    static func withBias<R>(_ bias: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let bias else { return body(nil) }
        return bias.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The Winograd convolution `g` (for backward data: the transposed geometry, with
    /// `rotated`) of `x` with `kernel` (`[3, 3, in, out]` of the forward layer), from the
    /// cached transformed kernel or one transformed now into the workspace (α²/9 times the
    /// kernel; like the kernel it does not grow with the batch, and is not counted against
    /// `Workspace.capBytes`, which bounds the chunk buffers).
    static func winograd<W: WinogradVariant>(_: W.Type, _ g: WindowGeometry, input x: UnsafePointer<Float>,
                                             kernel: Tensor, rotated: Bool, filters: Int,
                                             bias: UnsafePointer<Float>?, relu: Bool,
                                             output: UnsafeMutablePointer<Float>, cache: WinogradKernelCache?) {
        if let cache {
            // The forward kernel, fixed, is also packed for PackedGEMM (the rotated one is read
            // transposed, which the packed GEMM does not take).
            let packed = !rotated && usesPackedKernels
            let u = cache.transformed(W.self, kernel: kernel, rotated: rotated, packed: packed)
            u.withUnsafeBufferPointer { u in
                Winograd.convolve(W.self, g, input: x, transformedKernel: u.baseAddress!, kernelTransposed: rotated,
                                  kernelPacked: packed, filters: filters, bias: bias, relu: relu, output: output)
            }
            return
        }
        let inputs = kernel.shape[2], outputs = kernel.shape[3], floats = W.positions * inputs * outputs
        Workspace.shared.withBuffer(floats: floats) { u in
            kernel.withUnsafeBufferPointer { w in
                Winograd.transformKernel(W.self, w.baseAddress!, inputs: inputs, outputs: outputs, rotated: rotated,
                                         into: u)
            }
            Winograd.convolve(W.self, g, input: x, transformedKernel: u, kernelTransposed: rotated, filters: filters,
                              bias: bias, relu: relu, output: output)
        }
    }

    /// Whether forward passes with a cached kernel multiply by the kernel packed once
    /// (`PackedGEMM`) rather than through OpenBLAS, which packs it again in every call. Tests
    /// and benchmarks compare the two.
    @TaskLocal public static var usesPackedKernels = true

    /// `output = epilogue((im2col(input) · kernel + bias) + residual)`, every output element
    /// written once, each chunk's epilogue run while the chunk is in cache. `packedKernel`:
    /// the kernel packed by `PackedGEMM.pack`, used instead of `kernel` when given.
    /// `reservedBytes`: workspace the caller already holds, counted against the cap.
    static func convolve(_ g: WindowGeometry, input x: UnsafePointer<Float>, kernel w: UnsafePointer<Float>,
                         packedKernel: UnsafePointer<Float>? = nil,
                         filters: Int, bias: UnsafePointer<Float>?, epilogue: KernelEpilogue,
                         residual: UnsafePointer<Float>? = nil, output: UnsafeMutablePointer<Float>,
                         reservedBytes: Int = 0) {
        let patch = g.patchLength, count = g.outputPixels
        let pointwise = isPointwise(g)
        // A pointwise layer's chunks are sized by the output they write (no column buffer).
        let plan = plan(rows: count, rowFloats: pointwise ? max(patch, filters) : patch, outputs: filters,
                        reservedBytes: reservedBytes)
        let xs = UncheckedSendable(x), ws = UncheckedSendable(w), bs = UncheckedSendable(bias)
        let os = UncheckedSendable(output), rs = UncheckedSendable(residual), ps = UncheckedSendable(packedKernel)
        if plan.perThread {
            let next = ChunkCounter()
            onEveryThread(plan, bufferFloats: pointwise ? 1 : plan.rows * patch) { _, columns in
                while true {
                    let chunk = next.take()
                    guard chunk < plan.chunks else { break }
                    let rows = plan.range(chunk, of: count)
                    let a: UnsafePointer<Float>
                    if pointwise {
                        a = xs.value + rows.lowerBound * patch
                    } else {
                        Im2col.gather(g, input: xs.value, rows: rows, into: columns, parallel: false)
                        a = UnsafePointer(columns)
                    }
                    let c = os.value + rows.lowerBound * filters
                    let residual = rs.value.map { $0 + rows.lowerBound * filters }
                    if let packed = ps.value {
                        PackedGEMM.multiply(m: rows.count, n: filters, k: patch, a: a, packed: packed, c: c,
                                            epilogue: epilogue, bias: bs.value, residual: residual, parallel: false)
                        continue
                    }
                    BLAS.sgemm(m: rows.count, n: filters, k: patch, a: a, lda: patch,
                               b: ws.value, ldb: filters, c: c, ldc: filters)
                    epilogue.apply(to: c, rows: rows.count, width: filters, bias: bs.value, residual: residual)
                }
            }
            return
        }
        if pointwise {
            if let packedKernel {
                PackedGEMM.multiply(m: count, n: filters, k: patch, a: x, packed: packedKernel, c: output,
                                    epilogue: epilogue, bias: bias, residual: residual, parallel: true)
                return
            }
            gemmByColumns(m: count, n: filters, k: patch, a: x, b: w, c: output, epilogue: epilogue, bias: bias,
                          residual: residual)
            return
        }
        Workspace.shared.withBuffer(floats: plan.rows * patch) { columns in
            for chunk in 0..<plan.chunks {
                let rows = plan.range(chunk, of: count)
                Im2col.gather(g, input: x, rows: rows, into: columns, parallel: true)
                let offset = rows.lowerBound * filters
                if let packedKernel {
                    PackedGEMM.multiply(m: rows.count, n: filters, k: patch, a: columns, packed: packedKernel,
                                        c: output + offset, epilogue: epilogue, bias: bias,
                                        residual: residual.map { $0 + offset }, parallel: true)
                } else {
                    gemmByColumns(m: rows.count, n: filters, k: patch, a: columns, b: w, c: output + offset,
                                  epilogue: epilogue, bias: bias, residual: residual.map { $0 + offset })
                }
            }
        }
    }

    /// Fewest output columns per thread for ``gemmByColumns``: one AVX-512 register block wide
    /// at least, so each thread's sgemm keeps full-width kernels.
    static let minimumColumnsPerThread = 32

    /// `c = epilogue((a · b + bias) + residual)` for a GEMM with too few rows to give each
    /// thread chunks of its own (a small batch of a deep layer): the output columns are split
    /// over the threads, each running a single-threaded sgemm on its columns and the epilogue
    /// on them while they are in its cache. Both cores work even at batch 1, and OpenBLAS'
    /// own threads never wake. `a` is `[m, k]`, `b` `[k, n]`, `c` and `residual` `[m, n]`.
    static func gemmByColumns(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                              c: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue,
                              bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?) {
        let threads = Parallel.isNested ? 1 : min(Parallel.threadCount, n / minimumColumnsPerThread)
        guard threads > 1, m * n * k >= 1 << 18 else {
            BLAS.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n)
            epilogue.applyInParallel(to: c, rows: m, width: n, bias: bias, residual: residual)
            return
        }
        // Split points on multiples of 16 columns (a cache line of floats).
        let blocks = (n + 15) / 16
        let plan = Plan(rows: 0, chunks: threads, perThread: true, threads: threads)
        let as_ = UncheckedSendable(a), bs = UncheckedSendable(b), cs = UncheckedSendable(c)
        let biases = UncheckedSendable(bias), residuals = UncheckedSendable(residual)
        onEveryThread(plan, bufferFloats: 1) { worker, _ in
            let first = min(n, blocks * worker / threads * 16), end = min(n, blocks * (worker + 1) / threads * 16)
            guard first < end else { return }
            let width = end - first
            BLAS.sgemm(m: m, n: width, k: k, a: as_.value, lda: k, b: bs.value + first, ldb: n, c: cs.value + first,
                       ldc: n)
            for row in 0..<m {
                epilogue.apply(to: cs.value + row * n + first, rows: 1, width: width,
                               bias: biases.value.map { $0 + first },
                               residual: residuals.value.map { $0 + row * n + first })
            }
        }
    }

    /// `c[r, j] = act(c[r, j] + b[j])` (no bias: activation only; nothing for linear).
    static func epilogue(_ bias: UnsafePointer<Float>?, relu: Bool, to c: UnsafeMutablePointer<Float>,
                         rows: Int, width: Int, parallel: Bool) {
        let epilogue: KernelEpilogue = relu ? .relu : .none
        if parallel {
            epilogue.applyInParallel(to: c, rows: rows, width: width, bias: bias, residual: nil)
        } else {
            epilogue.apply(to: c, rows: rows, width: width, bias: bias, residual: nil)
        }
    }
}

/// Hands out chunk indices to the threads of a per-thread plan, first come first served.
final class ChunkCounter: Sendable {
    private let next = Atomic<Int>(0)

    /// The next chunk index (past the last one once all are taken).
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}

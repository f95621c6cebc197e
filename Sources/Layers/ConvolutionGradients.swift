import Tensor

/// The backward passes of `ConvolutionKernels`: dX from the pre-activation dY, and dW.
extension ConvolutionKernels {
    /// Whether dX is computed as a forward convolution of dY with the rotated kernel (stride
    /// 1 only): no col2im scatter and no zero-fill. Not worth it for a handful of input
    /// channels (a GEMM only `channels` wide) or so few rows that rotating the kernel costs
    /// more than the scatter (or than half the workspace cap).
    static func usesTransposedConvolution(_ g: WindowGeometry, filters: Int) -> Bool {
        g.strideHeight == 1 && g.strideWidth == 1 && g.channels >= 16
            && g.patchLength * filters * 4 <= Workspace.capBytes / 2
            && g.padTop <= g.windowHeight - 1 && g.padLeft <= g.windowWidth - 1
            && g.batch * g.inputHeight * g.inputWidth >= Parallel.threadCount * minimumChunkRows
    }

    /// dX from dY (pre-activation). Stride 1: `dX = conv(dY, rot180(W) with in/out swapped)`;
    /// otherwise `dCols = dY · Wᵀ`, then col2im. With Winograd (3x3, stride 1) that stride-1
    /// convolution runs as a Winograd convolution; `kernelCache` as in `forward` (it keeps the
    /// transform of the rotated kernel).
    public static func inputGradient(_ g: WindowGeometry, outputGradient dy: Tensor, kernel: Tensor,
                                     kernelCache: WinogradKernelCache? = nil) -> Tensor {
        switch algorithm(for: .backwardData, g, filters: kernel.shape[3], cachedKernel: kernelCache != nil) {
        case .winograd2:
            return inputGradientByWinograd(WinogradF2.self, g, outputGradient: dy, kernel: kernel, cache: kernelCache)
        case .winograd3:
            return inputGradientByWinograd(WinogradF3.self, g, outputGradient: dy, kernel: kernel, cache: kernelCache)
        case .winograd4:
            return inputGradientByWinograd(WinogradF4.self, g, outputGradient: dy, kernel: kernel, cache: kernelCache)
        case .im2col, .automatic:
            return usesTransposedConvolution(g, filters: kernel.shape[3])
                ? inputGradientByTransposedConvolution(g, outputGradient: dy, kernel: kernel)
                : inputGradientByScatter(g, outputGradient: dy, kernel: kernel)
        }
    }

    /// dX as the Winograd convolution of dY with the rotated, in/out-swapped kernel.
    static func inputGradientByWinograd<W: WinogradVariant>(_ variant: W.Type, _ g: WindowGeometry,
                                                            outputGradient dy: Tensor, kernel: Tensor,
                                                            cache: WinogradKernelCache?) -> Tensor {
        let filters = kernel.shape[3]
        return Tensor(unsafeUninitializedShape: [g.batch, g.inputHeight, g.inputWidth, g.channels]) { dx in
            dy.withUnsafeBufferPointer { d in
                winograd(W.self, transposed(g, filters: filters), input: d.baseAddress!, kernel: kernel, rotated: true,
                         filters: g.channels, bias: nil, relu: false, output: dx.baseAddress!, cache: cache)
            }
        }
    }

    /// dX as the stride-1 convolution of dY with the rotated kernel (`g` must have stride 1
    /// and padding at most window - 1 on the top and left).
    static func inputGradientByTransposedConvolution(_ g: WindowGeometry, outputGradient dy: Tensor,
                                                     kernel: Tensor) -> Tensor {
        precondition(g.strideHeight == 1 && g.strideWidth == 1, "transposed convolution needs stride 1")
        let filters = kernel.shape[3]
        return Tensor(unsafeUninitializedShape: [g.batch, g.inputHeight, g.inputWidth, g.channels]) { dx in
            dy.withUnsafeBufferPointer { dyp in
                kernel.withUnsafeBufferPointer { w in
                    Workspace.shared.withBuffer(floats: kernel.count) { rotated in
                        Im2col.rotateKernel(w.baseAddress!, height: g.windowHeight, width: g.windowWidth,
                                            inputs: g.channels, outputs: filters, into: rotated)
                        convolve(transposed(g, filters: filters), input: dyp.baseAddress!, kernel: rotated,
                                 filters: g.channels, bias: nil, epilogue: .none, output: dx.baseAddress!,
                                 reservedBytes: kernel.count * 4)
                    }
                }
            }
        }
    }

    /// The geometry of the stride-1 convolution that maps dY (`filters` channels) to dX.
    static func transposed(_ g: WindowGeometry, filters: Int) -> WindowGeometry {
        var t = g
        t.inputHeight = g.outputHeight; t.inputWidth = g.outputWidth; t.channels = filters
        t.outputHeight = g.inputHeight; t.outputWidth = g.inputWidth
        t.padTop = g.windowHeight - 1 - g.padTop; t.padLeft = g.windowWidth - 1 - g.padLeft
        return t
    }

    /// dX by `dCols = dY · Wᵀ` and col2im (any stride and padding).
    static func inputGradientByScatter(_ g: WindowGeometry, outputGradient dy: Tensor, kernel: Tensor) -> Tensor {
        let filters = kernel.shape[3], patch = g.patchLength
        var dx = Tensor(zeros: [g.batch, g.inputHeight, g.inputWidth, g.channels])
        dx.withUnsafeMutableBufferPointer { dxp in
            dy.withUnsafeBufferPointer { dyp in
                kernel.withUnsafeBufferPointer { w in
                    if isPointwise(g) {
                        BLAS.sgemm(transposeB: true, m: g.outputPixels, n: patch, k: filters,
                                   a: dyp.baseAddress!, lda: filters, b: w.baseAddress!, ldb: filters,
                                   c: dxp.baseAddress!, ldc: patch)
                        return
                    }
                    let rows = max(1, min(g.outputPixels, Workspace.capBytes / 4 / patch))
                    Workspace.shared.withBuffer(floats: rows * patch) { columns in
                        var start = 0
                        while start < g.outputPixels {
                            let chunk = start..<min(g.outputPixels, start + rows)
                            BLAS.sgemm(transposeB: true, m: chunk.count, n: patch, k: filters,
                                       a: dyp.baseAddress! + chunk.lowerBound * filters, lda: filters,
                                       b: w.baseAddress!, ldb: filters, c: columns, ldc: patch)
                            Im2col.scatterAdd(g, columns: columns, rows: chunk, into: dxp.baseAddress!)
                            start = chunk.upperBound
                        }
                    }
                }
            }
        }
        return dx
    }

    /// dW from dY (pre-activation): `dW = Σ_chunks im2col(x)ᵀ · dY`, shaped `[kh, kw, c, f]`.
    /// Per-thread plans give each thread a fixed run of chunks and its own partial sum, added
    /// in thread order, so the result does not depend on timing.
    ///
    /// Winograd (stride 1, 3x3): `dW = Gᵀ (Σ_tiles Vᵀ · A dY Aᵀ) G` (`Winograd.kernelGradient`).
    public static func kernelGradient(_ g: WindowGeometry, input: Tensor, outputGradient dy: Tensor) -> Tensor {
        let filters = dy.shape[3], patch = g.patchLength, count = g.outputPixels
        let choice = algorithm(for: .backwardWeights, g, filters: filters)
        if choice != .im2col && choice != .automatic {
            return Tensor(unsafeUninitializedShape: [3, 3, g.channels, filters]) { dw in
                input.withUnsafeBufferPointer { xb in
                    dy.withUnsafeBufferPointer { db in
                        let x = xb.baseAddress!, d = db.baseAddress!, out = dw.baseAddress!
                        switch choice {
                        case .winograd2:
                            Winograd.kernelGradient(WinogradF2.self, g, input: x, outputGradient: d, filters: filters,
                                                    into: out)
                        case .winograd3:
                            Winograd.kernelGradient(WinogradF3.self, g, input: x, outputGradient: d, filters: filters,
                                                    into: out)
                        default:
                            Winograd.kernelGradient(WinogradF4.self, g, input: x, outputGradient: d, filters: filters,
                                                    into: out)
                        }
                    }
                }
            }
        }
        return Tensor(unsafeUninitializedShape: [g.windowHeight, g.windowWidth, g.channels, filters]) { dw in
            input.withUnsafeBufferPointer { xb in
                dy.withUnsafeBufferPointer { dyb in
                    let x = xb.baseAddress!, dyp = dyb.baseAddress!, out = dw.baseAddress!
                    guard count > 0 else { return out.update(repeating: 0, count: dw.count) }
                    if isPointwise(g) {
                        return BLAS.sgemm(transposeA: true, m: patch, n: filters, k: count, a: x, lda: patch,
                                          b: dyp, ldb: filters, c: out, ldc: filters)
                    }
                    // Per-thread plans need a partial dW per extra thread: only if they fit easily.
                    let partialBytes = (Parallel.threadCount - 1) * patch * filters * 4
                    let plan = plan(rows: count, rowFloats: patch, outputs: filters, reservedBytes: partialBytes,
                                    allowPerThread: partialBytes <= Workspace.capBytes / 2)
                    if plan.perThread {
                        kernelGradientPerThread(g, plan, x: x, dy: dyp, filters: filters, into: out)
                        return
                    }
                    Workspace.shared.withBuffer(floats: plan.rows * patch) { columns in
                        for chunk in 0..<plan.chunks {
                            let rows = plan.range(chunk, of: count)
                            Im2col.gather(g, input: x, rows: rows, into: columns, parallel: true)
                            BLAS.sgemm(transposeA: true, m: patch, n: filters, k: rows.count,
                                       a: columns, lda: patch, b: dyp + rows.lowerBound * filters,
                                       ldb: filters, beta: chunk == 0 ? 0 : 1, c: out, ldc: filters)
                        }
                    }
                }
            }
        }
    }

    /// Thread `t` sums chunks `[t*n/T, (t+1)*n/T)` into its partial `dW` (thread 0's is the
    /// output itself); the partials are then added in thread order.
    static func kernelGradientPerThread(_ g: WindowGeometry, _ plan: Plan, x: UnsafePointer<Float>,
                                        dy: UnsafePointer<Float>, filters: Int, into out: UnsafeMutablePointer<Float>) {
        let patch = g.patchLength, count = g.outputPixels, weights = patch * filters
        let xs = UncheckedSendable(x), dys = UncheckedSendable(dy), os = UncheckedSendable(out)
        Workspace.shared.withBuffer(floats: (plan.threads - 1) * weights) { partialBase in
            let ps = UncheckedSendable(partialBase)
            onEveryThread(plan, bufferFloats: plan.rows * patch) { worker, columns in
                let target = worker == 0 ? os.value : ps.value + (worker - 1) * weights
                let first = plan.chunks * worker / plan.threads, end = plan.chunks * (worker + 1) / plan.threads
                for chunk in first..<end {
                    let rows = plan.range(chunk, of: count)
                    Im2col.gather(g, input: xs.value, rows: rows, into: columns, parallel: false)
                    BLAS.sgemm(transposeA: true, m: patch, n: filters, k: rows.count, a: columns, lda: patch,
                               b: dys.value + rows.lowerBound * filters, ldb: filters,
                               beta: chunk == first ? 0 : 1, c: target, ldc: filters)
                }
                if first == end { target.update(repeating: 0, count: weights) }
            }
            Parallel.forEachRange(weights, grain: 1 << 14) { part in
                for t in 1..<plan.threads {
                    let p = ps.value + (t - 1) * weights
                    for i in part { os.value[i] += p[i] }
                }
            }
        }
    }
}

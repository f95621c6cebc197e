import CKernels
import Tensor

/// Winograd convolution for 3x3 stride-1 layers (see `WinogradTransforms.swift` for the
/// algebra): forward (with bias and ReLU fused into the output transform) and, through the
/// same code, dX as the convolution of dY with the rotated, in/out-swapped kernel.
///
/// Per chunk of tiles: the input transform writes `V = [α², rows, inputs]`, α² sgemm calls
/// `V[ξ] · U[ξ]` write `M = [α², rows, outputs]`, and the output transform turns each tile's
/// α² product vectors into its m x m output pixels. As in the im2col path, with enough tiles
/// every thread runs its own chunks end to end with single-threaded sgemm (buffers sized to
/// stay in cache, `Winograd.chunkBytes`); with few tiles or many channels, all threads
/// transform each chunk together and split its GEMMs by position (`WinogradPlan.make`).
///
/// `Workspace.capBytes` bounds the chunk buffers, which grow with the batch. A call also
/// holds weight-sized buffers outside the cap, like the kernel itself: the transformed kernel
/// (α²/9 times the kernel; for 512 x 512 channels 16.8 MB at F(2x2), 26.2 MB at F(3x3), 37.7 MB
/// at F(4x4)) and,
/// for dW, the Winograd-domain gradient of the same size.
public enum Winograd {
    /// Preferred size of one thread's transform buffers (V and M of its chunk): twice the
    /// core's 1 MB L2 cache measured best (1 MB: fewer tiles per GEMM; 4 MB: more misses).
    @TaskLocal public static var chunkBytes = 2 << 20

    /// Fewest tiles in a per-thread chunk: below this the GEMMs are too thin (OpenBLAS packs
    /// the whole `[inputs, outputs]` operand for every call).
    static let minimumChunkTiles = 48

    /// `U[ξ][c][f] = (G g[·,·,c,f] Gᵀ)[ξ]` for an HWIO kernel `[3, 3, inputs, outputs]`; with
    /// `rotated`, of the kernel turned by 180° (the transposed convolution of backward data,
    /// whose GEMMs then read `U[ξ]` transposed). `u` holds `α² * inputs * outputs` floats.
    static func transformKernel<W: WinogradVariant>(_: W.Type, _ w: UnsafePointer<Float>, inputs: Int, outputs: Int,
                                                     rotated: Bool, into u: UnsafeMutablePointer<Float>) {
        let count = inputs * outputs, lanesPer = WinogradVector.scalarCount
        let blocks = (count + lanesPer - 1) / lanesPer, positions = W.positions
        let src = UncheckedSendable(w), dst = UncheckedSendable(u)
        Parallel.forEachRange(blocks, grain: 256) { part in
            let scratchVectors = 9 + 3 * W.inputTile + positions
            withUnsafeTemporaryAllocation(of: WinogradVector.self, capacity: scratchVectors) { buffer in
                let g = buffer.baseAddress!, scratch = g + 9, result = scratch + 3 * W.inputTile
                for block in part {
                    let e0 = block * lanesPer, lanes = min(lanesPer, count - e0)
                    for tap in 0..<9 {
                        g[tap] = WinogradLanes.load(src.value + (rotated ? 8 - tap : tap) * count + e0, lanes)
                    }
                    W.transformKernelTile(g, scratch, into: result)
                    for p in 0..<positions { WinogradLanes.store(result[p], dst.value + p * count + e0, lanes) }
                }
            }
        }
    }

    /// `V[ξ][local][c]` for the tiles `tiles` (local index from 0), rows of V `positionStride`
    /// floats apart between positions. With whole 16-lane vectors of channels the column pass
    /// reads an interior tile straight from the input and the row pass writes straight into V.
    static func transformInput<W: WinogradVariant>(_: W.Type, _ tiling: WinogradTiling, _ x: UnsafePointer<Float>,
                                                   tiles: Range<Int>, into v: UnsafeMutablePointer<Float>,
                                                   positionStride: Int, parallel: Bool) {
        let g = tiling.geometry, c = g.channels, a = W.inputTile, lanesPer = WinogradVector.scalarCount
        let xs = UncheckedSendable(x), vs = UncheckedSendable(v)
        let whole = c % lanesPer == 0, vectors = c / lanesPer
        let grain = parallel ? max(1, 2048 / max(c, 1)) : tiles.count
        Parallel.forEachRange(tiles.count, grain: grain) { part in
            withUnsafeTemporaryAllocation(of: WinogradVector.self, capacity: W.scratchVectors) { buffer in
                let tile = buffer.baseAddress!, scratch = tile + W.positions
                for local in part {
                    let t = tiles.lowerBound + local
                    let (n, oh, ow) = tiling.origin(t)
                    let top = oh - g.padTop, left = ow - g.padLeft
                    let interior = whole && top >= 0 && left >= 0
                        && top + a <= g.inputHeight && left + a <= g.inputWidth
                    let out = vs.value + local * c
                    if whole {
                        let rowStride = g.inputWidth * vectors, stride = positionStride / lanesPer
                        let origin = interior
                            ? UnsafeRawPointer(xs.value + ((n * g.inputHeight + top) * g.inputWidth + left) * c)
                                .assumingMemoryBound(to: WinogradVector.self)
                            : UnsafePointer(tile)
                        let target = UnsafeMutableRawPointer(out).assumingMemoryBound(to: WinogradVector.self)
                        for block in 0..<vectors {
                            let source: UnsafePointer<WinogradVector>, columnStep: Int, sourceRow: Int
                            if interior {
                                source = origin + block; columnStep = vectors; sourceRow = rowStride
                            } else {
                                tiling.gatherInput(t, xs.value, channel: block * lanesPer, lanes: lanesPer, into: tile)
                                source = UnsafePointer(tile); columnStep = 1; sourceRow = a
                            }
                            for j in 0..<a { W.input(source + j * columnStep, sourceRow, scratch + j, a) }
                            for i in 0..<a { W.input(scratch + i * a, 1, target + block + i * a * stride, stride) }
                        }
                        continue
                    }
                    var c0 = 0
                    while c0 < c {
                        let lanes = min(lanesPer, c - c0)
                        tiling.gatherInput(t, xs.value, channel: c0, lanes: lanes, into: tile)
                        W.transformInputTile(tile, scratch)
                        for p in 0..<W.positions { WinogradLanes.store(tile[p], out + c0 + p * positionStride, lanes) }
                        c0 += lanesPer
                    }
                }
            }
        }
    }

    /// Output pixels of the tiles `tiles` from their products `M[ξ][local][f]`:
    /// `y = act(Aᵀ M A + bias)`, cut at the output's edge. The column pass reads M directly.
    static func transformOutput<W: WinogradVariant>(_: W.Type, _ tiling: WinogradTiling, _ mo: UnsafePointer<Float>,
                                                    tiles: Range<Int>, positionStride: Int, filters: Int,
                                                    bias: UnsafePointer<Float>?, relu: Bool,
                                                    output y: UnsafeMutablePointer<Float>, parallel: Bool) {
        let g = tiling.geometry, m = W.outputTile, a = W.inputTile, positions = W.positions
        let lanesPer = WinogradVector.scalarCount, whole = filters % lanesPer == 0
        let ms = UncheckedSendable(mo), ys = UncheckedSendable(y), bs = UncheckedSendable(bias)
        let grain = parallel ? max(1, 2048 / max(filters, 1)) : tiles.count
        Parallel.forEachRange(tiles.count, grain: grain) { part in
            withUnsafeTemporaryAllocation(of: WinogradVector.self, capacity: positions + m * a + m * m) { buffer in
                let tile = buffer.baseAddress!, scratch = tile + positions, result = scratch + m * a
                for local in part {
                    let (n, oh, ow) = tiling.origin(tiles.lowerBound + local)
                    let rows = min(m, g.outputHeight - oh), columns = min(m, g.outputWidth - ow)
                    let base = ys.value + ((n * g.outputHeight + oh) * g.outputWidth + ow) * filters
                    var f0 = 0
                    while f0 < filters {
                        let lanes = min(lanesPer, filters - f0)
                        let src = ms.value + local * filters + f0
                        if whole {
                            let column = UnsafeRawPointer(src).assumingMemoryBound(to: WinogradVector.self)
                            let stride = positionStride / lanesPer
                            for j in 0..<a { W.output(column + j * stride, a * stride, scratch + j, a) }
                        } else {
                            for p in 0..<positions { tile[p] = WinogradLanes.load(src + p * positionStride, lanes) }
                            for j in 0..<a { W.output(tile + j, a, scratch + j, a) }
                        }
                        for i in 0..<m { W.output(scratch + i * a, 1, result + i * m, 1) }
                        let b = bs.value.map { WinogradLanes.load($0 + f0, lanes) } ?? WinogradVector()
                        for i in 0..<rows {
                            let row = base + i * g.outputWidth * filters + f0
                            for j in 0..<columns {
                                var value = result[i * m + j] + b
                                // (`pointwiseMax` compiles to a loop over lanes here.)
                                if relu { value.replace(with: 0, where: value .< 0) }
                                WinogradLanes.store(value, row + j * filters, lanes)
                            }
                        }
                        f0 += lanesPer
                    }
                }
            }
        }
    }

    /// `output = act(conv3x3(input) + bias)` for a stride-1 geometry `g` with `inputs =
    /// g.channels`, from the transformed kernel `u`: `[α², inputs, filters]`, or with
    /// `kernelTransposed` `[α², filters, inputs]` (the rotated kernel of backward data).
    /// Every output element is written once.
    ///
    /// With `kernelPacked`, `u` holds each position's `[inputs, filters]` packed for
    /// `PackedGEMM` (`rubble_gemm_packed_count(inputs, filters)` floats apart) and the α² GEMMs
    /// run on it, single-threaded per chunk or per run of positions: no repacking per call.
    static func convolve<W: WinogradVariant>(_ variant: W.Type, _ g: WindowGeometry, input x: UnsafePointer<Float>,
                                             transformedKernel u: UnsafePointer<Float>, kernelTransposed: Bool,
                                             kernelPacked: Bool = false,
                                             filters: Int, bias: UnsafePointer<Float>?, relu: Bool,
                                             output y: UnsafeMutablePointer<Float>) {
        let tiling = WinogradTiling(g, outputTile: W.outputTile)
        let k = g.channels, n = filters, positions = W.positions, count = tiling.tiles
        let plan = WinogradPlan.make(tiles: count, rowFloats: positions * (k + n))
        let xs = UncheckedSendable(x), us = UncheckedSendable(u), ys = UncheckedSendable(y)
        let bs = UncheckedSendable(bias)
        // M starts on a 64-byte boundary: the transforms read it as 16-lane vectors.
        let vFloats = (plan.rows * positions * k + 15) / 16 * 16
        /// The α² GEMMs of one chunk of `rows` tiles.
        @inline(__always)
        func multiply(_ v: UnsafePointer<Float>, _ mo: UnsafeMutablePointer<Float>, rows: Int,
                      positions range: Range<Int>) {
            if kernelPacked {
                let stride = rubble_gemm_packed_count(k, n), panels = (n + 31) / 32
                for p in range {
                    rubble_gemm_packed(0, rows, 0, panels, n, k, v + p * plan.rows * k, k, us.value + p * stride,
                                       mo + p * plan.rows * n, n, nil, nil, n, KernelEpilogue.none.rawValue)
                }
                return
            }
            for p in range {
                BLAS.sgemm(transposeB: kernelTransposed, m: rows, n: n, k: k,
                           a: v + p * plan.rows * k, lda: k,
                           b: us.value + p * k * n, ldb: kernelTransposed ? k : n,
                           c: mo + p * plan.rows * n, ldc: n)
            }
        }
        if plan.perThread {
            let next = ChunkCounter()
            ConvolutionKernels.onEveryThread(
                ConvolutionKernels.Plan(rows: plan.rows, chunks: plan.chunks, perThread: true, threads: plan.threads),
                bufferFloats: vFloats + plan.rows * positions * n
            ) { _, buffer in
                let v = buffer, mo = buffer + vFloats
                while true {
                    let chunk = next.take()
                    guard chunk < plan.chunks else { break }
                    let tiles = plan.range(chunk, of: count)
                    transformInput(W.self, tiling, xs.value, tiles: tiles, into: v, positionStride: plan.rows * k,
                                   parallel: false)
                    multiply(v, mo, rows: tiles.count, positions: 0..<positions)
                    transformOutput(W.self, tiling, mo, tiles: tiles, positionStride: plan.rows * n, filters: n,
                                    bias: bs.value, relu: relu, output: ys.value, parallel: false)
                }
            }
            return
        }
        Workspace.shared.withBuffer(floats: vFloats + plan.rows * positions * n) { buffer in
            let v = UncheckedSendable(buffer), mo = UncheckedSendable(buffer + vFloats)
            for chunk in 0..<plan.chunks {
                let tiles = plan.range(chunk, of: count)
                transformInput(W.self, tiling, x, tiles: tiles, into: buffer, positionStride: plan.rows * k,
                               parallel: true)
                splitPositions(positions) { range in
                    multiply(v.value, mo.value, rows: tiles.count, positions: range)
                }
                transformOutput(W.self, tiling, mo.value, tiles: tiles, positionStride: plan.rows * n, filters: n,
                                bias: bias, relu: relu, output: y, parallel: true)
            }
        }
    }

    /// Runs `body` on disjoint runs of the `positions` GEMMs, one run per thread, with
    /// OpenBLAS held to one thread meanwhile.
    static func splitPositions(_ positions: Int, _ body: (Range<Int>) -> Void) {
        guard Parallel.threadCount > 1 else { return body(0..<positions) }
        BLAS.withOneThread { Parallel.forEachRange(positions, body) }
    }
}

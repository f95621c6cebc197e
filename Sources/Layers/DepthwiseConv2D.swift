import CKernels
import Tensor

/// Depthwise 2-D convolution over NHWC input (Keras `DepthwiseConv2D`): each input channel is
/// convolved with its own `depthMultiplier` filters and nothing is summed across channels.
///
/// Shapes:
/// - input `[batch, h, w, in]`
/// - `depthwise_kernel` `[kh, kw, in, multiplier]` (Keras' layout)
/// - `bias` `[in * multiplier]` (only with `useBias`)
/// - output `[batch, oh, ow, in * multiplier]`, output channel `c * multiplier + m` coming from
///   input channel `c` and filter `m` (Keras' order), `oh`/`ow` as for ``Conv2D`` with the same
///   stride and ``Padding`` (TensorFlow's "same": the odd padding pixel at the bottom/right).
///
/// There is no activation: in Keras' MobileNetV2 and EfficientNet a BatchNormalization and an
/// activation layer follow (those also build it with `use_bias=False`).
///
/// The kernels are direct NHWC loops, not im2col: for each output pixel the clipped window
/// (padding is never materialised) is accumulated with the channels innermost and contiguous,
/// in SIMD registers, rows of the batch spread over the cores.
public final class DepthwiseConv2D: Layer {
    public let name: String
    /// `[kh, kw, in, multiplier]`, Keras' weight name `depthwise_kernel`.
    public let depthwiseKernel: Parameter
    /// `[in * multiplier]`, or `nil` without a bias (Keras `use_bias=False`).
    public let bias: Parameter?
    public let stride: (height: Int, width: Int)
    public let padding: Padding

    /// The kernel is Keras' default `glorot_uniform` computed on the 4-D kernel shape as Keras
    /// does (`receptive = kh * kw`, `fan_in = in * receptive`, `fan_out = multiplier * receptive`);
    /// the bias starts at zero. Defaults are Keras' (`valid`, stride 1, multiplier 1, a bias)
    /// except the kernel size, which defaults to 3x3.
    public init(name: String, inputChannels: Int, kernelSize: (Int, Int) = (3, 3),
                stride: (Int, Int) = (1, 1), padding: Padding = .valid, depthMultiplier: Int = 1,
                useBias: Bool = true, rng: inout SeededGenerator) throws {
        for (setting, value) in [("kernel height", kernelSize.0), ("kernel width", kernelSize.1),
                                 ("stride height", stride.0), ("stride width", stride.1),
                                 ("input channels", inputChannels), ("depth multiplier", depthMultiplier)]
        where value < 1 {
            throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(value)", requirement: "must be >= 1")
        }
        self.name = name
        depthwiseKernel = Parameter(name: "depthwise_kernel", value: .glorotUniform(
            [kernelSize.0, kernelSize.1, inputChannels, depthMultiplier], using: &rng))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [inputChannels * depthMultiplier])) : nil
        self.stride = (stride.0, stride.1)
        self.padding = padding
    }

    public var parameters: [Parameter] { [depthwiseKernel] + (bias.map { [$0] } ?? []) }
    public var kernelSize: (height: Int, width: Int) { (depthwiseKernel.shape[0], depthwiseKernel.shape[1]) }
    public var inputChannels: Int { depthwiseKernel.shape[2] }
    public var depthMultiplier: Int { depthwiseKernel.shape[3] }
    /// `inputChannels * depthMultiplier`.
    public var outputChannels: Int { inputChannels * depthMultiplier }
    public var useBias: Bool { bias != nil }

    /// The geometry for an input shape, or a `shapeMismatch` naming this layer.
    public func geometry(for input: Shape) throws -> WindowGeometry {
        guard input.rank == 4, input[3] == inputChannels,
              let g = WindowGeometry(input: input, window: (kernelSize.height, kernelSize.width),
                                     stride: stride, padding: padding)
        else {
            let minimum = padding == .same ? (1, 1) : (kernelSize.height, kernelSize.width)
            throw LayerError.shapeMismatch(
                layer: name, expected: "[batch, h >= \(minimum.0), w >= \(minimum.1), \(inputChannels)]", got: input)
        }
        return g
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        let g = try geometry(for: inputs[0])
        return [g.batch, g.outputHeight, g.outputWidth, outputChannels]
    }

    /// `[batch, h, w, in]` -> `[batch, oh, ow, in * multiplier]`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try self(input, training: training, then: .linear)
    }

    /// `activation(self(input))`, the activation fused into the convolution's output pass when
    /// no gradient is recorded and it is ReLU or GELU (Mix-FFN's `dwconv` -> GELU).
    public func callAsFunction(_ input: Tensor, training: Bool, then activation: Activation) throws -> Tensor {
        let g = try geometry(for: input.shape)
        let k = depthwiseKernel.tracked, b = bias?.tracked
        let recording = Autograd.isRecording
            && (input.requiresGradient || k.requiresGradient || (b?.requiresGradient ?? false))
        let epilogue: KernelEpilogue? = recording ? nil : KernelEpilogue(activation)
        let multiplier = depthMultiplier
        let output = Tensor(unsafeUninitializedShape: [g.batch, g.outputHeight, g.outputWidth, outputChannels]) { y in
            input.withUnsafeBufferPointer { x in
                k.withUnsafeBufferPointer { kp in
                    if let b {
                        b.withUnsafeBufferPointer { bp in
                            DepthwiseKernels.forward(g, multiplier: multiplier, x.baseAddress!, kp.baseAddress!,
                                                     bp.baseAddress!, y.baseAddress!, epilogue: epilogue ?? .none)
                        }
                    } else {
                        DepthwiseKernels.forward(g, multiplier: multiplier, x.baseAddress!, kp.baseAddress!,
                                                 nil, y.baseAddress!, epilogue: epilogue ?? .none)
                    }
                }
            }
        }
        if epilogue != nil { return output }
        guard recording else { return activation.apply(output) }
        return activation.apply(recordingGradients(output, input: input, geometry: g, kernel: k, bias: b))
    }

    /// `output` with the pullbacks of the convolution to `input`, the kernel and the bias.
    private func recordingGradients(_ output: Tensor, input: Tensor, geometry g: WindowGeometry, kernel k: Tensor,
                                    bias b: Tensor?) -> Tensor {
        let multiplier = depthMultiplier
        let x = input.detached, kernelValue = k.detached
        let inputShape = input.shape, kernelShape = kernelValue.shape
        var pullbacks: [(Tensor, Pullback)] = [
            (input, { dy in
                Tensor(unsafeUninitializedShape: inputShape) { dx in
                    dy.withUnsafeBufferPointer { dyp in
                        kernelValue.withUnsafeBufferPointer { kp in
                            DepthwiseKernels.inputGradient(g, multiplier: multiplier, dyp.baseAddress!,
                                                           kp.baseAddress!, dx.baseAddress!)
                        }
                    }
                }
            }),
            (k, { dy in
                Tensor(unsafeUninitializedShape: kernelShape) { dk in
                    dy.withUnsafeBufferPointer { dyp in
                        x.withUnsafeBufferPointer { xp in
                            DepthwiseKernels.kernelGradient(g, multiplier: multiplier, xp.baseAddress!,
                                                            dyp.baseAddress!, dk.baseAddress!)
                        }
                    }
                }
            }),
        ]
        if let b { pullbacks.append((b, { dy in dy.sumOverLeadingAxes() })) }
        return output.recordingGradient(from: pullbacks)
    }
}

/// The direct NHWC loops of ``DepthwiseConv2D``. With multiplier 1 (MobileNet, EfficientNet,
/// SegFormer) the forward pass is the C kernel `rubble_depthwise_rows` and the gradients run
/// 16-wide SIMD blocks over the channels; larger multipliers run scalar loops.
enum DepthwiseKernels {
    typealias Vector = SIMD16<Float>
    /// Below this many multiply-adds a pass runs on one core.
    static let parallelWork = 1 << 15

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// The window rows (or columns) `first..<end` of output position `o` that fall inside an
    /// input of `size`, and the input position of window row 0 (possibly negative).
    @inline(__always)
    static func window(_ o: Int, stride: Int, pad: Int, window: Int, size: Int) -> (origin: Int, first: Int, end: Int) {
        let origin = o * stride - pad
        let first = max(0, -origin)
        return (origin, first, max(first, min(window, size - origin)))
    }

    /// The output rows (or columns) `first...last` whose window covers input position `i`
    /// (window row `i + pad - o * stride`); empty when `first > last`.
    @inline(__always)
    static func covering(_ i: Int, stride: Int, pad: Int, window: Int, outputs: Int) -> (first: Int, last: Int) {
        let t = i + pad
        let low = t - window + 1
        return (low <= 0 ? 0 : (low + stride - 1) / stride, min(outputs - 1, t / stride))
    }

    /// `y = epilogue(bias + depthwise(x, k))`; writes every element of `y`. Multiplier 1 runs
    /// the C kernel (channels in 16- or 8-wide vectors, ``Kernels``); larger multipliers a scalar
    /// loop, then the epilogue as its own pass.
    static func forward(_ g: WindowGeometry, multiplier: Int, _ x: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                        _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, epilogue: KernelEpilogue = .none) {
        let C = g.channels, CM = C * multiplier, KW = g.windowWidth, W = g.inputWidth
        let rows = g.batch * g.outputHeight
        let rowWork = g.outputWidth * CM * g.windowHeight * g.windowWidth
        let xs = UncheckedSendable(x), ks = UncheckedSendable(k), bs = UncheckedSendable(bias), ys = UncheckedSendable(y)
        if multiplier == 1 {
            var geometry = rubble_window_geometry(
                batch: g.batch, input_height: g.inputHeight, input_width: g.inputWidth, channels: g.channels,
                window_height: g.windowHeight, window_width: g.windowWidth, stride_height: g.strideHeight,
                stride_width: g.strideWidth, output_height: g.outputHeight, output_width: g.outputWidth,
                pad_top: g.padTop, pad_left: g.padLeft)
            withUnsafePointer(to: &geometry) { geometry in
                let gs = UncheckedSendable(geometry)
                Parallel.forEachRange(rows, grain: max(1, parallelWork / max(rowWork, 1))) { range in
                    rubble_depthwise_rows(gs.value, xs.value, ks.value, bs.value, ys.value, range.lowerBound,
                                          range.upperBound, epilogue.rawValue)
                }
            }
            return
        }
        Parallel.forEachRange(rows, grain: max(1, parallelWork / max(rowWork, 1))) { range in
            let x = xs.value, k = ks.value, bias = bs.value, y = ys.value
            for row in range {
                let n = row / g.outputHeight, oh = row % g.outputHeight
                let r = window(oh, stride: g.strideHeight, pad: g.padTop, window: g.windowHeight, size: g.inputHeight)
                for ow in 0..<g.outputWidth {
                    let c = window(ow, stride: g.strideWidth, pad: g.padLeft, window: KW, size: W)
                    // Flat index of input pixel (r.origin, c.origin) of image n; only taps inside
                    // the image are ever added to it.
                    let origin = ((n * g.inputHeight + r.origin) * W + c.origin) * C
                    let out = y + (row * g.outputWidth + ow) * CM
                    for ch in 0..<C {
                        for m in 0..<multiplier {
                            let o = ch * multiplier + m
                            var acc = bias?[o] ?? 0
                            for i in r.first..<r.end {
                                for j in c.first..<c.end {
                                    acc += x[origin + (i * W + j) * C + ch] * k[(i * KW + j) * CM + o]
                                }
                            }
                            out[o] = acc
                        }
                    }
                }
            }
        }
        epilogue.applyInParallel(to: y, rows: rows * g.outputWidth, width: CM, bias: nil, residual: nil)
    }

    /// `dx[n, ih, iw, c] = sum over the outputs whose window covers (ih, iw), and over m, of
    /// dy[n, oh, ow, c*M + m] * k[ih + pad - oh*s, iw + pad - ow*s, c, m]`, gathered per input
    /// pixel (no scatter, so rows of the input run in parallel); writes every element of `dx`.
    static func inputGradient(_ g: WindowGeometry, multiplier: Int, _ dy: UnsafePointer<Float>,
                              _ k: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let C = g.channels, CM = C * multiplier, KW = g.windowWidth, OW = g.outputWidth
        let sh = g.strideHeight, sw = g.strideWidth
        let rows = g.batch * g.inputHeight
        let rowWork = g.inputWidth * CM * g.windowHeight * g.windowWidth / max(sh * sw, 1)
        let dys = UncheckedSendable(dy), ks = UncheckedSendable(k), dxs = UncheckedSendable(dx)
        Parallel.forEachRange(rows, grain: max(1, parallelWork / max(rowWork, 1))) { range in
            let dy = dys.value, k = ks.value, dx = dxs.value
            for row in range {
                let n = row / g.inputHeight, ih = row % g.inputHeight
                let r = covering(ih, stride: sh, pad: g.padTop, window: g.windowHeight, outputs: g.outputHeight)
                let iOrigin = ih + g.padTop
                for iw in 0..<g.inputWidth {
                    let c = covering(iw, stride: sw, pad: g.padLeft, window: KW, outputs: OW)
                    let jOrigin = iw + g.padLeft
                    let out = dx + (row * g.inputWidth + iw) * C
                    if r.first > r.last || c.first > c.last {
                        out.update(repeating: 0, count: C)
                        continue
                    }
                    if multiplier == 1 {
                        var o = 0
                        while o + 2 * Vector.scalarCount <= C {
                            var acc0 = Vector.zero, acc1 = Vector.zero
                            for oh in r.first...r.last {
                                let i = iOrigin - oh * sh
                                var dyp = dy + (((n * g.outputHeight + oh) * OW + c.first) * C + o)
                                var kp = k + ((i * KW + jOrigin - c.first * sw) * C + o)
                                for _ in c.first...c.last {
                                    acc0 += load(dyp) * load(kp)
                                    acc1 += load(dyp + Vector.scalarCount) * load(kp + Vector.scalarCount)
                                    dyp += C; kp -= sw * C
                                }
                            }
                            store(acc0, out + o)
                            store(acc1, out + o + Vector.scalarCount)
                            o += 2 * Vector.scalarCount
                        }
                        while o + Vector.scalarCount <= C {
                            var acc = Vector.zero
                            for oh in r.first...r.last {
                                let i = iOrigin - oh * sh
                                var dyp = dy + (((n * g.outputHeight + oh) * OW + c.first) * C + o)
                                var kp = k + ((i * KW + jOrigin - c.first * sw) * C + o)
                                for _ in c.first...c.last {
                                    acc += load(dyp) * load(kp)
                                    dyp += C; kp -= sw * C
                                }
                            }
                            store(acc, out + o)
                            o += Vector.scalarCount
                        }
                        while o < C {
                            var acc: Float = 0
                            for oh in r.first...r.last {
                                let i = iOrigin - oh * sh
                                for ow in c.first...c.last {
                                    let j = jOrigin - ow * sw
                                    acc += dy[((n * g.outputHeight + oh) * OW + ow) * C + o] * k[(i * KW + j) * C + o]
                                }
                            }
                            out[o] = acc
                            o += 1
                        }
                    } else {
                        for ch in 0..<C {
                            var acc: Float = 0
                            for oh in r.first...r.last {
                                let i = iOrigin - oh * sh
                                for ow in c.first...c.last {
                                    let j = jOrigin - ow * sw
                                    let dyp = dy + ((n * g.outputHeight + oh) * OW + ow) * CM + ch * multiplier
                                    let kp = k + (i * KW + j) * CM + ch * multiplier
                                    for m in 0..<multiplier { acc += dyp[m] * kp[m] }
                                }
                            }
                            out[ch] = acc
                        }
                    }
                }
            }
        }
    }

    /// `dk[i, j, c, m] = sum over n, oh, ow of x[n, oh*s - pad + i, ow*s - pad + j, c] *
    /// dy[n, oh, ow, c*M + m]`. For each output row and tap the sum along the row is kept in
    /// registers and added to `dk` once. The output rows are cut into a fixed number of chunks
    /// (set by the shapes, not the thread count, so the result does not depend on it); each chunk
    /// sums into its own buffer and the buffers are added in chunk order. Writes every element of `dk`.
    static func kernelGradient(_ g: WindowGeometry, multiplier: Int, _ x: UnsafePointer<Float>,
                               _ dy: UnsafePointer<Float>, _ dk: UnsafeMutablePointer<Float>) {
        let C = g.channels, CM = C * multiplier, KW = g.windowWidth, W = g.inputWidth, OW = g.outputWidth
        let sw = g.strideWidth, pl = g.padLeft
        let kernelCount = g.windowHeight * KW * CM
        let rows = g.batch * g.outputHeight
        let work = rows * OW * kernelCount
        let chunks = max(1, min(rows, 8, work / parallelWork))
        dk.update(repeating: 0, count: kernelCount)
        guard rows > 0 else { return }
        // Chunk 0 sums straight into dk; the others into scratch.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, (chunks - 1) * kernelCount))
        defer { scratch.deallocate() }
        scratch.update(repeating: 0, count: (chunks - 1) * kernelCount)
        let xs = UncheckedSendable(x), dys = UncheckedSendable(dy)
        let dks = UncheckedSendable(dk), ss = UncheckedSendable(scratch)
        Parallel.forEachRange(chunks) { chunkRange in
            let x = xs.value, dy = dys.value
            for chunk in chunkRange {
                let acc = chunk == 0 ? dks.value : ss.value + (chunk - 1) * kernelCount
                for row in rows * chunk / chunks..<rows * (chunk + 1) / chunks {
                    let n = row / g.outputHeight, oh = row % g.outputHeight
                    let r = window(oh, stride: g.strideHeight, pad: g.padTop, window: g.windowHeight, size: g.inputHeight)
                    let dyRow = dy + row * OW * CM
                    for i in r.first..<r.end {
                        let xRow = x + (n * g.inputHeight + r.origin + i) * W * C
                        for j in 0..<KW {
                            // The outputs ow whose tap j lands inside the row: 0 <= ow*sw - pl + j < W.
                            let last = W - 1 + pl - j
                            guard last >= 0 else { continue }
                            let first = pl - j <= 0 ? 0 : (pl - j + sw - 1) / sw
                            let end = min(OW, last / sw + 1)
                            guard first < end else { continue }
                            let kp = acc + (i * KW + j) * CM
                            let x0 = xRow + (first * sw - pl + j) * C, dy0 = dyRow + first * CM
                            if multiplier == 1 {
                                var o = 0
                                while o + 2 * Vector.scalarCount <= C {
                                    var a0 = Vector.zero, a1 = Vector.zero
                                    var xp = x0 + o, gp = dy0 + o
                                    for _ in first..<end {
                                        a0 += load(xp) * load(gp)
                                        a1 += load(xp + Vector.scalarCount) * load(gp + Vector.scalarCount)
                                        xp += sw * C; gp += C
                                    }
                                    store(load(kp + o) + a0, kp + o)
                                    store(load(kp + o + Vector.scalarCount) + a1, kp + o + Vector.scalarCount)
                                    o += 2 * Vector.scalarCount
                                }
                                while o + Vector.scalarCount <= C {
                                    var a = Vector.zero
                                    var xp = x0 + o, gp = dy0 + o
                                    for _ in first..<end {
                                        a += load(xp) * load(gp)
                                        xp += sw * C; gp += C
                                    }
                                    store(load(kp + o) + a, kp + o)
                                    o += Vector.scalarCount
                                }
                                while o < C {
                                    var a: Float = 0
                                    for ow in first..<end { a += x0[(ow - first) * sw * C + o] * dy0[(ow - first) * C + o] }
                                    kp[o] += a
                                    o += 1
                                }
                            } else {
                                for ow in first..<end {
                                    let xp = x0 + (ow - first) * sw * C, gp = dy0 + (ow - first) * CM
                                    for ch in 0..<C {
                                        let v = xp[ch]
                                        for m in 0..<multiplier { kp[ch * multiplier + m] += v * gp[ch * multiplier + m] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for chunk in 1..<chunks {
            let part = scratch + (chunk - 1) * kernelCount
            for e in 0..<kernelCount { dk[e] += part[e] }
        }
    }
}

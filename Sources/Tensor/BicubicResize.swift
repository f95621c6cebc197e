extension Tensor {
    /// Bicubic resampling of feature maps `[batch, height, width, channels]` to
    /// `[batch, toHeight, toWidth, channels]` with PyTorch's `interpolate(mode="bicubic",
    /// antialias=False)` rules (`upsample_bicubic2d` on a CPU, float32 arithmetic):
    /// - source coordinate `(dst + 0.5) · in/out - 0.5` (not clamped at 0) for
    ///   `alignCorners == false`, `dst · (in - 1)/(out - 1)` (0 when `out == 1`) for `true`;
    /// - the four taps `floor(src) - 1 ... floor(src) + 2`, each clamped into the image (edge
    ///   pixels repeat), weighted by Keys' cubic convolution with `A = -0.75` at the fraction
    ///   `t = src - floor(src)`;
    /// - each output `Σ_i wy_i (Σ_j wx_j x[y_i, x_j])`, rows outermost, as PyTorch sums them.
    ///
    /// What transformers' DINOv2 uses to fit its position embeddings to another patch grid. The
    /// gradient scatters each output gradient back onto its sixteen taps with the same weights.
    public func resizedBicubic(height toHeight: Int, width toWidth: Int, alignCorners: Bool) -> Tensor {
        precondition(rank == 4 && shape[1] > 0 && shape[2] > 0 && toHeight > 0 && toWidth > 0,
                     "bicubic resize of \(shape) to \(toHeight)x\(toWidth)")
        let (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        let rows = BicubicTaps(input: height, output: toHeight, alignCorners: alignCorners)
        let cols = BicubicTaps(input: width, output: toWidth, alignCorners: alignCorners)
        let out = Tensor.uninitialized([batch, toHeight, toWidth, channels])
        let src = UncheckedSendable(storage.base), dst = UncheckedSendable(out.storage.base)
        Parallel.forEachRange(batch * toHeight, grain: Swift.max(1, 4096 / Swift.max(toWidth * channels, 1))) { range in
            for row in range {
                let item = row / toHeight, y = row % toHeight
                let image = src.value + item * height * width * channels
                var target = dst.value + row * toWidth * channels
                for x in 0..<toWidth {
                    for c in 0..<channels {
                        var sum: Float = 0
                        for i in 0..<4 {
                            let line = image + rows.index[4 * y + i] * width * channels + c
                            var inner = line[cols.index[4 * x] * channels] * cols.weight[4 * x]
                            for j in 1..<4 { inner += line[cols.index[4 * x + j] * channels] * cols.weight[4 * x + j] }
                            if i == 0 { sum = inner * rows.weight[4 * y] } else { sum += inner * rows.weight[4 * y + i] }
                        }
                        target[c] = sum
                    }
                    target += channels
                }
            }
        }
        let inputShape = shape
        return out.recordingGradient(from: self) { grad in
            Tensor.bicubicResizeGradient(grad, to: inputShape, rows: rows, cols: cols)
        }
    }

    /// The transpose of ``resizedBicubic(height:width:alignCorners:)``: (item, channel) units in
    /// parallel, so each worker scatters into its own elements.
    static func bicubicResizeGradient(_ grad: Tensor, to inputShape: Shape, rows: BicubicTaps,
                                      cols: BicubicTaps) -> Tensor {
        let (batch, height, width, channels) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (toHeight, toWidth) = (grad.shape[1], grad.shape[2])
        let out = Tensor(zeros: inputShape)
        let src = UncheckedSendable(grad.storage.base), dst = UncheckedSendable(out.storage.base)
        Parallel.forEachRange(batch * channels, grain: 1) { range in
            for unit in range {
                let item = unit / channels, c = unit % channels
                let image = dst.value + item * height * width * channels + c
                let gradImage = src.value + item * toHeight * toWidth * channels + c
                for y in 0..<toHeight {
                    for x in 0..<toWidth {
                        let g = gradImage[(y * toWidth + x) * channels]
                        for i in 0..<4 {
                            let line = image + rows.index[4 * y + i] * width * channels
                            let gy = g * rows.weight[4 * y + i]
                            for j in 0..<4 { line[cols.index[4 * x + j] * channels] += gy * cols.weight[4 * x + j] }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// For each output index along one axis: its four source indices (clamped into the input) and
/// their cubic-convolution weights, `4 * index + tap`.
struct BicubicTaps: Sendable {
    var index: [Int], weight: [Float]

    /// Keys' cubic convolution coefficient, PyTorch's `A`.
    static let a: Float = -0.75

    init(input: Int, output: Int, alignCorners: Bool) {
        index = []; weight = []
        index.reserveCapacity(4 * output); weight.reserveCapacity(4 * output)
        let scale: Float = alignCorners ? (output > 1 ? Float(input - 1) / Float(output - 1) : 0)
                                        : Float(input) / Float(output)
        for o in 0..<output {
            let source = alignCorners ? scale * Float(o) : scale * (Float(o) + 0.5) - 0.5
            // PyTorch's guard_index_and_lambda.
            let first = Swift.min(Int(source.rounded(.down)), input - 1)
            let t = Swift.min(Swift.max(source - Float(first), 0), 1)
            for tap in 0..<4 { index.append(Swift.min(Swift.max(first - 1 + tap, 0), input - 1)) }
            let a = Self.a
            func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
            func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            let u = 1 - t
            weight.append(contentsOf: [far(t + 1), near(t), near(u), far(u + 1)])
        }
    }
}

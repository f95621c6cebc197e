import Tensor

/// The mean over height and width of NHWC input (Keras `GlobalAveragePooling2D`).
///
/// `[batch, h, w, c]` -> `[batch, c]`, or `[batch, 1, 1, c]` with `keepDims` (Keras
/// `keepdims=True`; the default is false). The gradient spreads `dy / (h * w)` over every pixel.
/// Work is split over images and blocks of channels, so one image also uses every core.
public final class GlobalAveragePooling2D: Layer {
    public let name: String
    public let keepDims: Bool

    public init(name: String = "global_average_pooling2d", keepDims: Bool = false) {
        self.name = name
        self.keepDims = keepDims
    }

    public var parameters: [Parameter] { [] }
    public var kerasClassName: String { "GlobalAveragePooling2D" }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        let s = try checked(inputs[0])
        return keepDims ? [s[0], 1, 1, s[3]] : [s[0], s[3]]
    }

    private func checked(_ shape: Shape) throws -> Shape {
        guard shape.rank == 4, shape[1] >= 1, shape[2] >= 1 else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, h >= 1, w >= 1, channels]", got: shape)
        }
        return shape
    }

    /// Channels per work item.
    static let block = 64

    /// `[batch, h, w, c]` -> `[batch, c]` (`[batch, 1, 1, c]` with `keepDims`)
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let s = try checked(input.shape)
        let batch = s[0], pixels = s[1] * s[2], c = s[3]
        let blocks = (c + Self.block - 1) / Self.block
        let scale = 1 / Float(pixels)
        let output = Tensor(unsafeUninitializedShape: try outputShape(for: [s])) { y in
            input.withUnsafeBufferPointer { x in
                let xs = UncheckedSendable(x.baseAddress!), ys = UncheckedSendable(y.baseAddress!)
                let grain = max(1, (1 << 15) / max(pixels * Self.block, 1))
                Parallel.forEachRange(batch * blocks, grain: grain) { items in
                    for item in items {
                        let n = item / blocks, start = (item % blocks) * Self.block
                        let width = min(Self.block, c - start)
                        let out = ys.value + n * c + start
                        out.update(repeating: 0, count: width)
                        var p = xs.value + n * pixels * c + start
                        for _ in 0..<pixels {
                            for k in 0..<width { out[k] += p[k] }
                            p += c
                        }
                        for k in 0..<width { out[k] *= scale }
                    }
                }
            }
        }
        return output.recordingGradient(from: input) { dy in
            Tensor(unsafeUninitializedShape: s) { dx in
                dy.withUnsafeBufferPointer { g in
                    let gs = UncheckedSendable(g.baseAddress!), ds = UncheckedSendable(dx.baseAddress!)
                    let rows = batch * s[1], rowFloats = s[2] * c
                    Parallel.forEachRange(rows, grain: max(1, (1 << 16) / max(rowFloats, 1))) { range in
                        for row in range {
                            let n = row / s[1]
                            let source = gs.value + n * c
                            var out = ds.value + row * rowFloats
                            for _ in 0..<s[2] {
                                for k in 0..<c { out[k] = source[k] * scale }
                                out += c
                            }
                        }
                    }
                }
            }
        }
    }
}

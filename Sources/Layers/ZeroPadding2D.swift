import Tensor

/// Pads the height and width of NHWC input with zeros (Keras `ZeroPadding2D`).
///
/// `[batch, h, w, c]` -> `[batch, top + h + bottom, left + w + right, c]`. Padding may be
/// asymmetric: MobileNetV2's `correct_pad` gives `((0, 1), (0, 1))` before a stride-2
/// depthwise convolution of an even-sized input. The gradient is the output gradient cropped
/// back to the input's window.
public final class ZeroPadding2D: Layer {
    public let name: String
    /// Rows added above and below.
    public let rows: (top: Int, bottom: Int)
    /// Columns added on the left and on the right.
    public let columns: (left: Int, right: Int)

    /// Keras' `padding=((top, bottom), (left, right))`; every amount must be >= 0.
    public init(name: String = "zero_padding2d", padding: ((Int, Int), (Int, Int))) throws {
        for (setting, value) in [("top padding", padding.0.0), ("bottom padding", padding.0.1),
                                 ("left padding", padding.1.0), ("right padding", padding.1.1)] where value < 0 {
            throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(value)", requirement: "must be >= 0")
        }
        self.name = name
        rows = (padding.0.0, padding.0.1)
        columns = (padding.1.0, padding.1.1)
    }

    /// Keras' `padding=n` (the default is 1): `n` on every side.
    public convenience init(name: String = "zero_padding2d", padding: Int = 1) throws {
        try self.init(name: name, padding: ((padding, padding), (padding, padding)))
    }

    /// Keras' `padding=(rows, columns)`: symmetric per axis.
    public convenience init(name: String = "zero_padding2d", padding: (rows: Int, columns: Int)) throws {
        try self.init(name: name, padding: ((padding.rows, padding.rows), (padding.columns, padding.columns)))
    }

    public var parameters: [Parameter] { [] }
    public var kerasClassName: String { "ZeroPadding2D" }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        let s = try checked(inputs[0])
        return [s[0], s[1] + rows.top + rows.bottom, s[2] + columns.left + columns.right, s[3]]
    }

    private func checked(_ shape: Shape) throws -> Shape {
        guard shape.rank == 4 else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, h, w, channels]", got: shape)
        }
        return shape
    }

    /// `[batch, h, w, c]` -> `[batch, top + h + bottom, left + w + right, c]`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let inputShape = try checked(input.shape)
        let outputShape = try outputShape(for: [inputShape])
        let (top, left) = (rows.top, columns.left)
        let output = Tensor(unsafeUninitializedShape: outputShape) { y in
            input.withUnsafeBufferPointer { x in
                Self.pad(x.baseAddress!, inputShape, into: y.baseAddress!, outputShape, top: top, left: left)
            }
        }
        return output.recordingGradient(from: input) { dy in
            Tensor(unsafeUninitializedShape: inputShape) { dx in
                dy.withUnsafeBufferPointer { g in
                    Self.crop(g.baseAddress!, outputShape, into: dx.baseAddress!, inputShape, top: top, left: left)
                }
            }
        }
    }

    /// Writes every element of `y`: zeros, then each input row at (`top`, `left`).
    static func pad(_ x: UnsafePointer<Float>, _ inShape: Shape, into y: UnsafeMutablePointer<Float>,
                    _ outShape: Shape, top: Int, left: Int) {
        let h = inShape[1], w = inShape[2], c = inShape[3], oh = outShape[1], ow = outShape[2]
        let rowFloats = ow * c, inRow = w * c, before = left * c, after = rowFloats - before - inRow
        let xs = UncheckedSendable(x), ys = UncheckedSendable(y)
        Parallel.forEachRange(outShape[0] * oh, grain: max(1, (1 << 16) / max(rowFloats, 1))) { range in
            for row in range {
                let n = row / oh, r = row % oh - top
                let out = ys.value + row * rowFloats
                guard r >= 0, r < h else {
                    out.update(repeating: 0, count: rowFloats)
                    continue
                }
                out.update(repeating: 0, count: before)
                (out + before).update(from: xs.value + (n * h + r) * inRow, count: inRow)
                (out + before + inRow).update(repeating: 0, count: after)
            }
        }
    }

    /// Writes every element of `dx`: the window of `dy` at (`top`, `left`).
    static func crop(_ dy: UnsafePointer<Float>, _ outShape: Shape, into dx: UnsafeMutablePointer<Float>,
                     _ inShape: Shape, top: Int, left: Int) {
        let h = inShape[1], w = inShape[2], c = inShape[3], oh = outShape[1], ow = outShape[2]
        let inRow = w * c
        let gs = UncheckedSendable(dy), ds = UncheckedSendable(dx)
        Parallel.forEachRange(inShape[0] * h, grain: max(1, (1 << 16) / max(inRow, 1))) { range in
            for row in range {
                let n = row / h, r = row % h
                (ds.value + row * inRow).update(from: gs.value + ((n * oh + r + top) * ow + left) * c, count: inRow)
            }
        }
    }
}

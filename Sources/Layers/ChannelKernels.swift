import Tensor

/// Fused per-channel kernels over `[rows, channels]` data (channels innermost and contiguous:
/// NHWC activations, `[batch, features]`), shared by `BatchNormalization`, `Normalization` and
/// `Rescaling`. Loops run over raw pointers, parallel over rows.
enum ChannelKernels {
    /// Elements per part below which a loop is not split across threads.
    static let grainElements = 1 << 14

    /// How many parts `rows` rows of `channels` values are split into.
    static func parts(rows: Int, channels: Int) -> Int {
        max(1, min(Parallel.threadCount, rows * channels / grainElements))
    }

    /// `y[r, c] = (x[r, c] - center[c]) * scale[c] + shift[c]`; `center`/`shift` `nil` mean zero.
    static func affine(_ x: Tensor, channels: Int, center: [Float]?, scale: [Float], shift: [Float]?) -> Tensor {
        let rows = channels == 0 ? 0 : x.count / channels
        return Tensor(unsafeUninitializedShape: x.shape) { out in
            guard rows > 0 else { return }
            x.withUnsafeBufferPointer { xb in
                withOptional(center) { m in
                    scale.withUnsafeBufferPointer { s in
                        withOptional(shift) { b in
                            let xs = UncheckedSendable(xb.baseAddress!), ys = UncheckedSendable(out.baseAddress!)
                            let ms = UncheckedSendable(m), ss = UncheckedSendable(s.baseAddress!), bs = UncheckedSendable(b)
                            Parallel.forEachRange(rows, grain: max(1, grainElements / channels)) { part in
                                affineRows(xs.value, ys.value, rows: part, channels: channels, center: ms.value,
                                           scale: ss.value, shift: bs.value)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func affineRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, channels: Int,
                           center: UnsafePointer<Float>?, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>?) {
        for r in rows {
            let xr = x + r * channels, yr = y + r * channels
            switch (center, shift) {
            case let (m?, b?): for c in 0..<channels { yr[c] = (xr[c] - m[c]) * scale[c] + b[c] }
            case let (m?, nil): for c in 0..<channels { yr[c] = (xr[c] - m[c]) * scale[c] }
            case let (nil, b?): for c in 0..<channels { yr[c] = xr[c] * scale[c] + b[c] }
            case (nil, nil): for c in 0..<channels { yr[c] = xr[c] * scale[c] }
            }
        }
    }

    /// Per-channel sums over all rows, in Double: `body(rows, sums)` adds the contribution of
    /// its rows into `sums` (`lanes * channels` zeroed Doubles: lane `k` of channel `c` at
    /// `k * channels + c`). Each part of the rows accumulates into its own buffer; the parts are
    /// merged in order, so the result does not depend on thread timing.
    static func sums(rows: Int, channels: Int, lanes: Int,
                     _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let width = lanes * channels
        let parts = parts(rows: rows, channels: channels)
        var partials = [Double](repeating: 0, count: parts * width)
        partials.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable(body)
                Parallel.forEachRange(parts) { range in
                    for part in range {
                        work.value(rows * part / parts..<rows * (part + 1) / parts, base.value + part * width)
                    }
                }
            }
        }
        guard parts > 1 else { return partials }
        var total = [Double](partials[0..<width])
        for part in 1..<parts {
            for i in 0..<width { total[i] += partials[part * width + i] }
        }
        return total
    }

    /// Calls `body` with the array's base address, or `nil` for no array.
    @inline(__always)
    static func withOptional<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

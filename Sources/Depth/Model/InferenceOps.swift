import CKernels
import Tensor

/// In-place passes of the backbone's inference (no gradients): each overwrites a fresh
/// activation instead of allocating another.
extension Tensor {
    /// `self = residual + self · scale` per channel (`scale [channels]`, the last axis), or
    /// `self · scale` without a residual: LayerScale and the residual add in one pass.
    mutating func scaleChannels(by scale: Tensor, adding residual: Tensor? = nil) {
        let channels = shape.dims.last ?? 1
        precondition(scale.shape == [channels] && (residual.map { $0.shape == shape } ?? true),
                     "scaling \(shape) by \(scale.shape) adding \(residual?.shape.dims ?? [])")
        let rows = channels == 0 ? 0 : count / channels
        let residualValues = residual ?? self
        withUnsafeMutableBufferPointer { y in
            scale.withUnsafeBufferPointer { s in
                residualValues.withUnsafeBufferPointer { r in
                    let pointers = UncheckedSendable((y.baseAddress!, s.baseAddress!, r.baseAddress!))
                    let add = residual != nil
                    Parallel.forEachRange(rows, grain: Swift.max(1, 16384 / Swift.max(channels, 1))) { range in
                        let (y, s, r) = pointers.value
                        for row in range {
                            let base = row * channels
                            if add {
                                for j in 0..<channels { y[base + j] = r[base + j] + y[base + j] * s[j] }
                            } else {
                                for j in 0..<channels { y[base + j] *= s[j] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// GELU (the exact erf form of ``Tensor/gelu()``) in place.
    mutating func applyGELU() {
        withUnsafeMutableBufferPointer { y in
            let pointer = UncheckedSendable(y.baseAddress!)
            Parallel.forEachRange(y.count, grain: 1 << 15) { range in
                rubble_gelu(pointer.value + range.lowerBound, pointer.value + range.lowerBound, range.count)
            }
        }
    }
}

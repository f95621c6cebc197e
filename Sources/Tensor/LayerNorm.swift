import CKernels
import Foundation

extension Tensor {
    /// Layer normalisation over the last axis (PyTorch `nn.LayerNorm(d)`, Keras `LayerNormalization(axis=-1)`):
    /// `(x - mean) / √(var + epsilon) * gamma + beta` with the biased variance of each row.
    ///
    /// - Parameters:
    ///   - gamma: `[d]` scale, `d` the size of the last axis.
    ///   - beta: `[d]` offset.
    /// Statistics by the corrected two-pass algorithm (``Kernels``); gradients flow to `self`, `gamma`
    /// and `beta`. Without gradients recorded only the output is written.
    public func layerNormalized(gamma: Tensor, beta: Tensor, epsilon: Float) -> Tensor {
        let width = shape.dims.last ?? 1
        precondition(gamma.shape == [width] && beta.shape == [width],
                     "layer norm of \(shape) with gamma \(gamma.shape) and beta \(beta.shape)")
        let rows = width == 0 ? 0 : count / width
        let out = Tensor.uninitialized(shape)
        let recording = Autograd.isRecording && (requiresGradient || gamma.requiresGradient || beta.requiresGradient)
        // Per row, for the gradient: the normalised values x̂ and 1/σ.
        let normalised = recording ? Tensor.uninitialized(shape) : nil
        let inverseDeviation = recording ? Tensor.uninitialized([rows]) : nil
        let pointers = UncheckedSendable((x: storage.base, y: out.storage.base, xhat: normalised?.storage.base,
                                          rstd: inverseDeviation?.storage.base, gamma: gamma.storage.base,
                                          beta: beta.storage.base))
        Parallel.forEachRange(rows, grain: max(1, 4096 / max(width, 1))) { range in
            let p = pointers.value, offset = range.lowerBound * width
            rubble_layer_norm_rows(p.x + offset, p.y + offset, p.xhat.map { $0 + offset }, p.rstd.map { $0 + range.lowerBound },
                                   p.gamma, p.beta, range.count, width, epsilon)
        }
        guard let normalised, let inverseDeviation else { return out }
        let gammaValues = gamma.detached
        return out.recordingGradient(from: [
            (self, { grad in
                Tensor.layerNormInputGradient(grad, normalised: normalised, inverseDeviation: inverseDeviation,
                                              gamma: gammaValues)
            }),
            (gamma, { grad in (grad * normalised).sum(alongAxes: Array(0..<(grad.rank - 1))) }),
            (beta, { grad in grad.sum(alongAxes: Array(0..<(grad.rank - 1))) }),
        ])
    }

    /// `self + other` and its layer normalisation, the residual add of a transformer block and the
    /// norm that follows it: one pass over the rows without gradients, else `+` then
    /// ``layerNormalized(gamma:beta:epsilon:)``.
    public func addingLayerNormalized(_ other: Tensor, gamma: Tensor, beta: Tensor,
                                      epsilon: Float) -> (sum: Tensor, normalized: Tensor) {
        precondition(other.shape == shape, "adding \(other.shape) to \(shape) before a layer norm")
        if Autograd.isRecording
            && (requiresGradient || other.requiresGradient || gamma.requiresGradient || beta.requiresGradient) {
            let sum = self + other
            return (sum, sum.layerNormalized(gamma: gamma, beta: beta, epsilon: epsilon))
        }
        let width = shape.dims.last ?? 1
        precondition(gamma.shape == [width] && beta.shape == [width],
                     "layer norm of \(shape) with gamma \(gamma.shape) and beta \(beta.shape)")
        let rows = width == 0 ? 0 : count / width
        let sum = Tensor.uninitialized(shape), out = Tensor.uninitialized(shape)
        let pointers = UncheckedSendable((a: storage.base, b: other.storage.base, sum: sum.storage.base,
                                          y: out.storage.base, gamma: gamma.storage.base, beta: beta.storage.base))
        Parallel.forEachRange(rows, grain: max(1, 4096 / max(width, 1))) { range in
            let p = pointers.value, offset = range.lowerBound * width
            rubble_add_layer_norm_rows(p.a + offset, p.b + offset, p.sum + offset, p.y + offset, p.gamma, p.beta,
                                       range.count, width, epsilon)
        }
        return (sum, out)
    }

    /// `dx = (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)) / σ` with `dx̂ = g * gamma`, row by row.
    static func layerNormInputGradient(_ grad: Tensor, normalised: Tensor, inverseDeviation: Tensor,
                                       gamma: Tensor) -> Tensor {
        let width = grad.shape.dims.last ?? 1
        let rows = width == 0 ? 0 : grad.count / width
        let out = Tensor.uninitialized(grad.shape)
        let gp = grad.storage.base, xhat = normalised.storage.base, rstd = inverseDeviation.storage.base
        let gam = gamma.storage.base, dx = out.storage.base
        Parallel.forEachRange(rows, grain: max(1, 4096 / max(width, 1))) { range in
            for r in range {
                let gRow = gp + r * width, hRow = xhat + r * width, dRow = dx + r * width
                var meanG = 0.0, meanGH = 0.0
                for j in 0..<width {
                    let dh = Double(gRow[j] * gam[j])
                    meanG += dh
                    meanGH += dh * Double(hRow[j])
                }
                let a = Float(meanG / Double(width)), c = Float(meanGH / Double(width)), s = rstd[r]
                for j in 0..<width { dRow[j] = (gRow[j] * gam[j] - a - hRow[j] * c) * s }
            }
        }
        return out
    }
}

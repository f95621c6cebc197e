import Foundation

extension Tensor {
    /// Layer normalisation over the last axis (PyTorch `nn.LayerNorm(d)`, Keras `LayerNormalization(axis=-1)`):
    /// `(x - mean) / √(var + epsilon) * gamma + beta` with the biased variance of each row.
    ///
    /// - Parameters:
    ///   - gamma: `[d]` scale, `d` the size of the last axis.
    ///   - beta: `[d]` offset.
    /// Statistics are accumulated in double precision; gradients flow to `self`, `gamma` and `beta`.
    public func layerNormalized(gamma: Tensor, beta: Tensor, epsilon: Float) -> Tensor {
        let width = shape.dims.last ?? 1
        precondition(gamma.shape == [width] && beta.shape == [width],
                     "layer norm of \(shape) with gamma \(gamma.shape) and beta \(beta.shape)")
        let rows = width == 0 ? 0 : count / width
        let out = Tensor.uninitialized(shape)
        // Per row: the normalised values x̂ (kept for the gradient) and 1/σ.
        let normalised = Tensor.uninitialized(shape)
        let inverseDeviation = Tensor.uninitialized([rows])
        let x = storage.base, xhat = normalised.storage.base, rstd = inverseDeviation.storage.base
        let g = gamma.storage.base, b = beta.storage.base, y = out.storage.base
        Parallel.forEachRange(rows, grain: max(1, 4096 / max(width, 1))) { range in
            for r in range {
                let row = x + r * width, hatRow = xhat + r * width, outRow = y + r * width
                var sum = 0.0
                for j in 0..<width { sum += Double(row[j]) }
                let mean = sum / Double(width)
                var squares = 0.0
                for j in 0..<width { let d = Double(row[j]) - mean; squares += d * d }
                let inverse = 1 / (squares / Double(width) + Double(epsilon)).squareRoot()
                rstd[r] = Float(inverse)
                let meanF = Float(mean), inverseF = Float(inverse)
                for j in 0..<width {
                    let h = (row[j] - meanF) * inverseF
                    hatRow[j] = h
                    outRow[j] = h * g[j] + b[j]
                }
            }
        }
        guard Autograd.isRecording, requiresGradient || gamma.requiresGradient || beta.requiresGradient else {
            return out
        }
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

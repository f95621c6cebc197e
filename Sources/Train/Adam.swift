import Foundation
import Tensor

/// Adam as Keras implements it (bias correction folded into the step size).
///
/// Per step `t = iterations + 1` and element, with gradient `g`:
/// ```
/// alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
/// m += (g - m) * (1 - beta1)                          // "momentum", starts at 0
/// v += (g² - v) * (1 - beta2)                         // "velocity", starts at 0
/// w -= alpha * m / (sqrt(v) + epsilon)
/// ```
/// With `amsgrad`, `vHat = max(vHat, v)` ("velocity_hat") replaces `v` in the last line.
public final class Adam: Optimizer {
    /// The step size before bias correction (Keras default 1e-3); read at every step.
    public var learningRate: Float
    /// Decay of the first-moment (mean) estimate.
    public let beta1: Float
    /// Decay of the second-moment (uncentered variance) estimate.
    public let beta2: Float
    /// Added to sqrt(v) in the denominator (Keras default 1e-7).
    public let epsilon: Float
    /// Use the running maximum of `v` (AMSGrad).
    public let amsgrad: Bool
    /// Completed steps; the next step's bias correction uses `t = iterations + 1`.
    public var iterations = 0
    private var slots: SlotStore

    /// Keras' defaults: lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7, no AMSGrad.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                amsgrad: Bool = false) throws {
        let check = HyperparameterCheck(optimizer: "Adam")
        try check.nonNegative("learning rate", learningRate)
        try check.unitInterval("beta1", beta1)
        try check.unitInterval("beta2", beta2)
        try check.positive("epsilon", epsilon)
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        slots = SlotStore(names: amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"])
    }

    /// `momentum` (m), `velocity` (v), and `velocity_hat` with AMSGrad.
    public var slotNames: [String] { slots.names }

    /// The bias-corrected step size of the next step.
    public var correctedLearningRate: Float {
        let t = Double(iterations + 1)
        let b1Power = Foundation.pow(Double(beta1), t), b2Power = Foundation.pow(Double(beta2), t)
        return Float(Double(learningRate) * (1 - b2Power).squareRoot() / (1 - b1Power))
    }

    public func step(_ parameters: [Parameter]) {
        let alpha = correctedLearningRate
        let oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2, eps = epsilon
        for (parameter, gradient) in updatable(parameters) {
            let state = slots.buffers(for: parameter)
            let m = state[0], v = state[1]
            if amsgrad {
                let vHat = state[2]
                updateElementwise(parameter, gradient: gradient) { range, w, g in
                    for i in range {
                        let gi = g[i]
                        let mi = m[i] + (gi - m[i]) * oneMinusB1
                        let vi = v[i] + (gi * gi - v[i]) * oneMinusB2
                        let hi = max(vHat[i], vi)
                        m[i] = mi; v[i] = vi; vHat[i] = hi
                        w[i] -= mi * alpha / (hi.squareRoot() + eps)
                    }
                }
            } else {
                updateElementwise(parameter, gradient: gradient) { range, w, g in
                    for i in range {
                        let gi = g[i]
                        let mi = m[i] + (gi - m[i]) * oneMinusB1
                        let vi = v[i] + (gi * gi - v[i]) * oneMinusB2
                        m[i] = mi; v[i] = vi
                        w[i] -= mi * alpha / (vi.squareRoot() + eps)
                    }
                }
            }
        }
        iterations += 1
    }

    public func state(of parameter: Parameter) -> [String: Tensor] { slots.state(of: parameter) }

    public func restoreState(_ state: [String: Tensor], for parameter: Parameter) throws {
        try slots.restore(state, for: parameter)
    }

    public func resetState() {
        slots.removeAll()
        iterations = 0
    }
}

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
/// `lr` is the step's rate: the schedule's value at `iterations` when there is a schedule.
public final class Adam: Optimizer, SlotOptimizer {
    /// The step size before bias correction (Keras default 1e-3); read at every step that has
    /// no schedule.
    public var learningRate: Float
    /// Sets each step's rate from the iteration count (see `Optimizer.learningRateSchedule`).
    public var learningRateSchedule: (any LearningRateSchedule)?
    /// Decay of the first-moment (mean) estimate.
    public var beta1: Float { rule.beta1 }
    /// Decay of the second-moment (uncentered variance) estimate.
    public var beta2: Float { rule.beta2 }
    /// Added to sqrt(v) in the denominator (Keras default 1e-7).
    public var epsilon: Float { rule.epsilon }
    /// Use the running maximum of `v` (AMSGrad).
    public var amsgrad: Bool { rule.amsgrad }
    let rule: AdamRule
    let slots: OptimizerSlots

    /// Keras' defaults: lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7, no AMSGrad; no schedule.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                amsgrad: Bool = false, schedule: (any LearningRateSchedule)? = nil) throws {
        let check = HyperparameterCheck(optimizer: "Adam")
        try check.nonNegative("learning rate", learningRate)
        rule = try AdamRule(beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, check: check)
        self.learningRate = learningRate
        learningRateSchedule = schedule
        slots = OptimizerSlots(names: rule.slotNames)
    }

    // Slots: `momentum` (m), `velocity` (v), and `velocity_hat` with AMSGrad.

    /// The bias-corrected step size of the next step.
    public var correctedLearningRate: Float { rule.correctedRate(currentLearningRate, iterations: iterations) }

    func update(_ parameter: Parameter, gradient: Tensor, state: SlotBuffers, learningRate: Float) {
        rule.apply(parameter, gradient: gradient, state: state,
                   alpha: rule.correctedRate(learningRate, iterations: iterations),
                   epsilon: rule.stepEpsilon(iterations: iterations), decay: nil)
    }
}

/// AdamW: Adam with decoupled weight decay, as Keras 3 (`keras.optimizers.AdamW`) and
/// PyTorch (`torch.optim.AdamW`) define it.
///
/// Each step first shrinks every updated weight by the step's rate times the decay, then
/// takes the Adam step (see `Adam`) from the gradient computed before:
/// ```
/// w -= w * weightDecay * lr                           // Keras 3: variable.assign(variable - variable * wd * lr)
/// alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
/// m += (g - m) * (1 - beta1);  v += (g² - v) * (1 - beta2)
/// w -= alpha * m / (sqrt(v) + epsilon)
/// ```
/// This is Keras 3's order (its base optimizer calls `_apply_weight_decay` before
/// `update_step`, with the same current learning rate) and PyTorch's (`param.mul_(1 - lr *
/// weight_decay)` before the Adam step): `w * (1 - lr*wd)` and `w - w*wd*lr` are the same
/// number up to float rounding; the multiplication order here is Keras'. The decay touches
/// only the parameters the step updates — trainable, with a gradient — so frozen weights and
/// layer state (`Parameter.Role.state`) are never decayed, as in both libraries (they skip
/// variables without a gradient).
///
/// Defaults are Keras 3's (weight decay 0.004, epsilon 1e-7 added to `sqrt(v)`), not PyTorch's
/// (0.01, 1e-8 added to `sqrt(v̂)`). The epsilon placements differ: Keras' equals PyTorch's
/// with `epsilon / sqrt(1 - beta2^t)` in place of `epsilon`.
public final class AdamW: Optimizer, SlotOptimizer {
    /// The step size before bias correction (Keras default 1e-3); read at every step that has
    /// no schedule. The decay scales with it (and with the schedule's rate).
    public var learningRate: Float
    /// Sets each step's rate from the iteration count (see `Optimizer.learningRateSchedule`).
    public var learningRateSchedule: (any LearningRateSchedule)?
    /// Fraction of each weight removed per unit of learning rate (Keras 3 default 0.004).
    public let weightDecay: Float
    /// Decay of the first-moment (mean) estimate.
    public var beta1: Float { rule.beta1 }
    /// Decay of the second-moment (uncentered variance) estimate.
    public var beta2: Float { rule.beta2 }
    /// Added to sqrt(v) in the denominator (Keras default 1e-7).
    public var epsilon: Float { rule.epsilon }
    /// Use the running maximum of `v` (AMSGrad).
    public var amsgrad: Bool { rule.amsgrad }
    /// Where `epsilon` enters the denominator.
    public var epsilonPlacement: AdamEpsilonPlacement { rule.epsilonPlacement }
    var rule: AdamRule
    let slots: OptimizerSlots

    /// Keras 3's defaults: lr 1e-3, weight decay 0.004, beta1 0.9, beta2 0.999, epsilon 1e-7,
    /// no AMSGrad; no schedule. The weight decay must be finite and >= 0 (0 is plain `Adam`).
    public init(learningRate: Float = 1e-3, weightDecay: Float = 0.004, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-7, epsilonPlacement: AdamEpsilonPlacement = .keras, amsgrad: Bool = false,
                schedule: (any LearningRateSchedule)? = nil) throws {
        let check = HyperparameterCheck(optimizer: "AdamW")
        try check.nonNegative("learning rate", learningRate)
        try check.nonNegative("weight decay", weightDecay)
        rule = try AdamRule(beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad, check: check)
        rule.epsilonPlacement = epsilonPlacement
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        learningRateSchedule = schedule
        slots = OptimizerSlots(names: rule.slotNames)
    }

    // Slots: as Adam's, `momentum`, `velocity`, and `velocity_hat` with AMSGrad.

    /// The bias-corrected step size of the next step.
    public var correctedLearningRate: Float { rule.correctedRate(currentLearningRate, iterations: iterations) }

    func update(_ parameter: Parameter, gradient: Tensor, state: SlotBuffers, learningRate: Float) {
        rule.apply(parameter, gradient: gradient, state: state,
                   alpha: rule.correctedRate(learningRate, iterations: iterations),
                   epsilon: rule.stepEpsilon(iterations: iterations),
                   decay: weightDecay == 0 ? nil : (weightDecay, learningRate))
    }
}

/// Where Adam's epsilon enters the denominator.
public enum AdamEpsilonPlacement: String, Sendable, Equatable {
    /// Keras: `m̂ / (sqrt(v) · c + epsilon)` with the bias correction folded into the step size.
    case keras
    /// PyTorch (`torch.optim.Adam`/`AdamW`): `m̂ / (sqrt(v̂) + epsilon)`, epsilon added after the
    /// second moment's bias correction (SegFormer's recipe uses it with epsilon 1e-8).
    case pytorch
}

/// The Adam update both `Adam` and `AdamW` use.
struct AdamRule {
    let beta1: Float, beta2: Float, epsilon: Float, amsgrad: Bool
    var epsilonPlacement: AdamEpsilonPlacement = .keras

    init(beta1: Float, beta2: Float, epsilon: Float, amsgrad: Bool, check: HyperparameterCheck) throws {
        try check.unitInterval("beta1", beta1)
        try check.unitInterval("beta2", beta2)
        try check.positive("epsilon", epsilon)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
    }

    /// Keras 3's names and order.
    var slotNames: [String] { amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"] }

    /// `lr * sqrt(1 - beta2^t) / (1 - beta1^t)` for `t = iterations + 1`.
    func correctedRate(_ lr: Float, iterations: Int) -> Float {
        let t = Double(iterations + 1)
        let b1Power = Foundation.pow(Double(beta1), t), b2Power = Foundation.pow(Double(beta2), t)
        return Float(Double(lr) * (1 - b2Power).squareRoot() / (1 - b1Power))
    }

    /// The epsilon added to `sqrt(v)` at step `t = iterations + 1`: PyTorch's, added to
    /// `sqrt(v̂) = sqrt(v) / sqrt(1 - beta2^t)`, is `epsilon · sqrt(1 - beta2^t)` on that scale.
    func stepEpsilon(iterations: Int) -> Float {
        switch epsilonPlacement {
        case .keras: return epsilon
        case .pytorch:
            return Float(Double(epsilon) * (1 - Foundation.pow(Double(beta2), Double(iterations + 1))).squareRoot())
        }
    }

    /// One parameter's step; `decay` (weight decay, learning rate) first shrinks the weights.
    func apply(_ parameter: Parameter, gradient: Tensor, state: SlotBuffers, alpha: Float, epsilon eps: Float,
               decay: (weightDecay: Float, learningRate: Float)?) {
        let oneMinusB1 = 1 - beta1, oneMinusB2 = 1 - beta2
        let m = state[0], v = state[1]
        let vHat: UnsafeMutablePointer<Float>? = amsgrad ? state[2] : nil
        // Decoupled weight decay, in the same pass: w - w * wd * lr (Keras' expression), before
        // the Adam step. Without decay the weights take the Adam step alone.
        let decays = decay != nil, wd = decay?.weightDecay ?? 0, lr = decay?.learningRate ?? 0
        if let vHat {
            updateElementwise(parameter, gradient: gradient) { range, w, g in
                for i in range {
                    let gi = g[i]
                    let mi = m[i] + (gi - m[i]) * oneMinusB1
                    let vi = v[i] + (gi * gi - v[i]) * oneMinusB2
                    let hi = max(vHat[i], vi)
                    m[i] = mi; v[i] = vi; vHat[i] = hi
                    var wi = w[i]
                    if decays { wi = wi - wi * wd * lr }
                    w[i] = wi - mi * alpha / (hi.squareRoot() + eps)
                }
            }
        } else {
            updateElementwise(parameter, gradient: gradient) { range, w, g in
                for i in range {
                    let gi = g[i]
                    let mi = m[i] + (gi - m[i]) * oneMinusB1
                    let vi = v[i] + (gi * gi - v[i]) * oneMinusB2
                    m[i] = mi; v[i] = vi
                    var wi = w[i]
                    if decays { wi = wi - wi * wd * lr }
                    w[i] = wi - mi * alpha / (vi.squareRoot() + eps)
                }
            }
        }
    }
}

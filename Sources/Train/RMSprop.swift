import Tensor

/// RMSprop as Keras implements it.
///
/// Per element, with gradient `g`:
/// ```
/// v = rho * v + (1 - rho) * g²                       // "velocity", starts at 0
/// increment = lr * g / sqrt(v + epsilon)              // Keras 3 and current tf.keras
/// w -= increment                                      // momentum == 0
/// m = momentum * m + increment;  w -= m               // momentum > 0
/// ```
/// `centered` also keeps `a = rho * a + (1 - rho) * g` ("average_gradient") and uses `v - a²`
/// in place of `v`.
///
/// `epsilonOutsideSquareRoot` reproduces the older tf.keras optimizer (before TF 2.11, now
/// `tf.keras.optimizers.legacy.RMSprop`): `w -= lr * g / (sqrt(v) + epsilon)`. Exactly like that
/// optimizer it applies only without momentum: with momentum, legacy tf.keras called TensorFlow's
/// fused `ApplyRMSProp` kernel, which puts epsilon inside the square root like Keras 3.
public final class RMSprop: Optimizer, SlotOptimizer {
    /// The step size (Keras default 1e-3); read at every step that has no schedule.
    public var learningRate: Float
    /// Sets each step's rate from the iteration count (see `Optimizer.learningRateSchedule`).
    public var learningRateSchedule: (any LearningRateSchedule)?
    /// Decay of the moving average of squared gradients.
    public let rho: Float
    /// Momentum factor; 0 keeps no momentum state.
    public let momentum: Float
    /// Keeps the denominator away from zero (Keras default 1e-7).
    public let epsilon: Float
    /// Normalise by the estimated variance rather than the second moment.
    public let centered: Bool
    /// The legacy tf.keras placement of epsilon (see the type's documentation).
    public let epsilonOutsideSquareRoot: Bool
    let slots: OptimizerSlots

    /// Keras' defaults: lr 1e-3, rho 0.9, no momentum, epsilon 1e-7, not centered, and the
    /// current (Keras 3) epsilon placement; no schedule.
    public init(learningRate: Float = 1e-3, rho: Float = 0.9, momentum: Float = 0, epsilon: Float = 1e-7,
                centered: Bool = false, epsilonOutsideSquareRoot: Bool = false,
                schedule: (any LearningRateSchedule)? = nil) throws {
        let check = HyperparameterCheck(optimizer: "RMSprop")
        try check.nonNegative("learning rate", learningRate)
        try check.unitInterval("rho", rho)
        try check.unitInterval("momentum", momentum)
        try check.positive("epsilon", epsilon)
        self.learningRate = learningRate
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        self.epsilonOutsideSquareRoot = epsilonOutsideSquareRoot
        learningRateSchedule = schedule
        var names = ["velocity"]
        if momentum > 0 { names.append("momentum") }
        if centered { names.append("average_gradient") }
        slots = OptimizerSlots(names: names)
    }

    // Slots: `velocity`, then `momentum` when momentum > 0, then `average_gradient` when centered.

    func update(_ parameter: Parameter, gradient: Tensor, state: SlotBuffers, learningRate lr: Float) {
        let rho = rho, oneMinusRho = 1 - rho, eps = epsilon
        let velocity = state[0]
        if momentum == 0 && !centered {
            // The common case, one loop per epsilon placement.
            if epsilonOutsideSquareRoot {
                updateElementwise(parameter, gradient: gradient) { range, w, g in
                    for i in range {
                        let gi = g[i]
                        let v = rho * velocity[i] + oneMinusRho * (gi * gi)
                        velocity[i] = v
                        w[i] -= lr * gi / (v.squareRoot() + eps)
                    }
                }
            } else {
                updateElementwise(parameter, gradient: gradient) { range, w, g in
                    for i in range {
                        let gi = g[i]
                        let v = rho * velocity[i] + oneMinusRho * (gi * gi)
                        velocity[i] = v
                        w[i] -= lr * gi / (v + eps).squareRoot()
                    }
                }
            }
            return
        }
        let momentum = momentum
        let moment: UnsafeMutablePointer<Float>? = momentum > 0 ? state[1] : nil
        let average: UnsafeMutablePointer<Float>? = centered ? state[momentum > 0 ? 2 : 1] : nil
        // Legacy tf.keras only puts epsilon outside without momentum (see above).
        let outside = epsilonOutsideSquareRoot && moment == nil
        updateElementwise(parameter, gradient: gradient) { range, w, g in
            for i in range {
                let gi = g[i]
                let v = rho * velocity[i] + oneMinusRho * (gi * gi)
                velocity[i] = v
                var denominator = v
                if let average {
                    let a = rho * average[i] + oneMinusRho * gi
                    average[i] = a
                    denominator = v - a * a
                }
                let increment = outside ? lr * gi / (denominator.squareRoot() + eps)
                                        : lr * gi / (denominator + eps).squareRoot()
                if let moment {
                    let m = momentum * moment[i] + increment
                    moment[i] = m
                    w[i] -= m
                } else {
                    w[i] -= increment
                }
            }
        }
    }
}

import Tensor

/// Stochastic gradient descent with optional (Nesterov) momentum, as Keras 3 implements it.
///
/// Per element, with gradient `g`:
/// ```
/// w -= lr * g                                         // momentum == 0
/// m = momentum * m - lr * g;  w += m                  // momentum
/// m = momentum * m - lr * g;  w += momentum * m - lr * g   // Nesterov (with the new m)
/// ```
/// The momentum state (`momentum`) starts at 0.
public final class SGD: Optimizer, SlotOptimizer {
    /// The step size (Keras default 0.01); read at every step that has no schedule.
    public var learningRate: Float
    /// Sets each step's rate from the iteration count (see `Optimizer.learningRateSchedule`).
    public var learningRateSchedule: (any LearningRateSchedule)?
    /// Momentum factor; 0 keeps no state.
    public let momentum: Float
    /// Nesterov momentum (only meaningful with momentum > 0).
    public let nesterov: Bool
    let slots: OptimizerSlots

    /// Keras' defaults: lr 0.01, no momentum, not Nesterov; no schedule.
    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false,
                schedule: (any LearningRateSchedule)? = nil) throws {
        let check = HyperparameterCheck(optimizer: "SGD")
        try check.nonNegative("learning rate", learningRate)
        try check.unitInterval("momentum", momentum, closed: true)
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        learningRateSchedule = schedule
        // Slots: `momentum` when momentum != 0, else none.
        slots = OptimizerSlots(names: momentum != 0 ? ["momentum"] : [])
    }

    func update(_ parameter: Parameter, gradient: Tensor, state: SlotBuffers, learningRate lr: Float) {
        let momentum = momentum
        if momentum == 0 {
            updateElementwise(parameter, gradient: gradient) { range, w, g in
                for i in range { w[i] -= g[i] * lr }
            }
            return
        }
        let moment = state[0]
        if nesterov {
            updateElementwise(parameter, gradient: gradient) { range, w, g in
                for i in range {
                    let step = g[i] * lr
                    let m = moment[i] * momentum - step
                    moment[i] = m
                    w[i] += m * momentum - step
                }
            }
        } else {
            updateElementwise(parameter, gradient: gradient) { range, w, g in
                for i in range {
                    let m = moment[i] * momentum - g[i] * lr
                    moment[i] = m
                    w[i] += m
                }
            }
        }
    }
}

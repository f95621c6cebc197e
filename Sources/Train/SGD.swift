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
public final class SGD: Optimizer {
    /// The step size (Keras default 0.01); read at every step.
    public var learningRate: Float
    /// Momentum factor; 0 keeps no state.
    public let momentum: Float
    /// Nesterov momentum (only meaningful with momentum > 0).
    public let nesterov: Bool
    /// Completed steps.
    public var iterations = 0
    private var slots: SlotStore

    /// Keras' defaults: lr 0.01, no momentum, not Nesterov.
    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false) throws {
        let check = HyperparameterCheck(optimizer: "SGD")
        try check.nonNegative("learning rate", learningRate)
        try check.unitInterval("momentum", momentum, closed: true)
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        slots = SlotStore(names: momentum != 0 ? ["momentum"] : [])
    }

    /// `momentum` when momentum != 0, else none.
    public var slotNames: [String] { slots.names }

    public func step(_ parameters: [Parameter]) {
        let lr = learningRate, momentum = momentum
        for (parameter, gradient) in updatable(parameters) {
            if momentum == 0 {
                updateElementwise(parameter, gradient: gradient) { range, w, g in
                    for i in range { w[i] -= g[i] * lr }
                }
                continue
            }
            let moment = slots.buffers(for: parameter)[0]
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

import Foundation

/// The learning rate of each optimizer step, from the step's index.
///
/// An optimizer with a schedule (`Optimizer.learningRateSchedule`) runs step `iterations`
/// (0 for the first update, as Keras calls a schedule with `optimizer.iterations`) at
/// `learningRate(atStep: iterations)`. The iteration count is part of the optimizer's state,
/// so a run restored from a checkpoint continues the schedule exactly where it stopped.
///
/// Schedules are values; the library's schedules describe themselves
/// (`CustomStringConvertible`), and a checkpoint records that description so that a run is
/// not resumed with another schedule.
public protocol LearningRateSchedule: Sendable {
    /// The rate of step `step` (0-based). Finite and >= 0 for the library's schedules.
    func learningRate(atStep step: Int) -> Float
}

/// Why a schedule's parameters were refused: `CosineDecay decay steps 0 must be >= 1`.
public enum LearningRateScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidParameter(schedule: String, name: String, value: String, requirement: String)

    public var description: String {
        switch self {
        case let .invalidParameter(schedule, name, value, requirement):
            return "\(schedule) \(name) \(value) \(requirement)"
        }
    }
}

/// The range checks the schedules' initialisers share.
private struct ScheduleCheck {
    let schedule: String

    func rate(_ name: String, _ value: Float) throws {
        guard value.isFinite && value >= 0 else { throw fail(name, "\(value)", "must be a finite number >= 0") }
    }

    func atLeast(_ name: String, _ value: Int, _ minimum: Int) throws {
        guard value >= minimum else { throw fail(name, "\(value)", "must be >= \(minimum)") }
    }

    func unitInterval(_ name: String, _ value: Float) throws {
        guard value >= 0 && value <= 1 else { throw fail(name, "\(value)", "must be in [0, 1]") }
    }

    func fail(_ name: String, _ value: String, _ requirement: String) -> LearningRateScheduleError {
        .invalidParameter(schedule: schedule, name: name, value: value, requirement: requirement)
    }
}

/// The same rate at every step.
public struct ConstantLearningRate: LearningRateSchedule, Equatable, CustomStringConvertible {
    public let value: Float

    /// `value` must be finite and >= 0.
    public init(_ value: Float) throws {
        try ScheduleCheck(schedule: "ConstantLearningRate").rate("learning rate", value)
        self.value = value
    }

    public func learningRate(atStep step: Int) -> Float { value }

    public var description: String { "ConstantLearningRate(\(value))" }
}

/// Cosine decay with an optional linear warmup, as Keras 3's
/// `keras.optimizers.schedules.CosineDecay` (Loshchilov & Hutter, SGDR, 2016; warmup after
/// Goyal et al., 2017).
///
/// Without `warmupTarget` (Keras' `warmup_target=None`, which also ignores `warmup_steps`):
/// ```
/// s = min(step, decaySteps)
/// lr = initialLearningRate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decaySteps)) + alpha)
/// ```
/// With `warmupTarget`, `s = min(step, warmupSteps + decaySteps)` and
/// ```
/// s < warmupSteps:  lr = (warmupTarget - initialLearningRate) * s / warmupSteps + initialLearningRate
/// otherwise:        lr = warmupTarget * ((1 - alpha) * 0.5 * (1 + cos(pi * (s - warmupSteps) / decaySteps)) + alpha)
/// ```
/// So step 0 runs at `initialLearningRate`, step `warmupSteps` at `warmupTarget`, and from step
/// `warmupSteps + decaySteps` on the rate stays at `alpha * warmupTarget` (`alpha *
/// initialLearningRate` without warmup). Computed in double precision, then rounded.
public struct CosineDecay: LearningRateSchedule, Equatable, CustomStringConvertible {
    public let initialLearningRate: Float
    /// Steps of the cosine part (after the warmup).
    public let decaySteps: Int
    /// The final rate as a fraction of the rate the decay starts from.
    public let alpha: Float
    /// The rate the warmup rises (or falls) to linearly; `nil` for no warmup.
    public let warmupTarget: Float?
    /// Steps of the warmup (only with a `warmupTarget`).
    public let warmupSteps: Int

    /// Keras' defaults: alpha 0, no warmup. Rates must be finite and >= 0, `decaySteps` >= 1
    /// (Keras: `decay_steps` must be > 0), `alpha` in [0, 1], `warmupSteps` >= 0; warmup steps
    /// without a `warmupTarget` are refused (Keras silently ignores them).
    public init(initialLearningRate: Float, decaySteps: Int, alpha: Float = 0, warmupTarget: Float? = nil,
                warmupSteps: Int = 0) throws {
        let check = ScheduleCheck(schedule: "CosineDecay")
        try check.rate("initial learning rate", initialLearningRate)
        try check.atLeast("decay steps", decaySteps, 1)
        try check.unitInterval("alpha", alpha)
        try check.atLeast("warmup steps", warmupSteps, 0)
        if let warmupTarget {
            try check.rate("warmup target", warmupTarget)
        } else if warmupSteps > 0 {
            throw check.fail("warmup steps", "\(warmupSteps)", "need a warmup target (the rate to warm up to)")
        }
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.alpha = alpha
        self.warmupTarget = warmupTarget
        self.warmupSteps = warmupSteps
    }

    public func learningRate(atStep step: Int) -> Float {
        let initial = Double(initialLearningRate), decay = Double(decaySteps), alpha = Double(alpha)
        func decayed(_ s: Double, from rate: Double) -> Double {
            let cosine = 0.5 * (1 + Foundation.cos(Double.pi * s / decay))
            return rate * ((1 - alpha) * cosine + alpha)
        }
        let step = Double(max(step, 0))
        guard let target = warmupTarget.map(Double.init) else {
            return Float(decayed(min(step, decay), from: initial))
        }
        let warmup = Double(warmupSteps)
        let s = min(step, warmup + decay)
        if s < warmup { return Float((target - initial) * (s / warmup) + initial) }
        return Float(decayed(s - warmup, from: target))
    }

    public var description: String {
        "CosineDecay(initialLearningRate: \(initialLearningRate), decaySteps: \(decaySteps), alpha: \(alpha), "
            + "warmupTarget: \(warmupTarget.map { "\($0)" } ?? "nil"), warmupSteps: \(warmupSteps))"
    }
}

/// The rate multiplied by `gamma` every `stepSize` steps, as PyTorch's
/// `torch.optim.lr_scheduler.StepLR` (counted here in optimizer steps):
/// `lr = initialLearningRate * gamma^floor(step / stepSize)`.
public struct StepDecay: LearningRateSchedule, Equatable, CustomStringConvertible {
    public let initialLearningRate: Float
    /// Steps between two reductions.
    public let stepSize: Int
    /// The factor of each reduction (PyTorch default 0.1).
    public let gamma: Float

    /// The rate must be finite and >= 0, `stepSize` >= 1, `gamma` in [0, 1].
    public init(initialLearningRate: Float, stepSize: Int, gamma: Float = 0.1) throws {
        let check = ScheduleCheck(schedule: "StepDecay")
        try check.rate("initial learning rate", initialLearningRate)
        try check.atLeast("step size", stepSize, 1)
        try check.unitInterval("gamma", gamma)
        self.initialLearningRate = initialLearningRate
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(atStep step: Int) -> Float {
        let reductions = max(step, 0) / stepSize
        return Float(Double(initialLearningRate) * Foundation.pow(Double(gamma), Double(reductions)))
    }

    public var description: String {
        "StepDecay(initialLearningRate: \(initialLearningRate), stepSize: \(stepSize), gamma: \(gamma))"
    }
}

/// Polynomial decay, as Keras' `keras.optimizers.schedules.PolynomialDecay` (cycle off) and
/// the "poly" schedule of the SegFormer recipe (mmsegmentation, power 1.0, floor 0):
/// ```
/// s = min(step, decaySteps)
/// lr = (initialLearningRate - endLearningRate) * (1 - s / decaySteps)^power + endLearningRate
/// ```
/// After `decaySteps` the rate stays at `endLearningRate`. Computed in double precision.
public struct PolynomialDecay: LearningRateSchedule, Equatable, CustomStringConvertible {
    public let initialLearningRate: Float
    public let decaySteps: Int
    public let endLearningRate: Float
    public let power: Float

    /// End rate 0 (mmsegmentation's `min_lr`; Keras defaults to 1e-4) and power 1. Rates must
    /// be finite and >= 0, `decaySteps` >= 1, `power` finite and > 0.
    public init(initialLearningRate: Float, decaySteps: Int, endLearningRate: Float = 0, power: Float = 1) throws {
        let check = ScheduleCheck(schedule: "PolynomialDecay")
        try check.rate("initial learning rate", initialLearningRate)
        try check.rate("end learning rate", endLearningRate)
        try check.atLeast("decay steps", decaySteps, 1)
        guard power.isFinite && power > 0 else { throw check.fail("power", "\(power)", "must be a finite number > 0") }
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.endLearningRate = endLearningRate
        self.power = power
    }

    public func learningRate(atStep step: Int) -> Float {
        let s = Double(min(max(step, 0), decaySteps)), remaining = 1 - s / Double(decaySteps)
        let span = Double(initialLearningRate) - Double(endLearningRate)
        return Float(span * Foundation.pow(remaining, Double(power)) + Double(endLearningRate))
    }

    public var description: String {
        "PolynomialDecay(initialLearningRate: \(initialLearningRate), decaySteps: \(decaySteps), "
            + "endLearningRate: \(endLearningRate), power: \(power))"
    }
}

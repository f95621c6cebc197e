import Tensor

/// Updates parameters from their accumulated gradients, with Keras' update rules.
///
/// An optimizer keeps per-parameter state (moving averages, momenta) keyed by the parameter's
/// identity, so the same `Parameter` objects must be passed on every step. Call `step` after
/// `backward()`; the optimizer leaves the gradients in place (the caller zeroes them).
public protocol Optimizer: AnyObject {
    /// The step size; may be changed between steps (fine-tuning phases). With a
    /// `learningRateSchedule` the schedule sets the rate of each step instead, and this value
    /// is only kept (and checkpointed) as the optimizer's configured rate.
    var learningRate: Float { get set }
    /// Sets the rate of every step from the step index: step `iterations` (0 for the first
    /// update) runs at `learningRateSchedule.learningRate(atStep: iterations)`, as Keras calls
    /// a schedule with `optimizer.iterations`. Since `iterations` is part of the optimizer's
    /// state, a restored optimizer continues the schedule exactly. `nil`: every step uses
    /// `learningRate`. (Default implementation: `nil`.)
    var learningRateSchedule: (any LearningRateSchedule)? { get }
    /// Completed steps (Keras' `optimizer.iterations`); Adam's bias correction uses `iterations + 1`.
    var iterations: Int { get set }
    /// Names of the per-parameter state tensors this configuration keeps, in Keras 3's naming
    /// (`velocity`, `momentum`, ...). Empty for plain SGD.
    var slotNames: [String] { get }
    /// Updates every parameter that is trainable and has a gradient, then counts one iteration.
    /// Frozen parameters and parameters without a gradient are skipped and keep their state;
    /// a parameter listed twice is updated once.
    func step(_ parameters: [Parameter])
    /// A copy of the state kept for `parameter` (one tensor of the parameter's shape per slot
    /// name), or an empty dictionary if it has never been updated.
    func state(of parameter: Parameter) -> [String: Tensor]
    /// Replaces the state kept for `parameter`. An empty dictionary clears it (the next step
    /// starts from zeros, as for a new parameter); otherwise every name in `slotNames` must be
    /// present with the parameter's shape, and no other name may be.
    func restoreState(_ state: [String: Tensor], for parameter: Parameter) throws
    /// Forgets all per-parameter state and sets `iterations` to 0.
    func resetState()
}

/// A restorable copy of an optimizer's state for an ordered list of parameters (checkpoints).
/// A learning-rate schedule is configuration, not state: it is not in the snapshot, but the
/// iteration count that drives it is, so an optimizer with the same schedule continues it.
public struct OptimizerSnapshot: Sendable {
    /// Completed steps when the snapshot was taken.
    public var iterations: Int
    /// The learning rate when the snapshot was taken.
    public var learningRate: Float
    /// Per-parameter state, in the order of the parameter list it was taken for.
    public var states: [[String: Tensor]]

    /// A snapshot from its parts (e.g. read back from a checkpoint file).
    public init(iterations: Int, learningRate: Float, states: [[String: Tensor]]) {
        self.iterations = iterations
        self.learningRate = learningRate
        self.states = states
    }
}

extension Optimizer {
    /// No schedule: for optimizers that do not keep one.
    public var learningRateSchedule: (any LearningRateSchedule)? { nil }

    /// The rate the next `step` uses: the schedule's value at `iterations`, else `learningRate`.
    public var currentLearningRate: Float {
        learningRateSchedule?.learningRate(atStep: iterations) ?? learningRate
    }

    /// The iteration count, learning rate and the state of each of `parameters`, in order.
    public func snapshot(of parameters: [Parameter]) -> OptimizerSnapshot {
        OptimizerSnapshot(iterations: iterations, learningRate: learningRate,
                          states: parameters.map { state(of: $0) })
    }

    /// Restores what `snapshot(of:)` took, for the same parameters in the same order: the
    /// next step then continues exactly as it would have from the snapshot.
    public func restore(_ snapshot: OptimizerSnapshot, for parameters: [Parameter]) throws {
        guard snapshot.states.count == parameters.count else {
            throw OptimizerError.parameterCountMismatch(expected: parameters.count, got: snapshot.states.count)
        }
        for (parameter, state) in zip(parameters, snapshot.states) { try restoreState(state, for: parameter) }
        iterations = snapshot.iterations
        learningRate = snapshot.learningRate
    }
}

/// Why optimizer state could not be restored.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    /// A state tensor's shape differs from its parameter's.
    case shapeMismatch(parameter: String, slot: String, expected: Shape, got: Shape)
    /// A slot this optimizer keeps is absent from the state.
    case missingSlot(parameter: String, slot: String)
    /// The state names a slot this optimizer does not keep.
    case unknownSlot(parameter: String, slot: String, known: [String])
    /// A snapshot for a different number of parameters.
    case parameterCountMismatch(expected: Int, got: Int)
    /// A hyperparameter out of range: `RMSprop rho 1.5 must be in [0, 1)`.
    case invalidHyperparameter(optimizer: String, name: String, value: Float, requirement: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(parameter, slot, expected, got):
            return "optimizer state '\(slot)' of parameter '\(parameter)': expected shape \(expected), got \(got)"
        case let .missingSlot(parameter, slot):
            return "optimizer state of parameter '\(parameter)' lacks '\(slot)'"
        case let .unknownSlot(parameter, slot, known):
            return "optimizer state of parameter '\(parameter)' has unknown slot '\(slot)' (expected \(known))"
        case let .parameterCountMismatch(expected, got):
            return "optimizer snapshot holds \(got) parameter states for \(expected) parameters"
        case let .invalidHyperparameter(optimizer, name, value, requirement):
            return "\(optimizer) \(name) \(value) \(requirement)"
        }
    }
}

/// The range checks the optimizers' initialisers share: each throws
/// `OptimizerError.invalidHyperparameter` naming the optimizer, the value and the rule.
struct HyperparameterCheck {
    let optimizer: String

    func positive(_ name: String, _ value: Float) throws {
        guard value.isFinite && value > 0 else { throw fail(name, value, "must be a finite number > 0") }
    }

    func nonNegative(_ name: String, _ value: Float) throws {
        guard value.isFinite && value >= 0 else { throw fail(name, value, "must be a finite number >= 0") }
    }

    /// A decay or momentum factor in [0, 1) (or [0, 1] when `closed`).
    func unitInterval(_ name: String, _ value: Float, closed: Bool = false) throws {
        guard value >= 0 && (closed ? value <= 1 : value < 1) else {
            throw fail(name, value, closed ? "must be in [0, 1]" : "must be in [0, 1)")
        }
    }

    private func fail(_ name: String, _ value: Float, _ requirement: String) -> OptimizerError {
        .invalidHyperparameter(optimizer: optimizer, name: name, value: value, requirement: requirement)
    }
}

/// Zero-initialised float buffers (one per slot) for one parameter. Plain memory rather than
/// tensors, so an update can hold every slot's pointer at once.
final class SlotBuffers {
    /// Weak, so a parameter that is gone (and whose address a new one reuses) is noticed.
    weak var parameter: Parameter?
    let shape: Shape
    let pointers: [UnsafeMutablePointer<Float>]

    init(parameter: Parameter, slotCount: Int) {
        self.parameter = parameter
        shape = parameter.shape
        pointers = (0..<slotCount).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(parameter.shape.count, 1))
            p.initialize(repeating: 0, count: max(parameter.shape.count, 1))
            return p
        }
    }

    deinit {
        for p in pointers { p.deallocate() }
    }

    var count: Int { shape.count }

    subscript(slot: Int) -> UnsafeMutablePointer<Float> { pointers[slot] }
}

/// The one implementation of optimizer state every optimizer uses: the completed-step count
/// and, keyed by `ObjectIdentifier(parameter)`, one buffer per named slot (in `names` order,
/// which is the order of `slotNames` and of the update rule's `state[i]`). State, restore and
/// reset, and hence snapshots and checkpoints, all go through here.
final class OptimizerSlots {
    /// Slot names in Keras 3's naming and order (`momentum`, `velocity`, ...).
    let names: [String]
    /// Completed steps (Keras' `optimizer.iterations`).
    var iterations = 0
    private var entries: [ObjectIdentifier: SlotBuffers] = [:]

    init(names: [String]) { self.names = names }

    /// The existing state of `parameter`, if it is still this parameter's.
    private func existing(_ parameter: Parameter) -> SlotBuffers? {
        guard let entry = entries[ObjectIdentifier(parameter)], entry.parameter === parameter else { return nil }
        return entry
    }

    /// The state of `parameter`, created (zeros) on first use. An optimizer without slots keeps
    /// nothing: it gets an empty, unrecorded set.
    func buffers(for parameter: Parameter) -> SlotBuffers {
        guard !names.isEmpty else { return SlotBuffers(parameter: parameter, slotCount: 0) }
        if let entry = existing(parameter) {
            precondition(entry.shape == parameter.shape,
                         "parameter '\(parameter.name)' changed shape from \(entry.shape) to \(parameter.shape) " +
                         "since the optimizer last updated it; call resetState()")
            return entry
        }
        if entries.count >= 64, entries.count.isMultiple(of: 64) { pruneReleased() }
        let entry = SlotBuffers(parameter: parameter, slotCount: names.count)
        entries[ObjectIdentifier(parameter)] = entry
        return entry
    }

    /// A copy of the state of `parameter` by slot name, empty if it has none.
    func state(of parameter: Parameter) -> [String: Tensor] {
        guard let entry = existing(parameter) else { return [:] }
        var state: [String: Tensor] = [:]
        for (slot, name) in names.enumerated() {
            state[name] = Tensor(unsafeUninitializedShape: entry.shape) { out in
                guard let base = out.baseAddress else { return }
                base.update(from: entry[slot], count: entry.count)
            }
        }
        return state
    }

    /// Replaces the state of `parameter` (see `Optimizer.restoreState`); checks everything first.
    func restore(_ state: [String: Tensor], for parameter: Parameter) throws {
        if state.isEmpty {
            entries[ObjectIdentifier(parameter)] = nil
            return
        }
        if let unknown = state.keys.sorted().first(where: { !names.contains($0) }) {
            throw OptimizerError.unknownSlot(parameter: parameter.name, slot: unknown, known: names)
        }
        for name in names {
            guard let tensor = state[name] else {
                throw OptimizerError.missingSlot(parameter: parameter.name, slot: name)
            }
            guard tensor.shape == parameter.shape else {
                throw OptimizerError.shapeMismatch(parameter: parameter.name, slot: name,
                                                   expected: parameter.shape, got: tensor.shape)
            }
        }
        let entry = SlotBuffers(parameter: parameter, slotCount: names.count)
        for (slot, name) in names.enumerated() {
            state[name]!.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress else { return }
                entry[slot].update(from: base, count: entry.count)
            }
        }
        entries[ObjectIdentifier(parameter)] = entry
    }

    /// Forgets every parameter's state and sets `iterations` to 0.
    func reset() {
        entries.removeAll()
        iterations = 0
    }

    /// Drops the state of parameters that no longer exist.
    private func pruneReleased() {
        entries = entries.filter { $0.value.parameter != nil }
    }
}

/// What a concrete optimizer defines: its slots (names fixed at initialisation) and its update
/// rule. Everything else of `Optimizer` (the step loop over the updatable parameters at the
/// step's learning rate, iteration counting, state, restore, reset) is shared, below.
protocol SlotOptimizer: Optimizer {
    var slots: OptimizerSlots { get }
    /// Updates one trainable parameter from its gradient at `learningRate` (the scheduled
    /// rate of this step), with its slot buffers in `slotNames` order.
    func update(_ parameter: Parameter, gradient: Tensor, state: SlotBuffers, learningRate: Float)
}

extension SlotOptimizer {
    public var iterations: Int {
        get { slots.iterations }
        set { slots.iterations = newValue }
    }

    public var slotNames: [String] { slots.names }

    public func step(_ parameters: [Parameter]) {
        let rate = currentLearningRate
        for (parameter, gradient) in updatable(parameters) {
            update(parameter, gradient: gradient, state: slots.buffers(for: parameter), learningRate: rate)
        }
        slots.iterations += 1
    }

    public func state(of parameter: Parameter) -> [String: Tensor] { slots.state(of: parameter) }

    public func restoreState(_ state: [String: Tensor], for parameter: Parameter) throws {
        try slots.restore(state, for: parameter)
    }

    public func resetState() { slots.reset() }
}

/// The parameters `step` updates: trainable, with a gradient of the right shape, each once.
func updatable(_ parameters: [Parameter]) -> [(parameter: Parameter, gradient: Tensor)] {
    var seen = Set<ObjectIdentifier>()
    var result: [(parameter: Parameter, gradient: Tensor)] = []
    for parameter in parameters where parameter.isTrainable {
        guard let gradient = parameter.gradient, seen.insert(ObjectIdentifier(parameter)).inserted else { continue }
        precondition(gradient.shape == parameter.shape,
                     "gradient of shape \(gradient.shape) for parameter '\(parameter.name)' of shape \(parameter.shape)")
        result.append((parameter, gradient))
    }
    return result
}

/// Runs an elementwise update over `parameter`'s value with its gradient: `body(range, w, g)`
/// on disjoint ranges, in parallel for large tensors.
func updateElementwise(_ parameter: Parameter, gradient: Tensor,
                       _ body: (Range<Int>, UnsafeMutablePointer<Float>, UnsafePointer<Float>) -> Void) {
    parameter.value.withUnsafeMutableBufferPointer { w in
        gradient.withUnsafeBufferPointer { g in
            guard let wp = w.baseAddress, let gp = g.baseAddress else { return }
            Parallel.forEachRange(w.count, grain: 1 << 15) { range in body(range, wp, gp) }
        }
    }
}

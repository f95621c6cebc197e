import Tensor

/// Updates parameters from their accumulated gradients, with Keras' update rules.
///
/// An optimizer keeps per-parameter state (moving averages, momenta) keyed by the parameter's
/// identity, so the same `Parameter` objects must be passed on every step. Call `step` after
/// `backward()`; the optimizer leaves the gradients in place (the caller zeroes them).
public protocol Optimizer: AnyObject {
    /// The step size; may be changed between steps (schedules, fine-tuning phases).
    var learningRate: Float { get set }
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

/// Per-parameter state keyed by parameter identity; the bookkeeping every optimizer shares.
struct SlotStore {
    let names: [String]
    private var entries: [ObjectIdentifier: SlotBuffers] = [:]

    init(names: [String]) { self.names = names }

    /// The existing state of `parameter`, if it is still this parameter's.
    private func existing(_ parameter: Parameter) -> SlotBuffers? {
        guard let entry = entries[ObjectIdentifier(parameter)], entry.parameter === parameter else { return nil }
        return entry
    }

    /// The state of `parameter`, created (zeros) on first use.
    mutating func buffers(for parameter: Parameter) -> SlotBuffers {
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

    mutating func restore(_ state: [String: Tensor], for parameter: Parameter) throws {
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

    mutating func removeAll() { entries.removeAll() }

    /// Drops the state of parameters that no longer exist.
    private mutating func pruneReleased() {
        entries = entries.filter { $0.value.parameter != nil }
    }
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

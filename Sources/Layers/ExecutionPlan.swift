import Tensor

/// The one executor of every model: a model (a leaf layer, a `Sequential`, a `Graph`, nested
/// in any way) compiled into a flat list of leaf steps, each reading the outputs of earlier
/// steps or the model's input.
///
/// Values are numbered by the step that makes them; ``ExecutionPlan/inputValue`` (-1) is the
/// model's input. A run can stop after any step, hand back the values still needed after it
/// (a ``PlanState``) and be resumed from there: the trainer's frozen-prefix cache ("everything
/// up to the cut before the first trainable step") and Grad-CAM ("the activation at node X,
/// then the rest with X tapped") are both that. Each value is released after its last use.
public struct ExecutionPlan {
    /// One leaf layer and the values it reads.
    public struct Step {
        public let layer: any Layer
        public let inputs: [Int]
    }

    /// The value index of the model's input.
    public static let inputValue = -1

    public let steps: [Step]
    /// The value index of the model's output (`inputValue` for an empty model).
    public let output: Int
    /// Value index of every named layer or container (a container names its output).
    public let valueIndex: [String: Int]
    /// For each value (index + 1), the last step that reads it (`Int.max` for the output).
    let lastUse: [Int]

    /// Throws `LayerError.unsupportedContainer` for a container other than `Sequential`, `Graph`
    /// or a `CompositeLayer` (which runs as one step): its children might not run in order, so it
    /// is never flattened silently.
    public init(_ model: any Layer) throws {
        var steps: [Step] = []
        var names: [String: Int] = [:]
        func compile(_ layer: any Layer, _ inputs: [Int]) throws -> Int {
            let result: Int
            switch layer {
            case let sequential as Sequential:
                guard inputs.count == 1 else {
                    throw LayerError.wrongInputCount(layer: layer.name, expected: "1", got: inputs.count)
                }
                result = try sequential.layers.reduce(inputs[0]) { try compile($1, [$0]) }
            case let graph as Graph:
                guard inputs.count == 1 else {
                    throw LayerError.wrongInputCount(layer: layer.name, expected: "1", got: inputs.count)
                }
                var values = [graph.inputName: inputs[0]]
                for node in graph.nodes {
                    values[node.layer.name] = try compile(node.layer, node.inputs.map { values[$0]! })
                }
                result = values[graph.outputName]!
            case let composite as any CompositeLayer:
                steps.append(Step(layer: composite, inputs: inputs))
                result = steps.count - 1
            case let container as any LayerContainer:
                throw LayerError.unsupportedContainer(layer: container.name, type: String(describing: type(of: container)))
            default:
                steps.append(Step(layer: layer, inputs: inputs))
                result = steps.count - 1
            }
            if names[layer.name] == nil { names[layer.name] = result }
            return result
        }
        let output = try compile(model, [Self.inputValue])
        self.init(steps: steps, output: output, valueIndex: names)
    }

    /// A plan of these steps (each reading only the input or earlier steps).
    init(steps: [Step], output: Int, valueIndex: [String: Int]) {
        self.steps = steps
        self.output = output
        self.valueIndex = valueIndex
        var lastUse = [Int](repeating: Self.inputValue, count: steps.count + 1)
        for (s, step) in steps.enumerated() {
            for input in step.inputs { lastUse[input + 1] = s }
        }
        lastUse[output + 1] = .max
        self.lastUse = lastUse
    }

    /// The value index of the layer (or container) called `name`.
    public func value(named name: String) throws -> Int {
        guard let index = valueIndex[name] else { throw LayerError.unknownLayer(name) }
        return index
    }

    /// Every parameter of every step, once, in step order (the one walk that finds them).
    public var parameters: [Parameter] { steps.flatMap { $0.layer.parameters } }

    /// The model's output for `input`.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        try advance(start(input), through: output, training: training).value(output)
    }

    /// The output before the final softmax (see ``SoftmaxOutputLayer``): what losses take.
    public func logits(_ input: Tensor, training: Bool) throws -> Tensor {
        try advance(start(input), through: output, training: training, logits: true).value(output)
    }

    /// The state before any step has run.
    public func start(_ input: Tensor) -> PlanState {
        PlanState(position: Self.inputValue, values: [Self.inputValue: input])
    }

    /// Runs the steps after `state.position` through step `end` and returns the values still
    /// needed after `end` (always including `end`'s own). With `logits`, the model's output
    /// step, if reached, gives its pre-softmax value.
    public func advance(_ state: PlanState, through end: Int, training: Bool, logits: Bool = false) throws -> PlanState {
        guard end >= state.position, end < steps.count else {
            throw LayerError.valueNotKept(index: end, position: state.position)
        }
        var values = state.values
        var position = state.position
        while position < end {
            position += 1
            let step = steps[position]
            let inputs = try step.inputs.map { index -> Tensor in
                guard let value = values[index] else { throw LayerError.unknownInput(node: step.layer.name, input: "#\(index)") }
                return value
            }
            let result: Tensor
            if logits, position == output, let head = step.layer as? any SoftmaxOutputLayer {
                result = try head.logits(inputs[0], training: training)
            } else {
                result = try step.layer.forward(inputs, training: training)
            }
            values[position] = result
            for index in step.inputs where lastUse[index + 1] <= position && index != end { values[index] = nil }
        }
        // Keep only what a later step (or the caller, for `end`) reads.
        values = values.filter { index, _ in index == end || lastUse[index + 1] > end }
        return PlanState(position: end, values: values)
    }

    /// The last value `k` such that steps `0...k` hold no trainable weight and no step after
    /// `k` reads a value made before `k`: the output of `k` alone determines the rest, so it can
    /// be computed once and cached. `inputValue` when the first step is trainable.
    public var frozenCut: Int {
        let firstTrainable = steps.firstIndex { $0.layer.isTrainable } ?? steps.count
        // earliestRead[j]: the smallest value index read by any step >= j.
        var earliestRead = [Int](repeating: .max, count: steps.count + 1)
        for j in stride(from: steps.count - 1, through: 0, by: -1) {
            earliestRead[j] = min(earliestRead[j + 1], steps[j].inputs.min() ?? .max)
        }
        var k = firstTrainable - 1
        while k > Self.inputValue, earliestRead[k + 1] < k { k -= 1 }
        return k
    }

    /// Whether every step through `k` is deterministic (no dropout), so its output can be cached.
    public func isDeterministic(through k: Int) -> Bool {
        k < 0 || steps[...k].allSatisfy { $0.layer.isDeterministic }
    }
}

/// The values of a partly run plan: those made at or before `position` that later steps read.
public struct PlanState {
    public let position: Int
    public var values: [Int: Tensor]

    public init(position: Int, values: [Int: Tensor]) {
        self.position = position
        self.values = values
    }

    /// The value made by step `index` (or the input, `ExecutionPlan.inputValue`); throws
    /// `LayerError.valueNotKept` for one this state does not hold.
    public func value(_ index: Int) throws -> Tensor {
        guard let value = values[index] else { throw LayerError.valueNotKept(index: index, position: position) }
        return value
    }
}

/// A layer that ends in a softmax and can give the values before it (the logits), as a
/// classifier's last `Dense(softmax)` or a `Softmax` layer does. Losses and Grad-CAM take those.
public protocol SoftmaxOutputLayer: Layer {
    /// The pre-softmax output for `input`.
    func logits(_ input: Tensor, training: Bool) throws -> Tensor
}

/// The plan of a container, compiled on first use and kept while its leaf layers stay the
/// same (checked on every use, so a layer appended to a nested `Sequential` is seen too).
final class PlanCache {
    private var plan: ExecutionPlan?
    private var inference: ExecutionPlan?
    private var leaves: [ObjectIdentifier] = []

    func plan(for model: any Layer) throws -> ExecutionPlan {
        let current = model.flattenedLayers.map { ObjectIdentifier($0) }
        if let plan, current == leaves { return plan }
        let compiled = try ExecutionPlan(model)
        plan = compiled
        inference = nil
        leaves = current
        return compiled
    }

    /// ``ExecutionPlan/fusedForInference()`` of the model's plan, rebuilt with it.
    func inferencePlan(for model: any Layer) throws -> ExecutionPlan {
        let base = try plan(for: model)
        if let inference { return inference }
        let fused = base.fusedForInference()
        inference = fused
        return fused
    }

    func invalidate() {
        plan = nil
        inference = nil
    }
}

extension LayerContainer {
    /// Whether a call with `training` may run the model's inference plan: not training and
    /// no gradient recorded (the fused steps record none).
    static func runsInferencePlan(training: Bool) -> Bool { !training && !Autograd.isRecording }
}

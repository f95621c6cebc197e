import Tensor

/// A model as a directed acyclic graph of named layers, as a Keras functional model is: each
/// node is a layer applied to the outputs of earlier nodes (or to the graph's input). A
/// `Sequential` is the special case of a chain; both may nest inside each other.
///
/// Nodes are listed in an order where every input comes before its use (Keras' `model.layers`
/// order), which is also the order weights files and `flattenedLayers` list them in. Graphs run
/// through ``ExecutionPlan``, the one executor every model goes through.
public final class Graph: LayerContainer {
    /// One layer and the names of the nodes (or the graph input) it reads.
    public struct Node {
        public let layer: any Layer
        public let inputs: [String]

        public init(_ layer: any Layer, inputs: [String]) {
            self.layer = layer
            self.inputs = inputs
        }
    }

    public let name: String
    /// The name of the graph's input (Keras' `InputLayer`, e.g. `input_1`).
    public let inputName: String
    public let nodes: [Node]
    /// The node whose output is the graph's output.
    public let outputName: String
    private let planCache = PlanCache()

    /// Throws `LayerError.unknownInput` when a node reads a name that is neither the input nor
    /// an earlier node, `duplicateLayerName` for a repeated name (at any depth) and
    /// `wrongInputCount` for a layer given the wrong number of inputs.
    public init(name: String, inputName: String = "input_1", nodes: [Node], output: String) throws {
        self.name = name
        self.inputName = inputName
        self.nodes = nodes
        self.outputName = output
        var known: Set<String> = [inputName]
        for node in nodes {
            for input in node.inputs where !known.contains(input) {
                throw LayerError.unknownInput(node: node.layer.name, input: input)
            }
            switch node.layer.inputArity {
            case let arity?:
                if node.inputs.count != arity {
                    throw LayerError.wrongInputCount(layer: node.layer.name, expected: "\(arity)", got: node.inputs.count)
                }
            case nil:
                if node.inputs.count < 2 {
                    throw LayerError.wrongInputCount(layer: node.layer.name, expected: ">= 2", got: node.inputs.count)
                }
            }
            guard known.insert(node.layer.name).inserted else {
                throw LayerError.duplicateLayerName(node.layer.name, model: name)
            }
        }
        guard known.contains(output) else { throw LayerError.unknownInput(node: name, input: output) }
        try Sequential.checkUniqueNames(flattenedLayers, model: name)
    }

    public var layers: [any Layer] { nodes.map(\.layer) }
    public var parameters: [Parameter] { nodes.flatMap { $0.layer.parameters } }
    public var kerasClassName: String { "Functional" }
    public var isDeterministic: Bool { nodes.allSatisfy { $0.layer.isDeterministic } }

    /// The plan for this graph alone (built once).
    public func plan() throws -> ExecutionPlan { try planCache.plan(for: self) }

    /// Outside training and gradient recording, through the inference plan (batch
    /// normalisation folded into convolutions, activations fused, dropout skipped).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        if Self.runsInferencePlan(training: training) {
            return try planCache.inferencePlan(for: self).forward(input, training: false)
        }
        return try plan().forward(input, training: training)
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else { throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count) }
        var shapes: [String: Shape] = [inputName: inputs[0]]
        for node in nodes {
            shapes[node.layer.name] = try node.layer.outputShape(for: node.inputs.map { shapes[$0]! })
        }
        return shapes[outputName]!
    }
}

/// A handle on a node's output while a ``Graph`` is being built.
public struct GraphValue: Hashable, Sendable {
    public let name: String
}

/// Builds a ``Graph`` in Keras' functional style:
///
/// ```swift
/// var graph = GraphBuilder()
/// let y = graph(try Conv2D(...), graph.input)
/// let sum = graph(Add(name: "add"), y, graph.input)
/// let model = try graph.build(name: "net", output: sum)
/// ```
public struct GraphBuilder {
    public let input: GraphValue
    public private(set) var nodes: [Graph.Node] = []

    public init(inputName: String = "input_1") {
        input = GraphValue(name: inputName)
    }

    /// Applies `layer` to `inputs`; the node is named after the layer.
    @discardableResult
    public mutating func callAsFunction(_ layer: any Layer, _ inputs: GraphValue...) -> GraphValue {
        add(layer, inputs)
    }

    @discardableResult
    public mutating func add(_ layer: any Layer, _ inputs: [GraphValue]) -> GraphValue {
        nodes.append(Graph.Node(layer, inputs: inputs.map(\.name)))
        return GraphValue(name: layer.name)
    }

    public func build(name: String, output: GraphValue) throws -> Graph {
        try Graph(name: name, inputName: input.name, nodes: nodes, output: output.name)
    }
}

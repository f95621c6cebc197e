import Foundation
import Layers
import Tensor
import TestSupport
import XCTest

/// Graphs and the one executor: branching and merging, stopping and resuming, the frozen cut,
/// refusals with named errors.
final class GraphTests: XCTestCase {
    /// input -> conv_a -> relu_a ---------> add -> out (relu) -> gap -> dense (softmax)
    ///       \-> conv_b (1x1) -------------/
    /// plus a concatenation branch to check the other merge.
    func residual(seed: UInt64 = 3, activation: Activation = .relu) throws -> (graph: Graph, model: Sequential) {
        var rng = SeededGenerator(seed: seed)
        var g = GraphBuilder()
        let a = g(try Conv2D(name: "conv_a", inputChannels: 3, filters: 4, activation: .linear, rng: &rng), g.input)
        let ra = g(ActivationLayer(name: "relu_a", activation), a)
        let b = g(try Conv2D(name: "conv_b", inputChannels: 3, filters: 4, kernelSize: (1, 1), activation: .linear, rng: &rng), g.input)
        let sum = g(Add(name: "add"), ra, b)
        let out = g(ActivationLayer(name: "out", activation), sum)
        let cat = g(Concatenate(name: "concat"), out, b)
        let graph = try g.build(name: "net", output: cat)
        var rngHead = SeededGenerator(seed: seed + 1)
        let model = try Sequential(name: "model", [
            graph, GlobalAveragePooling2D(name: "gap"),
            try Dense(name: "dense", inputSize: 8, outputSize: 2, activation: .softmax, rng: &rngHead),
        ])
        return (graph, model)
    }

    func input(_ n: Int = 2) -> Tensor {
        var rng = SeededGenerator(seed: 11)
        return Tensor.uniform([n, 6, 6, 3], low: -1, high: 1, using: &rng)
    }

    func testGraphComputesWhatItsLayersComputeByHand() throws {
        let (graph, _) = try residual()
        let x = input()
        let layers = Dictionary(uniqueKeysWithValues: graph.layers.map { ($0.name, $0) })
        let a = try layers["relu_a"]!(try layers["conv_a"]!(x))
        let b = try layers["conv_b"]!(x)
        let out = (a + b).relu()
        let expected = try Concatenate(name: "c").forward([out, b], training: false)
        let y = try graph(x)
        XCTAssertEqual(y.shape, [2, 6, 6, 8])
        XCTAssertLessThanOrEqual(y.maxAbsDifference(expected), 1e-6)
        XCTAssertEqual(try graph.outputShape(for: [2, 6, 6, 3]), y.shape)
    }

    /// The gradient through branches that split and merge, for every parameter and the input
    /// (swish instead of ReLU: smooth, so central differences need no care about kinks).
    func testGradientsThroughBranchesAndMerges() throws {
        let (graph, _) = try residual(activation: .swish)
        let errors = try GradientCheck.layerErrors(graph, inputs: [input()], epsilon: 1e-2, samples: 40)
        XCTAssertEqual(Set(errors.keys), ["input0", "kernel", "bias"])  // names repeat across convs; worst kept
        for (name, error) in errors { assertGradientError(error, name) }
        // Each conv's kernel alone, through the whole model and its softmax.
        let (_, model) = try residual(activation: .swish)
        let x = input()
        for layer in model.flattenedLayers where layer is Conv2D {
            let conv = layer as! Conv2D
            let error = try GradientCheck.maxRelativeError(of: conv.kernel, samples: 30) {
                GradientCheck.projected(try model(x, training: true))
            }
            assertGradientError(error, conv.name)
        }
    }

    func testStopAndResumeEqualsOneRun() throws {
        let (_, model) = try residual()
        let plan = try model.plan()
        let x = input()
        let whole = try plan.forward(x, training: false)
        // Stop inside the residual block: the state carries relu_a's output across the cut.
        let at = try plan.value(named: "conv_b")
        let state = try plan.advance(plan.start(x), through: at, training: false)
        XCTAssertNotNil(state.values[try plan.value(named: "relu_a")], "a value read after the cut is kept")
        XCTAssertNil(state.values[ExecutionPlan.inputValue], "the input, read by nothing later, is released")
        let resumed = try plan.advance(state, through: plan.output, training: false).value(plan.output)
        XCTAssertEqual(resumed.scalars, whole.scalars)
        // The container's name gives its output.
        XCTAssertEqual(try plan.value(named: "net"), try plan.value(named: "concat"))
    }

    func testFrozenCutIsTheLastSingleValueBeforeTheFirstTrainableStep() throws {
        let (graph, model) = try residual()
        for layer in graph.layers { layer.setTrainable(false) }
        let plan = try ExecutionPlan(model)
        // Everything but the dense layer is frozen: the cut is the pooling, which alone feeds it.
        XCTAssertEqual(plan.frozenCut, try plan.value(named: "gap"))
        // With conv_b trainable the first trainable step is conv_b; before it, relu_a is read
        // later by add, and the input by conv_b: only the input is a cut.
        (graph.layers.first { $0.name == "conv_b" }!).setTrainable(true)
        XCTAssertEqual(try ExecutionPlan(model).frozenCut, ExecutionPlan.inputValue)
    }

    func testLogitsAreTheDenseLayersPreActivation() throws {
        let (_, model) = try residual()
        let x = input()
        let logits = try model.logits(x)
        XCTAssertLessThanOrEqual(logits.softmax().maxAbsDifference(try model(x)), 1e-6)
    }

    func testRefusals() throws {
        var rng = SeededGenerator(seed: 1)
        let conv = try Conv2D(name: "c", inputChannels: 3, filters: 2, rng: &rng)
        XCTAssertThrowsError(try Graph(name: "g", nodes: [Graph.Node(conv, inputs: ["nowhere"])], output: "c")) {
            XCTAssertEqual($0 as? LayerError, .unknownInput(node: "c", input: "nowhere"))
        }
        XCTAssertThrowsError(try Graph(name: "g", nodes: [Graph.Node(Add(name: "a"), inputs: ["input_1"])], output: "a")) {
            XCTAssertEqual($0 as? LayerError, .wrongInputCount(layer: "a", expected: ">= 2", got: 1))
        }
        XCTAssertThrowsError(try Graph(name: "g", nodes: [Graph.Node(conv, inputs: ["input_1"]),
                                                         Graph.Node(conv, inputs: ["c"])], output: "c")) {
            XCTAssertEqual($0 as? LayerError, .duplicateLayerName("c", model: "g"))
        }
        XCTAssertThrowsError(try Add(name: "a").forward([Tensor(zeros: [1, 2]), Tensor(zeros: [1, 3])], training: false)) {
            XCTAssertEqual($0 as? LayerError, .shapeMismatch(layer: "a", expected: "a shape that broadcasts with [1, 2]", got: [1, 3]))
        }
        // A container the executor does not know is refused by name, never flattened.
        final class Parallel2: LayerContainer {
            let name = "mystery"
            let layers: [any Layer]
            init(_ layers: [any Layer]) { self.layers = layers }
            var parameters: [Parameter] { layers.flatMap(\.parameters) }
            func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor { input }
        }
        let model = try Sequential(name: "m", [Parallel2([conv])])
        XCTAssertThrowsError(try ExecutionPlan(model)) {
            XCTAssertEqual($0 as? LayerError, .unsupportedContainer(layer: "mystery", type: "Parallel2"))
        }
    }

    /// Multiply broadcasts a per-channel gate over the map (squeeze-and-excitation), with both gradients.
    func testMultiplyBroadcastsAndDifferentiates() throws {
        let layer = Multiply(name: "excite")
        var rng = SeededGenerator(seed: 5)
        let map = Tensor.uniform([2, 3, 3, 4], low: -1, high: 1, using: &rng)
        let gate = Tensor.uniform([2, 1, 1, 4], low: 0.2, high: 1, using: &rng)
        let y = try layer.forward([map, gate], training: false)
        XCTAssertEqual(y.shape, map.shape)
        XCTAssertEqual(y[flat: 5], map[flat: 5] * gate[flat: 1], accuracy: 1e-7)  // pixel 1, channel 1 of image 0
        // The gate first works too: the output takes the broadcast shape either way.
        XCTAssertEqual(try layer.forward([gate, map], training: false).scalars, y.scalars)
        for (name, error) in try GradientCheck.layerErrors(layer, inputs: [map, gate]) { assertGradientError(error, name) }
        for (name, error) in try GradientCheck.layerErrors(Add(name: "add"), inputs: [map, map * 0.5 + 0.1]) {
            assertGradientError(error, "add \(name)")
        }
        for (name, error) in try GradientCheck.layerErrors(Concatenate(name: "cat"), inputs: [map, map * 2]) {
            assertGradientError(error, "concat \(name)")
        }
    }

    func testActivationLayersAndPerSampleDropout() throws {
        var rng = SeededGenerator(seed: 8)
        let x = Tensor.uniform([3, 2, 2, 5], low: -8, high: 8, using: &rng)
        let relu6 = try ReLU(name: "r6", maxValue: 6)(x)
        XCTAssertEqual(relu6.scalars, x.scalars.map { min(max($0, 0), 6) })
        let swish = try ActivationLayer(name: "s", .swish)(x)
        for (s, v) in zip(swish.scalars, x.scalars) { XCTAssertEqual(s, v / (1 + Foundation.exp(-v)), accuracy: 1e-5) }
        XCTAssertEqual(ActivationLayer(name: "s", .swish).kerasClassName, "Activation")
        XCTAssertThrowsError(try ReLU(name: "r", maxValue: 3)(x))

        // Per-sample dropout keeps or drops whole examples, scaled by 1 / (1 - rate).
        let drop = try Dropout(name: "drop", rate: 0.5, seed: 4, noiseShape: .perSample)
        let ones = Tensor(repeating: 1, shape: [64, 2, 2, 3])
        let y = try drop(ones, training: true).scalars
        var kept = 0
        for n in 0..<64 {
            let example = Set(y[(n * 12)..<((n + 1) * 12)])
            XCTAssertEqual(example.count, 1, "example \(n) is kept or dropped as a whole")
            XCTAssertTrue(example == [0] || example == [2])
            if example == [2] { kept += 1 }
        }
        XCTAssertTrue((16...48).contains(kept), "about half kept, got \(kept)")
        XCTAssertFalse(drop.isDeterministic)
        XCTAssertEqual(try drop(ones, training: false).scalars, ones.scalars)
    }

    func testSummaryListsEveryLayerWithShapesAndInputs() throws {
        let (_, model) = try residual()
        let summary = try ModelSummary(model, inputShape: [6, 6, 3])
        XCTAssertEqual(summary.rows.map(\.name), ["conv_a", "relu_a", "conv_b", "add", "out", "concat", "gap", "dense"])
        XCTAssertEqual(summary.rows[3].inputs, ["relu_a", "conv_b"])
        XCTAssertEqual(summary.rows[5].outputShape, [1, 6, 6, 8])
        XCTAssertEqual(summary.totalParameters, model.parameters.reduce(0) { $0 + $1.shape.count })
        XCTAssertTrue(summary.description.contains("add (Add)"))
    }
}

/// A model's cached plan follows changes to the containers inside it.
final class PlanCacheTests: XCTestCase {
    func testAppendingToANestedSequentialIsSeenByTheOuterModel() throws {
        let inner = try Sequential(name: "inner", [ActivationLayer(name: "a", .relu)])
        let outer = try Sequential(name: "outer", [inner])
        let x = Tensor([-1, 2], shape: [1, 2])
        XCTAssertEqual(try outer(x).scalars, [0, 2])
        try inner.append(Rescaling(name: "double", scale: 2))
        XCTAssertEqual(try outer(x).scalars, [0, 4], "the new layer runs")
        XCTAssertEqual(try outer.plan().steps.count, 2)
    }
}

import Layers
import Tensor
import TestSupport
import XCTest

/// Sequential models: freezing by block name, logits, and shape errors naming the layer.
final class SequentialTests: XCTestCase {
    /// A tiny VGG-style model with Keras block names, input [n, 8, 8, 3].
    func makeModel(nested: Bool = false) throws -> Sequential {
        var rng = SeededGenerator(seed: 1)
        let base: [any Layer] = [
            try Conv2D(name: "block1_conv1", inputChannels: 3, filters: 4, rng: &rng),
            try Conv2D(name: "block1_conv2", inputChannels: 4, filters: 4, rng: &rng),
            MaxPool2D(name: "block1_pool"),
            try Conv2D(name: "block2_conv1", inputChannels: 4, filters: 6, rng: &rng),
            MaxPool2D(name: "block2_pool"),
        ]
        let head: [any Layer] = [
            Flatten(name: "flatten"),
            try Dense(name: "dense_1", inputSize: 24, outputSize: 5, activation: .relu, rng: &rng),
            try Dropout(name: "dropout", rate: 0.5),
            try Dense(name: "predictions", inputSize: 5, outputSize: 2, activation: .softmax, rng: &rng),
        ]
        if nested { return try Sequential(name: "model", [try Sequential(name: "vgg", base)] + head) }
        return try Sequential(name: "model", base + head)
    }

    func trainable(_ model: Sequential) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for layer in model.flattenedLayers where !layer.parameters.isEmpty { result[layer.name] = layer.isTrainable }
        return result
    }

    func testFreezeThroughBlockFreezesExactlyThePrefix() throws {
        for nested in [false, true] {
            let model = try makeModel(nested: nested)
            let frozen = try model.freeze(through: "block1")
            XCTAssertEqual(frozen, ["block1_conv1", "block1_conv2", "block1_pool"])
            XCTAssertEqual(trainable(model), ["block1_conv1": false, "block1_conv2": false, "block2_conv1": true,
                                              "dense_1": true, "predictions": true], "nested \(nested)")
            // Every parameter of a frozen layer is frozen, kernel and bias alike.
            let conv = try XCTUnwrap(try model.layer(named: "block1_conv2") as? Conv2D)
            XCTAssertFalse(conv.kernel.isTrainable || conv.bias!.isTrainable)

            XCTAssertEqual(try model.freeze(through: "block2"),
                           ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_pool"])
            XCTAssertEqual(trainable(model), ["block1_conv1": false, "block1_conv2": false, "block2_conv1": false,
                                              "dense_1": true, "predictions": true])
            // Freezing less again unfreezes the rest.
            try model.freeze(through: "block1")
            XCTAssertEqual(trainable(model)["block2_conv1"], true)
            XCTAssertThrowsError(try model.freeze(through: "block9")) { error in
                XCTAssertEqual(error as? LayerError, .unknownLayer("block9"))
            }
        }
    }

    func testFrozenLayersGetNoGradientInATrainingStep() throws {
        let model = try makeModel()
        try model.freeze(through: "block1")
        let x = randomTensor([2, 8, 8, 3], seed: 2)
        let loss = try SoftmaxCrossEntropy(classWeights: [1, 2])(logits: try model.logits(x, training: true), labels: [0, 1])
        XCTAssertTrue(loss.isFinite)
        loss.backward()
        for name in ["block1_conv1", "block1_conv2"] {
            for p in try model.layer(named: name).parameters { XCTAssertNil(p.gradient, "\(name) \(p.name) is frozen") }
        }
        let conv = try XCTUnwrap(try model.layer(named: "block2_conv1") as? Conv2D)
        XCTAssertNotNil(conv.kernel.gradient)
        XCTAssertNotNil(conv.bias!.gradient)
        let head = try XCTUnwrap(try model.layer(named: "predictions") as? Dense)
        XCTAssertNotNil(head.kernel.gradient)
    }

    func testLogitsAreTheInputOfTheFinalSoftmax() throws {
        let model = try makeModel()
        let x = randomTensor([3, 8, 8, 3], seed: 3)
        let probabilities = try model(x)
        let logits = try model.logits(x)
        XCTAssertEqual(logits.shape, [3, 2])
        assertClose(probabilities, logits.softmax(), tolerance: 1e-6, "softmax(logits) = output")
        // With a separate Softmax layer the logits are its input.
        var rng = SeededGenerator(seed: 4)
        let dense = try Dense(name: "fc", inputSize: 4, outputSize: 3, rng: &rng)
        let split = try Sequential([dense, Softmax()])
        let v = randomTensor([2, 4], seed: 5)
        assertClose(try split.logits(v), try dense(v), tolerance: 1e-7, "Softmax layer logits")
    }

    func testShapeMismatchesNameTheLayerAndShape() throws {
        var rng = SeededGenerator(seed: 6)
        let conv = try Conv2D(name: "block1_conv1", inputChannels: 3, filters: 4, rng: &rng)
        assertShapeMismatch(layer: "block1_conv1", got: [1, 8, 8, 4]) { try conv(Tensor(zeros: [1, 8, 8, 4])) }
        assertShapeMismatch(layer: "block1_conv1", got: [8, 8, 3]) { try conv(Tensor(zeros: [8, 8, 3])) }

        let valid = try Conv2D(name: "valid_conv", inputChannels: 3, filters: 2, padding: .valid, rng: &rng)
        assertShapeMismatch(layer: "valid_conv", got: [1, 2, 5, 3]) { try valid(Tensor(zeros: [1, 2, 5, 3])) }
        assertShapeMismatch(layer: "valid_conv", got: [1, 5, 2, 3]) { try valid(Tensor(zeros: [1, 5, 2, 3])) }
        XCTAssertEqual(try valid(Tensor(zeros: [1, 3, 3, 3])).shape, [1, 1, 1, 2], "an exact fit is fine")

        let dense = try Dense(name: "fc1", inputSize: 10, outputSize: 2, rng: &rng)
        assertShapeMismatch(layer: "fc1", got: [2, 12]) { try dense(Tensor(zeros: [2, 12])) }
        assertShapeMismatch(layer: "fc1", got: [10]) { try dense(Tensor(zeros: [10])) }

        assertShapeMismatch(layer: "block1_pool", got: [1, 1, 4, 3]) {
            try MaxPool2D(name: "block1_pool")(Tensor(zeros: [1, 1, 4, 3]))
        }
        assertShapeMismatch(layer: "flatten", got: [7]) { try Flatten()(Tensor(zeros: [7])) }

        // Inside a model the error names the inner layer that failed.
        let model = try makeModel()
        assertShapeMismatch(layer: "dense_1", got: [1, 54]) { try model(Tensor(zeros: [1, 12, 12, 3])) }
        assertShapeMismatch(layer: "block1_conv1", got: [1, 8, 8, 1]) { try model(Tensor(zeros: [1, 8, 8, 1])) }
    }

    func testParametersAreListedInKerasOrder() throws {
        let model = try makeModel()
        XCTAssertEqual(model.parameters.map(\.name), Array(repeating: ["kernel", "bias"], count: 5).flatMap { $0 })
        XCTAssertEqual(model.parameters.count, 10)
        XCTAssertEqual(model.flattenedLayers.map(\.name),
                       ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_pool", "flatten",
                        "dense_1", "dropout", "predictions"])
        try XCTAssertEqual(makeModel(nested: true).flattenedLayers.count, 9)
    }
}

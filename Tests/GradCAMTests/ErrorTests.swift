import GradCAM
import Layers
import Tensor
import XCTest
import Zoo

/// Wrong requests fail with errors that say what was wrong.
final class ErrorTests: XCTestCase {
    func testUnknownLayerIsNamed() throws {
        let model = try MiniVGG.model(.vgg19)
        XCTAssertThrowsError(try GradCAM(model: model, layer: "block9_conv1")) { error in
            guard case GradCAMError.unknownLayer(let name, let candidates) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(name, "block9_conv1")
            XCTAssertTrue(candidates.contains("block5_conv4"))
            XCTAssertFalse(candidates.contains("dense"))
            XCTAssertTrue("\(error)".contains("'block9_conv1'"), "\(error)")
        }
    }

    func testTwoDimensionalLayersAreRefused() throws {
        let model = try MiniVGG.model(.vgg16)
        for name in ["flatten", "dense", "dense_1"] {
            XCTAssertThrowsError(try GradCAM(model: model, layer: name)) { error in
                guard case GradCAMError.notSpatial(let layer, _) = error else { return XCTFail("unexpected \(error)") }
                XCTAssertEqual(layer, name)
                let text = "\(error)"
                XCTAssertTrue(text.contains("'\(name)'") && text.contains("4-D"), text)
            }
        }
    }

    func testModelWithoutConvolutionNeedsALayerName() throws {
        var rng = SeededGenerator(seed: 3)
        let model = try Sequential([Flatten(), try Dense(name: "dense", inputSize: 12, outputSize: 2, activation: .softmax, rng: &rng)])
        XCTAssertThrowsError(try GradCAM(model: model)) { error in
            XCTAssertEqual(error as? GradCAMError, .noConvolutionLayer)
        }
    }

    func testBadTargetsAndInputs() throws {
        let gradCAM = try GradCAM(model: try MiniVGG.model(.vgg19))
        let x = try MiniVGG.inputs()
        XCTAssertThrowsError(try gradCAM.explain(x, target: .class(2))) { error in
            XCTAssertEqual(error as? GradCAMError, .classOutOfRange(class: 2, classes: 2))
        }
        XCTAssertThrowsError(try gradCAM.explain(x, target: .perImage([0, 1]))) { error in
            XCTAssertEqual(error as? GradCAMError, .targetCountMismatch(targets: 2, batch: 4))
        }
        XCTAssertThrowsError(try gradCAM.explain(Tensor(zeros: [4, 12]))) { error in
            XCTAssertEqual(error as? GradCAMError, .badInput([4, 12]))
        }
        XCTAssertThrowsError(try gradCAM.explain(Tensor(zeros: [2, 64, 64, 4]))) { error in
            XCTAssertTrue(error is LayerError, "the first conv reports the wrong channel count: \(error)")
        }
    }

    func testModelThatDoesNotEndInClassScores() throws {
        var rng = SeededGenerator(seed: 4)
        let model = try Sequential([try Conv2D(name: "c1", inputChannels: 3, filters: 2, rng: &rng),
                                try Conv2D(name: "c2", inputChannels: 2, filters: 2, rng: &rng)])
        XCTAssertThrowsError(try GradCAM(model: model, layer: "c1").explain(Tensor(zeros: [1, 5, 5, 3]))) { error in
            guard case GradCAMError.notAClassifier(let layer, let shape) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(layer, "c1")
            XCTAssertEqual(shape, [1, 5, 5, 2])
        }
    }
}

/// A container that is not a `Sequential` (its children need not run in order).
final class Branches: LayerContainer {
    let name = "branches"
    let layers: [any Layer]
    init(_ layers: [any Layer]) { self.layers = layers }
    var parameters: [Parameter] { layers.flatMap(\.parameters) }
    func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let outputs = try layers.map { try $0(input, training: training) }
        return outputs.dropFirst().reduce(outputs[0], +)
    }
}

extension ErrorTests {
    func testNonSequentialContainerIsRefused() throws {
        var rng = SeededGenerator(seed: 5)
        let model = try Sequential([Branches([try Conv2D(name: "a", inputChannels: 3, filters: 2, rng: &rng),
                                          try Conv2D(name: "b", inputChannels: 3, filters: 2, rng: &rng)]),
                                Flatten(), try Dense(name: "d", inputSize: 50, outputSize: 2, activation: .softmax, rng: &rng)])
        XCTAssertThrowsError(try GradCAM(model: model, layer: "a")) { error in
            XCTAssertEqual(error as? GradCAMError, .unsupportedContainer("branches"))
        }
    }
}

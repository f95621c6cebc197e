import Layers
import Tensor
import XCTest

/// Layer settings out of range are thrown errors that name the layer and the value.
final class ConfigurationErrorTests: XCTestCase {
    func testConv2DRefusesSoftmaxAndEmptySizes() {
        var rng = SeededGenerator(seed: 0)
        XCTAssertThrowsError(try Conv2D(name: "c", inputChannels: 3, filters: 4, activation: .softmax, rng: &rng)) {
            XCTAssertEqual($0 as? LayerError, .invalidConfiguration(
                layer: "c", setting: "activation softmax", requirement: "is not supported by Conv2D (use linear, relu, sigmoid or swish)"))
        }
        XCTAssertThrowsError(try Conv2D(name: "c", inputChannels: 3, filters: 0, rng: &rng)) {
            XCTAssertEqual("\($0)", "layer 'c': filters 0 must be >= 1")
        }
        XCTAssertThrowsError(try Conv2D(name: "c", inputChannels: 3, filters: 2, stride: (0, 1), rng: &rng)) {
            XCTAssertEqual("\($0)", "layer 'c': stride height 0 must be >= 1")
        }
    }

    func testDenseAndDropoutRanges() {
        var rng = SeededGenerator(seed: 0)
        XCTAssertThrowsError(try Dense(name: "dense", inputSize: 4, outputSize: -1, rng: &rng)) {
            XCTAssertEqual("\($0)", "layer 'dense': units -1 must be >= 1")
        }
        for rate: Float in [1, -0.1, .nan, 2] {
            XCTAssertThrowsError(try Dropout(name: "dropout", rate: rate)) {
                XCTAssertEqual("\($0)", "layer 'dropout': rate \(rate) must be in [0, 1)")
            }
        }
        XCTAssertNoThrow(try Dropout(rate: 0))
        XCTAssertNoThrow(try Dropout(rate: 0.999))
    }

    func testDuplicateLayerNamesAreRefusedAtAnyDepth() throws {
        XCTAssertThrowsError(try Sequential(name: "m", [Flatten(name: "x"), Flatten(name: "x")])) {
            XCTAssertEqual($0 as? LayerError, .duplicateLayerName("x", model: "m"))
        }
        let inner = try Sequential(name: "base", [Flatten(name: "flatten")])
        XCTAssertThrowsError(try Sequential(name: "outer", [inner, Flatten(name: "flatten")])) {
            XCTAssertEqual("\($0)", "model 'outer' has more than one layer named 'flatten'; layer names must be unique")
        }
        let model = try Sequential(name: "m", [Flatten(name: "a")])
        XCTAssertThrowsError(try model.append(Flatten(name: "a")))
        XCTAssertEqual(model.layers.count, 1, "a refused layer is not added")
        try model.append(Flatten(name: "b"))
        XCTAssertEqual(model.layers.map(\.name), ["a", "b"])
    }
}

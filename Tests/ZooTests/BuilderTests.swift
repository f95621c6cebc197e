import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
@testable import Zoo

/// VGG, transfer and baseline builders: Keras' names, shapes and freezing.
final class BuilderTests: XCTestCase {
    func testVGGLayerNamesMatchKeras() throws {
        var rng = SeededGenerator(seed: 0)
        let vgg16 = try VGG.vgg16(inputSize: 64, widths: VGGConfiguration.miniWidths, rng: &rng)
        XCTAssertEqual(vgg16.name, "vgg16")
        XCTAssertEqual(vgg16.layers.map(\.name), [
            "block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2", "block2_pool",
            "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool",
            "block4_conv1", "block4_conv2", "block4_conv3", "block4_pool",
            "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool",
        ])
        let vgg19 = try VGG.make(VGGConfiguration(depth: .vgg19, inputSize: 64, widths: VGGConfiguration.miniWidths,
                                              includeTop: true, fullyConnectedUnits: 24, classes: 7), rng: &rng)
        XCTAssertEqual(vgg19.layers.filter { $0 is Conv2D }.count, 16)
        XCTAssertEqual(vgg19.layers.suffix(5).map(\.name), ["block5_pool", "flatten", "fc1", "fc2", "predictions"])
        XCTAssertEqual((vgg19.layers.last as? Dense)?.outputSize, 7)
        XCTAssertEqual((vgg19.layers[vgg19.layers.count - 3] as? Dense)?.inputSize, 2 * 2 * 32)
        XCTAssertEqual(VGGConfiguration.Depth.vgg19.lastConvolution, "block5_conv4")
        XCTAssertEqual(VGGConfiguration.Depth.vgg16.lastConvolution, "block5_conv3")
    }

    func testFeatureShapesFloorOddSizes() throws {
        XCTAssertEqual(VGGConfiguration(depth: .vgg19).featureShape, [4, 4, 512])
        XCTAssertEqual(VGGConfiguration(depth: .vgg16, inputSize: 224).featureShape, [7, 7, 512])
        var rng = SeededGenerator(seed: 0)
        let mini = try VGG.make(VGGConfiguration(depth: .vgg16, inputSize: 75, widths: VGGConfiguration.miniWidths), rng: &rng)
        let inferred = try mini.outputShape(for: [2, 75, 75, 3])
        let actual = try withoutGradients { try mini(Tensor(zeros: [2, 75, 75, 3])) }.shape
        XCTAssertEqual(inferred, actual)
        XCTAssertEqual(inferred, [2, 2, 2, 32])
    }

    func testStandardVGGParameterCountsMatchKeras() throws {
        var rng = SeededGenerator(seed: 0)
        // keras.applications.VGG16(include_top=False): 14,714,688 parameters.
        let vgg16 = try VGG.vgg16(rng: &rng)
        XCTAssertEqual(vgg16.parameters.reduce(0) { $0 + $1.value.count }, 14_714_688)
        // With the top at 224x224 Keras reports 138,357,544: the same convolutions plus the dense layers.
        let top = 7 * 7 * 512 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
        XCTAssertEqual(14_714_688 + top, 138_357_544)
    }

    func testTransferModelNestsTheBaseLikeKeras() throws {
        var rng = SeededGenerator(seed: 0)
        let model = try TransferModel.vgg(VGGConfiguration(depth: .vgg19, widths: VGGConfiguration.miniWidths),
                                          head: TransferHead(hiddenUnits: 32, dropoutRate: 0.5, classes: 2), rng: &rng)
        XCTAssertEqual(model.name, "sequential")
        XCTAssertEqual(model.layers.map(\.name), ["vgg19", "flatten", "dense", "dropout", "dense_1"])
        XCTAssertEqual((model.layers[2] as? Dense)?.inputSize, 4 * 4 * 32)
        // freeze(through: "block4"): blocks 1-4 frozen, block 5 and the head trainable.
        for layer in model.flattenedLayers where !layer.parameters.isEmpty {
            XCTAssertEqual(layer.isTrainable, !layer.name.hasPrefix("block") || layer.name.hasPrefix("block5"), layer.name)
        }
        let probabilities = try withoutGradients { try model(Tensor(zeros: [1, 150, 150, 3])) }
        XCTAssertEqual(probabilities.shape, [1, 2])
    }

    func testBaselineCNNHasKerasNames() throws {
        var rng = SeededGenerator(seed: 0)
        let model = try BaselineCNN.make(rng: &rng)
        XCTAssertEqual(model.layers.map(\.name), [
            "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2", "max_pooling2d_2",
            "conv2d_3", "max_pooling2d_3", "flatten", "dense", "dense_1",
        ])
        XCTAssertEqual(model.layers.compactMap { ($0 as? Conv2D)?.filters }, [32, 32, 64, 64])
        // 150 -> 148 -> 74 -> 72 -> 36 -> 34 -> 17 -> 15 -> 7: 7 * 7 * 64 features.
        XCTAssertEqual((model.layers[9] as? Dense)?.inputSize, 3136)
        XCTAssertEqual((model.layers[9] as? Dense)?.outputSize, 64)
        let y = try withoutGradients { try model(Tensor(zeros: [2, 150, 150, 3])) }
        XCTAssertEqual(y.shape, [2, 2])
        let withDropout = try BaselineCNN.make(BaselineCNNConfiguration(dropoutRate: 0.5), rng: &rng)
        XCTAssertEqual(withDropout.layers.suffix(3).map(\.name), ["dense", "dropout", "dense_1"])
    }
}

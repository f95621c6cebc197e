import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// Every Keras-written weights file in the fixtures is recognised and loads, and layouts
/// holding the same weights load to bit-identical tensors.
final class WeightsLayoutTests: XCTestCase {
    func testDetectsEveryFixtureLayout() throws {
        let expected: [String: WeightsLayout] = [
            "vgg16_base.h5": .keras2(fullModel: false),
            "vgg19_base.h5": .keras2(fullModel: false),
            "vgg16_base_keras1_names.h5": .keras1,
            "vgg16_transfer.h5": .keras2(fullModel: false),
            "vgg19_transfer.h5": .keras2(fullModel: false),
            "vgg16_transfer_flat.h5": .keras2(fullModel: false),
            "vgg19_transfer_flat.h5": .keras2(fullModel: false),
            "vgg19_transfer.weights.h5": .keras3,
            "vgg16_fit_model.h5": .keras2(fullModel: true),
            "vgg19_fit_model.h5": .keras2(fullModel: true),
        ]
        for (name, layout) in expected {
            let info = try KerasWeights.inspect(Fixtures.url(name))
            XCTAssertEqual(info.layout, layout, name)
            let convolutions = name.hasPrefix("vgg16") ? 13 : 16
            let dense = name.contains("base") ? 0 : 2
            XCTAssertEqual(info.layersWithWeights.count, convolutions + dense, name)
        }
    }

    func testNestedFileNamesTheBaseModelGroup() throws {
        let info = try KerasWeights.inspect(Fixtures.url("vgg19_transfer.h5"))
        let conv = try XCTUnwrap(info.layers.first { $0.name == "block1_conv1" })
        XCTAssertEqual(conv.containers, ["vgg19"])
        XCTAssertEqual(conv.weights.map(\.path), ["vgg19/block1_conv1/kernel:0", "vgg19/block1_conv1/bias:0"])
        XCTAssertEqual(conv.weights.map(\.role), ["kernel", "bias"])
        XCTAssertEqual(conv.weights[0].shape, [3, 3, 3, 8])
        XCTAssertEqual(info.layers.first { $0.name == "flatten" }?.weights.count, 0)
        XCTAssertEqual(info.kerasVersion, "2.21.0")
        XCTAssertEqual(info.backend, "tensorflow")
    }

    func testKeras1NamesGiveRoles() throws {
        let info = try KerasWeights.inspect(Fixtures.url("vgg16_base_keras1_names.h5"))
        let conv = try XCTUnwrap(info.layers.first { $0.name == "block3_conv2" })
        XCTAssertEqual(conv.weights.map(\.name), ["block3_conv2_W_1:0", "block3_conv2_b_1:0"])
        XCTAssertEqual(conv.weights.map(\.role), ["kernel", "bias"])
        XCTAssertNil(info.kerasVersion)
    }

    func testKeras3FileUsesNameAttributes() throws {
        let info = try KerasWeights.inspect(Fixtures.url("vgg19_transfer.weights.h5"))
        let conv = try XCTUnwrap(info.layers.first { $0.name == "block5_conv4" })
        XCTAssertEqual(conv.containers, ["vgg19"])
        XCTAssertEqual(conv.keras3Path, "layers/functional/layers/conv2d_15")
        XCTAssertEqual(conv.weights.map(\.role), ["kernel", "bias"])
        // Within a container, layers come in Keras' numbering order (conv2d, conv2d_1, ..., conv2d_10).
        XCTAssertEqual(info.layers.filter { $0.containers == ["vgg19"] && !$0.weights.isEmpty }.map(\.name),
                       ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
                        "block3_conv3", "block3_conv4", "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
                        "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4"])
        XCTAssertEqual(info.layers.filter { $0.containers.isEmpty }.map(\.name), ["dense", "dense_1", "flatten"])
    }

    func testAllTransferLayoutsLoadIdenticalTensors() throws {
        for depth in VGGConfiguration.Depth.allCases {
            let net = depth.rawValue
            var files = ["\(net)_transfer.h5", "\(net)_transfer_flat.h5"]
            if depth == .vgg19 { files.append("vgg19_transfer.weights.h5") }
            var reference: [String: Tensor] = [:]
            for file in files {
                let model = try Mini.transfer(depth, seed: UInt64(file.count))
                let report = try KerasWeights.load(Fixtures.url(file), into: model)
                XCTAssertEqual(report.loaded.count, model.flattenedLayers.filter { !$0.parameters.isEmpty }.count, file)
                XCTAssertTrue(report.leftAtInitialValue.isEmpty, file)
                let values = parameterValues(model)
                if reference.isEmpty { reference = values } else { assertIdentical(values, reference, "\(file) vs \(files[0])") }
            }
            // `model.save` after `fit`: the frozen blocks 1-4 are the same weights, block 5 and
            // the head were trained.
            let fitted = try Mini.transfer(depth)
            try KerasWeights.load(Fixtures.url("\(net)_fit_model.h5"), into: fitted)
            let values = parameterValues(fitted)
            let frozen = values.filter { $0.key.hasPrefix("block") && !$0.key.hasPrefix("block5") }
            XCTAssertEqual(frozen.count, 2 * (depth == .vgg16 ? 10 : 12))
            assertIdentical(frozen, reference.filter { frozen[$0.key] != nil }, "\(net)_fit_model.h5 frozen blocks")
            for key in ["block5_conv1/kernel", "dense/kernel", "dense_1/bias"] {
                XCTAssertNotEqual(values[key]?.scalars, reference[key]?.scalars, "\(key) was trained by fit")
            }
        }
    }

    func testBaseLayoutsLoadIdenticalTensors() throws {
        for depth in VGGConfiguration.Depth.allCases {
            let net = depth.rawValue
            var files = ["\(net)_base.h5"]
            if depth == .vgg16 { files.append("vgg16_base_keras1_names.h5") }
            let fromTransfer = try Mini.base(depth)
            // The same base weights sit in the transfer file's `vgg19` group.
            try KerasWeights.load(Fixtures.url("\(net)_transfer.h5"), into: fromTransfer, options: .byName)
            for file in files {
                let base = try Mini.base(depth, seed: 5)
                try KerasWeights.load(Fixtures.url(file), into: base)
                assertIdentical(parameterValues(base), parameterValues(fromTransfer), file)
            }
        }
    }

    func testTensorsReadsEveryStoredWeight() throws {
        let tensors = try KerasWeights.tensors(in: Fixtures.url("vgg19_transfer.h5"))
        XCTAssertEqual(tensors.count, 2 * 18)
        XCTAssertEqual(tensors["vgg19/block5_conv4/kernel"]?.shape, [3, 3, 32, 32])
        XCTAssertEqual(tensors["dense_1/bias"]?.shape, [2])
    }
}

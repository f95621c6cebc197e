import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// Export in Keras' layouts: re-import is bit-exact, and the files have the structure Keras
/// itself writes (checked against the Keras-written fixtures with the low-level HDF5 wrapper).
final class WeightsExportTests: XCTestCase {
    /// Every group and dataset below `group` as `path` / `path [shape] f<bits>`, sorted.
    func tree(_ group: HDF5Group, prefix: String = "") throws -> [String] {
        var entries: [String] = []
        for child in try group.children() {
            let path = prefix + child
            switch try group.kind(of: child) {
            case .group?:
                entries.append(path + "/")
                entries += try tree(try group.group(child), prefix: path + "/")
            case .dataset?:
                let dataset = try group.dataset(child)
                let type = try dataset.elementType
                entries.append("\(path) \(try dataset.shape) \(type.isFloat ? "f" : "?")\(type.size * 8)")
            default:
                entries.append(path + " ?")
            }
        }
        return entries.sorted()
    }

    func loadedTransfer(_ depth: VGGConfiguration.Depth) throws -> Sequential {
        let model = try Mini.transfer(depth)
        try KerasWeights.load(Fixtures.url("\(depth.rawValue)_transfer.h5"), into: model)
        return model
    }

    func testKeras2ExportRoundTripsBitExactly() throws {
        let directory = try temporaryDirectory(self)
        for depth in VGGConfiguration.Depth.allCases {
            let model = try loadedTransfer(depth)
            let url = directory.appendingPathComponent("\(depth.rawValue).h5")
            try KerasWeights.save(model, to: url)
            let copy = try Mini.transfer(depth, seed: 1234)
            let report = try KerasWeights.load(url, into: copy)
            XCTAssertEqual(report.layout, .keras2(fullModel: false))
            XCTAssertTrue(report.leftAtInitialValue.isEmpty && report.unusedInFile.isEmpty)
            assertIdentical(parameterValues(copy), parameterValues(model), "\(depth) keras2 round trip")
        }
    }

    func testKeras3ExportRoundTripsBitExactly() throws {
        let directory = try temporaryDirectory(self)
        let model = try loadedTransfer(.vgg19)
        let url = directory.appendingPathComponent("vgg19.weights.h5")
        try KerasWeights.save(model, to: url, format: .keras3)
        let copy = try Mini.transfer(.vgg19, seed: 77)
        XCTAssertEqual(try KerasWeights.load(url, into: copy).layout, .keras3)
        assertIdentical(parameterValues(copy), parameterValues(model), "keras3 round trip")
    }

    func testBaselineExportRoundTripsBitExactly() throws {
        let directory = try temporaryDirectory(self)
        var rng = SeededGenerator(seed: 3)
        let model = try BaselineCNN.make(BaselineCNNConfiguration(inputSize: 64), rng: &rng)
        for format in WeightsFormat.allCases {
            let url = directory.appendingPathComponent("baseline-\(format).h5")
            try KerasWeights.save(model, to: url, format: format)
            var other = SeededGenerator(seed: 4)
            let copy = try BaselineCNN.make(BaselineCNNConfiguration(inputSize: 64), rng: &other)
            try KerasWeights.load(url, into: copy)
            assertIdentical(parameterValues(copy), parameterValues(model), "baseline \(format)")
        }
    }

    func testKeras2ExportHasKerasStructure() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("export.h5")
        try KerasWeights.save(try loadedTransfer(.vgg19), to: url)
        let ours = try HDF5File.open(url.path).root
        let keras = try HDF5File.open(Fixtures.url("vgg19_transfer.h5").path).root

        XCTAssertEqual(try ours.strings("layer_names"), ["vgg19", "flatten", "dense", "dense_1"])
        XCTAssertEqual(try ours.string("backend"), "tensorflow")
        XCTAssertEqual(try ours.string("keras_version"), KerasWeights.writtenKerasVersion)
        // The same groups and float32 datasets of the same shapes as Keras' own file.
        XCTAssertEqual(try tree(ours), try tree(keras))
        XCTAssertTrue(try tree(ours).contains("vgg19/block1_conv1/kernel:0 [3, 3, 3, 8] f32"))
        // The same weight_names, in the same order (trainable block 5 first, as Keras lists them).
        for layer in ["vgg19", "flatten", "dense", "dense_1", "top_level_model_weights"] {
            XCTAssertEqual(try ours.group(layer).stringList("weight_names"),
                           try keras.group(layer).stringList("weight_names"), layer)
        }
        // A weightless layer's weight_names is an empty float64 array, as h5py writes [].
        let empty = try XCTUnwrap(try ours.group("flatten").attributeInfo("weight_names"))
        XCTAssertEqual(empty.kind, .float)
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(try ours.group("vgg19").stringList("weight_names")?.first, "block5_conv1/kernel:0")
    }

    func testKeras3ExportHasKerasStructure() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("export.weights.h5")
        try KerasWeights.save(try loadedTransfer(.vgg19), to: url, format: .keras3)
        let ours = try HDF5File.open(url.path).root
        let keras = try HDF5File.open(Fixtures.url("vgg19_transfer.weights.h5").path).root
        XCTAssertEqual(try tree(ours), try tree(keras))
        XCTAssertEqual(try ours.group("layers/functional/layers/conv2d_15/vars").string("name"), "block5_conv4")
        XCTAssertEqual(try ours.group("layers/functional/vars").string("name"), "vgg19")
        XCTAssertEqual(try ours.group("layers/dense_1/vars").string("name"), "dense_1")
    }

    func testMetadataTravelsInTheFile() throws {
        let directory = try temporaryDirectory(self)
        let metadata = ModelMetadata(classNames: ["damage", "no_damage"], inputShape: [64, 64, 3])
        for format in WeightsFormat.allCases {
            let url = directory.appendingPathComponent("meta-\(format).h5")
            try KerasWeights.save(try Mini.transfer(.vgg16), to: url, format: format, metadata: metadata)
            XCTAssertEqual(try KerasWeights.metadata(of: url), metadata)
        }
        XCTAssertTrue(try KerasWeights.metadata(of: Fixtures.url("vgg16_base.h5")).isEmpty)
    }

    /// Opt-in (`RUBBLE_EXPORT_DIR=/some/dir`): writes the mini VGG19/VGG16 transfer models (loaded
    /// from the Keras fixtures) in both formats, for checking with Keras itself, e.g.
    /// `model.load_weights(dir + "/vgg19_transfer_rubble.h5")` then `predict(x_infer)`.
    func testExportForExternalKerasCheck() throws {
        let path = ProcessInfo.processInfo.environment["RUBBLE_EXPORT_DIR"] ?? ""
        try XCTSkipIf(path.isEmpty, "set RUBBLE_EXPORT_DIR")
        let directory = URL(fileURLWithPath: path, isDirectory: true)
        for depth in VGGConfiguration.Depth.allCases {
            let model = try loadedTransfer(depth)
            try KerasWeights.save(model, to: directory.appendingPathComponent("\(depth.rawValue)_transfer_rubble.h5"))
            try KerasWeights.save(model, to: directory.appendingPathComponent("\(depth.rawValue)_transfer_rubble.weights.h5"),
                                  format: .keras3)
        }
    }

    func testSaveReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("model.h5")
        try "old contents".write(to: url, atomically: false, encoding: .utf8)
        let model = try Mini.transfer(.vgg16)
        try KerasWeights.save(model, to: url)
        try KerasWeights.save(model, to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.h5"])
        XCTAssertEqual(try KerasWeights.inspect(url).layout, .keras2(fullModel: false))

        let nowhere = directory.appendingPathComponent("missing/model.h5")
        let error = expectWeightsError { try KerasWeights.save(model, to: nowhere) }
        guard case .writeFailed? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(error?.description.contains("model.h5") ?? false)
    }
}

import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// Bad files and mismatched models throw the documented `WeightsError` (naming the file),
/// never crash, and never leave a model half-loaded.
final class WeightsErrorTests: XCTestCase {
    func testTruncatedFileIsUnreadable() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("cut_vgg19_base.h5")
        let data = try Data(contentsOf: Fixtures.url("vgg19_base.h5"))
        try data.prefix(data.count / 2).write(to: url)
        let model = try Mini.base(.vgg19)
        let error = expectWeightsError { try KerasWeights.load(url, into: model) }
        guard case .unreadable(let file, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(file, url.path)
        XCTAssertTrue(error!.description.contains("cut_vgg19_base.h5"), error!.description)
        XCTAssertNotNil(expectWeightsError { _ = try KerasWeights.inspect(url) })
    }

    func testTextFileIsNotHDF5() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("notes.h5")
        try "layer_names = block1_conv1\n".write(to: url, atomically: true, encoding: .utf8)
        let error = expectWeightsError { try KerasWeights.load(url, into: Mini.base(.vgg16)) }
        XCTAssertEqual(error, .notHDF5(file: url.path))
        XCTAssertTrue(error!.description.contains("notes.h5"))
    }

    func testMissingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent/rubble/weights.h5")
        XCTAssertEqual(expectWeightsError { try KerasWeights.load(url, into: Mini.base(.vgg16)) },
                       .fileNotFound(file: url.path))
    }

    func testHDF5FileWithoutKerasLayoutIsUnknownLayout() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("plain.h5")
        let file = try HDF5File.create(url.path)
        try file.root.writeDataset("data", Tensor([1, 2, 3], shape: [3]))
        try file.close()
        let error = expectWeightsError { try KerasWeights.load(url, into: Mini.base(.vgg16)) }
        guard case .unknownLayout(let name, let reason)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(name, url.path)
        XCTAssertTrue(reason.contains("data"), reason)
        XCTAssertTrue(error!.description.contains("plain.h5"))
    }

    func testWrongWidthsAreAShapeMismatchAndLeaveTheModelUnchanged() throws {
        let model = try Mini.base(.vgg19, widths: [8, 16, 16, 32, 64])
        let before = parameterValues(model)
        let url = Fixtures.url("vgg19_base.h5")
        let error = expectWeightsError { try KerasWeights.load(url, into: model) }
        XCTAssertEqual(error, .shapeMismatch(file: url.path, layer: "block5_conv1", weight: "kernel",
                                             expected: [3, 3, 32, 64], found: [3, 3, 32, 32]))
        XCTAssertTrue(error!.description.contains("vgg19_base.h5") && error!.description.contains("[3, 3, 32, 64]"))
        assertIdentical(parameterValues(model), before, "after a failed load")
    }

    func testSkipMismatchesLoadsTheRest() throws {
        let model = try Mini.base(.vgg19, widths: [8, 16, 16, 32, 64])
        let before = parameterValues(model)
        let report = try KerasWeights.load(Fixtures.url("vgg19_base.h5"), into: model,
                                           options: WeightsLoadOptions(skipMismatchedShapes: true))
        XCTAssertEqual(report.leftAtInitialValue, ["block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4"])
        XCTAssertEqual(report.loaded.count, 12)
        XCTAssertEqual(report.skipped.first, SkippedWeight(layer: "block5_conv1", weight: "kernel",
                                                           expected: [3, 3, 32, 64], found: [3, 3, 32, 32]))
        let after = parameterValues(model)
        XCTAssertEqual(after["block5_conv2/kernel"]?.scalars, before["block5_conv2/kernel"]?.scalars)
        XCTAssertNotEqual(after["block1_conv1/kernel"]?.scalars, before["block1_conv1/kernel"]?.scalars)
    }

    func testExtraModelLayerIsMissingFromTheFile() throws {
        let base = try Mini.base(.vgg16)
        var rng = SeededGenerator(seed: 1)
        let extra = try Sequential(name: "vgg16", base.layers + [
            try Conv2D(name: "block6_conv1", inputChannels: 32, filters: 32, rng: &rng),
        ])
        let url = Fixtures.url("vgg16_base.h5")
        let error = expectWeightsError { try KerasWeights.load(url, into: extra) }
        XCTAssertEqual(error, .missingLayer(file: url.path, layer: "block6_conv1"))
        XCTAssertTrue(error!.description.contains("vgg16_base.h5") && error!.description.contains("block6_conv1"))
    }

    func testFileLayerTheModelLacksIsUnknown() throws {
        let url = Fixtures.url("vgg19_transfer.h5")
        let error = expectWeightsError { try KerasWeights.load(url, into: Mini.base(.vgg19)) }
        XCTAssertEqual(error, .unknownLayer(file: url.path, layer: "dense"))
        XCTAssertTrue(error!.description.contains("vgg19_transfer.h5"))
        // By name, the base takes what it has and reports the rest.
        let report = try KerasWeights.load(url, into: Mini.base(.vgg19), options: .byName)
        XCTAssertEqual(report.unusedInFile, ["dense", "dense_1"])
        XCTAssertEqual(report.loaded.count, 16)
    }

    func testRenamedLayerIsMissingThenUnknown() throws {
        let base = try Mini.base(.vgg16)
        var rng = SeededGenerator(seed: 2)
        let renamed = try Sequential(name: "vgg16", [try Conv2D(name: "first_conv", inputChannels: 3, filters: 8, rng: &rng)]
            + base.layers.dropFirst())
        let url = Fixtures.url("vgg16_base.h5")
        XCTAssertEqual(expectWeightsError { try KerasWeights.load(url, into: renamed) },
                       .missingLayer(file: url.path, layer: "first_conv"))
        XCTAssertEqual(expectWeightsError {
            try KerasWeights.load(url, into: renamed, options: WeightsLoadOptions(allowMissingLayers: true))
        }, .unknownLayer(file: url.path, layer: "block1_conv1"))
    }

    func testPartialLoadOfABaseIntoATransferModelReportsTheHead() throws {
        let model = try Mini.transfer(.vgg19)
        let before = parameterValues(model)
        let url = Fixtures.url("vgg19_base.h5")
        XCTAssertEqual(expectWeightsError { try KerasWeights.load(url, into: model) },
                       .missingLayer(file: url.path, layer: "dense"))
        let report = try KerasWeights.load(url, into: model, options: .byName)
        XCTAssertEqual(report.leftAtInitialValue, ["dense", "dense_1"])
        XCTAssertEqual(report.loaded.count, 16)
        XCTAssertTrue(report.unusedInFile.isEmpty)
        XCTAssertTrue(report.description.contains("left at initial values: dense, dense_1"), report.description)
        let after = parameterValues(model)
        assertIdentical(after.filter { $0.key.hasPrefix("dense") }, before.filter { $0.key.hasPrefix("dense") }, "head")
        XCTAssertNotEqual(after["block1_conv1/kernel"]?.scalars, before["block1_conv1/kernel"]?.scalars)
    }

    func testConcurrentLoadsAreSerialisedSafely() throws {
        let url = Fixtures.url("vgg16_transfer.h5")
        let reference = try Mini.transfer(.vgg16)
        try KerasWeights.load(url, into: reference)
        let expected = parameterValues(reference)
        let models = try (0..<6).map { try Mini.transfer(.vgg16, seed: UInt64($0)) }
        let failures = Failures()
        let box = ModelsBox(models) // each thread loads into its own model
        DispatchQueue.concurrentPerform(iterations: models.count) { i in
            do { try KerasWeights.load(url, into: box.models[i]) } catch { failures.add("\(error)") }
        }
        XCTAssertEqual(failures.all, [])
        for model in models { assertIdentical(parameterValues(model), expected, "concurrent load") }
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}

private final class ModelsBox: @unchecked Sendable {
    let models: [Sequential]
    init(_ models: [Sequential]) { self.models = models }
}

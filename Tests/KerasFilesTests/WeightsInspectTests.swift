import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// `KerasWeights.inspect` / `summary` (what `rubble inspect` prints), and a Keras 3 legacy
/// `.h5` built from a fixture.
final class WeightsInspectTests: XCTestCase {
    func testSummaryListsLayoutLayersShapesAndCounts() throws {
        let info = try KerasWeights.inspect(Fixtures.url("vgg19_transfer.h5"))
        let model = try Mini.transfer(.vgg19)
        XCTAssertEqual(info.parameterCount, model.parameters.reduce(0) { $0 + $1.value.count })
        let summary = info.summary
        XCTAssertTrue(summary.contains("layout:  Keras 2 save_weights HDF5"), summary)
        XCTAssertTrue(summary.contains("keras:   2.21.0, backend tensorflow"), summary)
        let conv = try XCTUnwrap(summary.split(separator: "\n").first { $0.hasPrefix("vgg19/block1_conv1 ") })
        XCTAssertTrue(conv.contains("kernel [3, 3, 3, 8], bias [8]") && conv.hasSuffix(" 224"), String(conv))
        XCTAssertTrue(summary.contains("dense_1 "), summary)
        XCTAssertTrue(summary.hasSuffix("total: 19 layers (18 with weights), \(WeightsFileInfo.grouped(info.parameterCount)) parameters"),
                      summary)
        XCTAssertEqual(WeightsFileInfo.grouped(20_024_384), "20,024,384")
        XCTAssertEqual(WeightsFileInfo.grouped(999), "999")
    }

    func testSummaryShowsMetadata() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("m.h5")
        try KerasWeights.save(try Mini.transfer(.vgg16), to: url,
                              metadata: ModelMetadata(classNames: ["flood", "no_flood"], inputShape: [64, 64, 3]))
        let summary = try KerasWeights.inspect(url).summary
        XCTAssertTrue(summary.contains("classes: flood, no_flood"), summary)
        XCTAssertTrue(summary.contains("input:   64x64x3"), summary)
    }

    /// Keras 3's legacy `.h5`: the Keras 2 tree without `:0` (here with and without a version).
    func testKeras3LegacyLayoutLoads() throws {
        let directory = try temporaryDirectory(self)
        let source = try HDF5File.open(Fixtures.url("vgg16_base.h5").path).root
        for version in ["3.15.0", nil] {
            let url = directory.appendingPathComponent("legacy-\(version ?? "none").h5")
            let file = try HDF5File.create(url.path)
            let root = try file.root
            let layers = try XCTUnwrap(try source.stringList("layer_names"))
            try root.setStrings("layer_names", layers)
            if let version { try root.setString("keras_version", version) }
            for layer in layers {
                let names = try source.group(layer).stringList("weight_names") ?? []
                let group = try root.createGroup(layer)
                for name in names {
                    let dataset = try source.group(layer).dataset(name)
                    try group.writeDataset(String(name.dropLast(2)), try dataset.read(shape: try dataset.shape))
                }
                try group.setStrings("weight_names", names.map { String($0.dropLast(2)) })
            }
            try file.close()

            XCTAssertEqual(try KerasWeights.inspect(url).layout, .keras3Legacy(fullModel: false))
            let fromLegacy = try Mini.base(.vgg16, seed: 1), fromKeras2 = try Mini.base(.vgg16, seed: 2)
            try KerasWeights.load(url, into: fromLegacy)
            try KerasWeights.load(Fixtures.url("vgg16_base.h5"), into: fromKeras2)
            assertIdentical(parameterValues(fromLegacy), parameterValues(fromKeras2), "keras 3 legacy")
        }
    }
}

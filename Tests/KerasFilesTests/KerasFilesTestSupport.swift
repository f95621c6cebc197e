import Foundation
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo
@testable import KerasFiles

/// The reference fixtures' mini VGG (block widths 8,16,16,32,32, 64x64 input) and helpers.
enum Mini {
    static let inputSize = 64
    static let head = TransferHead(hiddenUnits: 16, classes: 2)

    static func configuration(_ depth: VGGConfiguration.Depth, widths: [Int] = VGGConfiguration.miniWidths)
        -> VGGConfiguration {
        VGGConfiguration(depth: depth, inputSize: inputSize, widths: widths)
    }

    /// The transfer model as the fixture script builds it (blocks 1-4 frozen), fresh weights.
    static func transfer(_ depth: VGGConfiguration.Depth, seed: UInt64 = 99) throws -> Sequential {
        var rng = SeededGenerator(seed: seed)
        return try TransferModel.vgg(configuration(depth), head: head, name: "\(depth.rawValue)_transfer", rng: &rng)
    }

    static func base(_ depth: VGGConfiguration.Depth, widths: [Int] = VGGConfiguration.miniWidths,
                     seed: UInt64 = 98) throws -> Sequential {
        var rng = SeededGenerator(seed: seed)
        return try VGG.make(configuration(depth, widths: widths), rng: &rng)
    }
}

/// `layer name/parameter name` -> value for every parameter of a model.
func parameterValues(_ model: any Layer) -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for layer in model.flattenedLayers {
        for parameter in layer.parameters { result[layer.name + "/" + parameter.name] = parameter.value }
    }
    return result
}

/// Asserts two parameter maps hold bit-identical tensors for the same keys.
func assertIdentical(_ a: [String: Tensor], _ b: [String: Tensor], _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(Set(a.keys), Set(b.keys), "\(what): parameter names", file: file, line: line)
    for (key, value) in a {
        guard let other = b[key] else { continue }
        XCTAssertEqual(value.shape, other.shape, "\(what): \(key) shape", file: file, line: line)
        XCTAssertTrue(value.scalars.map(\.bitPattern) == other.scalars.map(\.bitPattern),
                      "\(what): \(key) values differ", file: file, line: line)
    }
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rubble-kerasfiles-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts `body` throws a `WeightsError` and returns it.
func expectWeightsError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> WeightsError? {
    do {
        try body()
        XCTFail("expected a WeightsError, nothing was thrown", file: file, line: line)
    } catch let error as WeightsError {
        return error
    } catch {
        XCTFail("expected a WeightsError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

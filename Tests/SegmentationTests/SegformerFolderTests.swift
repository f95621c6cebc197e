import Foundation
import HuggingFaceFiles
import Layers
import Tensor
import TestSupport
import XCTest
@testable import Segmentation

/// Saving and loading SegFormer folders, and every way a folder can be wrong.
final class SegformerFolderTests: XCTestCase {
    static let folder = SegformerFixtureTests.folder
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("segformer-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testSavedFolderReloadsBitExactlyWithTheSameTensorsAsTheOriginal() throws {
        let model = try SegformerFolder.load(Self.folder)
        let preprocessing = try ImageProcessorConfiguration.load(folder: Self.folder)
        let saved = scratch.appendingPathComponent("saved")
        try SegformerFolder.save(model, preprocessing: preprocessing, to: saved)
        let original = try SafeTensorsFile(folder: Self.folder), copy = try SafeTensorsFile(folder: saved)
        XCTAssertEqual(Set(copy.names), Set(original.names), "the same state-dict keys as transformers wrote")
        for name in original.names {
            XCTAssertEqual(try copy.shape(of: name), try original.shape(of: name), name)
            XCTAssertEqual(try copy.dtype(of: name), try original.dtype(of: name), name)
            XCTAssertEqual(try copy.bytes(of: name), try original.bytes(of: name), "\(name) is bit-exact")
        }
        XCTAssertEqual(copy.metadata, ["format": "pt"])
        // The header: 8-byte length, JSON padded to a multiple of 8, tensors back to back.
        let data = try Data(contentsOf: saved.appendingPathComponent("model.safetensors"))
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0)
        let ends = copy.entries.map(\.dataOffsets).sorted { $0.lowerBound < $1.lowerBound }
        XCTAssertEqual(ends.first?.lowerBound, 0)
        for (a, b) in zip(ends, ends.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
        XCTAssertEqual(8 + headerLength + (ends.last?.upperBound ?? 0), data.count)
        let reloaded = try SegformerFolder.load(saved)
        XCTAssertEqual(reloaded.configuration, model.configuration)
        XCTAssertEqual(try ImageProcessorConfiguration.load(folder: saved), preprocessing)
        for (a, b) in zip(model.parameters, reloaded.parameters) { XCTAssertEqual(a.value.scalars, b.value.scalars) }
        XCTAssertEqual(reloaded.batchNormSteps, model.batchNormSteps)
    }

    /// A copy of the fixture folder whose safetensors holds `tensors` instead.
    func folder(tensors: (SafeTensorsFile) throws -> [(String, Tensor)], config: ((inout String) -> Void)? = nil,
                raw: [(String, [Int], Data)] = []) throws -> URL {
        let target = scratch.appendingPathComponent("edited-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        var text = try String(contentsOf: Self.folder.appendingPathComponent("config.json"), encoding: .utf8)
        config?(&text)
        try text.write(to: target.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        var writer = SafeTensorsWriter()
        for (name, tensor) in try tensors(try SafeTensorsFile(folder: Self.folder)) { writer.add(name, tensor) }
        for (name, shape, bytes) in raw { writer.add(name, dtype: .float32, shape: shape, bytes: bytes) }
        try writer.write(to: target.appendingPathComponent("model.safetensors"))
        return target
    }

    func floats(_ file: SafeTensorsFile) throws -> [(String, Tensor)] {
        try file.names.filter { try file.dtype(of: $0) == .float32 }.map { ($0, try file.floatTensor($0)) }
    }

    func testMissingMisshapedAndUnexpectedTensorsAreNamed() throws {
        let query = "segformer.encoder.block.1.0.attention.self.query.weight"
        let missing = try folder { try self.floats($0).filter { $0.0 != query } }
        XCTAssertThrowsError(try SegformerFolder.load(missing)) { error in
            guard case HuggingFaceError.missingTensor(name: query, _) = error else { return XCTFail("\(error)") }
        }
        let misshaped = try folder { try self.floats($0).map { $0.0 == query ? ($0.0, Tensor(zeros: [32, 31])) : $0 } }
        XCTAssertThrowsError(try SegformerFolder.load(misshaped)) { error in
            guard case let HuggingFaceError.shapeMismatch(name, _, expected, got) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, query); XCTAssertEqual(expected, [32, 32]); XCTAssertEqual(got, [32, 31])
            XCTAssertTrue("\(error)".contains(query), "\(error)")
        }
        let extra = try folder { try self.floats($0) + [("segformer.encoder.block.9.0.mystery.weight", Tensor(zeros: [2]))] }
        XCTAssertThrowsError(try SegformerFolder.load(extra)) { error in
            guard case let SegmentationError.unexpectedTensors(names, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(names, ["segformer.encoder.block.9.0.mystery.weight"])
        }
        let nanBytes = Data([Float](repeating: .nan, count: 32 * 32).withUnsafeBytes { Array($0) })
        let nan = try folder(tensors: { try self.floats($0).filter { $0.0 != query } }, raw: [(query, [32, 32], nanBytes)])
        XCTAssertThrowsError(try SegformerFolder.load(nan), "NaN weights are an error, never a silent wrong answer")
    }

    func testANewHeadKeepsTheEncoderAndReinitialisesTheClassifier() throws {
        // Fine-tuning to 2 classes from the 3-class checkpoint: the classifier's shape differs.
        let model = try SegformerFolder.load(Self.folder, heads: .newHead) { configuration in
            configuration.classNames = ["intact", "damaged"]
        }
        XCTAssertEqual(model.classCount, 2)
        let reference = try SegformerFolder.load(Self.folder)
        XCTAssertEqual(model.encoder.stages[0].embedding.projection.kernel.value.scalars,
                       reference.encoder.stages[0].embedding.projection.kernel.value.scalars)
        XCTAssertEqual(model.decodeHead.classifier.kernel.shape, [1, 1, 32, 2])
        XCTAssertThrowsError(try SegformerFolder.load(Self.folder) { $0.classNames = ["intact", "damaged"] },
                             "without .newHead a classifier of another size is an error")
    }

    func testFoldersThatAreNotSegformersAreRefused() throws {
        let empty = scratch.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try SegformerFolder.load(empty)) { error in
            guard case HuggingFaceError.missingFile = error else { return XCTFail("\(error)") }
        }
        let bert = try folder(tensors: floats) { $0 = $0.replacingOccurrences(of: "\"segformer\"", with: "\"bert\"") }
        XCTAssertThrowsError(try SegformerFolder.load(bert)) { error in
            guard case let HuggingFaceError.unsupportedModelType(_, found, expected) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(found, "bert"); XCTAssertEqual(expected, "segformer")
        }
    }
}

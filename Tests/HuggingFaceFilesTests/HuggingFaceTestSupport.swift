import Foundation
import HuggingFaceFiles
import TestSupport
import XCTest

/// The SegFormer folder `save_pretrained` wrote (transformers 5.24, see
/// `Tests/Fixtures/segformer/make_segformer_fixtures.py`).
enum SegformerFixture {
    static let folder = Fixtures.url("segformer/segformer")
    static let weights = folder.appendingPathComponent("model.safetensors")
    static let config = folder.appendingPathComponent("config.json")
    static let preprocessor = folder.appendingPathComponent("preprocessor_config.json")
}

/// A fresh folder under the system's temporary directory, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase, _ name: String = "hf") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// A safetensors file from its parts: the length prefix (the header's byte count unless
/// `length` overrides it), the header text and the data buffer.
func safetensorsBytes(header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
    let headerBytes = Array(header.utf8)
    var file = Data()
    withUnsafeBytes(of: (length ?? UInt64(headerBytes.count)).littleEndian) { file.append(contentsOf: $0) }
    file.append(contentsOf: headerBytes)
    file.append(contentsOf: data)
    return file
}

/// The error `body` throws as a `HuggingFaceError` (fails the test when it throws something
/// else or nothing).
func huggingFaceError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> HuggingFaceError? {
    do {
        try body()
        XCTFail("expected a HuggingFaceError, nothing was thrown", file: file, line: line)
    } catch let error as HuggingFaceError {
        return error
    } catch {
        XCTFail("expected a HuggingFaceError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Writes `object` as JSON text (any format; the readers only need valid JSON).
func writeJSON(_ object: [String: JSONValue], to url: URL) throws {
    try Data(JSONWriter.compact(.object(object)).utf8).write(to: url)
}

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
    try JSONValue.object(object).jsonData().write(to: url)
}

/// The JSON text of `value`, compact (for building headers in tests).
func jsonText(_ value: JSONValue) -> String { value.excerpt() }

/// A safetensors file's header as a JSON value, and its data buffer.
func safetensorsParts(_ data: Data) throws -> (header: JSONValue, buffer: Data) {
    let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    XCTAssertEqual(length % 8, 0, "the header is padded to a multiple of 8 bytes")
    let start = data.startIndex + 8
    return (try JSONValue(parsing: data[start..<(start + length)]), data[(start + length)...])
}

/// Whether Python's `json` module reads `a` and `b` as equal values: numbers compare by value
/// (`0 == 0.0` in Python, and `JSONEncoder` writes `0.0` as `0`), everything else exactly.
func pythonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.integer(x), .integer(y)): return x == y
    case (.integer, .number), (.number, .integer), (.number, .number): return a.doubleValue == b.doubleValue
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(pythonEqual)
    case let (.object(x), .object(y)):
        return Set(x.keys) == Set(y.keys) && x.allSatisfy { key, value in y[key].map { pythonEqual(value, $0) } ?? false }
    default: return a == b
    }
}

/// Fails unless `a` and `b` are the same values for Python (``pythonEqual(_:_:)``), naming the
/// keys that differ.
func assertPythonEqual(_ a: [String: JSONValue], _ b: [String: JSONValue], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.keys.sorted(), b.keys.sorted(), file: file, line: line)
    for (key, value) in a {
        guard let other = b[key] else { continue }
        XCTAssertTrue(pythonEqual(value, other), "\(key): \(value.excerpt(80)) != \(other.excerpt(80))", file: file, line: line)
    }
}

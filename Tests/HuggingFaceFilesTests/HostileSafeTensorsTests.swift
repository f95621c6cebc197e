import Foundation
import HuggingFaceFiles
import Tensor
import XCTest

/// Broken and hostile safetensors files: each is a specific error, never a crash, and nothing
/// is allocated from an unchecked number.
final class HostileSafeTensorsTests: XCTestCase {
    let path = "hostile.safetensors"

    func open(_ data: Data) -> HuggingFaceError? {
        huggingFaceError { _ = try SafeTensorsFile(data: data, path: path) }
    }

    func open(header: String, data: [UInt8] = [], length: UInt64? = nil) -> HuggingFaceError? {
        open(safetensorsBytes(header: header, data: data, length: length))
    }

    func assertHeaderError(_ error: HuggingFaceError?, _ fragment: String, line: UInt = #line) {
        guard case let .invalidHeader(file, reason)? = error else {
            return XCTFail("expected invalidHeader containing \"\(fragment)\", got \(String(describing: error))", line: line)
        }
        XCTAssertEqual(file, path, line: line)
        XCTAssertTrue(reason.contains(fragment), "\"\(reason)\" does not contain \"\(fragment)\"", line: line)
    }

    func entry(_ name: String, _ dtype: String = "F32", shape: String, offsets: String) -> String {
        jsonText(.string(name)) + ":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    func testFramingErrors() {
        assertHeaderError(open(Data([1, 2, 3])), "fewer than the 8")
        assertHeaderError(open(Data()), "fewer than the 8")
        // A header length larger than the file.
        assertHeaderError(open(header: "{}", length: 1000), "the header length 1000 is more than the 2 bytes")
        // 2^63, and the largest UInt64: over the 100 MB cap, checked before anything is read.
        assertHeaderError(open(header: "{}", length: 1 << 63), "the header length 9223372036854775808 is more than the limit")
        assertHeaderError(open(header: "{}", length: .max), "is more than the limit of 100000000 bytes")
        // Exactly the header, no data: valid and empty.
        XCTAssertEqual(try SafeTensorsFile(data: safetensorsBytes(header: "{}"), path: path).names, [])
    }

    func testMalformedJSON() {
        let valid = "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "}"
        assertHeaderError(open(header: String(valid.dropLast()), data: [0, 0, 0, 0]), "not valid JSON: Unexpected end of file")
        assertHeaderError(open(header: String(valid.prefix(20)), data: [0, 0, 0, 0]), "not valid JSON")
        assertHeaderError(open(header: "[1, 2]"), "the header is an array, not a JSON object")
        assertHeaderError(open(header: "\"text\""), "the header is a string, not a JSON object")
        assertHeaderError(open(header: "{} x"), "not valid JSON: Invalid value around character 3")
        assertHeaderError(open(header: "{\"a\":NaN}"), "not valid JSON")
        assertHeaderError(open(header: "{\"a\":[1,}"), "not valid JSON")
        // Foundation accepts a trailing comma; the entry is then refused for what it is.
        assertHeaderError(open(header: "{\"a\":[1,],}"), "the entry \"a\" is an array, not an object")
        assertHeaderError(open(header: "{\"a\u{0}\":1}"), "Unescaped control character")
        var invalidUTF8 = safetensorsBytes(header: "{\"ab\":{}}")
        invalidUTF8[10] = 0xFF
        assertHeaderError(open(invalidUTF8), "Invalid UTF-8 sequence")
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        assertHeaderError(open(header: "{\"a\":" + deep + "}"), "Too many nested arrays or dictionaries")
        assertHeaderError(open(header: "{\"__metadata__\":{\"format\":1}}"), "__metadata__ \"format\" is an integer, not a string")
        assertHeaderError(open(header: "{\"__metadata__\":[]}"), "__metadata__ is an array")
        assertHeaderError(open(header: "{\"a\":[]}"), "the entry \"a\" is an array, not an object")
        assertHeaderError(open(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[]}}"), "the entry \"a\" has no data_offsets")
        assertHeaderError(open(header: "{\"a\":{\"dtype\":32,\"shape\":[],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]),
                          "the dtype of \"a\" is an integer")
    }

    /// A tensor given twice is not refused (Foundation, like serde_json in the safetensors
    /// library, keeps the last entry); the data buffer must still be tiled by what is kept.
    func testDuplicateNamesKeepTheLastEntry() throws {
        let twice = "{" + entry("a", "I64", shape: "[1]", offsets: "[0,8]") + "," + entry("a", shape: "[2]", offsets: "[0,8]") + "}"
        let file = try SafeTensorsFile(data: safetensorsBytes(header: twice, data: [UInt8](repeating: 0, count: 8)), path: path)
        XCTAssertEqual(file.names, ["a"])
        XCTAssertEqual(try file.entry("a").dtype, .float32)
        XCTAssertEqual(try file.entry("a").shape, [2])
        let gap = "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "," + entry("a", shape: "[1]", offsets: "[4,8]") + "}"
        assertOffsetsError(gap, data: 8, "a", "bytes 0..<4 before it belong to no tensor")
        XCTAssertEqual(open(header: "{\"__metadata__\":{\"format\":\"pt\"},\"__metadata__\":{\"format\":1}}"),
                       .invalidHeader(file: path, reason: "__metadata__ \"format\" is an integer, not a string"))
    }

    func testUnknownDType() {
        XCTAssertEqual(open(header: "{" + entry("q", "F8_E4M3", shape: "[4]", offsets: "[0,4]") + "}", data: [0, 0, 0, 0]),
                       .unsupportedDType(name: "q", file: path, dtype: "F8_E4M3"))
        XCTAssertEqual(open(header: "{" + entry("q", "f32", shape: "[1]", offsets: "[0,4]") + "}", data: [0, 0, 0, 0]),
                       .unsupportedDType(name: "q", file: path, dtype: "f32"))
    }

    func assertShapeError(_ shape: String, _ fragment: String, line: UInt = #line) {
        let error = open(header: "{" + entry("w", shape: shape, offsets: "[0,4]") + "}", data: [0, 0, 0, 0])
        guard case let .invalidShape(name, file, reason)? = error else {
            return XCTFail("expected invalidShape for \(shape), got \(String(describing: error))", line: line)
        }
        XCTAssertEqual(name, "w", line: line)
        XCTAssertEqual(file, path, line: line)
        XCTAssertTrue(reason.contains(fragment), "\"\(reason)\" does not contain \"\(fragment)\"", line: line)
    }

    func testBadShapes() {
        assertShapeError("[-1]", "dimension 0 is -1, below zero")
        assertShapeError("[2, -4]", "dimension 1 is -4, below zero")
        assertShapeError("[1.5]", "dimension 0 is 1.5, not an integer")
        assertShapeError("[\"2\"]", "dimension 0 is \"2\", not an integer")
        assertShapeError("[18446744073709551617]", "not an integer")
        assertShapeError("{}", "it is an object, not an array")
        // Products that overflow Int, with and without a zero among them.
        assertShapeError("[4294967296, 4294967296]", "the element count of [4294967296, 4294967296] overflows")
        assertShapeError("[0, 4294967296, 4294967296]", "overflows")
        assertShapeError("[2305843009213693952]", "the byte count of [2305843009213693952] of F32 overflows")
        // A huge but non-overflowing shape only fails against the file's real size.
        let error = open(header: "{" + entry("w", shape: "[1048576, 1048576]", offsets: "[0,4]") + "}", data: [0, 0, 0, 0])
        guard case .invalidOffsets(name: "w", file: path, _)? = error else { return XCTFail("got \(String(describing: error))") }
    }

    func assertOffsetsError(_ header: String, data: Int, _ name: String, _ fragment: String, line: UInt = #line) {
        let error = open(header: header, data: [UInt8](repeating: 0, count: data))
        guard case let .invalidOffsets(found, file, reason)? = error else {
            return XCTFail("expected invalidOffsets, got \(String(describing: error))", line: line)
        }
        XCTAssertEqual(found, name, line: line)
        XCTAssertEqual(file, path, line: line)
        XCTAssertTrue(reason.contains(fragment), "\"\(reason)\" does not contain \"\(fragment)\"", line: line)
    }

    func testBadOffsets() {
        assertOffsetsError("{" + entry("a", shape: "[100]", offsets: "[0,400]") + "}", data: 4, "a",
                           "[0, 400] is outside the data buffer of 4 bytes")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[9223372036854775803,9223372036854775807]") + "}", data: 4, "a",
                           "outside the data buffer")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[4,0]") + "}", data: 4, "a", "is not a range")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[-4,0]") + "}", data: 4, "a", "is not a range")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[0]") + "}", data: 4, "a", "not a pair of integers")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[0,4,8]") + "}", data: 8, "a", "not a pair of integers")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[0.0,4]") + "}", data: 4, "a", "not a pair of integers")
        // Size / offset mismatch: 2 floats in 4 bytes, 1 float in 8.
        assertOffsetsError("{" + entry("a", shape: "[2]", offsets: "[0,4]") + "}", data: 4, "a",
                           "[0, 4] spans 4 bytes, but [2] of F32 takes 8")
        assertOffsetsError("{" + entry("a", "I64", shape: "[]", offsets: "[0,4]") + "}", data: 4, "a", "[] of I64 takes 8")
        // A gap between two tensors.
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[0,4]") + "," + entry("b", shape: "[1]", offsets: "[8,12]") + "}",
                           data: 12, "b", "bytes 4..<8 before it belong to no tensor")
        assertOffsetsError("{" + entry("a", shape: "[1]", offsets: "[4,8]") + "}", data: 8, "a", "bytes 0..<4")
        // Data left over after the last tensor.
        assertHeaderError(open(header: "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "}", data: [0, 0, 0, 0, 0]),
                          "the tensors end at byte 4 of the data buffer, but it has 5 bytes")
    }

    func testOverlappingTensors() {
        let header = "{" + entry("a", shape: "[2]", offsets: "[0,8]") + "," + entry("b", shape: "[2]", offsets: "[4,12]") + "}"
        XCTAssertEqual(open(header: header, data: [UInt8](repeating: 0, count: 12)),
                       .overlappingTensors(name: "b", other: "a", file: path))
        let same = "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "," + entry("b", shape: "[1]", offsets: "[0,4]") + "}"
        XCTAssertEqual(open(header: same, data: [0, 0, 0, 0]), .overlappingTensors(name: "b", other: "a", file: path))
        // Empty tensors take no bytes and overlap nothing.
        let empty = "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "," + entry("e", shape: "[0]", offsets: "[4,4]") + ","
            + entry("f", shape: "[3,0]", offsets: "[4,4]") + "}"
        XCTAssertEqual(try SafeTensorsFile(data: safetensorsBytes(header: empty, data: [0, 0, 0, 0]), path: path).names.count, 3)
    }

    func testHostileNamesAreQuotedInMessages() {
        let name = "evil\n" + String(repeating: "x", count: 5000)
        let error = open(header: "{" + entry(name, "Q9", shape: "[1]", offsets: "[0,4]") + "}", data: [0, 0, 0, 0])
        XCTAssertEqual(error, .unsupportedDType(name: name, file: path, dtype: "Q9"))
        let message = error?.description ?? ""
        XCTAssertTrue(message.contains("\"evil\\nxxx"))
        XCTAssertLessThan(message.count, 500)
    }

    /// Every truncation of the real file is refused, and random byte flips in its header either
    /// still parse or throw a HuggingFaceError: never a crash.
    func testTruncationsAndMutationsOfTheFixture() throws {
        let original = try Data(contentsOf: SegformerFixture.weights)
        for length in [0, 7, 8, 100, 16_311, 16_312, 16_313, 500_000, original.count - 1] {
            XCTAssertNotNil(open(original.prefix(length)), "truncated to \(length) bytes")
        }
        var generator = SeededGenerator(seed: 42)
        var parsed = 0
        for _ in 0..<300 {
            var mutated = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<(8 + 16_304), using: &generator)
                mutated[position] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                let file = try SafeTensorsFile(data: mutated, path: path)
                parsed += 1
                for entry in file.entries where entry.dtype.isFloatingPoint { _ = try? file.floatTensor(entry.name) }
            } catch is HuggingFaceError {
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        XCTAssertLessThan(parsed, 300)
    }
}

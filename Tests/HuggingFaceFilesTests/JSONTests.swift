import Foundation
import HuggingFaceFiles
import Tensor
import XCTest

/// JSON through Foundation (`JSONSerialization` in, `JSONEncoder` out): what it accepts, how
/// numbers come out, and that what Rubble writes reads back to the same values.
final class JSONTests: XCTestCase {
    func parse(_ text: String) throws(JSONValue.SyntaxError) -> JSONValue { try JSONValue(parsing: Data(text.utf8)) }

    func reason(_ text: String) -> String {
        do throws(JSONValue.SyntaxError) {
            _ = try parse(text)
            return "accepted"
        } catch {
            return error.reason
        }
    }

    func text(_ value: JSONValue, prettyPrinted: Bool = false) throws -> String {
        String(decoding: try value.jsonData(prettyPrinted: prettyPrinted), as: UTF8.self)
    }

    func testParsesWhatPythonWrites() throws {
        XCTAssertEqual(try parse(#"{"a": [1, -2, 3.5, 1e-06, 0.0, true, false, null], "b": {"c": "d\u00e9\n"}}"#),
                       .object(["a": .array([.integer(1), .integer(-2), .number(3.5), .number(1e-6), .number(0), .bool(true),
                                             .bool(false), .null]),
                                "b": .object(["c": .string("dé\n")])]))
        XCTAssertEqual(try parse(#""\ud83d\ude00 \/""#), .string("😀 /"))
        XCTAssertEqual(try parse("  [ ]  "), .array([]))
        XCTAssertEqual(try parse("9223372036854775807"), .integer(.max))
        XCTAssertEqual(try parse("9223372036854775808"), .number(9223372036854775808))
    }

    /// The `NSNumber`s `JSONSerialization` returns are read as Python's `json` reads the text:
    /// an integer without fraction or exponent, anything else a float, booleans apart.
    func testNumbersKeepPythonsIntegersAndFloats() throws {
        let values = try parse("[1, 1.0, 1e2, 1E-6, -0, 0, -1, 2147483648, -9223372036854775808, 18446744073709551615, "
                               + "18446744073709551616, 123456789012345678901234567890, true, false, 0.1, 5e-324]")
        XCTAssertEqual(values, .array([.integer(1), .number(1), .number(100), .number(1e-6), .integer(0), .integer(0), .integer(-1),
                                       .integer(2_147_483_648), .integer(.min), .number(0x1p64),
                                       .number(0x1p64), .number(1.2345678901234568e29), .bool(true), .bool(false),
                                       .number(0.1), .number(Double.leastNonzeroMagnitude)]))
        // NSDecimalNumbers: read from their text, exactly (0.12345678901234568's doubleValue is ...65).
        XCTAssertEqual(try parse("[0.12345678901234568, 1.0000000000000002, -1000000000000000000, 2.3955760175515948e16]"),
                       .array([.number(0.12345678901234568), .number(1.0000000000000002), .integer(-1_000_000_000_000_000_000),
                               .integer(23_955_760_175_515_948)]))
        guard case let .number(negativeZero) = try parse("-0.0") else { return XCTFail("-0.0 is a float") }
        XCTAssertEqual(negativeZero.sign, .minus)
        // Booleans are never numbers, and numbers never booleans.
        XCTAssertEqual(try parse("[true, 1, false, 0, 127, -128, 255]"),
                       .array([.bool(true), .integer(1), .bool(false), .integer(0), .integer(127), .integer(-128), .integer(255)]))
    }

    func testRefusesWhatIsNotJSON() {
        for text in ["", "{", "[1 2]", "{\"a\" 1}", "01", "-01", "1.", ".5", "-", "1e", "NaN", "Infinity", "[-Infinity]", "tru",
                     "\"\\x\"", "\"\\ud800\"", "\"\\udc00x\"", "{\"a\":1}}", "1e400", "[-1e400]", "'a'", "{a:1}", "/* c */ {}",
                     "[,]", "{,}", "\"a\u{0}\"", "\"\t\"", "{} x", "[1] [2]"] {
            XCTAssertNotEqual(reason(text), "accepted", text)
        }
        XCTAssertEqual(reason("{\"a\":[1,2"), "Unexpected end of file during JSON parse.")
        XCTAssertEqual(reason("{} x"), "Invalid value around character 3.")
        XCTAssertEqual(reason("01"), "Number with leading zero around character 1.")
        XCTAssertEqual(reason("{\"a\":\"\u{0}\"}"), "Unescaped control character around character 6.")
        XCTAssertTrue(reason("1e400").contains("1e400"))
        var invalidUTF8 = Array("[\"ab\"]".utf8)
        invalidUTF8[2] = 0xFF
        XCTAssertThrowsError(try JSONValue(parsing: Data(invalidUTF8))) { error in
            XCTAssertTrue((error as? JSONValue.SyntaxError)?.reason.contains("Invalid UTF-8") == true, "\(error)")
        }
    }

    /// Where Foundation differs from the old strict parser (and from Python's `json`), documented.
    func testFoundationLeniencies() throws {
        // A trailing comma is accepted (Python refuses it).
        XCTAssertEqual(try parse("[1,]"), .array([.integer(1)]))
        XCTAssertEqual(try parse("{\"a\":1,}"), .object(["a": .integer(1)]))
        // A key given twice is not refused: the last value wins, as in Python's json and serde_json.
        XCTAssertEqual(try parse("{\"a\":1,\"b\":{\"c\":1,\"c\":[3]},\"a\":2}"),
                       .object(["a": .integer(2), "b": .object(["c": .array([.integer(3)])])]))
        // UTF-16 text is detected and read as well as UTF-8.
        XCTAssertEqual(try JSONValue(parsing: Data("{\"a\":1}".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })),
                       .object(["a": .integer(1)]))
    }

    /// Foundation refuses nesting deeper than 512 (before anything is built), and what it accepts
    /// is read and shown in messages on a small stack.
    func testDeepNestingIsRefusedWithoutACrash() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertTrue(reason("{\"a\":" + deep + "}").contains("Too many nested arrays or dictionaries"), reason(deep))
        XCTAssertTrue(reason(String(repeating: "{\"a\":", count: 100_000)).contains("Too many nested"))
        XCTAssertTrue(reason(String(repeating: "[", count: 513) + String(repeating: "]", count: 513)).contains("Too many nested"))

        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var excerpt = ""
        let thread = Thread {
            excerpt = (try? JSONValue(parsing: Data(deepest.utf8)))?.excerpt(40) ?? "refused"
            done.signal()
        }
        thread.stackSize = 512 << 10  // a secondary thread's stack on macOS; 256 KB suffices optimized
        thread.start()
        done.wait()
        XCTAssertEqual(excerpt, String(repeating: "[", count: 40) + "...")
    }

    func testWrittenLayout() throws {
        let value = JSONValue.object(["b": .array([.integer(1), .array([])]), "a": .object([:]), "é": .string("\u{7f}\t/"),
                                      "B": .null, "_": .bool(true)])
        let compact = try text(value)
        XCTAssertEqual(compact, "{\"B\":null,\"_\":true,\"a\":{},\"b\":[1,[]],\"é\":\"\u{7f}\\t/\"}")
        let pretty = try text(value, prettyPrinted: true)
        XCTAssertTrue(pretty.hasPrefix("{\n  \"B\" : null,\n  \"_\" : true,\n"), pretty)
        XCTAssertTrue(pretty.contains("\n  \"é\" : \"\u{7f}\\t/\"\n}"), pretty)
        XCTAssertEqual(try JSONValue(parsing: Data(pretty.utf8)), value)
        XCTAssertEqual(JSONValue.string("\u{1}\"\\").excerpt(), "\"\\u0001\\\"\\\\\"")
        XCTAssertEqual(JSONValue.string("😀").excerpt(), "\"😀\"")
    }

    func testWrittenTextParsesBack() throws {
        let value = JSONValue.object(["x": .array([.number(0.1), .number(-1e-300), .integer(-7), .string("\"\\\u{0}"),
                                                   .integer(.min), .integer(.max)]),
                                      "nested": .object(["deep": .array([.object(["k": .null])])])])
        XCTAssertEqual(try JSONValue(parsing: value.jsonData(prettyPrinted: true)), value)
        XCTAssertEqual(try JSONValue(parsing: value.jsonData()), value)
    }

    /// Double -> text -> Double is exact for every finite value. A float without a fraction
    /// below 1e16 is written as an integer (`2.0` as `2`), and one above with 17 digits comes from
    /// corelibs as an NSDecimalNumber: both read back as `.integer` of the same value; `-0.0`
    /// reads back as `0`.
    func testFloatsRoundTripExactly() throws {
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.2, 1.0 / 3, 1.0 / 255, 1e-6, 1e-5, 0.02, 255, 1e15, 1e16, 1.5e16, 2e22,
                                123456.789, -2.5e-7, 1e100, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                                -.greatestFiniteMagnitude, .ulpOfOne, 1 + .ulpOfOne, 0x1p53 + 2, 0x1p63, -0x1p63, 2.3955760175515948e16,
                                0.485, 0.456, 0.406, 0.229, 0.224, 0.225]
        var generator = SeededGenerator(seed: 7)
        while values.count < 20_000 {
            let value = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator))
            if value.isFinite { values.append(value) }
        }
        for value in values.prefix(2000) { values.append(Double(Float(bitPattern: UInt32(truncatingIfNeeded: value.bitPattern)))) }
        values = values.filter(\.isFinite)
        for prettyPrinted in [false, true] {
            let data = try JSONValue.array(values.map(JSONValue.number)).jsonData(prettyPrinted: prettyPrinted)
            guard case let .array(read) = try JSONValue(parsing: data), read.count == values.count else {
                return XCTFail("not an array of \(values.count)")
            }
            for (value, element) in zip(values, read) {
                guard let back = element.doubleValue else { return XCTFail("\(value) came back as \(element.kind)") }
                XCTAssertTrue(back == value && (value == 0 || back.bitPattern == value.bitPattern), "\(value) came back as \(back)")
                if case .integer = element {
                    XCTAssertTrue(value == value.rounded() && abs(value) < 0x1p63, "\(value) came back as an integer")
                }
            }
        }
    }

    func testNonFiniteNumbersAreNotWritten() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("config.json")
        let error = huggingFaceError { try JSONFile.write(["image_mean": .array([.number(0.5), .number(.nan)])], to: url) }
        guard case let .writeFailed(file, reason)? = error else { return XCTFail("expected writeFailed, got \(String(describing: error))") }
        XCTAssertEqual(file, url.path)
        XCTAssertTrue(reason.contains("nan") && reason.contains("image_mean[1]"), reason)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        XCTAssertThrowsError(try JSONValue.number(.infinity).jsonData())
    }

    /// Messages show a prefix of a value's text and never encode more than can show.
    func testExcerpts() throws {
        XCTAssertEqual(JSONValue.array([.integer(1), .number(2.5), .string("x")]).excerpt(40), "[1,2.5,\"x\"]")
        let long = JSONValue.array((0..<1_000_000).map { .integer(Int64($0)) })
        XCTAssertEqual(long.excerpt(10), "[0,1,2,3,4...")
        let wide = JSONValue.object(Dictionary(uniqueKeysWithValues: (0..<1000).map { (String(format: "k%04d", $0), JSONValue.null) }))
        XCTAssertEqual(wide.excerpt(20), "{\"k0000\":null,\"k0001...")
        XCTAssertEqual(JSONValue.string(String(repeating: "é", count: 1 << 20)).excerpt(5), "\"éééé...")
        var deep = JSONValue.integer(1)
        for _ in 0..<10_000 { deep = .array([deep]) }
        XCTAssertEqual(deep.excerpt(8), "[[[[[[[[...")
        XCTAssertEqual(JSONValue.number(.nan).excerpt(), "number(nan)")
    }
}

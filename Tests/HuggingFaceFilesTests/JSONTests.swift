import Foundation
import HuggingFaceFiles
import XCTest

final class JSONTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    func testParsesWhatPythonWrites() throws {
        XCTAssertEqual(try parse(#"{"a": [1, -2, 3.5, 1e-06, 0.0, true, false, null], "b": {"c": "d\u00e9\n"}}"#),
                       .object(["a": .array([.integer(1), .integer(-2), .number(3.5), .number(1e-6), .number(0), .bool(true),
                                             .bool(false), .null]),
                                "b": .object(["c": .string("dé\n")])]))
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse("  [ ]  "), .array([]))
        XCTAssertEqual(try parse("9223372036854775807"), .integer(.max))
        XCTAssertEqual(try parse("9223372036854775808"), .number(9223372036854775808))
    }

    func testRefusesWhatIsNotJSON() {
        for text in ["", "{", "[1 2]", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "NaN", "Infinity", "tru", "\"\\x\"",
                     "\"\\ud800\"", "\"\\udc00x\"", "{\"a\":1}}", "1e400", "[1,]", "{\"a\":1,}", "'a'"] {
            XCTAssertThrowsError(try parse(text), text)
        }
    }

    func testPythonFloatRepr() {
        let cases: [(Double, String)] = [
            (0, "0.0"), (-0.0, "-0.0"), (1, "1.0"), (255, "255.0"), (0.02, "0.02"), (1e-6, "1e-06"), (1e-5, "1e-05"),
            (0.0001, "0.0001"), (1.0 / 255.0, "0.00392156862745098"), (0.1, "0.1"), (1e15, "1000000000000000.0"),
            (1e16, "1e+16"), (1.5e16, "1.5e+16"), (123456.789, "123456.789"), (-2.5e-7, "-2.5e-07"), (1e100, "1e+100"),
            (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (0.485, "0.485"),
        ]
        for (value, text) in cases { XCTAssertEqual(JSONWriter.pythonFloat(value), text, "\(value)") }
    }

    func testPythonLayout() {
        let value = JSONValue.object(["b": .array([.integer(1), .array([])]), "a": .object([:]), "é": .string("\u{7f}\t")])
        XCTAssertEqual(JSONWriter.python(value), "{\n  \"a\": {},\n  \"b\": [\n    1,\n    []\n  ],\n  \"\\u00e9\": \"\\u007f\\t\"\n}")
        XCTAssertEqual(JSONWriter.compact(value), "{\"a\":{},\"b\":[1,[]],\"é\":\"\u{7f}\\t\"}")
        XCTAssertEqual(JSONWriter.compactString("\u{1}/"), "\"\\u0001/\"")
        XCTAssertEqual(JSONWriter.pythonString("😀"), "\"\\ud83d\\ude00\"")
    }

    func testWrittenTextParsesBack() throws {
        let value = JSONValue.object(["x": .array([.number(0.1), .number(-1e-300), .integer(-7), .string("\"\\\u{0}")]),
                                      "nested": .object(["deep": .array([.object(["k": .null])])])])
        XCTAssertEqual(try parse(JSONWriter.python(value)), value)
        XCTAssertEqual(try parse(JSONWriter.compact(value)), value)
    }
}

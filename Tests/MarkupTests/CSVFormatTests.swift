import Markup
import XCTest

/// RFC 4180 in and out: fields written by `CSVFormat.field` read back by `records`, with the
/// line each record starts on, and malformed text refused with its line.
final class CSVFormatTests: XCTestCase {
    func testFieldsRoundTripThroughRecords() throws {
        let rows = [["path", "label"], ["a,b.png", "x"], ["say \"hi\".png", ""], ["two\nlines\r\n.png", "y"], ["", "z"]]
        let text = rows.map { $0.map(CSVFormat.field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        let records = try CSVFormat.records(text)
        XCTAssertEqual(records.map(\.fields), rows)
        XCTAssertEqual(records.map(\.line), [1, 2, 3, 4, 7], "the fourth record spans lines 4-6")
        XCTAssertEqual(CSVFormat.parse(text).count, rows.count, "the lenient parser reads the same rows")
        XCTAssertEqual(CSVFormat.field("plain"), "plain")
        XCTAssertEqual(CSVFormat.field("cr\r"), "\"cr\r\"")
    }

    func testBlankLinesAndAByteOrderMarkAreSkippedAndLinesStillCount() throws {
        let records = try CSVFormat.records("\u{FEFF}a,b\n\n\"\",c\n\nd,e")
        XCTAssertEqual(records, [.init(line: 1, fields: ["a", "b"]), .init(line: 3, fields: ["", "c"]),
                                 .init(line: 5, fields: ["d", "e"])])
        XCTAssertEqual(try CSVFormat.records(""), [])
        XCTAssertEqual(try CSVFormat.records("\"\"\n").map(\.fields), [[""]], "one quoted empty field is a record")
    }

    func testMalformedTextIsRefusedWithItsLine() {
        for (text, line, message) in [("a,b\nc,\"d\n\ne", 2, "never closed"), ("a,b\nc\"d,e\n", 2, "does not start with one"),
                                      ("a\n\"b\"c,d\n", 2, "after the closing quote"), ("\"a\"\"\nb", 1, "never closed")] {
            XCTAssertThrowsError(try CSVFormat.records(text), text) { error in
                guard let error = error as? CSVFormat.SyntaxError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.line, line, text)
                XCTAssertTrue(error.message.contains(message), "\(text): \(error)")
            }
        }
    }
}

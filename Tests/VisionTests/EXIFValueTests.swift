@testable import Vision
import XCTest

/// The conversions of raw tag values (EXIFValues) and the CSV fields.
final class EXIFValueTests: XCTestCase {
    private func date(_ s: String) -> String? { EXIFValues.dateTime(Array(s.utf8)) }
    private func offset(_ s: String) -> String? { EXIFValues.utcOffset(Array(s.utf8)) }

    func testDates() {
        XCTAssertEqual(date("2023:02:06 04:17:35"), "2023-02-06T04:17:35")
        XCTAssertEqual(date("2023-02-06T04:17:35"), "2023-02-06T04:17:35")
        XCTAssertEqual(date("2023:02:06 04:17:35  "), "2023-02-06T04:17:35", "trailing spaces")
        XCTAssertEqual(date("2024:02:29 00:00:00"), "2024-02-29T00:00:00", "leap day")
        XCTAssertEqual(date("2000:02:29 23:59:59"), "2000-02-29T23:59:59", "leap day in a 400th year")
        XCTAssertEqual(date("0001:01:01 00:00:00"), "0001-01-01T00:00:00")
        for bad in ["0000:00:00 00:00:00", "    :  :     :  :  ", "", "2023:02:06", "2023:02:06 04:17:35.12",
                    "2023:13:01 00:00:00", "2023:00:10 00:00:00", "2023:02:29 00:00:00", "1900:02:29 00:00:00",
                    "2023:04:31 00:00:00", "2023:02:06 24:00:00", "2023:02:06 23:60:00", "2023:02:06 23:00:60",
                    "2023/02/06 04:17:35", "2023:02:06_04:17:35", "2023:02:06 04-17-35", "20a3:02:06 04:17:35",
                    "+023:02:06 04:17:35", "2023:02:0604:17:35 ", "２０２３:02:06 04:17:35"] {
            XCTAssertNil(date(bad), bad)
        }
        XCTAssertNil(EXIFValues.dateTime([0xFF, 0xFE] + Array("23:02:06 04:17:35".utf8)))
    }

    func testOffsets() {
        XCTAssertEqual(offset("+03:00"), "+03:00")
        XCTAssertEqual(offset("-05:30"), "-05:30")
        XCTAssertEqual(offset("+14:00"), "+14:00")
        XCTAssertEqual(offset("+05:45 "), "+05:45")
        for bad in ["", "   :  ", "03:00", "+3:00", "+15:00", "+03:60", "+0300", "*03:00", "+03:00:00", "+0a:00"] {
            XCTAssertNil(offset(bad), bad)
        }
        let both: [(date: [UInt8], offset: [UInt8])] = [(Array("2023:02:06 04:17:35".utf8), Array("bogus".utf8))]
        XCTAssertEqual(EXIFValues.captureTime(both), "2023-02-06T04:17:35", "a bad offset drops the offset only")
        XCTAssertNil(EXIFValues.captureTime([]))
    }

    func testCoordinates() {
        let n = Array("N".utf8), s = Array("S".utf8)
        let c = EXIFValues.coordinate([(37, 1), (10, 1), (305, 10)], reference: n, positive: "N", negative: "S", limit: 90)
        XCTAssertEqual(c ?? .nan, 37.1751388889, accuracy: 1e-9)
        let south = EXIFValues.coordinate([(37, 1), (10, 1), (305, 10)], reference: s, positive: "N", negative: "S",
                                          limit: 90)
        XCTAssertEqual(south ?? .nan, -37.1751388889, accuracy: 1e-9)
        let zero = EXIFValues.coordinate([(0, 1), (0, 1), (0, 1)], reference: s, positive: "N", negative: "S", limit: 90)
        XCTAssertEqual(zero, 0)
        XCTAssertEqual(zero?.sign, .plus, "no negative zero")
        XCTAssertNil(EXIFValues.coordinate([], reference: n, positive: "N", negative: "S", limit: 90))
        XCTAssertNil(EXIFValues.coordinate([(1, 1), (1, 1), (1, 1), (1, 1)], reference: n, positive: "N",
                                           negative: "S", limit: 90))
        XCTAssertNil(EXIFValues.coordinate([(1, 1)], reference: Array("E".utf8), positive: "N", negative: "S", limit: 90))
        XCTAssertNil(EXIFValues.coordinate([(1, 1)], reference: [], positive: "N", negative: "S", limit: 90))
        XCTAssertNil(EXIFValues.position(latitudeReference: n, latitude: [(10, 1)], longitudeReference: Array("E".utf8),
                                         longitude: [(10, 0)]), "both or neither")
    }

    func testOrientation() {
        XCTAssertEqual((0...10).compactMap { EXIFValues.orientation($0) }, Array(1...8))
        XCTAssertNil(EXIFValues.orientation(-1))
        XCTAssertNil(EXIFValues.orientation(65535))
    }

    func testCSVFields() {
        XCTAssertEqual(PhotoMetadata.csvHeader, ["latitude", "longitude", "taken_at"])
        XCTAssertEqual(PhotoMetadata.empty.csvFields, ["", "", ""])
        let m = PhotoMetadata(takenAt: "2023-02-06T04:17:35+03:00", latitude: 37.1751388889, longitude: -0.0000004,
                              orientation: 6)
        XCTAssertEqual(m.csvFields, ["37.175139", "0.000000", "2023-02-06T04:17:35+03:00"])
        XCTAssertEqual(PhotoMetadata(latitude: -90, longitude: 180).csvFields, ["-90.000000", "180.000000", ""])
        XCTAssertEqual(PhotoMetadata(latitude: 12.3456784, longitude: -12.3456781).csvFields[0...1],
                       ["12.345678", "-12.345678"])
        XCTAssertEqual(PhotoMetadata(takenAt: "2011-02-22T12:51:00").csvFields, ["", "", "2011-02-22T12:51:00"])
        XCTAssertTrue(PhotoMetadata.empty.isEmpty)
        XCTAssertFalse(PhotoMetadata(orientation: 1).isEmpty)
    }
}

import Foundation
import TestSupport
@testable import Vision
import XCTest

/// EXIF read from the JPEGs of `Tests/Fixtures/exif/`, written by piexif (big-endian) and Pillow
/// (little-endian) with `make_exif_fixtures.py`; the expected values are the tags it writes.
final class EXIFFixtureTests: XCTestCase {
    private func fixture(_ name: String) -> URL { Fixtures.url("exif/\(name)") }

    private func read(_ name: String) throws -> PhotoMetadata {
        let fromFile = try PhotoMetadata.read(contentsOf: fixture(name))
        let fromBytes = PhotoMetadata.read(jpeg: [UInt8](try Data(contentsOf: fixture(name))))
        XCTAssertEqual(fromFile, fromBytes, name)
        return fromFile
    }

    private func assertPosition(_ metadata: PhotoMetadata, _ latitude: Double, _ longitude: Double,
                                file: StaticString = #filePath, line: UInt = #line) {
        guard let lat = metadata.latitude, let lon = metadata.longitude else {
            return XCTFail("no position in \(metadata)", file: file, line: line)
        }
        XCTAssertEqual(lat, latitude, accuracy: 1e-6, file: file, line: line)
        XCTAssertEqual(lon, longitude, accuracy: 1e-6, file: file, line: line)
    }

    func testNorthEastWithEverythingBigEndian() throws {
        let m = try read("exif_ne_full_mm.jpg")
        // DateTimeOriginal wins over DateTimeDigitized (…:36) and DateTime (2023:02:07).
        XCTAssertEqual(m.takenAt, "2023-02-06T04:17:35+03:00")
        assertPosition(m, 37.1751388889, 37.0375694444)  // 37°10'30.5" N, 37°02'15.25" E
        XCTAssertEqual(m.orientation, 6)
        XCTAssertEqual(m.csvFields, ["37.175139", "37.037569", "2023-02-06T04:17:35+03:00"])
    }

    func testSouthWestFromDateTimeDigitized() throws {
        let m = try read("exif_sw_digitized_mm.jpg")
        XCTAssertEqual(m.takenAt, "2010-02-27T03:34:08-03:00")
        assertPosition(m, -33.449, -70.6503)  // 33°26'56.4" S, 70°39'01.08" W
        XCTAssertEqual(m.orientation, 3)
        XCTAssertEqual(m.csvFields, ["-33.449000", "-70.650300", "2010-02-27T03:34:08-03:00"])
    }

    func testSouthEastFromDateTimeWithoutOffset() throws {
        let m = try read("exif_se_datetime_mm.jpg")
        XCTAssertEqual(m.takenAt, "2011-02-22T12:51:00")
        assertPosition(m, -43.53, 172.6369444444)  // 43°31'48" S, 172°38'13" E
        XCTAssertEqual(m.orientation, 1)
    }

    func testNorthWestLittleEndianFromPillow() throws {
        let m = try read("exif_nw_pillow_ii.jpg")
        XCTAssertEqual(m.takenAt, "2010-01-12T16:53:10-05:00")
        assertPosition(m, 18.5435, -72.3353333333)  // 18°32'36.6" N, 72°20'07.2" W
        XCTAssertEqual(m.orientation, 8)
        XCTAssertEqual(m.csvFields, ["18.543500", "-72.335333", "2010-01-12T16:53:10-05:00"])
    }

    func testInvalidValuesAreAbsent() throws {
        // DateTimeOriginal 0000:00:00 00:00:00, a zero seconds denominator, orientation 9.
        let m = try read("exif_invalid_values_mm.jpg")
        XCTAssertEqual(m, .empty)
        XCTAssertEqual(m.csvFields, ["", "", ""])
        let bytes = [UInt8](try Data(contentsOf: fixture("exif_invalid_values_mm.jpg")))
        XCTAssertEqual(bytes.withUnsafeBytes { EXIFReader.read(jpeg: $0).code }, .ok, "the segment itself was read")
    }

    func testNoEXIF() throws {
        XCTAssertEqual(try read("no_exif.jpg"), .empty)
        let bytes = [UInt8](try Data(contentsOf: fixture("no_exif.jpg")))
        XCTAssertEqual(bytes.withUnsafeBytes { EXIFReader.read(jpeg: $0).code }, .none)
    }

    func testExifAfterAnXMPSegment() throws {
        XCTAssertEqual(try read("exif_after_xmp.jpg"), try read("exif_ne_full_mm.jpg"))
        XCTAssertFalse(try read("exif_after_xmp.jpg").isEmpty)
    }

    func testMakerNotesDoNotDisturbTheFields() throws {
        // libexif parses these vendors' maker notes while loading; the fields stay as written.
        for vendor in ["canon", "olympus", "nikon", "fuji", "pentax", "apple"] {
            let m = try read("makernote_\(vendor)_mm.jpg")
            XCTAssertEqual(m.takenAt, "2019-07-06T03:19:53", vendor)
            assertPosition(m, 35.77, -117.6)  // 35°46'12" N, 117°36'00" W
            XCTAssertEqual(m.orientation, 5, vendor)
        }
    }

    func testFixtureSegmentsNeedLittleMemory() throws {
        for name in ["exif_ne_full_mm.jpg", "exif_nw_pillow_ii.jpg", "makernote_canon_mm.jpg"] {
            let bytes = [UInt8](try Data(contentsOf: fixture(name)))
            let result = bytes.withUnsafeBytes { EXIFReader.read(jpeg: $0) }
            XCTAssertEqual(result.code, .ok)
            XCTAssertGreaterThan(result.segmentSize, 100, name)
            XCTAssertLessThan(result.segmentSize, 1000, name)
            XCTAssertLessThan(EXIFReaderProbe.lastPeakBytes, 64 << 10, name)
        }
    }
}

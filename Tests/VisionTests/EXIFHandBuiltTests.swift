import Foundation
@testable import Vision
import XCTest

/// EXIF segments written by the tests' own TIFF writer (both byte orders), inside JPEGs from
/// Vision's encoder, so the reading is checked without Pillow.
final class EXIFHandBuiltTests: XCTestCase {
    /// Everything the reader keeps, Kathmandu on 25 April 2015: 27°42'02.4" N, 85°18'54" E.
    static func complete(_ order: EXIFSegmentWriter.ByteOrder) -> EXIFSegmentWriter {
        var w = EXIFSegmentWriter(order: order)
        w.ifd0 = [.short(Tag.orientation, 6), .ascii(Tag.dateTime, "2015:04:26 09:00:00"), .ascii(Tag.make, "Rubble")]
        w.exif = [.ascii(Tag.dateTimeOriginal, "2015:04:25 11:56:26"), .ascii(Tag.offsetTimeOriginal, "+05:45"),
                  .ascii(Tag.dateTimeDigitized, "2015:04:25 11:56:27")]
        w.gps = [.ascii(Tag.latitudeRef, "N"), .rationals(Tag.latitude, [(27, 1), (42, 1), (24, 10)]),
                 .ascii(Tag.longitudeRef, "E"), .rationals(Tag.longitude, [(85, 1), (18, 1), (54, 1)])]
        return w
    }

    static let completeMetadata = PhotoMetadata(takenAt: "2015-04-25T11:56:26+05:45", latitude: 27.7006666667,
                                                longitude: 85.315, orientation: 6)

    func testBothByteOrders() throws {
        for order in [EXIFSegmentWriter.ByteOrder.little, .big] {
            let w = Self.complete(order)
            XCTAssertEqual(Array(w.tiff().prefix(2)), order == .little ? Array("II".utf8) : Array("MM".utf8))
            let jpeg = try JPEGBytes.with(w)
            XCTAssertNoThrow(try ImageDecoder.decode(data: Data(jpeg)), "still a JPEG")
            let m = PhotoMetadata.read(jpeg: jpeg)
            XCTAssertEqual(m.takenAt, "2015-04-25T11:56:26+05:45", "\(order)")
            XCTAssertEqual(m.latitude ?? .nan, 27.7006666667, accuracy: 1e-6, "\(order)")
            XCTAssertEqual(m.longitude ?? .nan, 85.315, accuracy: 1e-6, "\(order)")
            XCTAssertEqual(m.orientation, 6, "\(order)")
            // The payload alone reads the same.
            XCTAssertEqual(w.segment().withUnsafeBytes { PhotoMetadata.read(exifSegment: $0) }, m)
        }
    }

    func testSouthAndWestAreNegative() throws {
        for order in [EXIFSegmentWriter.ByteOrder.little, .big] {
            var w = Self.complete(order)
            w.gps = [.ascii(Tag.latitudeRef, "S"), .rationals(Tag.latitude, [(12, 1), (3, 1), (0, 1)]),
                     .ascii(Tag.longitudeRef, "W"), .rationals(Tag.longitude, [(77, 1), (1, 1), (30, 1)])]
            let m = PhotoMetadata.read(jpeg: try JPEGBytes.with(w))
            XCTAssertEqual(m.latitude ?? .nan, -12.05, accuracy: 1e-6)
            XCTAssertEqual(m.longitude ?? .nan, -77.025, accuracy: 1e-6)
        }
    }

    func testCaptureTimePriorityAndOffsetsPairWithTheirTag() throws {
        var w = EXIFSegmentWriter(order: .big)
        w.ifd0 = [.ascii(Tag.dateTime, "2001:01:01 01:01:01")]
        w.exif = [.ascii(Tag.offsetTime, "+01:00"), .ascii(Tag.offsetTimeOriginal, "+09:00")]
        // No original or digitized date: DateTime with OffsetTime, not OffsetTimeOriginal.
        XCTAssertEqual(PhotoMetadata.read(jpeg: try JPEGBytes.with(w)).takenAt, "2001-01-01T01:01:01+01:00")
        w.exif.append(.ascii(Tag.dateTimeDigitized, "2002:02:02 02:02:02"))
        XCTAssertEqual(PhotoMetadata.read(jpeg: try JPEGBytes.with(w)).takenAt, "2002-02-02T02:02:02")
        w.exif.append(.ascii(Tag.dateTimeOriginal, "0000:00:00 00:00:00"))
        XCTAssertEqual(PhotoMetadata.read(jpeg: try JPEGBytes.with(w)).takenAt, "2002-02-02T02:02:02",
                       "an invalid original counts as absent")
        w.exif.append(.ascii(Tag.offsetTimeDigitized, "-02:30"))
        XCTAssertEqual(PhotoMetadata.read(jpeg: try JPEGBytes.with(w)).takenAt, "2002-02-02T02:02:02-02:30")
    }

    func testOnlyWhatTheSegmentHolds() throws {
        // libexif's "follow the specification" fix-ups are off: they would add the mandatory tags
        // with made-up values and convert a LONG orientation to SHORT (reading it as valid).
        var w = EXIFSegmentWriter(order: .little)
        w.ifd0 = [.short(Tag.orientation, 3)]
        XCTAssertEqual(PhotoMetadata.read(jpeg: try JPEGBytes.with(w)), PhotoMetadata(orientation: 3))
        w.ifd0 = [.long(Tag.orientation, 3)]
        XCTAssertEqual(PhotoMetadata.read(jpeg: try JPEGBytes.with(w)), .empty)
    }

    func testExifSegmentFarIntoAFileHead() throws {
        // 325 KB of APP2 segments before the Exif one: the file reader must read past its first
        // 128 KiB, and the in-memory walk must skip them.
        var jpeg = try JPEGBytes.with(Self.complete(.little))
        for _ in 0..<5 { jpeg = JPEGBytes.inserting([UInt8](repeating: 0x41, count: 65000), marker: 0xE2, into: jpeg) }
        XCTAssertGreaterThan(jpeg.count, 300_000)
        assertMatches(PhotoMetadata.read(jpeg: jpeg), Self.completeMetadata)
        let url = try VisionFixtures.temporaryDirectory(for: self).appendingPathComponent("late.jpg")
        try Data(jpeg).write(to: url)
        assertMatches(try PhotoMetadata.read(contentsOf: url), Self.completeMetadata)
    }

    func testFileErrorsAndOtherFormats() throws {
        let directory = try VisionFixtures.temporaryDirectory(for: self)
        XCTAssertThrowsError(try PhotoMetadata.read(contentsOf: directory.appendingPathComponent("missing.jpg"))) {
            guard case ImageError.unreadable = $0 else { return XCTFail("\($0)") }
        }
        let png = directory.appendingPathComponent("photo.png")
        try ImageEncoder.writePNG(VisionFixtures.smoothImage(width: 16, height: 16), to: png)
        XCTAssertEqual(try PhotoMetadata.read(contentsOf: png), .empty)
        XCTAssertEqual(PhotoMetadata.read(jpeg: [UInt8](try Data(contentsOf: png))), .empty)
        let empty = directory.appendingPathComponent("empty.jpg")
        try Data().write(to: empty)
        XCTAssertEqual(try PhotoMetadata.read(contentsOf: empty), .empty)
        XCTAssertEqual(PhotoMetadata.read(jpeg: [UInt8]()), .empty)
        XCTAssertEqual(PhotoMetadata.read(jpeg: UnsafeRawBufferPointer(start: nil, count: 0)), .empty)
    }

    private func assertMatches(_ m: PhotoMetadata, _ expected: PhotoMetadata, file: StaticString = #filePath,
                               line: UInt = #line) {
        XCTAssertEqual(m.takenAt, expected.takenAt, file: file, line: line)
        XCTAssertEqual(m.orientation, expected.orientation, file: file, line: line)
        XCTAssertEqual(m.latitude ?? .nan, expected.latitude ?? .nan, accuracy: 1e-6, file: file, line: line)
        XCTAssertEqual(m.longitude ?? .nan, expected.longitude ?? .nan, accuracy: 1e-6, file: file, line: line)
    }
}

import Foundation
import TestSupport
@testable import Vision
import XCTest

/// Hostile EXIF: nothing crashes, hangs or allocates without bound, and what cannot be right
/// reads as nil (never as a wrong value).
final class EXIFMalformedTests: XCTestCase {
    private typealias W = EXIFSegmentWriter
    private let expected = EXIFHandBuiltTests.completeMetadata

    private func complete(_ order: W.ByteOrder = .little) -> W { EXIFHandBuiltTests.complete(order) }

    private func read(_ w: W) throws -> PhotoMetadata { PhotoMetadata.read(jpeg: try JPEGBytes.with(w)) }

    private func code(_ jpeg: [UInt8]) -> EXIFReader.Code { jpeg.withUnsafeBytes { EXIFReader.read(jpeg: $0).code } }

    /// The capture times the complete segment holds: DateTimeOriginal with and without its
    /// offset (the offset tag may be lost alone), DateTimeDigitized, IFD0's DateTime.
    private let timesInTheSegment: Set = ["2015-04-25T11:56:26+05:45", "2015-04-25T11:56:26", "2015-04-25T11:56:27",
                                          "2015-04-26T09:00:00"]

    /// Every field is nil or a value the intact segment holds.
    private func assertNilOrRight(_ m: PhotoMetadata, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        if let t = m.takenAt { XCTAssertTrue(timesInTheSegment.contains(t), "\(t): \(context)", file: file, line: line) }
        if let o = m.orientation { XCTAssertEqual(o, expected.orientation, context, file: file, line: line) }
        if let lat = m.latitude { XCTAssertEqual(lat, expected.latitude!, accuracy: 1e-6, context, file: file, line: line) }
        if let lon = m.longitude { XCTAssertEqual(lon, expected.longitude!, accuracy: 1e-6, context, file: file, line: line) }
        XCTAssertEqual(m.latitude == nil, m.longitude == nil, "a position is both or neither: \(context)", file: file, line: line)
    }

    // MARK: - Truncation

    func testEveryTruncationOfTheSegment() throws {
        let plain = try JPEGBytes.plain()
        for order in [W.ByteOrder.little, .big] {
            let segment = complete(order).segment()
            var empty = 0
            for cut in 0..<segment.count {
                let m = PhotoMetadata.read(jpeg: JPEGBytes.inserting(Array(segment.prefix(cut)), into: plain))
                assertNilOrRight(m, "\(order), \(cut) of \(segment.count) bytes")
                if m.isEmpty { empty += 1 }
            }
            // Cut inside the header or IFD0's table: nothing; the full segment: everything.
            XCTAssertGreaterThanOrEqual(empty, 6 + 8 + 2)
            assertNilOrRight(PhotoMetadata.read(jpeg: JPEGBytes.inserting(segment, into: plain)), "whole")
            XCTAssertFalse(PhotoMetadata.read(jpeg: JPEGBytes.inserting(segment, into: plain)).isEmpty)
        }
    }

    func testEveryTruncationOfTheFile() throws {
        let jpeg = try JPEGBytes.with(complete())
        let segmentEnd = 2 + 4 + complete().segment().count
        for cut in 0..<jpeg.count {
            let prefix = Array(jpeg.prefix(cut))
            let m = PhotoMetadata.read(jpeg: prefix)
            if cut < segmentEnd {
                XCTAssertEqual(m, .empty, "cut at \(cut)")
                if cut >= 4 { XCTAssertEqual(code(prefix), .truncated, "cut at \(cut)") }
            } else {
                assertNilOrRight(m, "cut at \(cut)")
                XCTAssertEqual(m.takenAt, expected.takenAt, "the segment is whole")
            }
        }
    }

    func testSegmentLengthLongerThanTheFile() throws {
        let segment = complete().segment()
        let jpeg = JPEGBytes.inserting(segment, length: 0xFFFF, into: try JPEGBytes.plain())
        XCTAssertLessThan(jpeg.count, 0xFFFF)
        XCTAssertEqual(code(jpeg), .truncated)
        XCTAssertEqual(PhotoMetadata.read(jpeg: jpeg), .empty)
        let url = try VisionFixtures.temporaryDirectory(for: self).appendingPathComponent("long.jpg")
        try Data(jpeg).write(to: url)
        XCTAssertEqual(try PhotoMetadata.read(contentsOf: url), .empty)
    }

    // MARK: - Offsets and structure

    func testOffsetsPointingOutside() throws {
        var w = complete()
        w.ifd0OffsetOverride = 0xFFFF_FF00
        XCTAssertEqual(try read(w), .empty, "IFD0 outside")

        w = complete()
        w.exif = [.raw(Tag.dateTimeOriginal, type: 2, count: 20, valueOrOffset: 0x7FFF_FFFF),
                  .ascii(Tag.offsetTimeOriginal, "+05:45")]
        var m = try read(w)
        XCTAssertEqual(m.takenAt, "2015-04-26T09:00:00", "DateTimeOriginal's text outside: IFD0's DateTime")
        XCTAssertEqual(m.orientation, 6)

        w = complete()
        w.gps = [.ascii(Tag.latitudeRef, "N"), .raw(Tag.latitude, type: 5, count: 3, valueOrOffset: 60000),
                 .ascii(Tag.longitudeRef, "E"), .rationals(Tag.longitude, [(85, 1), (18, 1), (54, 1)])]
        m = try read(w)
        XCTAssertNil(m.latitude)
        XCTAssertNil(m.longitude, "no position without a latitude")
        XCTAssertEqual(m.takenAt, expected.takenAt)

        w = complete()
        w.ifd0.append(.raw(Tag.exifPointer, type: 4, count: 1, valueOrOffset: 0xFFFF_FFF0))
        m = try read(w)
        XCTAssertEqual(m.takenAt, "2015-04-26T09:00:00", "no EXIF IFD: IFD0's DateTime")
        XCTAssertEqual(m.orientation, 6)
        assertNilOrRight(m, "EXIF pointer outside")

        w = complete()
        w.nextAfterIFD0 = 0xFFFF_FFFF
        assertNilOrRight(try read(w), "IFD1 outside")
        XCTAssertEqual(try read(w).takenAt, expected.takenAt)
    }

    func testIFDLoops() throws {
        var w = complete()
        w.exif.append(.pointer(Tag.exifPointer, to: .exif))  // the EXIF IFD points at itself
        XCTAssertEqual(try read(w).takenAt, expected.takenAt)
        assertNilOrRight(try read(w), "EXIF -> EXIF")

        w = complete()
        w.gps += [.pointer(Tag.gpsPointer, to: .gps), .pointer(Tag.exifPointer, to: .zero)]
        assertNilOrRight(try read(w), "GPS -> GPS, GPS -> IFD0")
        XCTAssertNotNil(try read(w).latitude)

        w = complete()
        w.nextAfterIFD0 = 8  // IFD1 is IFD0
        XCTAssertEqual(try read(w).orientation, 6)
        assertNilOrRight(try read(w), "IFD0 -> IFD0 as IFD1")

        w = complete()
        w.ifd0.append(.pointer(Tag.exifPointer, to: .zero))  // IFD0 is its own EXIF IFD
        w.ifd0.append(.pointer(Tag.gpsPointer, to: .zero))
        w.exif = []
        w.gps = []
        XCTAssertEqual(try read(w).orientation, 6)
        assertNilOrRight(try read(w), "IFD0 -> IFD0 as EXIF and GPS")
    }

    func testHugeCounts() throws {
        var w = complete()
        w.exif = [.raw(Tag.dateTimeOriginal, type: 2, count: 0xFFFF_FFFF, valueOrOffset: 8)]
        XCTAssertEqual(try read(w).takenAt, "2015-04-26T09:00:00")

        w = complete()
        // 8 * 0x2000_0001 wraps to 8 in 32 bits.
        w.gps[1] = .raw(Tag.latitude, type: 5, count: 0x2000_0001, valueOrOffset: 8)
        XCTAssertNil(try read(w).latitude)

        w = complete()
        w.gps[1] = .rationals(Tag.latitude, [(27, 1), (42, 1), (24, 10), (1, 1)])  // 4 rationals
        XCTAssertNil(try read(w).latitude)

        w = complete()
        w.ifd0[0] = .bytes(Tag.orientation, type: 3, count: 2, [0, 6, 0, 6])
        XCTAssertNil(try read(w).orientation, "orientation must be one SHORT")

        // IFD0 claims 65535 entries: the table runs into the data behind it.
        for order in [W.ByteOrder.little, .big] {
            var segment = complete(order).segment()
            segment[6 + 8] = 0xFF
            segment[6 + 9] = 0xFF
            let m = PhotoMetadata.read(jpeg: JPEGBytes.inserting(segment, into: try JPEGBytes.plain()))
            assertNilOrRight(m, "65535 entries, \(order)")
        }
    }

    func testZeroDenominators() throws {
        for index in 0..<3 {
            for latitude in [true, false] {
                var parts: [(UInt32, UInt32)] = [(27, 1), (42, 1), (24, 10)]
                parts[index].1 = 0
                var w = complete()
                w.gps[latitude ? 1 : 3] = .rationals(latitude ? Tag.latitude : Tag.longitude, parts)
                let m = try read(w)
                XCTAssertNil(m.latitude, "part \(index), latitude \(latitude)")
                XCTAssertNil(m.longitude, "part \(index), latitude \(latitude)")
                XCTAssertEqual(m.takenAt, expected.takenAt)
            }
        }
        var w = complete()
        w.gps[1] = .rationals(Tag.latitude, [(0, 0), (0, 0), (0, 0)])
        XCTAssertNil(try read(w).latitude)
    }

    func testWrongByteOrderMarkAndMagic() throws {
        for mark in ["IM", "MI", "XX", "ii", "\0\0"] {
            var w = complete()
            w.byteOrderMark = Array(mark.utf8)
            XCTAssertEqual(try read(w), .empty, mark)
        }
        var w = complete()
        w.magic = 43
        XCTAssertEqual(try read(w), .empty, "43 instead of 42")
        // Little-endian offsets under a big-endian mark: offsets land outside, nothing is read.
        w = complete(.little)
        w.byteOrderMark = Array("MM".utf8)
        XCTAssertEqual(try read(w), .empty)
    }

    func testWrongTypesAndReferences() throws {
        var w = complete()
        w.ifd0[0] = .long(Tag.orientation, 6)
        XCTAssertNil(try read(w).orientation, "LONG orientation")

        w = complete()
        w.exif = [.bytes(Tag.dateTimeOriginal, type: 7, count: 20, Array("2015:04:25 11:56:26".utf8) + [0])]
        XCTAssertEqual(try read(w).takenAt, "2015-04-26T09:00:00", "UNDEFINED DateTimeOriginal: absent")

        w = complete()
        w.gps[1] = .signedRationals(Tag.latitude, [(27, 1), (42, 1), (24, 10)])
        XCTAssertNil(try read(w).latitude, "SRATIONAL latitude")

        for (ref, valid) in [("X", false), ("", false), ("NS", false), ("n", true), ("N ", true)] {
            w = complete()
            w.gps[0] = .ascii(Tag.latitudeRef, ref)
            XCTAssertEqual(try read(w).latitude != nil, valid, "latitude reference '\(ref)'")
        }
        w = complete()
        w.gps.remove(at: 2)  // no longitude reference
        XCTAssertNil(try read(w).longitude)
        XCTAssertNil(try read(w).latitude)
    }

    func testOutOfRangeCoordinates() throws {
        let cases: [(lat: [(UInt32, UInt32)], lon: [(UInt32, UInt32)], valid: Bool)] = [
            ([(90, 1), (0, 1), (0, 1)], [(180, 1), (0, 1), (0, 1)], true),
            ([(91, 1), (0, 1), (0, 1)], [(10, 1), (0, 1), (0, 1)], false),
            ([(90, 1), (0, 1), (1, 1)], [(10, 1), (0, 1), (0, 1)], false),
            ([(10, 1), (0, 1), (0, 1)], [(180, 1), (0, 1), (1, 100)], false),
            ([(10, 1), (0, 1), (0, 1)], [(0xFFFF_FFFF, 1), (0xFFFF_FFFF, 1), (0xFFFF_FFFF, 1)], false),
            ([(45, 2)], [(7, 4)], true),  // degrees alone: 22.5, 1.75
        ]
        for (index, c) in cases.enumerated() {
            var w = complete()
            w.gps = [.ascii(Tag.latitudeRef, "S"), .rationals(Tag.latitude, c.lat),
                     .ascii(Tag.longitudeRef, "W"), .rationals(Tag.longitude, c.lon)]
            let m = try read(w)
            XCTAssertEqual(m.latitude != nil, c.valid, "case \(index)")
            XCTAssertEqual(m.longitude != nil, c.valid, "case \(index)")
        }
        var w = complete()
        w.gps = [.ascii(Tag.latitudeRef, "S"), .rationals(Tag.latitude, [(45, 2)]),
                 .ascii(Tag.longitudeRef, "W"), .rationals(Tag.longitude, [(7, 4)])]
        XCTAssertEqual(try read(w).latitude ?? .nan, -22.5, accuracy: 1e-9)
        XCTAssertEqual(try read(w).longitude ?? .nan, -1.75, accuracy: 1e-9)
    }

    // MARK: - The marker walk

    func testMarkerWalk() throws {
        let segment = complete().segment()
        let plain = try JPEGBytes.plain()
        let app1 = [0xFF, 0xE1, UInt8((segment.count + 2) >> 8), UInt8((segment.count + 2) & 0xFF)] + segment
        // Fill bytes before a marker and standalone RST markers before the Exif segment.
        let padded = [0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xD0, 0xFF, 0x01] + app1 + plain[2...]
        XCTAssertEqual(PhotoMetadata.read(jpeg: padded).takenAt, expected.takenAt)
        // A byte that is no marker where one must be.
        XCTAssertEqual(code([0xFF, 0xD8, 0x00] + app1 + plain[2...]), .corrupt)
        // Segment lengths 0 and 1.
        for length in [0, 1] {
            XCTAssertEqual(code(JPEGBytes.inserting([], marker: 0xE0, length: length, into: try JPEGBytes.with(complete()))),
                           .corrupt)
        }
        // After SOS the walk stops: an Exif APP1 behind the image data is not looked at.
        let sos = plain.indices.dropLast().first { plain[$0] == 0xFF && plain[$0 + 1] == 0xDA }!
        let late = Array(plain[..<sos]) + app1 + plain[sos...]
        XCTAssertEqual(code(Array(plain[..<sos]) + plain[sos...]), .none)
        XCTAssertEqual(code(late), .ok, "before SOS it is found")
        let behind = Array(plain[..<(sos + 2)]) + app1 + plain[(sos + 2)...]
        XCTAssertEqual(code(behind), .none)
        XCTAssertEqual(PhotoMetadata.read(jpeg: behind), .empty)
        // "Exif\0\0" in an APP0 or an APP1 too short to hold it.
        XCTAssertEqual(code(JPEGBytes.inserting(segment, marker: 0xE0, into: plain)), .none)
        XCTAssertEqual(code(JPEGBytes.inserting(Array("Exif\0".utf8), into: plain)), .none)
        // Nothing after the header: found, but holds nothing.
        XCTAssertEqual(code(JPEGBytes.inserting(Array("Exif\0\0".utf8), into: plain)), .ok)
        XCTAssertEqual(PhotoMetadata.read(jpeg: JPEGBytes.inserting(Array("Exif\0\0".utf8), into: plain)), .empty)
        // Not JPEG.
        XCTAssertEqual(code([UInt8](try ImageEncoder.png(VisionFixtures.smoothImage(width: 8, height: 8)))), .none)
        XCTAssertEqual(code(segment), .none)
        XCTAssertEqual(code([0xFF, 0xD8]), .none)
    }

    func testOversizedSegmentGivenDirectly() {
        let segment = complete().segment() + [UInt8](repeating: 0, count: 70000)
        let result = segment.withUnsafeBytes { EXIFReader.read(segment: $0) }
        XCTAssertEqual(result.code, .corrupt)
        XCTAssertEqual(result.metadata, .empty)
        XCTAssertEqual(Array(segment.prefix(65533)).withUnsafeBytes { EXIFReader.read(segment: $0).code }, .ok)
    }

    // MARK: - Memory

    func testAliasedEntriesStayWithinTheMemoryBudget() throws {
        // One table of 293 entries, all pointing at the same 60000 bytes, loaded as IFD0, IFD1
        // (IFD0's next), the GPS IFD and the EXIF IFD (pointers to itself): libexif would copy
        // the 60000 bytes once per tag it knows in each, several megabytes.
        var w = W(order: .little)
        let tags = Array(UInt16(0x0000)...0x001F) + Array(UInt16(0x00FE)...0x01FF) + [0x0213]
        let shared = UInt32(8 + 2 + 12 * (tags.count + 2) + 4)
        w.ifd0 = tags.map { .raw($0, type: 7, count: 60000, valueOrOffset: shared) }
        w.ifd0 += [.pointer(Tag.gpsPointer, to: .zero), .pointer(Tag.exifPointer, to: .zero)]
        w.nextAfterIFD0 = 8
        XCTAssertEqual(w.tiff().count, Int(shared))
        let segment = w.segment() + [UInt8](repeating: 0x41, count: 60000)
        XCTAssertLessThanOrEqual(segment.count, 65533)
        let started = Date()
        let result = segment.withUnsafeBytes { EXIFReader.read(segment: $0) }
        XCTAssertEqual(result.code, .ok)
        XCTAssertEqual(result.metadata, .empty)
        let peak = EXIFReaderProbe.lastPeakBytes
        XCTAssertLessThanOrEqual(peak, EXIFReaderProbe.budgetBytes)
        XCTAssertGreaterThan(peak, EXIFReaderProbe.budgetBytes - 60000, "the budget, not the input, ended it")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        // A genuine segment of the same size (one 60000-byte UserComment) reads in full.
        var genuine = complete()
        genuine.exif.append(.bytes(0x9286, type: 7, count: 60000, [UInt8](repeating: 0x41, count: 60000)))
        XCTAssertGreaterThan(genuine.segment().count, 60000)
        let m = PhotoMetadata.read(jpeg: try JPEGBytes.with(genuine))
        XCTAssertEqual(m.takenAt, expected.takenAt)
        XCTAssertLessThan(EXIFReaderProbe.lastPeakBytes, 256 << 10)
    }

    // MARK: - Random damage

    func testRandomDamageToRealSegments() throws {
        // Seeded byte flips, insertions and deletions in the fixtures' segments and a hand-built
        // one: never a crash, and every field that survives is in its range.
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var sources = [try JPEGBytes.with(complete(.big))]
        for name in ["exif_ne_full_mm.jpg", "exif_nw_pillow_ii.jpg"] {
            sources.append([UInt8](try Data(contentsOf: Fixtures.url("exif/\(name)"))))
        }
        for source in sources {
            for _ in 0..<400 {
                var bytes = source
                for _ in 0...next(8) {
                    let at = 2 + next(min(bytes.count - 2, 400))
                    switch next(3) {
                    case 0: bytes[at] = UInt8(next(256))
                    case 1: bytes.insert(UInt8(next(256)), at: at)
                    default: bytes.remove(at: at)
                    }
                }
                let m = PhotoMetadata.read(jpeg: bytes)
                if let o = m.orientation { XCTAssertTrue((1...8).contains(o)) }
                if let lat = m.latitude { XCTAssertTrue(lat.isFinite && abs(lat) <= 90) }
                if let lon = m.longitude { XCTAssertTrue(lon.isFinite && abs(lon) <= 180) }
                if let t = m.takenAt { XCTAssertNotNil(EXIFValues.dateTime(Array(t.utf8.prefix(19))), t) }
                XCTAssertEqual(m.latitude == nil, m.longitude == nil)
            }
        }
    }
}

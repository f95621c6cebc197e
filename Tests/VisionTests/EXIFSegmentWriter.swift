import Foundation
@testable import Vision

/// A tiny TIFF / EXIF writer for the tests, independent of Pillow and libexif: an `Exif\0\0` APP1
/// payload with IFD0, an EXIF IFD and a GPS IFD (pointers added when they have fields), in
/// either byte order, and raw fields for writing what no camera should.
struct EXIFSegmentWriter {
    enum ByteOrder { case little, big }

    /// Where an IFD sits, for fields that point at one.
    enum IFD { case zero, exif, gps }

    enum Field {
        /// ASCII with its terminating NUL counted.
        case ascii(UInt16, String)
        case short(UInt16, UInt16)
        case long(UInt16, UInt32)
        /// RATIONALs (type 5) as numerator, denominator pairs.
        case rationals(UInt16, [(UInt32, UInt32)])
        /// SRATIONALs (type 10).
        case signedRationals(UInt16, [(Int32, Int32)])
        /// Any bytes of any type: `count` as given, data placed as the format requires.
        case bytes(UInt16, type: UInt16, count: UInt32, [UInt8])
        /// An entry written verbatim: the 4-byte value/offset field is `valueOrOffset`.
        case raw(UInt16, type: UInt16, count: UInt32, valueOrOffset: UInt32)
        /// A LONG field holding the offset of `ifd` (a sub-IFD pointer, loops included).
        case pointer(UInt16, to: IFD)

        var tag: UInt16 {
            switch self {
            case .ascii(let t, _), .short(let t, _), .long(let t, _), .rationals(let t, _), .signedRationals(let t, _),
                 .bytes(let t, _, _, _), .raw(let t, _, _, _), .pointer(let t, _):
                return t
            }
        }
    }

    var order: ByteOrder = .little
    var ifd0: [Field] = []
    var exif: [Field] = []
    var gps: [Field] = []
    /// IFD0's "next IFD" offset (IFD1); 0 ends the chain.
    var nextAfterIFD0: UInt32 = 0
    /// The two bytes after the byte-order mark (42 in a real file).
    var magic: UInt16 = 42
    /// The byte-order mark itself, when it should be something else than II / MM.
    var byteOrderMark: [UInt8]? = nil
    /// IFD0's offset as written in the header (nil: where it really is, 8).
    var ifd0OffsetOverride: UInt32? = nil

    // MARK: - Serialisation

    func u16(_ v: UInt16) -> [UInt8] {
        order == .little ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)]
    }

    func u32(_ v: UInt32) -> [UInt8] {
        let b = [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        return order == .little ? b : b.reversed()
    }

    /// The type, count and data bytes of a field (nil for the verbatim ones).
    private func encode(_ field: Field, offsets: [IFD: UInt32]) -> (type: UInt16, count: UInt32, data: [UInt8])? {
        switch field {
        case .ascii(_, let s):
            let bytes = Array(s.utf8) + [0]
            return (2, UInt32(bytes.count), bytes)
        case .short(_, let v): return (3, 1, u16(v))
        case .long(_, let v): return (4, 1, u32(v))
        case .rationals(_, let parts):
            return (5, UInt32(parts.count), parts.flatMap { u32($0.0) + u32($0.1) })
        case .signedRationals(_, let parts):
            return (10, UInt32(parts.count),
                    parts.flatMap { u32(UInt32(bitPattern: $0.0)) + u32(UInt32(bitPattern: $0.1)) })
        case .bytes(_, let type, let count, let data): return (type, count, data)
        case .pointer(_, let ifd): return (4, 1, u32(offsets[ifd] ?? 0))
        case .raw: return nil
        }
    }

    private func withPointers(_ fields: [Field], _ pointers: [(UInt16, IFD, Bool)]) -> [Field] {
        var all = fields
        for (tag, ifd, present) in pointers where present && !all.contains(where: { $0.tag == tag }) {
            all.append(.pointer(tag, to: ifd))
        }
        return all.sorted { $0.tag < $1.tag }
    }

    /// `Exif\0\0` + the TIFF structure.
    func segment() -> [UInt8] { Array("Exif".utf8) + [0, 0] + tiff() }

    func tiff() -> [UInt8] {
        let tables: [(IFD, [Field])] = [
            (.zero, withPointers(ifd0, [(0x8769, .exif, !exif.isEmpty), (0x8825, .gps, !gps.isEmpty)])),
            (.exif, exif.sorted { $0.tag < $1.tag }),
            (.gps, gps.sorted { $0.tag < $1.tag }),
        ].filter { $0.0 == .zero || !$0.1.isEmpty }
        // IFDs one after the other from offset 8, then one data area.
        var offsets: [IFD: UInt32] = [:]
        var cursor: UInt32 = 8
        for (ifd, fields) in tables {
            offsets[ifd] = cursor
            cursor += 2 + 12 * UInt32(fields.count) + 4
        }
        var out = byteOrderMark ?? (order == .little ? Array("II".utf8) : Array("MM".utf8))
        out += u16(magic) + u32(ifd0OffsetOverride ?? 8)
        var data: [UInt8] = []
        for (ifd, fields) in tables {
            out += u16(UInt16(fields.count))
            for field in fields {
                out += u16(field.tag)
                if case .raw(_, let type, let count, let value) = field {
                    out += u16(type) + u32(count) + u32(value)
                    continue
                }
                let (type, count, bytes) = encode(field, offsets: offsets)!
                out += u16(type) + u32(count)
                if bytes.count <= 4 {
                    out += bytes + [UInt8](repeating: 0, count: 4 - bytes.count)
                } else {
                    out += u32(cursor + UInt32(data.count))
                    data += bytes
                    if data.count % 2 == 1 { data.append(0) }
                }
            }
            out += u32(ifd == .zero ? nextAfterIFD0 : 0)
        }
        return out + data
    }
}

/// JPEG surgery for the tests.
enum JPEGBytes {
    /// A 16x16 JPEG from Vision's own encoder (SOI, JFIF APP0, ...).
    static func plain() throws -> [UInt8] {
        [UInt8](try ImageEncoder.jpeg(VisionFixtures.smoothImage(width: 16, height: 16), quality: 90))
    }

    /// `jpeg` with an APP`n` segment holding `payload` inserted right after SOI; `length` overrides
    /// the segment's length field (which counts itself).
    static func inserting(_ payload: [UInt8], marker: UInt8 = 0xE1, length: Int? = nil, into jpeg: [UInt8]) -> [UInt8] {
        precondition(jpeg.count >= 2 && jpeg[0] == 0xFF && jpeg[1] == 0xD8)
        let value = length ?? payload.count + 2
        precondition((0...0xFFFF).contains(value))
        return [0xFF, 0xD8, 0xFF, marker, UInt8(value >> 8), UInt8(value & 0xFF)] + payload + jpeg[2...]
    }

    /// A JPEG of Vision's encoder carrying `writer`'s EXIF.
    static func with(_ writer: EXIFSegmentWriter) throws -> [UInt8] {
        inserting(writer.segment(), into: try plain())
    }
}

/// Tag numbers the tests write.
enum Tag {
    static let orientation: UInt16 = 0x0112, dateTime: UInt16 = 0x0132, make: UInt16 = 0x010F
    static let exifPointer: UInt16 = 0x8769, gpsPointer: UInt16 = 0x8825
    static let dateTimeOriginal: UInt16 = 0x9003, dateTimeDigitized: UInt16 = 0x9004
    static let offsetTime: UInt16 = 0x9010, offsetTimeOriginal: UInt16 = 0x9011, offsetTimeDigitized: UInt16 = 0x9012
    static let latitudeRef: UInt16 = 1, latitude: UInt16 = 2, longitudeRef: UInt16 = 3, longitude: UInt16 = 4
}

import CEXIF
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading ``PhotoMetadata`` from JPEG bytes or files, through `CEXIF` (libexif).
///
/// The shim walks the JPEG markers to the first APP1 segment that starts `Exif\0\0` (bounded:
/// it stops at SOS or EOI and checks every segment length against the buffer), gives libexif
/// only that segment (at most 65533 bytes) under a memory budget, and copies out the raw tags;
/// ``EXIFValues`` validates and normalises them here.
extension PhotoMetadata {
    /// The metadata of a JPEG held in memory. Anything else (a PNG, text, nothing) and a JPEG
    /// without EXIF give ``empty``; malformed EXIF gives the fields that survive validation.
    public static func read(jpeg bytes: UnsafeRawBufferPointer) -> PhotoMetadata {
        EXIFReader.read(jpeg: bytes).metadata
    }

    /// The metadata of a JPEG held in memory (see ``read(jpeg:)-(UnsafeRawBufferPointer)``).
    public static func read(jpeg bytes: [UInt8]) -> PhotoMetadata {
        bytes.withUnsafeBytes { read(jpeg: $0) }
    }

    /// The metadata of a JPEG held in memory (see ``read(jpeg:)-(UnsafeRawBufferPointer)``).
    public static func read(jpeg data: Data) -> PhotoMetadata {
        data.withUnsafeBytes { read(jpeg: $0) }
    }

    /// The metadata of an Exif APP1 payload alone: `Exif\0\0` followed by the TIFF structure,
    /// at most 65533 bytes (else ``empty``).
    public static func read(exifSegment bytes: UnsafeRawBufferPointer) -> PhotoMetadata {
        EXIFReader.read(segment: bytes).metadata
    }

    /// The metadata of the image file at `url`. Only the file's head is read: the first 128 KiB,
    /// and more (up to 32 MiB) only while the segments before the image
    /// data have not ended. Throws ``ImageError/unreadable(file:reason:)`` when the file cannot
    /// be opened or read; a file that is not a JPEG, or has no or malformed EXIF, is no error.
    public static func read(contentsOf url: URL) throws -> PhotoMetadata {
        guard url.isFileURL else { throw ImageError.unreadable(file: url.absoluteString, reason: "not a file URL") }
        return try EXIFReader.read(path: url.path).metadata
    }
}

/// The calls into `CEXIF` and what they found (internal: the tests look at the codes).
enum EXIFReader {
    /// The shim's result codes (`RUBBLE_EXIF_*`).
    enum Code: Int32 {
        case ok = 0, none = 1, corrupt = 2, noMemory = 3, truncated = 4
    }

    /// One read: the shim's code and the validated metadata.
    struct Result {
        var code: Code
        var segmentSize: Int
        var metadata: PhotoMetadata
    }

    /// The first read of a file, and the growth factor while the head's segments go on.
    static let initialHeadBytes = 128 << 10
    /// The most of a file's head ever read looking for the Exif segment: 32 MiB.
    static let maximumHeadBytes = 32 << 20

    static func read(jpeg bytes: UnsafeRawBufferPointer) -> Result {
        var info = rubble_exif_info()
        let code = rubble_exif_read_jpeg(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info)
        return result(code, info)
    }

    static func read(segment bytes: UnsafeRawBufferPointer) -> Result {
        var info = rubble_exif_info()
        let code = rubble_exif_read_segment(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &info)
        return result(code, info)
    }

    /// Reads the head of the file at `path`, growing it 4x while the marker walk runs off its end.
    static func read(path: String) throws -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var head = [UInt8]()
        var wanted = initialHeadBytes
        while true {
            let atEnd = try readMore(fd, into: &head, upTo: wanted, path: path)
            let found = head.withUnsafeBytes { read(jpeg: $0) }
            if found.code != .truncated || atEnd || wanted >= maximumHeadBytes { return found }
            wanted = min(wanted * 4, maximumHeadBytes)
        }
    }

    /// Appends bytes of `fd` to `head` until it holds `count` or the file ends (then true).
    private static func readMore(_ fd: Int32, into head: inout [UInt8], upTo count: Int, path: String) throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while head.count < count {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, min($0.count, count - head.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return true }
            head.append(contentsOf: chunk[0..<n])
        }
        return false
    }

    private static func result(_ raw: Int32, _ info: rubble_exif_info) -> Result {
        let code = Code(rawValue: raw) ?? .corrupt
        guard code == .ok else { return Result(code: code, segmentSize: 0, metadata: .empty) }
        let takenAt = EXIFValues.captureTime([
            (text(info.date_time_original), text(info.offset_time_original)),
            (text(info.date_time_digitized), text(info.offset_time_digitized)),
            (text(info.date_time), text(info.offset_time)),
        ])
        let position = EXIFValues.position(
            latitudeReference: text(info.gps_latitude_ref), latitude: rationals(info.gps_latitude),
            longitudeReference: text(info.gps_longitude_ref), longitude: rationals(info.gps_longitude))
        let metadata = PhotoMetadata(takenAt: takenAt, latitude: position?.latitude, longitude: position?.longitude,
                                     orientation: EXIFValues.orientation(Int(info.orientation)))
        return Result(code: code, segmentSize: Int(info.segment_size), metadata: metadata)
    }

    /// The bytes of a NUL-terminated C `char[]` (imported as a tuple) before its first NUL.
    static func text<T>(_ tuple: T) -> [UInt8] {
        withUnsafeBytes(of: tuple) { Array($0.prefix { $0 != 0 }) }
    }

    /// The shim's rationals as (numerator, denominator) pairs; empty when absent.
    static func rationals(_ r: rubble_exif_rationals) -> [(numerator: UInt32, denominator: UInt32)] {
        let numerators = [r.numerator.0, r.numerator.1, r.numerator.2]
        let denominators = [r.denominator.0, r.denominator.1, r.denominator.2]
        let count = (0...3).contains(r.count) ? Int(r.count) : 0
        return (0..<count).map { (numerators[$0], denominators[$0]) }
    }
}

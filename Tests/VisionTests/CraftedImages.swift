import Foundation
@testable import Vision

/// Hand-made image files for the hostile-input tests: PNGs built chunk by chunk (with real CRCs
/// and a stored-block zlib stream), JPEG headers rewritten to claim another size, and huge PNGs
/// written row by row so that the full image never exists in the test either.
enum CraftedImages {
    /// CRC-32 (ISO 3309, as PNG chunks use).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// One PNG chunk: length, type, data, CRC of type + data.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    /// A zlib stream holding `bytes` in one stored (uncompressed) deflate block.
    static func zlibStored(_ bytes: [UInt8]) -> [UInt8] {
        precondition(bytes.count < 65536, "one stored block holds at most 65535 bytes")
        let n = UInt16(bytes.count)
        return [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + bytes
            + bigEndian(adler32(bytes))
    }

    /// A PNG (8-bit RGB, not interlaced) whose IHDR claims `width` x `height` but whose IDAT
    /// holds only `idat` (by default one scanline's filter byte and a pixel): a bomb's header.
    static func pngHeader(width: UInt32, height: UInt32, idat: [UInt8] = [0, 1, 2, 3]) -> Data {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let ihdr = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]  // depth 8, RGB, deflate, filter 0, no interlace
        return Data(signature + chunk("IHDR", ihdr) + chunk("IDAT", zlibStored(idat)) + chunk("IEND", []))
    }

    /// `jpeg` with the width and height of its first SOF0/SOF1/SOF2 marker replaced.
    static func jpeg(_ jpeg: Data, claiming width: UInt16, _ height: UInt16) -> Data? {
        var bytes = [UInt8](jpeg)
        var i = 2
        while i + 9 < bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if (0xC0...0xC2).contains(marker) {
                // FF Cn, length (2), precision (1), height (2), width (2)
                bytes[i + 5] = UInt8(height >> 8)
                bytes[i + 6] = UInt8(height & 0xFF)
                bytes[i + 7] = UInt8(width >> 8)
                bytes[i + 8] = UInt8(width & 0xFF)
                return Data(bytes)
            }
            i += 2 + length
        }
        return nil
    }

    /// A `width` x `height` 8-bit RGB PNG whose pixel (x, y) is `(x >> 6, y >> 6, blue)` (each
    /// wrapped to 8 bits), written row by row: a photo-sized file of a few MB at most.
    static func stripedPNG(width: Int, height: Int, blue: UInt8 = 77, interlaced: Bool = false,
                           compressionLevel: Int = 1) throws -> Data {
        var cachedBand = -1
        return try PNGCodec.encode(width: width, height: height, colorType: .rgb, interlaced: interlaced,
                                   compressionLevel: compressionLevel) { y, row in
            let band = y >> 6
            guard band != cachedBand else { return }  // the row buffer still holds this band's row
            cachedBand = band
            for x in 0..<width {
                row[3 * x] = UInt8(truncatingIfNeeded: x >> 6)
                row[3 * x + 1] = UInt8(truncatingIfNeeded: band)
                row[3 * x + 2] = blue
            }
        }
    }

    /// A `width` x `height` PNG of one colour (what the red team's bombs were).
    static func solidPNG(width: Int, height: Int, color: (UInt8, UInt8, UInt8), compressionLevel: Int = 9) throws -> Data {
        var filled = false
        return try PNGCodec.encode(width: width, height: height, colorType: .rgb,
                                   compressionLevel: compressionLevel) { _, row in
            guard !filled else { return }
            filled = true
            for x in 0..<width {
                row[3 * x] = color.0
                row[3 * x + 1] = color.1
                row[3 * x + 2] = color.2
            }
        }
    }
}

import CPNG
import Foundation

/// libpng through `CPNG`.
enum PNGCodec {
    /// PNG colour types (the specification's numbers).
    enum ColorType: Int32 {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        /// Samples a pixel.
        var channels: Int {
            switch self {
            case .gray, .palette: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }
    }

    /// Decodes to 8-bit RGB; with `atLeast`, reduced while decoding by the box-filter factor of
    /// `rubble_png_reduction_factor` (see ``ImageDecoder/decode(contentsOf:atLeast:limits:)``).
    static func decode(_ source: CodecBridge.Source, name: String, atLeast minimum: (width: Int, height: Int)? = nil,
                       limits: DecodeLimits = .default) throws -> RGBImage {
        let stored = try size(source, name: name)
        let minWidth = CodecBridge.minimum(minimum?.width), minHeight = CodecBridge.minimum(minimum?.height)
        let factor = reductionFactor(width: stored.width, height: stored.height,
                                     atLeast: (Int(minWidth), Int(minHeight)))
        let output = (stored.width == 0 ? 0 : (stored.width - 1) / factor + 1,
                      stored.height == 0 ? 0 : (stored.height - 1) / factor + 1)
        let limit = limits.shimValue
        return try CodecBridge.decode(file: name, format: .png, limits: limits, stored: stored, output: output) { out, count in
            var info = rubble_png_info()
            let code: Int32
            switch source {
            case .path(let path):
                code = rubble_png_decode_file(path, minWidth, minHeight, limit, out, count, &info)
            case .data(let data):
                code = CodecBridge.withBytes(data) {
                    rubble_png_decode_mem($0, $1, minWidth, minHeight, limit, out, count, &info)
                }
            }
            return CodecBridge.failure(code: code, message: CodecBridge.message(info.message),
                                       imageWidth: info.image_width, imageHeight: info.image_height)
        }
    }

    /// The box-filter factor a decode of a `width` x `height` PNG with `atLeast` uses.
    static func reductionFactor(width: Int, height: Int, atLeast minimum: (width: Int, height: Int)) -> Int {
        guard width > 0, height > 0 else { return 1 }
        return Int(rubble_png_reduction_factor(width, height, CodecBridge.minimum(minimum.width),
                                               CodecBridge.minimum(minimum.height)))
    }

    static func size(_ source: CodecBridge.Source, name: String) throws -> (width: Int, height: Int) {
        var info = rubble_png_info()
        let code: Int32
        switch source {
        case .path(let path): code = rubble_png_header_file(path, &info)
        case .data(let data): code = CodecBridge.withBytes(data) { rubble_png_header_mem($0, $1, &info) }
        }
        guard code == CodecBridge.Code.ok.rawValue else {
            throw CodecBridge.headerError(code: code, message: CodecBridge.message(info.message), file: name, format: .png)
        }
        return (Int(info.image_width), Int(info.image_height))
    }

    /// Encodes rows laid out as libpng expects for `colorType`/`bitDepth` (packed below 8 bits,
    /// big-endian at 16); `palette` holds RGB triples for `.palette`.
    static func encode(samples: [UInt8], width: Int, height: Int, colorType: ColorType, bitDepth: Int = 8,
                       interlaced: Bool = false, palette: [UInt8] = [], compressionLevel: Int = 6) throws -> Data {
        let rowBytes = ImageSizeArithmetic.rowBytes(width: width, channels: colorType.channels, bitDepth: bitDepth)
        guard width > 0, height > 0, width <= Int32.max, height <= Int32.max, let rowBytes, samples.count == ImageSizeArithmetic.product(rowBytes, height),
              palette.count % 3 == 0 else {
            throw ImageError.encodingFailed(detail: "PNG: \(samples.count) bytes for \(width)x\(height), " +
                                            "\(colorType.channels) channels of \(bitDepth) bits")
        }
        var info = rubble_png_info()
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let code = samples.withUnsafeBufferPointer { s in
            palette.withUnsafeBufferPointer { p in
                rubble_png_encode_mem(s.baseAddress, Int32(clamping: width), Int32(clamping: height), colorType.rawValue,
                                      Int32(clamping: bitDepth), interlaced ? 1 : 0, p.baseAddress,
                                      Int32(clamping: palette.count / 3), Int32(clamping: compressionLevel),
                                      &out, &size, &info)
            }
        }
        return try result(code, out, size, info)
    }

    /// Encodes a `width` x `height` image whose rows `row(y, bytes)` fills one at a time (laid
    /// out as for ``encode(samples:width:height:colorType:bitDepth:interlaced:palette:compressionLevel:)``;
    /// no palette), so an image far larger than memory can be written: memory is one row plus
    /// the compressed output. `row` may be called several times for a row (7 for Adam7).
    static func encode(width: Int, height: Int, colorType: ColorType, bitDepth: Int = 8, interlaced: Bool = false,
                       compressionLevel: Int = 6,
                       row: @escaping (_ y: Int, _ bytes: UnsafeMutableBufferPointer<UInt8>) -> Void) throws -> Data {
        guard width > 0, height > 0, width <= Int32.max, height <= Int32.max, colorType != .palette,
              let rowBytes = ImageSizeArithmetic.rowBytes(width: width, channels: colorType.channels, bitDepth: bitDepth)
        else {
            throw ImageError.encodingFailed(detail: "PNG: rows of \(width)x\(height) \(colorType), \(bitDepth) bits")
        }
        final class RowSource {
            let fill: (Int, UnsafeMutableBufferPointer<UInt8>) -> Void
            let rowBytes: Int
            init(_ fill: @escaping (Int, UnsafeMutableBufferPointer<UInt8>) -> Void, rowBytes: Int) {
                self.fill = fill
                self.rowBytes = rowBytes
            }
        }
        let source = RowSource(row, rowBytes: rowBytes)
        var info = rubble_png_info()
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let code = withExtendedLifetime(source) {
            rubble_png_encode_rows_mem(Int32(clamping: width), Int32(clamping: height), colorType.rawValue,
                                       Int32(clamping: bitDepth), interlaced ? 1 : 0, Int32(clamping: compressionLevel),
                                       { context, y, bytes in
                                           guard let context, let bytes else { return }
                                           let source = Unmanaged<RowSource>.fromOpaque(context).takeUnretainedValue()
                                           source.fill(Int(y), UnsafeMutableBufferPointer(start: bytes, count: source.rowBytes))
                                       },
                                       Unmanaged.passUnretained(source).toOpaque(), &out, &size, &info)
        }
        return try result(code, out, size, info)
    }

    private static func result(_ code: Int32, _ out: UnsafeMutablePointer<UInt8>?, _ size: Int,
                               _ info: rubble_png_info) throws -> Data {
        guard code == CodecBridge.Code.ok.rawValue, let buffer = out else {
            if let out { rubble_png_free(out) }
            throw ImageError.encodingFailed(detail: "PNG: " + CodecBridge.message(info.message))
        }
        defer { rubble_png_free(buffer) }
        return Data(bytes: buffer, count: size)
    }
}

import CJPEG
import Foundation

/// libjpeg-turbo through `CJPEG`.
enum JPEGCodec {
    static func decode(_ source: CodecBridge.Source, name: String, atLeast minimum: (width: Int, height: Int)?,
                       limits: DecodeLimits = .default) throws -> RGBImage {
        let stored = try size(source, name: name)
        let minWidth = CodecBridge.minimum(minimum?.width), minHeight = CodecBridge.minimum(minimum?.height)
        var outWidth: Int32 = 0, outHeight: Int32 = 0
        rubble_jpeg_scaled_size(Int32(clamping: stored.width), Int32(clamping: stored.height), minWidth, minHeight,
                                &outWidth, &outHeight)
        let limit = limits.shimValue
        return try CodecBridge.decode(file: name, format: .jpeg, limits: limits, stored: stored,
                                      output: (Int(outWidth), Int(outHeight))) { out, count in
            var info = rubble_jpeg_info()
            let code: Int32
            switch source {
            case .path(let path):
                code = rubble_jpeg_decode_file(path, minWidth, minHeight, limit, out, count, &info)
            case .data(let data):
                code = CodecBridge.withBytes(data) {
                    rubble_jpeg_decode_mem($0, $1, minWidth, minHeight, limit, out, count, &info)
                }
            }
            return CodecBridge.failure(code: code, message: CodecBridge.message(info.message),
                                       imageWidth: info.image_width, imageHeight: info.image_height)
        }
    }

    static func size(_ source: CodecBridge.Source, name: String) throws -> (width: Int, height: Int) {
        var info = rubble_jpeg_info()
        let code: Int32
        switch source {
        case .path(let path): code = rubble_jpeg_header_file(path, &info)
        case .data(let data): code = CodecBridge.withBytes(data) { rubble_jpeg_header_mem($0, $1, &info) }
        }
        guard code == CodecBridge.Code.ok.rawValue else {
            throw CodecBridge.headerError(code: code, message: CodecBridge.message(info.message), file: name, format: .jpeg)
        }
        return (Int(info.image_width), Int(info.image_height))
    }

    /// Encodes `components` (1 gray, 3 RGB, 4 CMYK) 8-bit samples, row-major.
    static func encode(samples: [UInt8], width: Int, height: Int, components: Int, quality: Int) throws -> Data {
        guard width > 0, height > 0, width <= Int32.max, height <= Int32.max,
              samples.count == ImageSizeArithmetic.byteCount(width: width, height: height, channels: components)
        else {
            throw ImageError.encodingFailed(detail: "JPEG: \(samples.count) bytes for \(width)x\(height)x\(components)")
        }
        var info = rubble_jpeg_info()
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let code = samples.withUnsafeBufferPointer {
            rubble_jpeg_encode_mem($0.baseAddress, Int32(clamping: width), Int32(clamping: height),
                                   Int32(clamping: components), Int32(clamping: quality), &out, &size, &info)
        }
        guard code == CodecBridge.Code.ok.rawValue, let buffer = out else {
            throw ImageError.encodingFailed(detail: "JPEG: " + CodecBridge.message(info.message))
        }
        defer { rubble_jpeg_free(buffer) }
        return Data(bytes: buffer, count: size)
    }
}

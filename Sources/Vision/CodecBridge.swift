import CJPEG
import CPNG
import Foundation

/// Internal glue between the C shims (`rubble_jpeg_*`, `rubble_png_*`) and Swift: result codes
/// to ``ImageError``; decoded pixels go straight into the image's `[UInt8]`. The codecs are `JPEGCodec` and
/// `PNGCodec`.
enum CodecBridge {
    /// The shims' shared result codes.
    enum Code: Int32 {
        case ok = 0, unreadable = 1, corrupt = 2, truncated = 3, unsupported = 4, noMemory = 5, argument = 6
        case tooManyPixels = 7
        /// PNG only: an RGB, RGBA or gray + alpha image where one value a pixel was asked for.
        case notSingleChannel = 8
    }

    /// Where the compressed bytes come from.
    enum Source {
        case path(String)
        case data(Data)
    }

    /// What a failed decode reported: its code and message, and the stored size (for the limit).
    struct Failure {
        var code: Int32
        var message: String
        var imageWidth: Int
        var imageHeight: Int
    }

    /// The NUL-terminated text of a fixed-size C `char[]` (imported as a tuple).
    static func message<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The ``ImageError`` for a failed decode of `file` under `limits`.
    static func decodeError(_ failure: Failure, file: String, format: ImageFormat, limits: DecodeLimits) -> ImageError {
        let detail = "\(format.name): \(failure.message)"
        switch Code(rawValue: failure.code) {
        case .unreadable: return .unreadable(file: file, reason: failure.message)
        case .truncated: return .truncated(file: file, detail: detail)
        case .tooManyPixels:
            return .tooManyPixels(file: file, width: failure.imageWidth, height: failure.imageHeight,
                                  limit: limits.maximumPixels)
        case .notSingleChannel: return .notSingleChannel(file: file, colorType: failure.message)
        case .unsupported, .noMemory: return .unsupportedContent(file: file, detail: detail)
        case .corrupt, .argument, .ok, .none: return .corrupt(file: file, detail: detail)
        }
    }

    /// The ``ImageError`` for a failed header read of `file`.
    static func headerError(code: Int32, message: String, file: String, format: ImageFormat) -> ImageError {
        decodeError(Failure(code: code, message: message, imageWidth: 0, imageHeight: 0), file: file,
                    format: format, limits: .unlimited)
    }

    /// Checks the stored size against `limits`, then decodes straight into a new image of the
    /// planned `output` size: `decode(buffer, byteCount)` fills all `byteCount` bytes or returns
    /// what failed. No pixel buffer exists before the check, and none besides the image's own.
    static func decode(file: String, format: ImageFormat, limits: DecodeLimits, stored: (width: Int, height: Int),
                       output: (width: Int, height: Int),
                       _ decode: (UnsafeMutablePointer<UInt8>, Int) -> Failure?) throws -> RGBImage {
        try limits.check(width: stored.width, height: stored.height, file: file)
        guard output.width > 0, output.height > 0,
              let count = ImageSizeArithmetic.byteCount(width: output.width, height: output.height, channels: 3),
              UInt64(count) <= ProcessInfo.processInfo.physicalMemory else {
            throw ImageError.unsupportedContent(
                file: file, detail: "\(format.name): \(output.width)x\(output.height) RGB pixels do not fit in memory")
        }
        var failure: Failure? = nil
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else {
                failure = Failure(code: Code.noMemory.rawValue, message: "no buffer", imageWidth: stored.width,
                                  imageHeight: stored.height)
                initialized = 0
                return
            }
            failure = decode(base, count)
            initialized = failure == nil ? count : 0
        }
        if let failure { throw decodeError(failure, file: file, format: format, limits: limits) }
        return RGBImage(width: output.width, height: output.height, pixels: pixels)
    }

    /// The failure a shim reported with `code` and `info` (nil for success).
    static func failure(code: Int32, message: String, imageWidth: Int32, imageHeight: Int32) -> Failure? {
        code == Code.ok.rawValue ? nil
            : Failure(code: code, message: message, imageWidth: Int(imageWidth), imageHeight: Int(imageHeight))
    }

    /// Runs `body` over the bytes of `data` (never empty: callers check first).
    static func withBytes<R>(_ data: Data, _ body: (UnsafePointer<UInt8>?, Int) -> R) -> R {
        data.withUnsafeBytes { raw in body(raw.bindMemory(to: UInt8.self).baseAddress, raw.count) }
    }

    /// A requested minimum side as the shims take it (<= 0: no constraint).
    static func minimum(_ side: Int?) -> Int32 { Int32(clamping: side ?? 0) }
}

import CPNG
import Foundation

/// The raw samples of a one-value-a-pixel PNG (gray of 1 to 16 bits, or palette indices), as
/// ``ClassMask`` and ``GrayImage16`` read them: `rubble_png_decode_samples_*`, no colour
/// conversion, the pixel limit and colour type checked from the header before any buffer exists.
struct SingleChannelSamples {
    let width: Int
    let height: Int
    /// As stored: 1, 2, 4, 8 or 16.
    let bitDepth: Int
    /// True for a palette ("P") PNG: the samples are palette indices.
    let isPalette: Bool
    /// Row-major samples `[height * width]` of a depth <= 8 image, else nil.
    let bytes: [UInt8]?
    /// Row-major samples `[height * width]` of a 16-bit image, else nil.
    let words: [UInt16]?

    /// Every sample widened to 16 bits.
    var values: [UInt16] { words ?? (bytes ?? []).map(UInt16.init) }
}

/// What a PNG header says about its samples.
struct SingleChannelHeader {
    let width: Int
    let height: Int
    let bitDepth: Int
    /// The stored colour type (the specification's number).
    let colorType: Int32

    var isSingleChannel: Bool { colorType == PNGCodec.ColorType.gray.rawValue || isPalette }
    var isPalette: Bool { colorType == PNGCodec.ColorType.palette.rawValue }

    /// The name errors use for the colour type.
    var colorTypeName: String {
        switch PNGCodec.ColorType(rawValue: colorType) {
        case .gray?: return "\(bitDepth)-bit grayscale"
        case .palette?: return "palette"
        case .rgb?: return "RGB"
        case .rgba?: return "RGBA"
        case .grayAlpha?: return "gray + alpha"
        case nil: return "colour type \(colorType)"
        }
    }
}

enum SingleChannelPNG {
    /// The header of the PNG at `source` (a JPEG or anything else is refused: masks and depth
    /// maps must be lossless PNGs).
    static func header(_ source: CodecBridge.Source, name: String) throws -> SingleChannelHeader {
        try requirePNG(source, name: name)
        var info = rubble_png_info()
        let code: Int32
        switch source {
        case .path(let path): code = rubble_png_header_file(path, &info)
        case .data(let data): code = CodecBridge.withBytes(data) { rubble_png_header_mem($0, $1, &info) }
        }
        guard code == CodecBridge.Code.ok.rawValue else {
            throw CodecBridge.headerError(code: code, message: CodecBridge.message(info.message), file: name, format: .png)
        }
        return SingleChannelHeader(width: Int(info.image_width), height: Int(info.image_height),
                                   bitDepth: Int(info.bit_depth), colorType: info.color_type)
    }

    /// Decodes the samples of a gray or palette PNG.
    /// - Throws: ``ImageError/notSingleChannel(file:colorType:)`` for RGB, RGBA and gray + alpha,
    ///   ``ImageError/tooManyPixels(file:width:height:limit:)`` over `limits`, and the decoder's
    ///   errors for damaged files, all naming `name`.
    static func decode(_ source: CodecBridge.Source, name: String, limits: DecodeLimits) throws -> SingleChannelSamples {
        let header = try header(source, name: name)
        guard header.isSingleChannel else {
            throw ImageError.notSingleChannel(file: name, colorType: header.colorTypeName)
        }
        try limits.check(width: header.width, height: header.height, file: name)
        guard header.width > 0, header.height > 0,
              let count = ImageSizeArithmetic.product(header.width, header.height),
              UInt64(count) * 2 <= ProcessInfo.processInfo.physicalMemory else {
            throw ImageError.unsupportedContent(
                file: name, detail: "PNG: \(header.width)x\(header.height) samples do not fit in memory")
        }
        let limit = limits.shimValue
        var failure: CodecBridge.Failure? = nil
        func run(_ out: UnsafeMutableRawPointer?, _ byteCount: Int) {
            var info = rubble_png_info()
            let code: Int32
            switch source {
            case .path(let path):
                code = rubble_png_decode_samples_file(path, limit, out, byteCount, &info)
            case .data(let data):
                code = CodecBridge.withBytes(data) { rubble_png_decode_samples_mem($0, $1, limit, out, byteCount, &info) }
            }
            failure = CodecBridge.failure(code: code, message: CodecBridge.message(info.message),
                                          imageWidth: info.image_width, imageHeight: info.image_height)
        }
        if header.bitDepth == 16 {
            let values = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
                run(UnsafeMutableRawPointer(buffer.baseAddress), count * 2)
                if failure == nil { initialized = count } else { initialized = 0 }
            }
            if let failure { throw CodecBridge.decodeError(failure, file: name, format: .png, limits: limits) }
            return SingleChannelSamples(width: header.width, height: header.height, bitDepth: 16,
                                        isPalette: false, bytes: nil, words: values)
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            run(UnsafeMutableRawPointer(buffer.baseAddress), count)
            if failure == nil { initialized = count } else { initialized = 0 }
        }
        if let failure { throw CodecBridge.decodeError(failure, file: name, format: .png, limits: limits) }
        return SingleChannelSamples(width: header.width, height: header.height, bitDepth: header.bitDepth,
                                    isPalette: header.isPalette,
                                    bytes: bytes, words: nil)
    }

    /// Throws unless the data (or file) starts with the PNG signature.
    private static func requirePNG(_ source: CodecBridge.Source, name: String) throws {
        let format: ImageFormat
        switch source {
        case .path(let path): format = try ImageDecoder.format(contentsOf: URL(fileURLWithPath: path))
        case .data(let data):
            guard !data.isEmpty else { throw ImageError.empty(file: name) }
            let head = data.prefix(ImageFormat.sniffLength)
            guard let detected = ImageFormat.detect(head) else {
                throw ImageError.unsupportedFormat(file: name, detected: ImageFormat.describeUnsupported(head))
            }
            format = detected
        }
        guard format == .png else {
            throw ImageError.invalidContent(
                file: name, detail: "a \(format.name) file; class masks and depth maps must be (lossless) PNGs")
        }
    }
}

import Foundation

/// A single-channel image of up to 16 bits a sample, e.g. a depth map: `samples[y * width + x]`
/// (`[height, width]` row-major), the values exactly as stored.
///
/// Read from grayscale PNGs of any depth (16-bit depth maps; an 8-bit PNG gives 0...255 and
/// a 1, 2 or 4-bit one its unscaled values; ``bitDepth`` says which). Colour and palette PNGs
/// are refused. Written as 16-bit grayscale PNGs.
public struct GrayImage16: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Bits a sample in the file it was read from (1, 2, 4, 8 or 16); 16 for a new image.
    public let bitDepth: Int
    /// `[height, width]` row-major samples.
    public private(set) var samples: [UInt16]

    /// An image over existing samples.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` unless `samples.count == width * height`
    ///   and `bitDepth` is 1, 2, 4, 8 or 16 with every sample below `2^bitDepth`.
    public init(width: Int, height: Int, samples: [UInt16], bitDepth: Int = 16) throws {
        guard width >= 0, height >= 0, ImageSizeArithmetic.product(width, height) == samples.count else {
            throw ImageError.invalidArgument(detail: "\(samples.count) samples for a \(width)x\(height) image")
        }
        guard [1, 2, 4, 8, 16].contains(bitDepth) else {
            throw ImageError.invalidArgument(detail: "bit depth \(bitDepth) (1, 2, 4, 8 or 16)")
        }
        if bitDepth < 16, let large = samples.first(where: { Int($0) >> bitDepth != 0 }) {
            throw ImageError.invalidArgument(detail: "sample \(large) does not fit in \(bitDepth) bits")
        }
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// The sample at column `x`, row `y` (both must be inside the image).
    public subscript(x x: Int, y y: Int) -> UInt16 { samples[y * width + x] }

    /// The samples as floats, unscaled (`[height, width]`).
    public var floats: [Float] { samples.map(Float.init) }

    /// Reads a grayscale PNG of any bit depth.
    /// - Throws: ``ImageError`` naming the file: ``ImageError/notSingleChannel(file:colorType:)``
    ///   for a colour PNG, ``ImageError/invalidContent(file:detail:)`` for a palette PNG or a
    ///   JPEG, ``ImageError/tooManyPixels(file:width:height:limit:)`` over `limits`, and the
    ///   decoder's errors for missing, damaged or truncated files.
    public static func read(contentsOf url: URL, limits: DecodeLimits = .default) throws -> GrayImage16 {
        guard url.isFileURL else { throw ImageError.unreadable(file: url.absoluteString, reason: "not a file URL") }
        return try image(from: SingleChannelPNG.decode(.path(url.path), name: url.path, limits: limits), name: url.path)
    }

    /// Decodes a grayscale PNG held in memory; `name` is what errors call it.
    public static func decode(data: Data, name: String = "<memory>", limits: DecodeLimits = .default) throws -> GrayImage16 {
        try image(from: SingleChannelPNG.decode(.data(data), name: name, limits: limits), name: name)
    }

    /// The image as a 16-bit grayscale PNG (whatever ``bitDepth`` it was read with).
    /// - Throws: ``ImageError/encodingFailed(detail:)`` for an empty image.
    public func pngData(compressionLevel: Int = 6) throws -> Data {
        guard (0...9).contains(compressionLevel) else {
            throw ImageError.encodingFailed(detail: "PNG compression level \(compressionLevel) is not in 0...9")
        }
        var bigEndian = [UInt8](repeating: 0, count: samples.count * 2)
        for (i, value) in samples.enumerated() {
            bigEndian[2 * i] = UInt8(value >> 8)
            bigEndian[2 * i + 1] = UInt8(value & 0xFF)
        }
        return try PNGCodec.encode(samples: bigEndian, width: width, height: height, colorType: .gray, bitDepth: 16,
                                   compressionLevel: compressionLevel)
    }

    /// Writes ``pngData(compressionLevel:)`` to `url` atomically.
    public func write(to url: URL) throws {
        try ImageEncoder.writeAtomically(try pngData(), to: url)
    }

    private static func image(from samples: SingleChannelSamples, name: String) throws -> GrayImage16 {
        guard !samples.isPalette else {
            throw ImageError.invalidContent(file: name, detail: "a palette PNG, not a grayscale map")
        }
        return try GrayImage16(width: samples.width, height: samples.height, samples: samples.values,
                               bitDepth: samples.bitDepth)
    }
}

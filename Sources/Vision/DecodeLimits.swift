/// Limits the decoder checks against an image's header before it allocates anything for the
/// pixels, so a small file that claims a huge image (a decompression bomb: a 783 KB PNG of
/// 16384x16384 pixels would take 805 MB as RGB) is refused with a clear error instead of
/// exhausting memory.
///
/// ```swift
/// let photo = try ImageDecoder.decode(contentsOf: url, atLeast: (150, 150))  // 50 MP at most
/// let scan = try ImageDecoder.decode(contentsOf: url, limits: DecodeLimits(maximumPixels: 200_000_000))
/// ```
public struct DecodeLimits: Sendable, Hashable {
    /// 50 megapixels (`50_000_000` = width * height): well above any phone or DSLR photo
    /// (48-50 MP sensors) and a quarter of a 16384x16384 bomb.
    public static let defaultMaximumPixels = 50_000_000

    /// The default limits: ``defaultMaximumPixels``.
    public static let `default` = DecodeLimits()

    /// No pixel limit (what memory allows). Only for trusted files.
    public static let unlimited = DecodeLimits(maximumPixels: .max)

    /// The largest `width * height` accepted, as stored in the header (before any JPEG DCT
    /// scaling or PNG reduction). A larger image is ``ImageError/tooManyPixels(file:width:height:limit:)``;
    /// a limit <= 0 refuses every image.
    public var maximumPixels: Int

    public init(maximumPixels: Int = DecodeLimits.defaultMaximumPixels) {
        self.maximumPixels = maximumPixels
    }

    /// Throws ``ImageError/tooManyPixels(file:width:height:limit:)`` when a `width` x `height`
    /// image (e.g. from ``ImageDecoder/size(contentsOf:)``) is over the limit: the check the
    /// decoder makes, for callers who read the size first. A negative size is
    /// ``ImageError/corrupt(file:detail:)``.
    public func check(width: Int, height: Int, file: String) throws {
        guard width >= 0, height >= 0 else {
            throw ImageError.corrupt(file: file, detail: "image size \(width)x\(height)")
        }
        guard let pixels = ImageSizeArithmetic.product(width, height), pixels <= maximumPixels else {
            throw ImageError.tooManyPixels(file: file, width: width, height: height, limit: maximumPixels)
        }
    }

    /// The limit as the C shims take it (0 refuses every image).
    var shimValue: UInt64 { UInt64(max(0, maximumPixels)) }
}

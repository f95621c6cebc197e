import Foundation

/// A segmentation mask: one class index a pixel, `indices[y * width + x]` (`[height, width]`
/// row-major), 255 meaning "ignore" (``ignoreIndex``, the ADE20K / EIDSeg / mmseg convention).
///
/// Read from 8-bit (or 1, 2, 4-bit) grayscale "L" PNGs, whose stored values are the indices, or
/// palette "P" PNGs, whose palette INDICES are the classes (the palette only colours them for
/// viewing and is never applied), as `np.array(Image.open(mask))` gives them. A 16-bit gray
/// PNG is accepted when every value fits in 8 bits. Colour PNGs (RGB, RGBA, gray + alpha) and
/// JPEGs (lossy: they would invent classes at edges) are refused.
///
/// ```swift
/// let mask = try ClassMask.read(contentsOf: URL(fileURLWithPath: "masks/0001.png"))
/// let small = try mask.resized(width: 128, height: 128)      // PIL nearest
/// try small.write(to: URL(fileURLWithPath: "small.png"))     // 8-bit gray, atomically
/// ```
public struct ClassMask: Sendable, Equatable {
    /// The index of pixels no loss or metric counts (255).
    public static let ignoreIndex: UInt8 = 255

    public let width: Int
    public let height: Int
    /// `[height, width]` row-major class indices.
    public private(set) var indices: [UInt8]

    /// A mask over existing indices.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` unless `indices.count == width * height`.
    public init(width: Int, height: Int, indices: [UInt8]) throws {
        guard width >= 0, height >= 0, ImageSizeArithmetic.product(width, height) == indices.count else {
            throw ImageError.invalidArgument(detail: "\(indices.count) class indices for a \(width)x\(height) mask")
        }
        self.width = width
        self.height = height
        self.indices = indices
    }

    /// A mask of one index everywhere.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for a negative or overflowing size.
    public init(width: Int, height: Int, filledWith index: UInt8) throws {
        guard width >= 0, height >= 0, let count = ImageSizeArithmetic.product(width, height) else {
            throw ImageError.invalidArgument(detail: "mask size \(width)x\(height)")
        }
        try self.init(width: width, height: height, indices: [UInt8](repeating: index, count: count))
    }

    /// A mask whose pixel (x, y) is `index(x, y)`.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for a negative or overflowing size.
    public init(width: Int, height: Int, index: (_ x: Int, _ y: Int) -> UInt8) throws {
        try self.init(width: width, height: height, filledWith: 0)
        var i = 0
        for y in 0..<height {
            for x in 0..<width {
                indices[i] = index(x, y)
                i += 1
            }
        }
    }

    /// The index at column `x`, row `y` (both must be inside the mask).
    public subscript(x x: Int, y y: Int) -> UInt8 {
        get { indices[y * width + x] }
        set { indices[y * width + x] = newValue }
    }

    public var pixelCount: Int { indices.count }

    /// How many pixels hold each index: `[256]`.
    public var indexCounts: [Int] {
        var counts = [Int](repeating: 0, count: 256)
        for index in indices { counts[Int(index)] += 1 }
        return counts
    }

    // MARK: - Files

    /// Reads a mask PNG (see the type's documentation for what is accepted).
    /// - Throws: ``ImageError`` naming the file: ``ImageError/notSingleChannel(file:colorType:)``
    ///   for a colour PNG, ``ImageError/invalidContent(file:detail:)`` for a JPEG or a 16-bit value
    ///   above 255, ``ImageError/tooManyPixels(file:width:height:limit:)`` over `limits`, and the
    ///   decoder's errors for missing, damaged or truncated files.
    public static func read(contentsOf url: URL, limits: DecodeLimits = .default) throws -> ClassMask {
        let path = try filePath(url)
        return try mask(from: SingleChannelPNG.decode(.path(path), name: path, limits: limits), name: path)
    }

    /// Decodes a mask PNG held in memory; `name` is what errors call it.
    public static func decode(data: Data, name: String = "<memory>", limits: DecodeLimits = .default) throws -> ClassMask {
        try mask(from: SingleChannelPNG.decode(.data(data), name: name, limits: limits), name: name)
    }

    /// The stored width and height of a mask PNG, from its header alone; throws as
    /// ``read(contentsOf:limits:)`` would for a file that is not a single-channel PNG.
    public static func size(contentsOf url: URL) throws -> (width: Int, height: Int) {
        let path = try filePath(url)
        let header = try SingleChannelPNG.header(.path(path), name: path)
        guard header.isSingleChannel else { throw ImageError.notSingleChannel(file: path, colorType: header.colorTypeName) }
        return (header.width, header.height)
    }

    /// The mask as a PNG: 8-bit grayscale ("L"), or with `palette` (RGB triples, at least one
    /// per index used, at most 256) a palette ("P") PNG whose indices are the classes.
    /// - Throws: ``ImageError/encodingFailed(detail:)`` for an empty mask or a palette that
    ///   does not cover every index.
    public func pngData(palette: [UInt8]? = nil, compressionLevel: Int = 6) throws -> Data {
        guard (0...9).contains(compressionLevel) else {
            throw ImageError.encodingFailed(detail: "PNG compression level \(compressionLevel) is not in 0...9")
        }
        guard let palette else {
            return try PNGCodec.encode(samples: indices, width: width, height: height, colorType: .gray,
                                       compressionLevel: compressionLevel)
        }
        let entries = palette.count / 3, largest = Int(indices.max() ?? 0)
        guard palette.count % 3 == 0, (1...256).contains(entries), largest < entries else {
            throw ImageError.encodingFailed(
                detail: "palette of \(palette.count) bytes (\(entries) RGB entries) for a mask whose largest index is \(largest)")
        }
        return try PNGCodec.encode(samples: indices, width: width, height: height, colorType: .palette,
                                   palette: palette, compressionLevel: compressionLevel)
    }

    /// Writes ``pngData(palette:compressionLevel:)`` to `url` atomically.
    /// - Throws: ``ImageError/writeFailed(file:reason:)`` naming the file, or the encoding error.
    public func write(to url: URL, palette: [UInt8]? = nil) throws {
        try ImageEncoder.writeAtomically(try pngData(palette: palette), to: url)
    }

    // MARK: - Geometry

    /// The mask resized to `width` x `height` by nearest neighbour, as transformers' image
    /// processors resize segmentation maps: Pillow's `NEAREST` (`.pil`) or PyTorch's
    /// `nearest-exact` (`.torchvision`). Every output pixel is one source index.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for a size <= 0 or an empty mask.
    public func resized(width: Int, height: Int, backend: ResizeBackend = .pil) throws -> ClassMask {
        guard self.width > 0, self.height > 0, width > 0, height > 0 else {
            throw ImageError.invalidArgument(
                detail: "cannot resize a \(self.width)x\(self.height) mask to \(width)x\(height) (sizes must be > 0)")
        }
        let out = PILResample.nearest.resample(indices, width: self.width, height: self.height, channels: 1,
                                               toWidth: width, toHeight: height, flavor: backend.flavor)
        return try ClassMask(width: width, height: height, indices: out)
    }

    // MARK: - Private

    private static func filePath(_ url: URL) throws -> String {
        guard url.isFileURL else { throw ImageError.unreadable(file: url.absoluteString, reason: "not a file URL") }
        return url.path
    }

    private static func mask(from samples: SingleChannelSamples, name: String) throws -> ClassMask {
        if let bytes = samples.bytes {
            return try ClassMask(width: samples.width, height: samples.height, indices: bytes)
        }
        let words = samples.words ?? []
        if let at = words.firstIndex(where: { $0 > 255 }) {
            throw ImageError.invalidContent(
                file: name, detail: "16-bit mask value \(words[at]) at pixel (\(at % samples.width), \(at / samples.width)) "
                    + "is not a class index (0...254, 255 = ignore)")
        }
        return try ClassMask(width: samples.width, height: samples.height, indices: words.map { UInt8($0) })
    }
}

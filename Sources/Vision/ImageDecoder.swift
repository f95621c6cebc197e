import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Decodes JPEG and PNG files to ``RGBImage``.
///
/// The format comes from the first bytes of the content (a PNG named `.jpg` decodes as PNG;
/// a text file named `.jpg` is ``ImageError/unsupportedFormat(file:detected:)``). Grayscale,
/// CMYK, palette, 16-bit and alpha images all come out as 8-bit RGB (alpha is dropped, not
/// composited, as PIL's `convert("RGB")` does). Damaged or half-written files throw: a JPEG
/// that ends early is ``ImageError/truncated(file:detail:)`` rather than libjpeg's gray padding.
/// A header that claims more pixels than the ``DecodeLimits`` allow (default 50 MP) is refused
/// before anything is allocated, and `atLeast:` reduces JPEG and PNG while decoding, so memory
/// is bounded by the requested size rather than by the photo's pixel count.
/// Safe to call from many threads at once.
public enum ImageDecoder {
    /// Decodes the image file at `url`.
    ///
    /// - Parameter atLeast: the smallest size the caller needs (e.g. the model input, or a
    ///   perceptual hash's thumbnail): the image is reduced while it is decoded, to a size still
    ///   >= both components (a component <= 0 places no constraint), so the full-size picture
    ///   never exists in memory. Callers then resize from the reduced image.
    ///   - JPEG: libjpeg-turbo decodes at 1/2, 1/4 or 1/8 scale in the DCT domain, the smallest
    ///     scale whose width and height are both still >= the request (so at least one side is
    ///     below twice its request). This skips most of the inverse DCT, upsampling and colour
    ///     conversion (entropy decoding remains).
    ///   - PNG: rows are decoded one at a time and box-filtered by the largest integer factor
    ///     `f` (at most 4096) with `ceil(width / f) >= atLeast.width` and
    ///     `ceil(height / f) >= atLeast.height`: output pixel `(X, Y)` is, per channel, the mean
    ///     of the pixels `(x, y)` with `x / f == X`, `y / f == Y`, rounded half up
    ///     (`(sum + n/2) / n`); blocks at the right and bottom edges are averaged over the `n`
    ///     pixels that exist. The result is `ceil(width / f)` x `ceil(height / f)`. Interlaced
    ///     (Adam7) PNGs are reduced the same way, with identical results (each pass's pixels go
    ///     to their blocks). Memory: the output, one row and 12 bytes per output pixel of sums
    ///     (per output row only, unless interlaced).
    ///
    ///   Images already smaller than the request decode at full size. `nil` decodes at full
    ///   size. EXIF orientation is not applied (as in PIL's `open` and Keras' loaders).
    /// - Parameter limits: checked against the header's width and height before any pixel
    ///   buffer is allocated: an image of more than ``DecodeLimits/maximumPixels`` (default
    ///   50 MP) stored pixels is ``ImageError/tooManyPixels(file:width:height:limit:)``, even
    ///   when `atLeast` would reduce it.
    public static func decode(contentsOf url: URL, atLeast: (width: Int, height: Int)? = nil,
                              limits: DecodeLimits = .default) throws -> RGBImage {
        let path = try filePath(url)
        switch try sniff(path: path) {
        case .jpeg: return try JPEGCodec.decode(.path(path), name: path, atLeast: atLeast, limits: limits)
        case .png: return try PNGCodec.decode(.path(path), name: path, atLeast: atLeast, limits: limits)
        }
    }

    /// Decodes an image held in memory; `name` is what errors call it (e.g. a URL or archive
    /// entry). `atLeast` and `limits` as for ``decode(contentsOf:atLeast:limits:)``.
    public static func decode(data: Data, name: String = "<memory>", atLeast: (width: Int, height: Int)? = nil,
                              limits: DecodeLimits = .default) throws -> RGBImage {
        switch try sniff(data: data, name: name) {
        case .jpeg: return try JPEGCodec.decode(.data(data), name: name, atLeast: atLeast, limits: limits)
        case .png: return try PNGCodec.decode(.data(data), name: name, atLeast: atLeast, limits: limits)
        }
    }

    /// The stored width and height, read from the header without decoding the pixels.
    public static func size(contentsOf url: URL) throws -> (width: Int, height: Int) {
        let path = try filePath(url)
        switch try sniff(path: path) {
        case .jpeg: return try JPEGCodec.size(.path(path), name: path)
        case .png: return try PNGCodec.size(.path(path), name: path)
        }
    }

    /// The stored width and height of in-memory image data, without decoding the pixels.
    public static func size(data: Data, name: String = "<memory>") throws -> (width: Int, height: Int) {
        switch try sniff(data: data, name: name) {
        case .jpeg: return try JPEGCodec.size(.data(data), name: name)
        case .png: return try PNGCodec.size(.data(data), name: name)
        }
    }

    /// The format of the file at `url`, from its first bytes; throws if it is neither JPEG nor PNG.
    public static func format(contentsOf url: URL) throws -> ImageFormat {
        try sniff(path: try filePath(url))
    }

    // MARK: - Sniffing

    private static func filePath(_ url: URL) throws -> String {
        guard url.isFileURL else { throw ImageError.unreadable(file: url.absoluteString, reason: "not a file URL") }
        return url.path
    }

    private static func sniff(data: Data, name: String) throws -> ImageFormat {
        guard !data.isEmpty else { throw ImageError.empty(file: name) }
        let header = data.prefix(ImageFormat.sniffLength)
        guard let format = ImageFormat.detect(header) else {
            throw ImageError.unsupportedFormat(file: name, detected: ImageFormat.describeUnsupported(header))
        }
        return format
    }

    /// Reads the first bytes of the file with POSIX calls, for exact reasons (ENOENT, EISDIR...).
    private static func sniff(path: String) throws -> ImageFormat {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: ImageFormat.sniffLength)
        var count = 0
        while count < header.count {
            let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageError.unreadable(file: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            count += n
        }
        guard count > 0 else { throw ImageError.empty(file: path) }
        header.removeLast(header.count - count)
        guard let format = ImageFormat.detect(header) else {
            throw ImageError.unsupportedFormat(file: path, detected: ImageFormat.describeUnsupported(header))
        }
        return format
    }
}

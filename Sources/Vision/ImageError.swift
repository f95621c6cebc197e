/// Why an image could not be read or written. Every case names the file (its path, or the
/// name given for in-memory data) so a message from a folder of 6000 photos points at the one.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read: missing, no permission, a directory...
    case unreadable(file: String, reason: String)
    /// The file (or buffer) holds no bytes at all.
    case empty(file: String)
    /// The bytes are not JPEG or PNG; `detected` says what they look like ("GIF", "text", ...).
    /// The format is sniffed from the content, never from the file name's extension.
    case unsupportedFormat(file: String, detected: String)
    /// The data stops before the image does: a half-downloaded or half-copied file.
    case truncated(file: String, detail: String)
    /// The data is damaged or invalid for its format (bad markers, checksums, compressed data).
    case corrupt(file: String, detail: String)
    /// A valid file whose content cannot be turned into 8-bit RGB here, or whose buffers do not
    /// fit in memory.
    case unsupportedContent(file: String, detail: String)
    /// The header's `width` x `height` exceeds `limit` pixels (``DecodeLimits/maximumPixels``):
    /// refused before any pixel buffer was allocated (typically a decompression bomb).
    case tooManyPixels(file: String, width: Int, height: Int, limit: Int)
    /// Encoding failed (invalid image or parameters).
    case encodingFailed(detail: String)
    /// Writing the encoded bytes to `file` failed.
    case writeFailed(file: String, reason: String)
    /// A PNG that should hold one value a pixel (a class mask, a depth map) holds colour:
    /// `colorType` is what it stores ("RGB", "RGBA", "gray + alpha"). Masks must be 8-bit
    /// grayscale ("L") or palette ("P") PNGs whose values are the class indices.
    case notSingleChannel(file: String, colorType: String)
    /// A value the file holds cannot be what it should be (e.g. a 16-bit mask value above 255).
    case invalidContent(file: String, detail: String)
    /// A bad argument to an image operation (a size <= 0, a buffer of the wrong length...).
    case invalidArgument(detail: String)

    /// The file the error is about (`nil` for an encoding failure).
    public var file: String? {
        switch self {
        case .unreadable(let file, _), .empty(let file), .unsupportedFormat(let file, _),
             .truncated(let file, _), .corrupt(let file, _), .unsupportedContent(let file, _),
             .tooManyPixels(let file, _, _, _), .writeFailed(let file, _), .notSingleChannel(let file, _),
             .invalidContent(let file, _):
            return file
        case .encodingFailed, .invalidArgument:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read the file (\(reason))"
        case .empty(let file):
            return "\(file): empty file (0 bytes)"
        case .unsupportedFormat(let file, let detected):
            return "\(file): not a JPEG or PNG image (content looks like \(detected))"
        case .truncated(let file, let detail):
            return "\(file): truncated image, the data ends early (\(detail))"
        case .corrupt(let file, let detail):
            return "\(file): corrupt image (\(detail))"
        case .unsupportedContent(let file, let detail):
            return "\(file): cannot decode this image (\(detail))"
        case .tooManyPixels(let file, let width, let height, let limit):
            let pixels = ImageSizeArithmetic.product(width, height).map { " = \($0) pixels" } ?? ""
            return "\(file): image of \(width)x\(height)\(pixels) exceeds the limit of \(limit) pixels "
                + "per image; not decoded (raise the pixel limit only for trusted files)"
        case .encodingFailed(let detail):
            return "image encoding failed (\(detail))"
        case .writeFailed(let file, let reason):
            return "\(file): cannot write the image (\(reason))"
        case .notSingleChannel(let file, let colorType):
            return "\(file): a \(colorType) PNG, not one value a pixel (expected an 8-bit grayscale \"L\" "
                + "or palette \"P\" PNG whose values are the class indices, or a 16-bit grayscale map)"
        case .invalidContent(let file, let detail):
            return "\(file): \(detail)"
        case .invalidArgument(let detail):
            return "invalid image operation (\(detail))"
        }
    }
}

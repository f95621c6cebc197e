import Foundation
import Vision

/// Why a segmentation data set could not be listed or a sample read. Every case that concerns a
/// file names it (and, for a mismatch, both files and both sizes).
public enum SegmentationDataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The folder does not exist or is not a directory.
    case notADirectory(path: String)
    /// The data set folder lacks its `images/` or `masks/` sub-folder.
    case missingFolder(path: String)
    /// `images/` holds no image (`.jpg`, `.jpeg`, `.png`) at all.
    case noImages(path: String)
    /// An image has no mask of the same name.
    case imageWithoutMask(image: String, expectedMask: String)
    /// A mask has no image of the same name.
    case maskWithoutImage(mask: String, imageFolder: String)
    /// Two images (or two masks) share a name, e.g. `a.jpg` and `a.png`.
    case duplicateName(name: String, files: [String])
    /// A mask's size differs from its image's.
    case sizeMismatch(image: String, imageWidth: Int, imageHeight: Int, mask: String, maskWidth: Int, maskHeight: Int)
    /// A mask holds a class index that is neither below `numLabels` nor 255 (ignore), first at (x, y).
    case labelOutOfRange(mask: String, value: Int, numLabels: Int, x: Int, y: Int)
    /// A file could not be listed, read or decoded (the image error names the file).
    case unreadable(ImageError)
    /// A folder could not be listed.
    case unlistable(path: String, reason: String)
    /// A bad argument (label count, split fraction, index, scale range, sizes...).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path): not a directory"
        case .missingFolder(let path):
            return "\(path): missing (a segmentation data set needs images/NAME.jpg|jpeg|png and masks/NAME.png)"
        case .noImages(let path):
            return "\(path): no .jpg/.jpeg/.png images"
        case .imageWithoutMask(let image, let expectedMask):
            return "\(image): no mask for this image (expected \(expectedMask))"
        case .maskWithoutImage(let mask, let imageFolder):
            return "\(mask): no image of the same name in \(imageFolder) (.jpg, .jpeg or .png)"
        case .duplicateName(let name, let files):
            return "\(files.joined(separator: ", ")): two files named \(name); keep one"
        case .sizeMismatch(let image, let iw, let ih, let mask, let mw, let mh):
            return "\(mask): mask is \(mw)x\(mh) but its image \(image) is \(iw)x\(ih)"
        case .labelOutOfRange(let mask, let value, let numLabels, let x, let y):
            return "\(mask): class index \(value) at pixel (\(x), \(y)) is not below the \(numLabels) labels "
                + "(0...\(numLabels - 1), or 255 = ignore)"
        case .unreadable(let error):
            return error.description
        case .unlistable(let path, let reason):
            return "\(path): cannot list the folder (\(reason))"
        case .invalidArgument(let message):
            return message
        }
    }
}

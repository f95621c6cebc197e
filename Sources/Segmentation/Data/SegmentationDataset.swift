import Foundation
import Tensor
import Vision

/// One image and its mask.
public struct SegmentationPair: Sendable, Equatable {
    /// The file name without its extension, shared by the image and the mask.
    public let name: String
    public let image: URL
    public let mask: URL
}

/// Images and class masks in the layout of ADE20K / EIDSeg exports:
///
/// ```
/// DIR/images/NAME.jpg | NAME.jpeg | NAME.png
/// DIR/masks/NAME.png        one class index a pixel (8-bit "L" or palette "P"), 255 = ignore
/// ```
///
/// - **Pairs** are matched by name (the file name without its extension) and sorted by the
///   names' UTF-8 bytes, so the order never depends on the file system. Hidden files (names
///   starting with `.`) and sub-folders are ignored; other files (e.g. `notes.txt`, a `.bmp`)
///   are listed in ``skipped``.
/// - **Checked when listing**: every image has a mask and every mask an image, no two images
///   (or masks) share a name, `images/` is not empty, and (with `checkHeaders`, the default) each
///   mask's stored size equals its image's, read from the headers alone (no pixels decoded);
///   masks must be single-channel PNGs. Each error names the files.
/// - **Checked when a pair is loaded** (``load(_:)``): the decoded sizes agree, and every class
///   index is below ``numLabels`` or is 255.
///
/// ```swift
/// let data = try SegmentationDataset(directory: URL(fileURLWithPath: "EIDSeg"), numLabels: 5)
/// let (train, validation) = try data.split(validationFraction: 0.2, seed: 42)
/// let processor = try ImageProcessor.segformer(height: 512, width: 512)
/// let batch = try train.trainingBatch([0, 1, 2, 3], processor: processor, augmentation: .mmseg, seed: 7, epoch: 0)
/// ```
public struct SegmentationDataset: Sendable {
    /// Image extensions read (lower case; any case matches).
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// A non-hidden file of `images/` or `masks/` that is not used, and why.
    public struct SkippedFile: Sendable, Equatable {
        public let path: String
        public let reason: String
    }

    public let directory: URL
    /// Classes `0..<numLabels`; 255 marks pixels to ignore.
    public let numLabels: Int
    /// In name order.
    public let pairs: [SegmentationPair]
    public let skipped: [SkippedFile]
    /// The pixel limit every decode of this data set uses.
    public let limits: DecodeLimits

    public var count: Int { pairs.count }

    /// Lists `directory` (see the type's documentation for what is checked).
    /// - Throws: ``SegmentationDataError``: ``SegmentationDataError/invalidArgument(_:)`` for
    ///   `numLabels` outside 1...255, ``SegmentationDataError/notADirectory(path:)``,
    ///   ``SegmentationDataError/missingFolder(path:)``, ``SegmentationDataError/noImages(path:)``,
    ///   ``SegmentationDataError/imageWithoutMask(image:expectedMask:)``,
    ///   ``SegmentationDataError/maskWithoutImage(mask:imageFolder:)``,
    ///   ``SegmentationDataError/duplicateName(name:files:)``, and with `checkHeaders`
    ///   ``SegmentationDataError/sizeMismatch(image:imageWidth:imageHeight:mask:maskWidth:maskHeight:)``
    ///   or ``SegmentationDataError/unreadable(_:)`` for a header that cannot be read, a colour
    ///   mask or an image over `limits`.
    public init(directory: URL, numLabels: Int, checkHeaders: Bool = true, limits: DecodeLimits = .default) throws {
        guard (1...255).contains(numLabels) else {
            throw SegmentationDataError.invalidArgument(
                "numLabels \(numLabels) must be in 1...255 (index 255 means ignore)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SegmentationDataError.notADirectory(path: directory.path)
        }
        let imageFolder = directory.appendingPathComponent("images", isDirectory: true)
        let maskFolder = directory.appendingPathComponent("masks", isDirectory: true)
        var skipped: [SkippedFile] = []
        let images = try Self.list(imageFolder, extensions: Self.imageExtensions, kind: "image", skipped: &skipped)
        let masks = try Self.list(maskFolder, extensions: ["png"], kind: "mask (PNG)", skipped: &skipped)
        guard !images.isEmpty else { throw SegmentationDataError.noImages(path: imageFolder.path) }
        var pairs: [SegmentationPair] = []
        for (name, image) in images.sorted(by: { Self.precedes($0.key, $1.key) }) {
            guard let mask = masks[name] else {
                throw SegmentationDataError.imageWithoutMask(
                    image: image.path, expectedMask: maskFolder.appendingPathComponent(name + ".png").path)
            }
            pairs.append(SegmentationPair(name: name, image: image, mask: mask))
        }
        if let orphan = masks.keys.filter({ images[$0] == nil }).sorted(by: Self.precedes).first, let mask = masks[orphan] {
            throw SegmentationDataError.maskWithoutImage(mask: mask.path, imageFolder: imageFolder.path)
        }
        self.init(directory: directory, numLabels: numLabels, pairs: pairs,
                  skipped: skipped.sorted { Self.precedes($0.path, $1.path) }, limits: limits)
        if checkHeaders { try self.checkHeaders() }
    }

    /// A data set over given pairs (e.g. a split), not re-listed.
    init(directory: URL, numLabels: Int, pairs: [SegmentationPair], skipped: [SkippedFile], limits: DecodeLimits) {
        self.directory = directory
        self.numLabels = numLabels
        self.pairs = pairs
        self.skipped = skipped
        self.limits = limits
    }

    /// Reads every image's and mask's header (no pixels) and compares the sizes.
    /// - Throws: as described for ``init(directory:numLabels:checkHeaders:limits:)``.
    public func checkHeaders() throws {
        for pair in pairs {
            let imageSize: (width: Int, height: Int), maskSize: (width: Int, height: Int)
            do {
                imageSize = try ImageDecoder.size(contentsOf: pair.image)
                try limits.check(width: imageSize.width, height: imageSize.height, file: pair.image.path)
                maskSize = try ClassMask.size(contentsOf: pair.mask)
            } catch let error as ImageError {
                throw SegmentationDataError.unreadable(error)
            }
            try Self.requireSameSize(pair, imageSize, maskSize)
        }
    }

    /// The decoded image and mask of pair `index`, checked: same size, every index below
    /// ``numLabels`` or 255.
    /// - Throws: ``SegmentationDataError/sizeMismatch(image:imageWidth:imageHeight:mask:maskWidth:maskHeight:)``,
    ///   ``SegmentationDataError/labelOutOfRange(mask:value:numLabels:x:y:)``,
    ///   ``SegmentationDataError/unreadable(_:)`` (missing, damaged, colour mask...), or
    ///   ``SegmentationDataError/invalidArgument(_:)`` for an index outside the data set.
    public func load(_ index: Int) throws -> (image: RGBImage, mask: ClassMask) {
        guard pairs.indices.contains(index) else {
            throw SegmentationDataError.invalidArgument("sample \(index) of a data set of \(pairs.count)")
        }
        let pair = pairs[index]
        let image: RGBImage, mask: ClassMask
        do {
            image = try ImageDecoder.decode(contentsOf: pair.image, limits: limits)
            mask = try ClassMask.read(contentsOf: pair.mask, limits: limits)
        } catch let error as ImageError {
            throw SegmentationDataError.unreadable(error)
        }
        try Self.requireSameSize(pair, (image.width, image.height), (mask.width, mask.height))
        let limit = UInt8(numLabels)
        if let at = mask.indices.firstIndex(where: { $0 >= limit && $0 != ClassMask.ignoreIndex }) {
            throw SegmentationDataError.labelOutOfRange(mask: pair.mask.path, value: Int(mask.indices[at]),
                                                        numLabels: numLabels, x: at % mask.width, y: at / mask.width)
        }
        return (image, mask)
    }

    /// A seeded split: the last `Int(fraction * count)` pairs of a seeded shuffle validate, the
    /// rest train, each kept in name order (the recipe of Train's `split`). The same seed always
    /// gives the same split.
    /// - Throws: ``SegmentationDataError/invalidArgument(_:)`` unless 0 < fraction < 1 and both
    ///   parts get at least one pair.
    public func split(validationFraction fraction: Double, seed: UInt64) throws
        -> (training: SegmentationDataset, validation: SegmentationDataset) {
        guard fraction > 0 && fraction < 1 else {
            throw SegmentationDataError.invalidArgument("validation fraction \(fraction) must be between 0 and 1 (exclusive)")
        }
        var rng = SeededGenerator(seed: SeededGenerator.mixing(seed, 0x5B_1177))
        var order = Array(pairs.indices)
        rng.shuffle(&order)
        let take = Int(fraction * Double(pairs.count))
        guard take > 0, take < pairs.count else {
            throw SegmentationDataError.invalidArgument(
                "validation fraction \(fraction) of \(pairs.count) pairs leaves \(pairs.count - take) for training "
                    + "and \(take) for validation")
        }
        let validation = order.suffix(take).sorted(), training = order.prefix(pairs.count - take).sorted()
        return (subset(training), subset(validation))
    }

    /// The pairs at `indices`, in that order.
    public func subset(_ indices: [Int]) -> SegmentationDataset {
        SegmentationDataset(directory: directory, numLabels: numLabels,
                            pairs: indices.filter { pairs.indices.contains($0) }.map { pairs[$0] },
                            skipped: skipped, limits: limits)
    }

    // MARK: - Listing

    /// Byte order of the UTF-8 names (Python's `sorted` on str for ASCII names).
    static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// The files of `folder` with one of `extensions` (any case), by name without extension.
    private static func list(_ folder: URL, extensions: Set<String>, kind: String,
                             skipped: inout [SkippedFile]) throws -> [String: URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SegmentationDataError.missingFolder(path: folder.path)
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw SegmentationDataError.unlistable(path: folder.path, reason: (error as NSError).localizedDescription)
        }
        var found: [String: URL] = [:]
        for name in names.sorted(by: precedes) where !name.hasPrefix(".") {
            let url = folder.appendingPathComponent(name)
            var entryIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &entryIsDirectory),
                  !entryIsDirectory.boolValue else { continue }
            guard extensions.contains(url.pathExtension.lowercased()) else {
                skipped.append(SkippedFile(path: url.path, reason: "not a \(kind) file (.\(url.pathExtension))"))
                continue
            }
            let stem = url.deletingPathExtension().lastPathComponent
            if let other = found[stem] {
                throw SegmentationDataError.duplicateName(name: stem, files: [other.path, url.path].sorted(by: precedes))
            }
            found[stem] = url
        }
        return found
    }

    private static func requireSameSize(_ pair: SegmentationPair, _ image: (width: Int, height: Int),
                                        _ mask: (width: Int, height: Int)) throws {
        guard image == mask else {
            throw SegmentationDataError.sizeMismatch(image: pair.image.path, imageWidth: image.width,
                                                     imageHeight: image.height, mask: pair.mask.path,
                                                     maskWidth: mask.width, maskHeight: mask.height)
        }
    }
}

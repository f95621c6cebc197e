import Foundation

/// A model folder's `preprocessor_config.json`: the fields the `transformers` image processors
/// (`SegformerImageProcessor`, `DPTImageProcessor`) write with `save_pretrained`. Keys this type
/// does not model are kept in ``otherKeys`` and written back unchanged.
///
/// The processors resize (`size`, `resample`), multiply by `rescaleFactor`, then normalise
/// each channel `c` as `(x - imageMean[c]) / imageStd[c]` (a list of one value applies to every
/// channel).
public struct ImageProcessorConfiguration: Sendable, Equatable {
    /// The name `save_pretrained` gives it.
    public static let fileName = "preprocessor_config.json"

    /// The target of the resize.
    public enum Size: Sendable, Equatable {
        /// `{"height": h, "width": w}`: exactly this size (or, with `keep_aspect_ratio`, the
        /// scale that fits it best).
        case exact(height: Int, width: Int)
        /// `{"shortest_edge": s}` (optionally `"longest_edge"`): the shorter side becomes `s`.
        case shortestEdge(Int, longestEdge: Int?)
    }

    /// PIL's resampling filters by their integer codes (`PILImageResampling`).
    public enum Resample: Int, Sendable, Equatable, CaseIterable {
        case nearest = 0
        case lanczos = 1
        case bilinear = 2
        case bicubic = 3
        case box = 4
        case hamming = 5
    }

    /// `SegformerImageProcessor`, `DPTImageProcessor`, ...
    public var imageProcessorType: String
    public var doResize: Bool
    public var size: Size
    public var resample: Resample
    public var doRescale: Bool
    public var rescaleFactor: Double
    public var doNormalize: Bool
    public var imageMean: [Double]
    public var imageStd: [Double]
    /// SegFormer: shift labels down by one (0 becomes 255, the ignored label); `nil` for
    /// processors without the option.
    public var doReduceLabels: Bool?
    /// DPT / Depth Anything: keep the aspect ratio when resizing to `size`.
    public var keepAspectRatio: Bool?
    /// DPT: round the resized sides to a multiple of this (14 for Depth Anything).
    public var ensureMultipleOf: Int?
    /// DPT: pad to a multiple of this when `doPad`.
    public var sizeDivisor: Int?
    public var doPad: Bool?
    /// Keys of the original file this type does not model (`processor_class`, ...), and
    /// optional modelled keys that were `null`, written back as they were.
    public var otherKeys: [String: JSONValue]

    public init(imageProcessorType: String, doResize: Bool, size: Size, resample: Resample, doRescale: Bool,
                rescaleFactor: Double, doNormalize: Bool, imageMean: [Double], imageStd: [Double],
                doReduceLabels: Bool? = nil, keepAspectRatio: Bool? = nil, ensureMultipleOf: Int? = nil,
                sizeDivisor: Int? = nil, doPad: Bool? = nil, otherKeys: [String: JSONValue] = [:]) {
        self.imageProcessorType = imageProcessorType
        self.doResize = doResize
        self.size = size
        self.resample = resample
        self.doRescale = doRescale
        self.rescaleFactor = rescaleFactor
        self.doNormalize = doNormalize
        self.imageMean = imageMean
        self.imageStd = imageStd
        self.doReduceLabels = doReduceLabels
        self.keepAspectRatio = keepAspectRatio
        self.ensureMultipleOf = ensureMultipleOf
        self.sizeDivisor = sizeDivisor
        self.doPad = doPad
        self.otherKeys = otherKeys
    }

    /// ImageNet's channel means and standard deviations (`IMAGENET_DEFAULT_MEAN` / `_STD`).
    public static let imageNetMean = [0.485, 0.456, 0.406]
    public static let imageNetStd = [0.229, 0.224, 0.225]

    /// `SegformerImageProcessor()`'s defaults: 512 x 512, bilinear, rescale 1/255, ImageNet
    /// mean and std, labels not reduced.
    public static let segformerDefaults = ImageProcessorConfiguration(
        imageProcessorType: "SegformerImageProcessor", doResize: true, size: .exact(height: 512, width: 512),
        resample: .bilinear, doRescale: true, rescaleFactor: 1.0 / 255.0, doNormalize: true,
        imageMean: imageNetMean, imageStd: imageNetStd, doReduceLabels: false)

    /// Depth Anything's `DPTImageProcessor` (the `preprocessor_config.json` of its Hugging Face
    /// checkpoints): 518 x 518 with the aspect ratio kept and both sides rounded to a multiple of
    /// 14, bicubic, rescale 1/255, ImageNet mean and std, no padding.
    public static let depthAnythingDefaults = ImageProcessorConfiguration(
        imageProcessorType: "DPTImageProcessor", doResize: true, size: .exact(height: 518, width: 518),
        resample: .bicubic, doRescale: true, rescaleFactor: 1.0 / 255.0, doNormalize: true,
        imageMean: imageNetMean, imageStd: imageNetStd, keepAspectRatio: true, ensureMultipleOf: 14, doPad: false)

    /// Bounds on sizes read from a file (hostile input).
    public static let maximumSize = 65536

    /// `preprocessor_config.json` in `folder`; `fallback` when the folder has none (what
    /// `transformers` does for a model saved without its processor), an error when the file
    /// exists but is malformed. Keys missing from the file take `fallback`'s values.
    public static func load(folder: URL, default fallback: ImageProcessorConfiguration = .segformerDefaults) throws
        -> ImageProcessorConfiguration {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return fallback }
        return try ImageProcessorConfiguration(json: JSONFile.readObject(at: url), file: url.path, default: fallback)
    }

    /// Writes `preprocessor_config.json` into `folder` atomically, as `save_pretrained` does
    /// (every modelled key that is not `nil`, plus ``otherKeys``). Validates first.
    public func save(to folder: URL) throws {
        let url = folder.appendingPathComponent(Self.fileName)
        try validate(file: url.path)
        try JSONFile.write(jsonObject(), to: url)
    }

    /// Checks what ``init(json:file:default:)`` checks: sides and multiples in 1...65536, a
    /// finite positive `rescale_factor`, 1...16 finite means and positive finite stds (equal
    /// counts unless one of them has a single value).
    public func validate(file: String) throws {
        func fail(_ key: String, _ reason: String) -> HuggingFaceError { .invalidConfig(file: file, key: key, reason: reason) }
        let sides = 1...Self.maximumSize
        switch size {
        case let .exact(height, width):
            guard sides.contains(height), sides.contains(width) else { throw fail("size", "\(height) x \(width) is outside \(sides)") }
        case let .shortestEdge(shortest, longest):
            guard sides.contains(shortest), longest.map(sides.contains) ?? true else {
                throw fail("size", "shortest_edge \(shortest), longest_edge \(longest.map(String.init) ?? "none") is outside \(sides)")
            }
        }
        guard rescaleFactor.isFinite, rescaleFactor > 0 else { throw fail("rescale_factor", "\(rescaleFactor) is not positive") }
        guard (1...16).contains(imageMean.count) else { throw fail("image_mean", "has \(imageMean.count) entries, expected 1...16") }
        if let bad = imageMean.firstIndex(where: { !$0.isFinite }) {
            throw fail("image_mean[\(bad)]", "\(imageMean[bad]) is not finite")
        }
        guard (1...16).contains(imageStd.count) else { throw fail("image_std", "has \(imageStd.count) entries, expected 1...16") }
        if let bad = imageStd.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw fail("image_std[\(bad)]", "\(imageStd[bad]) is not a positive finite number")
        }
        guard imageMean.count == imageStd.count || imageMean.count == 1 || imageStd.count == 1 else {
            throw fail("image_std", "has \(imageStd.count) entries but image_mean has \(imageMean.count)")
        }
        if let ensureMultipleOf, !sides.contains(ensureMultipleOf) {
            throw fail("ensure_multiple_of", "\(ensureMultipleOf) is outside \(sides)")
        }
        if let sizeDivisor, !sides.contains(sizeDivisor) { throw fail("size_divisor", "\(sizeDivisor) is outside \(sides)") }
    }
}

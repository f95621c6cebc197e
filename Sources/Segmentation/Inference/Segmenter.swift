import Foundation
import HuggingFaceFiles
import Layers
import Tensor
import Vision

/// What segmenting one photo gives.
public struct SegmentationResult: Sendable {
    /// The model's output for the preprocessed photo, `[classes, h / 4, w / 4]` (NCHW without
    /// the batch axis, as Hugging Face returns `logits[i]`).
    public let logits: Tensor
    /// The class of every pixel at the photo's own size (255 never appears: every pixel gets a class).
    public let mask: ClassMask
    /// The score with area weight 1 for every pixel, whether or not a depth map was given.
    public let severity: SeverityScore
    /// The score with area weights `depth(p)²` from the photo's depth map; `nil` without one.
    public let depthWeightedSeverity: SeverityScore?
    /// Preprocessing, the model and the mask, in milliseconds (per photo when run in a batch).
    public let milliseconds: Double
}

/// A SegFormer with its preprocessing and severity weights: photos in, masks and severity out.
public struct Segmenter: @unchecked Sendable {
    public let model: Segformer
    public let processor: ImageProcessor
    public let weights: SeverityWeights

    /// The model folder's weights and `preprocessor_config.json` (SegformerImageProcessor's
    /// defaults when absent); `inputSize` overrides the processor's size. The severity weights
    /// default to the damage label set when the model's classes are those names, else they must
    /// be given.
    public init(folder: URL, inputSize: Int? = nil, weights: SeverityWeights? = nil) throws {
        let model = try SegformerFolder.load(folder)
        let configuration = try ImageProcessorConfiguration.load(folder: folder)
        try self.init(model: model, processor: ImageProcessor(configuration: configuration, inputSize: inputSize),
                      weights: weights)
    }

    public init(model: Segformer, processor: ImageProcessor, weights: SeverityWeights? = nil) throws {
        if let weights {
            if let bad = weights.structureClasses.first(where: { $0 >= model.classCount }) {
                throw SeverityError.weight(classIndex: bad, value: weights.value(ofClass: bad) ?? 0, classes: model.classCount)
            }
            self.weights = weights
        } else if model.classNames == SeverityWeights.damageClassNames {
            self.weights = .damage
        } else {
            throw SegmentationError.severityWeightsNeeded(classNames: model.classNames)
        }
        self.model = model
        self.processor = processor
    }

    /// Segments each photo (one batch through the model). `depths[i]`, when given, gives photo
    /// `i` a depth-weighted score as well (``SegmentationResult/depthWeightedSeverity``; the map
    /// resampled to the photo's size when the aspect ratios agree, ``DepthMap/fitted(toWidth:height:)``).
    public func segment(_ photos: [RGBImage], depths: [DepthMap?]? = nil) throws -> [SegmentationResult] {
        guard !photos.isEmpty else { return [] }
        let start = DispatchTime.now().uptimeNanoseconds
        let input = try processor.tensor(photos)
        let logits = try withoutGradients { try model(input, training: false) }
        guard logits.isFinite else { throw SegmentationError.notFinite(what: "the model's logits") }
        let (h, w, classes) = (logits.shape[1], logits.shape[2], logits.shape[3])
        var results: [SegmentationResult] = []
        let all = logits.scalars, perPhoto = h * w * classes
        for (index, photo) in photos.enumerated() {
            let own = Tensor(Array(all[(index * perPhoto)..<((index + 1) * perPhoto)]), shape: [h, w, classes])
            let mask = try LogitsToMask.mask(own, width: photo.width, height: photo.height)
            let depth = try depths?[index].map { try $0.fitted(toWidth: photo.width, height: photo.height) }
            let severity = try SeverityScore.compute(mask: mask, classCount: classes, weights: weights)
            let weighted = try depth.map { try SeverityScore.compute(mask: mask, classCount: classes, weights: weights, depth: $0) }
            results.append(SegmentationResult(logits: own.permuted([2, 0, 1]).detached, mask: mask, severity: severity,
                                              depthWeightedSeverity: weighted, milliseconds: 0))
        }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(photos.count)
        return results.map {
            SegmentationResult(logits: $0.logits, mask: $0.mask, severity: $0.severity, depthWeightedSeverity: $0.depthWeightedSeverity,
                               milliseconds: milliseconds)
        }
    }
}

import Inference
import Layers

/// The first stage of a screen: a classifier that tells photos worth screening (buildings,
/// streets, people) from irrelevant ones (cartoons, advertisements, text). A photo whose
/// relevant-class probability is below ``threshold`` is labelled `irrelevant`: the damage model,
/// Grad-CAM and the severity stage skip it.
public struct RelevanceFilter {
    public let model: any Layer
    public let pipeline: ImagePipeline
    public let classNames: [String]
    /// The class that means "relevant".
    public let relevantClass: Int
    public let threshold: Float
    /// The label irrelevant photos get.
    public static let label = "irrelevant"

    public init(model: any Layer, pipeline: ImagePipeline, classNames: [String], relevantClass: Int, threshold: Float) throws {
        guard classNames.indices.contains(relevantClass) else {
            throw ScreenError.invalidOption("relevant class \(relevantClass) is not one of the relevancy model's \(classNames.count) classes")
        }
        guard threshold.isFinite, (0...1).contains(threshold) else {
            throw ScreenError.invalidOption("relevance threshold \(threshold) is not in [0, 1]")
        }
        self.model = model
        self.pipeline = pipeline
        self.classNames = classNames
        self.relevantClass = relevantClass
        self.threshold = threshold
    }
}

import ArgumentParser
import Foundation
import Screening

/// The optional stages around the damage model, shared by `rubble screen` and `rubble worker`:
/// the relevancy filter before it and the severity segmenter after it.
struct ScreenStageOptions: ParsableArguments {
    @Option(help: "Relevancy filter: the first model's family (vgg19, vgg16, baseline, resnet50, mobilenetv2, efficientnetb0; default: what its weights file says).")
    var relevanceArch: String?

    @Option(help: "Relevancy filter: Keras weights of the first model; photos it calls irrelevant get label 'irrelevant' and skip the damage model and Grad-CAM.")
    var relevanceWeights: String?

    @Option(help: "Relevancy filter: the first model's class that means relevant (default: 'relevant' if it has one, else its last class).")
    var relevantClass: String?

    @Option(help: "Relevancy filter: a photo is irrelevant when p(relevant class) is below this.")
    var relevanceThreshold: Float = 0.5

    @Option(help: ArgumentHelp("A SegFormer folder (config.json + model.safetensors): score the damage severity of flagged photos.",
                               valueName: "dir"))
    var segmenter: String?

    @Option(help: "With --segmenter: square input size for the segmenter (overrides its preprocessor_config.json).")
    var segmenterInputSize: Int?

    @Option(help: "With --segmenter: damage value of each structure class, name=value (0...1), comma-separated; default: the damage label set.")
    var classValues: String?

    func validate() throws {
        if segmenter == nil && (segmenterInputSize != nil || classValues != nil) {
            throw ValidationError("--segmenter-input-size and --class-values need --segmenter")
        }
        if let segmenterInputSize, !(32...4096).contains(segmenterInputSize) {
            throw ValidationError("--segmenter-input-size \(segmenterInputSize) must be in 32...4096")
        }
        if relevanceWeights == nil && (relevanceArch != nil || relevantClass != nil) {
            throw ValidationError("--relevance-arch and --relevant-class need --relevance-weights")
        }
        if !relevanceThreshold.isFinite || !(0...1).contains(relevanceThreshold) {
            throw ValidationError("--relevance-threshold must be in [0, 1], got \(relevanceThreshold)")
        }
    }

    /// The relevancy filter, loaded and checked (nil without --relevance-weights).
    func relevanceFilter() throws -> RelevanceFilter? {
        guard let relevanceWeights else { return nil }
        var arguments = ["--weights", relevanceWeights]
        if let relevanceArch { arguments += ["--arch", relevanceArch] }
        let options: ModelOptions
        do {
            options = try ModelOptions.parse(arguments)
        } catch {
            throw ValidationError("--relevance-arch \(relevanceArch ?? ""): \(ModelOptions.message(for: error))")
        }
        let loaded = try options.load()
        let names = loaded.displayClassNames
        let index: Int
        if let relevantClass {
            guard let i = names.firstIndex(of: relevantClass) else {
                throw ValidationError("--relevant-class \(relevantClass) is not a class of \(relevanceWeights) (\(names.joined(separator: ", ")))")
            }
            index = i
        } else {
            index = names.firstIndex(of: "relevant") ?? names.count - 1
        }
        guard names.count >= 2 else {
            throw ValidationError("\(relevanceWeights): a relevancy model needs at least 2 classes, it has \(names.count)")
        }
        return try RelevanceFilter(model: loaded.network, pipeline: loaded.pipeline, classNames: names, relevantClass: index,
                                   threshold: relevanceThreshold)
    }

    /// The severity stage, loaded and checked (nil without --segmenter).
    func assessor() throws -> SegmenterAssessor? {
        guard let segmenter else { return nil }
        do {
            return try SegmenterAssessor(folder: segmenter, inputSize: segmenterInputSize, classValues: classValues)
        } catch {
            CommandLineMessages.error("--segmenter \(segmenter): \(ErrorSentence.describe(error))")
            throw ExitCode.failure
        }
    }
}

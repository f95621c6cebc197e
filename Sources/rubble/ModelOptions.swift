import ArgumentParser
import Foundation
import Inference
import KerasFiles
import Layers
import Train
import Vision
import Zoo

extension Architecture: ExpressibleByArgument {}

/// The flags that say which model to build and which weights to put in it; shared by
/// predict, evaluate, gradcam and screen so they read the same way everywhere.
///
/// A weights file written by Rubble describes its model (`ModelMetadata`): then no flag but
/// `--weights` is needed, and a flag that disagrees with the file is an error that says which
/// flag to change. For other files (Keras' own, or older ones) the flags say it, with the
/// paper's set-up as the default.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model family: vgg19, vgg16, baseline, resnet50, mobilenetv2 or efficientnetb0 (default: what the weights file says, else vgg19).")
    var arch: Architecture?

    @Option(help: "The head: N for Flatten-Dense(N)-Dense, or gap for GlobalAveragePooling2D-Dense (default: the weights file's, else 256 for VGG and gap for the pooled backbones).",
            transform: ClassifierHead.parseFlag)
    var head: ClassifierHead?

    @Option(help: "MobileNetV2's width multiplier (default: the weights file's, else 1.0).")
    var alpha: Double?

    @Option(help: "Keras weights file (.h5 or .weights.h5) holding the whole model.")
    var weights: String?

    @Flag(help: "Run without --weights on random weights (to try the tool out: the answers mean nothing).")
    var randomWeights = false

    @Option(help: "Model input height and width (default: the weights file's, else 150).")
    var imageSize: Int?

    @Option(help: "Pixel preprocessing: unit (x/255), caffe (ImageNet BGR mean subtraction), tf (x/127.5-1) or raw (0-255) (default: the weights file's, else the architecture's: unit for VGG, caffe for resnet50, tf for mobilenetv2, raw for efficientnetb0).")
    var preprocess: PreprocessingChoice?

    @Option(help: "Resize filter: bilinear (tf.image.resize, half-pixel centres) or nearest (default: the weights file's, else bilinear).")
    var resize: ResizeChoice?

    @Option(help: "Number of classes when the weights file does not name them (default 2).")
    var classes: Int?

    func validate() throws {
        if let alpha { try Self.validateAlpha(alpha) }
        if let classes, classes < 1 { throw ValidationError("--classes must be >= 1, got \(classes)") }
        if let imageSize { try Self.validateImageSize(imageSize, arch: arch) }
        switch (weights, randomWeights) {
        case (nil, false):
            throw ValidationError("no --weights given: name the trained model's weights file (e.g. run/best.h5), "
                                  + "or pass --random-weights to run on random weights (the answers then mean nothing)")
        case (_?, true):
            throw ValidationError("give --weights or --random-weights, not both")
        default:
            break
        }
    }

    /// `--alpha`: MobileNetV2's width multiplier, a positive finite number.
    static func validateAlpha(_ alpha: Double) throws {
        guard alpha > 0, alpha.isFinite else { throw ValidationError("--alpha must be a positive number, got \(alpha)") }
    }

    /// `--image-size` within what every architecture (or `arch`, when known) can take.
    static func validateImageSize(_ size: Int, arch: Architecture?, flag: String = "--image-size") throws {
        let minimum = arch?.minimumInputSize ?? 1
        guard (minimum...Architecture.maximumInputSize).contains(size) else {
            throw ValidationError("\(flag) must be in \(minimum)...\(Architecture.maximumInputSize)"
                                  + (arch.map { " for \($0.rawValue)" } ?? "") + ", got \(size)")
        }
    }

    /// The model with its weights loaded, and how to feed it.
    func load() throws -> LoadedModel {
        let url = weights.map { URL(fileURLWithPath: $0) }
        let metadata = try url.map { try KerasWeights.metadata(of: $0) } ?? ModelMetadata()
        let file = weights ?? ""
        func choose<Value: Equatable>(_ flag: Value?, _ stored: Value?, flagName: String, attribute: String,
                                      describe: (Value) -> String, default fallback: Value) throws -> Value {
            if let flag, let stored, flag != stored {
                throw ValidationError(
                    "\(flagName) \(describe(flag)) does not match \(file), which was saved with \(describe(stored)) "
                        + "(attribute \(attribute)): drop \(flagName) or give \(flagName) \(describe(stored))")
            }
            return flag ?? stored ?? fallback
        }
        typealias Key = ModelMetadata.Attribute
        let storedArch = try metadata.architecture.map { name in
            guard let arch = Architecture(rawValue: name) else {
                throw ValidationError("\(file) was saved by a model of architecture '\(name)', which this version "
                                      + "does not know (known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return arch
        }
        let arch = try choose(self.arch, storedArch, flagName: "--arch", attribute: Key.architecture,
                              describe: \.rawValue, default: .vgg19)
        let head = try choose(self.head, metadata.head.flatMap { ClassifierHead($0) }, flagName: "--head", attribute: Key.head,
                              describe: \.description, default: arch.defaultHead)
        let size = try choose(imageSize, metadata.inputShape?.first, flagName: "--image-size", attribute: Key.inputSize,
                              describe: String.init, default: 150)
        try Self.validateImageSize(size, arch: arch)
        let preprocess = try choose(self.preprocess, try metadata.preprocessing.map { try PreprocessingChoice(stored: $0, file: file) },
                                    flagName: "--preprocess", attribute: Key.preprocessing, describe: \.rawValue,
                                    default: .default(for: arch))
        let resize = try choose(self.resize, try metadata.resize.map { try ResizeChoice(stored: $0, file: file) },
                                flagName: "--resize", attribute: Key.resize, describe: \.rawValue, default: .bilinear)
        let classCount = try choose(classes, metadata.classNames?.count, flagName: "--classes",
                                    attribute: Key.classNames, describe: String.init, default: 2)
        let alpha = try choose(self.alpha, metadata.alpha.flatMap { Double($0) }, flagName: "--alpha",
                               attribute: Key.alpha, describe: { String($0) }, default: 1.0)
        if alpha != 1.0 && arch != .mobilenetv2 {
            throw ValidationError("--alpha \(alpha) is MobileNetV2's width multiplier; \(arch.rawValue) has none")
        }
        let backbone = BackboneOptions(alpha: alpha,
                                       imageNetRescaling: try url.map { try KerasWeights.hasImageNetRescaling($0) } ?? false)
        let model = try arch.makeClassifier(imageSize: size, head: head, classes: classCount, freezeThrough: nil,
                                            backbone: backbone)
        if let url { try KerasWeights.load(url, into: model) }
        let pipeline = ImagePipeline(imageSize: size, resize: resize.method, preprocessing: preprocess.preprocessing)
        return LoadedModel(network: model, architecture: arch, classNames: metadata.classNames, classCount: classCount,
                           storedPositiveClass: metadata.positiveClass, pipeline: pipeline,
                           weightsDescription: url.map(\.lastPathComponent) ?? "random weights")
    }
}

/// A model ready for inference, as `ModelOptions.load()` built it.
struct LoadedModel {
    let network: Sequential
    let architecture: Architecture
    /// The class names the weights file stores (`nil` for a file that has none).
    let classNames: [String]?
    let classCount: Int
    /// The positive class the file names (`rubble_positive_class`).
    let storedPositiveClass: String?
    let pipeline: ImagePipeline
    /// The weights file's name, or "random weights".
    let weightsDescription: String

    /// `classNames`, or `class0`, `class1`, ... for a file that names none.
    var displayClassNames: [String] { classNames ?? (0..<classCount).map { "class\($0)" } }

    /// The index of `requested` (a `--positive` flag), else of the file's positive class, else
    /// `damage`/`damaged`, else the last class.
    func positiveIndex(requested: String?, classNames names: [String]? = nil) throws -> Int {
        try BinaryMetrics.positiveClassIndex(names ?? displayClassNames, requested: requested ?? storedPositiveClass)
    }
}

enum PreprocessingChoice: String, ExpressibleByArgument, CaseIterable {
    case unit, caffe, tf, raw
    var preprocessing: Preprocessing {
        switch self {
        case .unit: return .unit
        case .caffe: return .caffe
        case .tf: return .tf
        case .raw: return .raw
        }
    }

    /// What `arch` takes by default (`Architecture.defaultPreprocessing`).
    static func `default`(for arch: Architecture) -> Self { Self(rawValue: arch.defaultPreprocessing) ?? .unit }

    init(stored: String, file: String) throws {
        guard let value = Self(rawValue: stored) else {
            throw ValidationError("\(file): attribute \(ModelMetadata.Attribute.preprocessing) is '\(stored)'; "
                                  + "this version knows \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

enum ResizeChoice: String, ExpressibleByArgument, CaseIterable {
    case bilinear, nearest
    var method: ResizeMethod { self == .bilinear ? .bilinear : .nearest }

    init(stored: String, file: String) throws {
        guard let value = Self(rawValue: stored) else {
            throw ValidationError("\(file): attribute \(ModelMetadata.Attribute.resize) is '\(stored)'; "
                                  + "this version knows \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = value
    }
}

/// Prints a line to standard error, prefixed with the tool's name.
func warn(_ message: String) {
    CommandLineMessages.line(message)
}

extension ClassifierHead {
    /// `--head`: a unit count >= 1 or `gap`, refused with a sentence that says so.
    static func parseFlag(_ text: String) throws -> ClassifierHead {
        guard let head = ClassifierHead(text) else {
            throw ValidationError("--head must be >= 1, got \(text) (or gap for the pooled head)")
        }
        return head
    }
}

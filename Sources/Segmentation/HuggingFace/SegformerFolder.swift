import Foundation
import HuggingFaceFiles
import Layers
import Tensor

/// A SegFormer as a Hugging Face folder: `config.json`, `model.safetensors` and, when present,
/// `preprocessor_config.json` — what `save_pretrained` writes and `from_pretrained` reads.
public enum SegformerFolder {
    /// How strictly the file's tensors must match the configuration.
    public enum HeadPolicy: Sendable, Equatable {
        /// Every tensor present with its shape, and no tensor left over.
        case exact
        /// Fine-tuning from another checkpoint: a missing or differently shaped classifier
        /// (`decode_head.classifier`, e.g. 150 ADE20K classes for 3 damage classes) keeps its
        /// fresh initialisation, a missing decode head (an encoder-only `mit-bN`) too, and
        /// tensors of other heads (`classifier.*` of image classification) are ignored.
        case newHead
    }

    /// The model with its configuration and weights from `folder`.
    public static func load(_ folder: URL, heads: HeadPolicy = .exact,
                            configure: (inout SegformerConfiguration) -> Void = { _ in }) throws -> Segformer {
        var configuration = try SegformerConfiguration.load(folder: folder)
        configure(&configuration)
        let model = try Segformer(configuration: configuration)
        try loadWeights(into: model, from: try SafeTensorsFile(folder: folder), heads: heads)
        return model
    }

    /// Copies the file's tensors into `model`, converting PyTorch layouts once.
    public static func loadWeights(into model: Segformer, from file: SafeTensorsFile, heads: HeadPolicy = .exact) throws {
        let path = file.path
        var used = Set<String>()
        for tensor in model.torchStateDict {
            let expected = tensor.layout.torchShape(of: tensor.parameter.shape)
            let isNewHead = heads == .newHead && tensor.name.hasPrefix("decode_head.")
            guard file.contains(tensor.name) else {
                if isNewHead { continue }
                throw HuggingFaceError.missingTensor(name: tensor.name, file: path)
            }
            used.insert(tensor.name)
            let stored = try file.shape(of: tensor.name)
            guard stored == expected else {
                if isNewHead && tensor.name.hasPrefix("decode_head.classifier.") { continue }
                throw HuggingFaceError.shapeMismatch(name: tensor.name, file: path, expected: expected, got: stored)
            }
            let value = tensor.layout.fromTorch(try file.floatTensor(tensor.name, expectedShape: expected))
            guard value.isFinite else { throw SegmentationError.notFinite(what: "\(path): tensor \(tensor.name)") }
            tensor.parameter.value = value
        }
        let counter = "\(model.decodeHead.norm.name).num_batches_tracked"
        if file.contains(counter) {
            used.insert(counter)
            model.batchNormSteps = try file.int64Values(counter).first ?? 0
        }
        let leftover = file.names.filter { !used.contains($0) }
            .filter { !(heads == .newHead && ($0.hasPrefix("decode_head.") || !$0.hasPrefix("segformer."))) }
        guard leftover.isEmpty else { throw SegmentationError.unexpectedTensors(names: leftover.sorted(), file: path) }
    }

    /// Writes `config.json`, `model.safetensors` (PyTorch names and layouts, the BatchNorm's
    /// `num_batches_tracked` as int64) and `preprocessor_config.json` into `folder`, each
    /// atomically, creating the folder if needed.
    public static func save(_ model: Segformer, preprocessing: ImageProcessorConfiguration, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var writer = SafeTensorsWriter()
        for tensor in model.torchStateDict {
            guard tensor.parameter.value.isFinite else {
                throw SegmentationError.notFinite(what: "the value of \(tensor.name)")
            }
            writer.add(tensor.name, tensor.layout.toTorch(tensor.parameter.value))
        }
        writer.add("\(model.decodeHead.norm.name).num_batches_tracked", int64: [model.batchNormSteps], shape: [])
        try writer.write(to: folder.appendingPathComponent(SafeTensorsFile.fileName))
        try model.configuration.save(to: folder)
        try preprocessing.save(to: folder)
    }
}

import Foundation
import HuggingFaceFiles
import Layers
import Segmentation
import Tensor

/// A Depth Anything as a Hugging Face folder: `config.json` (`model_type: depth_anything`),
/// `model.safetensors` and, when present, `preprocessor_config.json` — what `save_pretrained`
/// writes and the hub's `depth-anything/*-hf` checkpoints hold.
public enum DepthAnythingFolder {
    /// The model with its configuration and weights from `folder`. A folder of another model
    /// (a SegFormer's) is `HuggingFaceError.unsupportedModelType` naming the `model_type` found
    /// and its `config.json`; every tensor must be in the file with its shape, and no tensor
    /// left over. The configuration's parameter count is checked against the values the file
    /// holds before the model is built, so a hostile `config.json` cannot make it allocate more
    /// than the file's size.
    public static func load(_ folder: URL) throws -> DepthAnything {
        let configuration = try DepthAnythingConfiguration.load(folder: folder)
        let file = try SafeTensorsFile(folder: folder)
        let values = file.entries.reduce(0) { total, entry in
            let (sum, overflow) = total.addingReportingOverflow(entry.elementCount)
            return overflow ? Int.max : sum
        }
        let parameters = configuration.parameterCount ?? Int.max
        guard parameters <= values else {
            throw DepthError.configurationTooLarge(parameters: parameters, fileValues: values, file: file.path)
        }
        let model = try DepthAnything(configuration: configuration)
        try loadWeights(into: model, from: file)
        return model
    }

    /// Copies the file's tensors into `model`, converting PyTorch layouts once.
    public static func loadWeights(into model: DepthAnything, from file: SafeTensorsFile) throws {
        let path = file.path
        var used = Set<String>()
        for tensor in model.torchStateDict {
            let expected = tensor.layout.torchShape(of: tensor.parameter.shape)
            guard file.contains(tensor.name) else { throw HuggingFaceError.missingTensor(name: tensor.name, file: path) }
            used.insert(tensor.name)
            let value = tensor.layout.fromTorch(try file.floatTensor(tensor.name, expectedShape: expected))
            guard value.isFinite else { throw DepthError.notFinite(what: "\(path): tensor \(tensor.name)") }
            tensor.parameter.value = value
        }
        let leftover = file.names.filter { !used.contains($0) }
        guard leftover.isEmpty else { throw DepthError.unexpectedTensors(names: leftover.sorted(), file: path) }
    }
}

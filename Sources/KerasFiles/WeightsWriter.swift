import AtomicFiles
import Foundation
import Layers
import Tensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension KerasWeights {
    /// The `keras_version` written into Keras 2 files: the tf.keras whose layout is reproduced.
    public static let writtenKerasVersion = "2.21.0"

    /// A function that saves a trained model with ``save(_:to:format:metadata:)``: `metadata`
    /// with the class names (output order) and the input shape (`[height, width, channels]`)
    /// it is called with filled in. It is what Train's `TrainingConfiguration.saveWeights`
    /// takes (`WeightsSaver`), so `fit` writes `best.h5` and `weights.h5` as Keras files:
    ///
    /// ```swift
    /// configuration.saveWeights = KerasWeights.saver(metadata: ModelMetadata(architecture: "vgg19"))
    /// ```
    public static func saver(format: WeightsFormat = .keras2, metadata: ModelMetadata = ModelMetadata())
        -> @Sendable (_ model: any Layer, _ url: URL, _ classNames: [String], _ inputShape: [Int]) throws -> Void {
        { model, url, classNames, inputShape in
            var metadata = metadata
            metadata.classNames = classNames
            metadata.inputShape = inputShape
            try save(model, to: url, format: format, metadata: metadata)
        }
    }

    /// Writes `model`'s weights to `url`.
    ///
    /// `.keras2` is tf.keras' `save_weights` layout, nested as a Sequential nests a base model:
    /// root attributes `layer_names` (the model's own layers), `backend`, `keras_version`; a
    /// group per layer with `weight_names`; datasets `<layer>/<layer>/kernel:0` and, for a
    /// nested model, `<model>/<sub-layer>/kernel:0`, float32. As Keras does, a nested model
    /// lists its trainable weights first (tf.keras loads a file by position within that list,
    /// so load it into a model frozen the same way; Rubble itself matches by name).
    /// `.keras3` is Keras 3's `.weights.h5`.
    ///
    /// `metadata` (class names, input size) goes into root attributes that Keras ignores.
    /// The file is written under a temporary name in the same directory and renamed into
    /// place, so a crash never leaves a half-written file at `url`.
    public static func save(_ model: any Layer, to url: URL, format: WeightsFormat = .keras2,
                            metadata: ModelMetadata = ModelMetadata()) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue
        else {
            throw WeightsError.writeFailed(file: path, reason: "directory \(directory.path) does not exist")
        }
        do {
            try AtomicFile.replace(url) { temporary in
                try HDF5.locked {
                    let file = try HDF5File.create(temporary.path)
                    do {
                        let root = try file.root
                        switch format {
                        case .keras2: try writeKeras2(model, root: root)
                        case .keras3: try writeKeras3(model, root: root)
                        }
                        try writeMetadata(metadata, root: root)
                    } catch {
                        try? file.close()
                        throw error
                    }
                    try file.close()
                }
            }
        } catch {
            switch error {
            case let error as WeightsError: throw error
            case let error as HDF5Error: throw WeightsError.writeFailed(file: path, reason: error.description)
            case let error as AtomicFileError: throw WeightsError.writeFailed(file: path, reason: error.reason)
            default: throw WeightsError.writeFailed(file: path, reason: "\(error)")
            }
        }
    }

    private static func writeKeras2(_ model: any Layer, root: HDF5Group) throws {
        let top = (model as? any LayerContainer)?.layers ?? [model]
        try root.setStrings("layer_names", top.map(\.name), utf8: !top.allSatisfy { $0.name.allSatisfy(\.isASCII) })
        try root.setString("backend", "tensorflow")
        try root.setString("keras_version", writtenKerasVersion)
        for layer in top {
            let group = try root.createGroup(layer.name)
            var names: [String] = []
            if layer is any LayerContainer {
                // One group for the whole nested model; trainable weights first, as Keras lists them.
                let owned = layer.flattenedLayers.flatMap { sub in sub.parameters.map { (sub.name, $0) } }
                let ordered = owned.filter { $0.1.isTrainable } + owned.filter { !$0.1.isTrainable }
                for (subName, parameter) in ordered {
                    let name = "\(subName)/\(parameter.name):0"
                    try group.writeDataset(name, parameter.value)
                    names.append(name)
                }
            } else {
                for parameter in layer.parameters {
                    let name = "\(layer.name)/\(parameter.name):0"
                    try group.writeDataset(name, parameter.value)
                    names.append(name)
                }
            }
            try group.setStrings("weight_names", names)
        }
        // tf_keras 2.x writes this group (weights attached to the model itself) too.
        try root.createGroup("top_level_model_weights").setStrings("weight_names", [])
    }

    private static func writeKeras3(_ model: any Layer, root: HDF5Group) throws {
        let vars = try root.createGroup("vars")
        try vars.setString("name", model.name, utf8: true)
        guard let container = model as? any LayerContainer else {
            for (i, parameter) in model.parameters.enumerated() { try vars.writeDataset(String(i), parameter.value) }
            return
        }
        try writeKeras3Layers(container.layers, into: root, nested: false)
    }

    private static func writeKeras3Layers(_ layers: [any Layer], into group: HDF5Group, nested: Bool) throws {
        let list = try group.createGroup("layers")
        if nested {
            // Keras' Functional lists its input layer (no variables) first.
            try list.createGroup("input_layer/vars").setString("name", "input_layer", utf8: true)
        }
        for (layer, component) in zip(layers, Keras3Naming.components(for: layers, nested: nested)) {
            let layerGroup = try list.createGroup(component)
            let vars = try layerGroup.createGroup("vars")
            try vars.setString("name", layer.name, utf8: true)
            if let container = layer as? any LayerContainer {
                try writeKeras3Layers(container.layers, into: layerGroup, nested: true)
            } else {
                for (i, parameter) in layer.parameters.enumerated() {
                    try vars.writeDataset(String(i), parameter.value)
                }
            }
        }
    }

    private static func writeMetadata(_ metadata: ModelMetadata, root: HDF5Group) throws {
        typealias Key = ModelMetadata.Attribute
        if let classes = metadata.classNames { try root.setStrings(Key.classNames, classes, utf8: true) }
        if let input = metadata.inputShape { try root.setIntegers(Key.inputSize, input.map { Int64($0) }) }
        let texts = [(Key.architecture, metadata.architecture), (Key.head, metadata.head),
                     (Key.preprocessing, metadata.preprocessing), (Key.resize, metadata.resize),
                     (Key.positiveClass, metadata.positiveClass), (Key.alpha, metadata.alpha)]
        for case let (key, value?) in texts { try root.setString(key, value, utf8: true) }
    }
}

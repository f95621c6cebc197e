import Foundation
import Layers
import Tensor

/// Indexes a Keras 3 `.weights.h5`: `layers/<snake_case_class>[_N]/vars/<i>`, where each
/// `vars` group carries the layer's name in attribute `name`, and a nested model nests its
/// own `layers/...` (`layers/functional/layers/conv2d_3/vars/0`).
enum Keras3Index {
    static func read(_ root: HDF5Group, file: String, limits: TensorLimits = .default) throws -> [StoredLayer] {
        var layers: [StoredLayer] = []
        // A bare layer saved on its own keeps its variables in the root `vars`.
        if try root.kind(of: "vars") == .group, try root.kind(of: "layers") != .group {
            let vars = try root.group("vars")
            let weights = try variables(vars, path: "vars", className: nil, file: file, limits: limits)
            if !weights.isEmpty {
                layers.append(StoredLayer(name: try vars.string("name") ?? "", containers: [], keras3Path: "",
                                          weights: weights))
            }
        }
        try walk(root, path: "", containers: [], file: file, limits: limits, into: &layers)
        return layers
    }

    private static func walk(_ group: HDF5Group, path: String, containers: [String], file: String,
                             limits: TensorLimits, into layers: inout [StoredLayer]) throws {
        guard try group.kind(of: "layers") == .group else { return }
        // The file check bounds the depth (and refuses cycles); this keeps the recursion bounded
        // on its own.
        guard containers.count < KerasWeights.maximumDepth else {
            throw WeightsError.refusedObject(file: file, object: group.path, reason: .tooDeep)
        }
        let list = try group.group("layers")
        for child in try list.children().sorted(by: Keras3Naming.pathOrder) {
            guard try list.kind(of: child) == .group else { continue }
            let layerGroup = try list.group(child)
            let childPath = (path.isEmpty ? "" : path + "/") + "layers/" + child
            var name = ""
            var weights: [StoredWeight] = []
            if try layerGroup.kind(of: "vars") == .group {
                let vars = try layerGroup.group("vars")
                name = try vars.string("name") ?? ""
                weights = try variables(vars, path: childPath + "/vars", className: Keras3Naming.className(ofPath: child),
                                        file: file, limits: limits)
            }
            let isContainer = try layerGroup.kind(of: "layers") == .group
            if !isContainer || !weights.isEmpty {
                layers.append(StoredLayer(name: name, containers: containers, keras3Path: childPath, weights: weights))
            }
            if isContainer {
                try walk(layerGroup, path: childPath, containers: containers + [name.isEmpty ? child : name],
                         file: file, limits: limits, into: &layers)
            }
        }
    }

    /// The datasets `0`, `1`, ... of a `vars` group, in index order. Conv and dense layers
    /// store kernel then bias, so those get their roles; others match by position.
    private static func variables(_ vars: HDF5Group, path: String, className: String?, file: String,
                                  limits: TensorLimits) throws -> [StoredWeight] {
        let indices = try vars.children().compactMap { name -> Int? in
            guard try vars.kind(of: name) == .dataset, let index = Int(name), String(index) == name else { return nil }
            return index
        }.sorted()
        let roles = className.flatMap { Keras3Naming.variableRoles[$0] } ?? []
        return try indices.map { index in
            let name = String(index)
            return StoredWeight(name: name, role: index < roles.count ? roles[index] : nil,
                                path: path + "/" + name,
                                shape: try WeightsArchive.weightShape(try vars.dataset(name), file: file, limits: limits))
        }
    }
}

/// How Keras 3 names a model's layers in a `.weights.h5`: by class (snake case), numbered
/// per class within each container in layer order (`conv2d`, `conv2d_1`, ...), not by the
/// layer's own name (`saving_lib._save_container_state`).
enum Keras3Naming {
    /// The order of variables a layer class stores.
    static let variableRoles: [String: [String]] = [
        "conv1d": ["kernel", "bias"], "conv2d": ["kernel", "bias"], "conv3d": ["kernel", "bias"],
        "dense": ["kernel", "bias"],
    ]

    /// `conv2d_12` -> `conv2d`; `max_pooling2d` stays.
    static func className(ofPath component: String) -> String {
        guard let underscore = component.lastIndex(of: "_") else { return component }
        let suffix = component[component.index(after: underscore)...]
        guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && $0.isNumber }) else { return component }
        return String(component[..<underscore])
    }

    /// Orders `conv2d`, `conv2d_1`, `conv2d_2`, ..., `conv2d_10` by class, then number.
    static func pathOrder(_ a: String, _ b: String) -> Bool {
        let classA = className(ofPath: a), classB = className(ofPath: b)
        if classA != classB { return classA < classB }
        return number(a) < number(b)
    }

    private static func number(_ component: String) -> Int {
        let cls = className(ofPath: component)
        return cls == component ? 0 : Int(component.dropFirst(cls.count + 1)) ?? 0
    }

    /// Keras' snake-case class name of one of our layers. A nested container is written as
    /// Keras' `Functional` (what `keras.applications.VGG19` is).
    static func className(of layer: any Layer, nested: Bool) -> String {
        switch layer {
        case is Conv2D: return "conv2d"
        case is MaxPool2D: return "max_pooling2d"
        case is Dense: return "dense"
        case is Flatten: return "flatten"
        case is Dropout: return "dropout"
        case is ReLU: return "re_lu"
        case is Softmax: return "softmax"
        case is any LayerContainer: return nested ? "functional" : "sequential"
        default: return snakeCase(String(describing: type(of: layer)))
        }
    }

    /// Keras' `to_snake_case`: `MaxPooling2D` -> `max_pooling2d`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        let characters = Array(name)
        for (i, c) in characters.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = characters[i - 1]
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previous.isLowercase || nextIsLower {
                    result.append("_")
                }
            }
            result.append(contentsOf: c.lowercased())
        }
        return result
    }

    /// One layer of a model with where it sits: enclosing containers (below the model itself)
    /// and its Keras 3 group path.
    struct Entry {
        let layer: any Layer
        let containers: [String]
        let keras3Path: String
        let isContainer: Bool
    }

    /// Every layer of `model` depth first (containers before their contents). The model
    /// itself is the root: its own name is not part of any path.
    static func entries(of model: any Layer) -> [Entry] {
        guard let root = model as? any LayerContainer else {
            return [Entry(layer: model, containers: [], keras3Path: "", isContainer: false)]
        }
        var result: [Entry] = []
        walk(root.layers, containers: [], path: "", nested: false, into: &result)
        return result
    }

    private static func walk(_ layers: [any Layer], containers: [String], path: String, nested: Bool,
                             into result: inout [Entry]) {
        for (layer, component) in zip(layers, components(for: layers, nested: nested)) {
            let layerPath = (path.isEmpty ? "" : path + "/") + "layers/" + component
            let container = layer as? any LayerContainer
            result.append(Entry(layer: layer, containers: containers, keras3Path: layerPath, isContainer: container != nil))
            if let container {
                walk(container.layers, containers: containers + [layer.name], path: layerPath, nested: true,
                     into: &result)
            }
        }
    }

    /// The group names of `layers` inside one container: class name, then `_1`, `_2`, ... for
    /// later layers of the same class. A nested model (Keras `Functional`) also lists its input
    /// layer, which takes `input_layer`.
    static func components(for layers: [any Layer], nested: Bool) -> [String] {
        var used: [String: Int] = nested ? ["input_layer": 0] : [:]
        return layers.map { layer in
            let cls = className(of: layer, nested: true)
            if let count = used[cls] {
                used[cls] = count + 1
                return "\(cls)_\(count + 1)"
            }
            used[cls] = 0
            return cls
        }
    }
}

import Foundation
import Tensor

/// Indexes the `layer_names` / `weight_names` layouts: Keras 1, Keras 2 (`save_weights` and
/// `model.save`) and Keras 3's legacy `.h5`.
///
/// Each layer listed in `layer_names` is a group whose `weight_names` attribute lists its
/// datasets relative to the group. For a plain layer they are `<layer>/kernel:0`; for a nested
/// model (`vgg19` inside a Sequential) `<sub-layer>/kernel:0`, trainable weights first — so
/// the sub-layer is read from the name and nothing relies on the order.
enum KerasH5Index {
    struct Result {
        var layout: WeightsLayout
        var kerasVersion: String?
        var layers: [StoredLayer]
    }

    static func read(_ group: HDF5Group, file: String, fullModel: Bool, rootVersion: String?,
                     limits: TensorLimits = .default) throws -> Result {
        guard let layerNames = try group.stringList("layer_names") else {
            throw WeightsError.unknownLayout(file: file, reason: "no 'layer_names' attribute")
        }
        let prefix = group.path == "/" ? "" : String(group.path.dropFirst()) + "/"
        var layers: [StoredLayer] = []
        var weightNames: [String] = []
        var extraGroups = ["top_level_model_weights"].filter { !layerNames.contains($0) }
        extraGroups = try extraGroups.filter { try group.kind(of: $0) == .group }
        for layerName in layerNames + extraGroups {
            guard try group.kind(of: layerName) == .group else {
                throw WeightsError.unknownLayout(
                    file: file, reason: "layer '\(layerName)' is listed in 'layer_names' but has no group")
            }
            let layerGroup = try group.group(layerName)
            let names = try layerGroup.stringList("weight_names") ?? []
            weightNames += names
            var own: [StoredWeight] = []
            var nested: [(name: String, containers: [String], weights: [StoredWeight])] = []
            for name in names {
                guard try layerGroup.kind(of: name) == .dataset else {
                    throw WeightsError.unknownLayout(
                        file: file,
                        reason: "weight '\(name)' of layer '\(layerName)' is listed in 'weight_names' but has no dataset")
                }
                let shape = try WeightsArchive.weightShape(try layerGroup.dataset(name), file: file, limits: limits)
                let components = name.split(separator: "/").map(String.init)
                let leaf = components.last ?? name
                let weight = StoredWeight(name: name, role: role(of: leaf), path: prefix + layerName + "/" + name,
                                          shape: shape)
                let owner = components.count >= 2 ? components[components.count - 2] : layerName
                if owner == layerName {
                    own.append(weight)
                } else {
                    // A nested model: `block1_conv1/kernel:0` inside group `vgg19` (deeper
                    // names keep their middle components as further containers).
                    let middle = components.dropLast(2).filter { $0 != layerName }
                    let containers = [layerName] + middle
                    if let at = nested.firstIndex(where: { $0.name == owner && $0.containers == containers }) {
                        nested[at].weights.append(weight)
                    } else {
                        nested.append((owner, containers, [weight]))
                    }
                }
            }
            if layerName == "top_level_model_weights" && own.isEmpty && nested.isEmpty { continue }
            if !own.isEmpty || nested.isEmpty {
                layers.append(StoredLayer(name: layerName, containers: [], keras3Path: nil, weights: own))
            }
            // `weight_names` lists trainable weights first (block 5 before block 1); show the
            // sub-layers in natural name order instead (matching is by name either way).
            nested.sort { naturalOrder($0.name, $1.name) }
            for sub in nested {
                layers.append(StoredLayer(name: sub.name, containers: sub.containers, keras3Path: nil,
                                          weights: sub.weights))
            }
        }
        let version = try group.string("keras_version") ?? rootVersion
        return Result(layout: layout(version: version, weightNames: weightNames, fullModel: fullModel),
                      kerasVersion: version, layers: layers)
    }

    /// Keras 1 names (`block1_conv1_W_1:0`) decide first (the published files carry no
    /// version); then the version attribute; then whether names end in `:0`.
    static func layout(version: String?, weightNames: [String], fullModel: Bool) -> WeightsLayout {
        let leaves = weightNames.map { $0.split(separator: "/").last.map(String.init) ?? $0 }
        if !leaves.isEmpty && leaves.allSatisfy({ keras1Role(of: stripIndex($0)) != nil }) { return .keras1 }
        if let version, let major = version.split(separator: ".").first {
            switch major {
            case "1": return .keras1
            case "2": return .keras2(fullModel: fullModel)
            case "3": return .keras3Legacy(fullModel: fullModel)
            default: break
            }
        }
        let suffixed = weightNames.allSatisfy { stripIndex($0) != $0 }
        return suffixed ? .keras2(fullModel: fullModel) : .keras3Legacy(fullModel: fullModel)
    }

    /// `block2_conv1` < `block10_conv1`; `dense` < `dense_1` < `dense_2` < `dense_10`.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        func runs(_ s: String) -> [(text: String, number: Int?)] {
            var result: [(String, Int?)] = []
            var current = "", digits = false
            for c in s {
                let isDigit = c.isASCII && c.isNumber
                if !current.isEmpty && isDigit != digits {
                    result.append((current, digits ? Int(current) : nil))
                    current = ""
                }
                current.append(c)
                digits = isDigit
            }
            if !current.isEmpty { result.append((current, digits ? Int(current) : nil)) }
            return result
        }
        let x = runs(a), y = runs(b)
        for (p, q) in zip(x, y) {
            if let m = p.number, let n = q.number {
                if m != n { return m < n }
            } else if p.text != q.text {
                return p.text < q.text
            }
        }
        return x.count != y.count ? x.count < y.count : a < b
    }

    /// `kernel:0` -> `kernel`; `block1_conv1_W_1:0` -> `kernel`; `b` -> `bias`.
    static func role(of leaf: String) -> String {
        let name = stripIndex(leaf)
        return keras1Role(of: name) ?? name
    }

    /// Drops a trailing `:<digits>` (TensorFlow's output index).
    static func stripIndex(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        let digits = name[name.index(after: colon)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return name }
        return String(name[..<colon])
    }

    /// Keras 1 weight names: `<layer>_W[_<n>]` is the kernel, `<layer>_b[_<n>]` the bias.
    static func keras1Role(of name: String) -> String? {
        var parts = name.split(separator: "_", omittingEmptySubsequences: false)
        if let last = parts.last, !last.isEmpty, last.allSatisfy(\.isNumber), parts.count > 1 { parts.removeLast() }
        switch parts.last {
        case "W"?: return "kernel"
        case "b"?: return "bias"
        default: return nil
        }
    }
}

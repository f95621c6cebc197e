import Foundation
import Layers
import Tensor

/// How strictly `KerasWeights.load` matches a file to a model. The default is strict: every
/// model layer with weights must be in the file, every layer with weights in the file must be
/// in the model, and every shape must agree.
public struct WeightsLoadOptions: Sendable, Equatable {
    /// Leave a layer whose stored shapes differ at its current value (reported) instead of
    /// failing — Keras' `skip_mismatch`.
    public var skipMismatchedShapes: Bool
    /// Leave model layers the file does not hold at their current (initial) values — e.g. a
    /// new head on a no-top base.
    public var allowMissingLayers: Bool
    /// Ignore file layers the model does not have — e.g. the top of a full ImageNet file.
    public var ignoreUnknownLayers: Bool
    /// The most bytes one stored tensor may take (4 GiB by default) and the other shape checks
    /// (`TensorLimits`); a dataset beyond them is `WeightsError.invalidShape`, before any read.
    public var tensorLimits: TensorLimits

    public init(skipMismatchedShapes: Bool = false, allowMissingLayers: Bool = false,
                ignoreUnknownLayers: Bool = false, tensorLimits: TensorLimits = .default) {
        self.skipMismatchedShapes = skipMismatchedShapes
        self.allowMissingLayers = allowMissingLayers
        self.ignoreUnknownLayers = ignoreUnknownLayers
        self.tensorLimits = tensorLimits
    }

    public static let strict = WeightsLoadOptions()
    /// Partial loading by name: whatever layers the file and the model share.
    public static let byName = WeightsLoadOptions(allowMissingLayers: true, ignoreUnknownLayers: true)
}

/// A weight left alone because its stored shape differs (with `skipMismatchedShapes`).
public struct SkippedWeight: Sendable, Equatable {
    public let layer: String
    public let weight: String
    public let expected: Shape
    public let found: Shape
}

/// What a load did.
public struct WeightsLoadReport: Sendable, CustomStringConvertible {
    public let file: String
    public let layout: WeightsLayout
    /// Model layers whose weights all came from the file, in model order.
    public var loaded: [String] = []
    /// Model layers with weights that kept their previous (initial) values.
    public var leftAtInitialValue: [String] = []
    /// Shape mismatches skipped (their layers are in `leftAtInitialValue`).
    public var skipped: [SkippedWeight] = []
    /// File layers (qualified, `vgg19/block1_conv1`) the model has no layer for.
    public var unusedInFile: [String] = []
    /// Scalars copied into the model.
    public var loadedParameterCount = 0

    public var description: String {
        var lines = ["\(file): \(layout); loaded \(loaded.count) layers (\(loadedParameterCount) parameters)"]
        if !leftAtInitialValue.isEmpty {
            lines.append("left at initial values: " + leftAtInitialValue.joined(separator: ", "))
        }
        for skip in skipped {
            lines.append("skipped \(skip.layer)/\(skip.weight): model \(skip.expected), file \(skip.found)")
        }
        if !unusedInFile.isEmpty { lines.append("unused in file: " + unusedInFile.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }
}

/// Reading and writing Keras weights files (`.h5`, `.weights.h5`).
public enum KerasWeights {
    /// Loads the weights in `url` into `model`, matching by layer name (at any nesting depth:
    /// a flat file fits a nested model and the other way round) and by weight role
    /// (kernel/bias), never by file order alone. Keras 1 files without roles fall back to the
    /// position within the layer's `weight_names`, as Keras does.
    ///
    /// Everything is checked and read before the model is touched, so a failed load leaves
    /// the model unchanged. A hostile file is an error, never a crash or a read elsewhere
    /// (hostile input: Fuzz/README.md): links other than hard links, virtual or external storage and plugin
    /// filters are `WeightsError.refusedObject`; datasets that are not float32 (float64 and
    /// integers included: refused, not converted) `.unsupportedDataType`; shapes beyond
    /// `options.tensorLimits` `.invalidShape`; a NaN or infinite value `.nonFiniteWeight`
    /// (layer, weight and the first bad index).
    @discardableResult
    public static func load(_ url: URL, into model: any Layer,
                            options: WeightsLoadOptions = .strict) throws -> WeightsLoadReport {
        try HDF5.locked {
            let archive = try WeightsArchive.open(url, limits: options.tensorLimits)
            var report = WeightsLoadReport(file: archive.fileName, layout: archive.info.layout)
            let plan = try WeightsMatcher(archive: archive, options: options).plan(for: model, report: &report)
            let values = try plan.map { try archive.read($0.stored, layer: $0.layer) }
            for (assignment, value) in zip(plan, values) {
                assignment.parameter.value = value
                report.loadedParameterCount += value.count
            }
            return report
        }
    }
}

/// One parameter and the stored weight that fills it.
struct WeightAssignment {
    let parameter: Parameter
    let stored: StoredWeight
    /// The file layer's qualified name (`vgg19/block1_conv1`), for errors.
    let layer: String
}

/// Pairs a model's layers with a file's layers, and their parameters with stored weights.
struct WeightsMatcher {
    let archive: WeightsArchive
    let options: WeightsLoadOptions

    private var file: String { archive.fileName }

    func plan(for model: any Layer, report: inout WeightsLoadReport) throws -> [WeightAssignment] {
        let stored = archive.info.layersWithWeights
        var byQualified: [String: Int] = [:], byName: [String: [Int]] = [:], byPath: [String: Int] = [:]
        for (i, layer) in stored.enumerated() {
            if !layer.name.isEmpty {
                byQualified[layer.qualifiedName] = byQualified[layer.qualifiedName] ?? i
                byName[layer.name, default: []].append(i)
            }
            if let path = layer.keras3Path { byPath[path] = i }
        }
        var used = Set<Int>()
        var plan: [WeightAssignment] = []
        let entries = Keras3Naming.entries(of: model).filter { !$0.isContainer && !$0.layer.parameters.isEmpty }
        for entry in entries {
            let name = entry.layer.name
            guard let match = try find(entry, byQualified, byName, byPath, stored) else {
                guard options.allowMissingLayers else { throw WeightsError.missingLayer(file: file, layer: name) }
                report.leftAtInitialValue.append(name)
                continue
            }
            used.insert(match)
            let pairs = try pair(entry.layer, with: stored[match])
            let mismatched = pairs.filter { $0.parameter.shape != $0.stored.shape }
            if let first = mismatched.first {
                guard options.skipMismatchedShapes else {
                    throw WeightsError.shapeMismatch(file: file, layer: name, weight: first.parameter.name,
                                                     expected: first.parameter.shape, found: first.stored.shape)
                }
                // Like Keras' skip_mismatch: the whole layer keeps its values.
                report.skipped += mismatched.map {
                    SkippedWeight(layer: name, weight: $0.parameter.name, expected: $0.parameter.shape,
                                  found: $0.stored.shape)
                }
                report.leftAtInitialValue.append(name)
                continue
            }
            plan += pairs
            report.loaded.append(name)
        }
        for (i, layer) in stored.enumerated() where !used.contains(i) {
            guard options.ignoreUnknownLayers else {
                throw WeightsError.unknownLayer(file: file, layer: layer.qualifiedName)
            }
            report.unusedInFile.append(layer.qualifiedName)
        }
        return plan
    }

    /// The file layer for a model layer: same qualified name (`vgg19/block1_conv1`), else the
    /// only file layer of that name at any depth, else (Keras 3 files without names) the same
    /// Keras 3 group path.
    private func find(_ entry: Keras3Naming.Entry, _ byQualified: [String: Int], _ byName: [String: [Int]],
                      _ byPath: [String: Int], _ stored: [StoredLayer]) throws -> Int? {
        let name = entry.layer.name
        if let exact = byQualified[(entry.containers + [name]).joined(separator: "/")] { return exact }
        if let candidates = byName[name] {
            if candidates.count == 1 { return candidates[0] }
            // Several nested models hold a layer of this name: take the one whose containers
            // end like the model's, if exactly one does.
            let fitting = candidates.filter { stored[$0].containers.last == entry.containers.last }
            guard fitting.count == 1 else {
                throw WeightsError.unknownLayout(
                    file: file, reason: "layer name '\(name)' appears \(candidates.count) times in the file: "
                        + candidates.map { stored[$0].qualifiedName }.joined(separator: ", "))
            }
            return fitting[0]
        }
        if let index = byPath[entry.keras3Path], stored[index].name.isEmpty { return index }
        return nil
    }

    /// Parameters to stored weights: by role when the file names them (`kernel`, `bias`, or
    /// Keras 1's `_W`/`_b`), else by position within the layer.
    private func pair(_ layer: any Layer, with stored: StoredLayer) throws -> [WeightAssignment] {
        let parameters = layer.parameters
        let roles = Set(parameters.map(\.name))
        let named = stored.weights.contains { $0.role.map(roles.contains) ?? false }
        if named {
            let pairs = try parameters.map { parameter -> WeightAssignment in
                guard let weight = stored.weights.first(where: { $0.role == parameter.name }) else {
                    throw WeightsError.missingWeight(file: file, layer: layer.name, weight: parameter.name)
                }
                return WeightAssignment(parameter: parameter, stored: weight, layer: stored.qualifiedName)
            }
            if let extra = stored.weights.first(where: { !($0.role.map(roles.contains) ?? false) }) {
                throw WeightsError.unknownWeight(file: file, layer: layer.name, weight: extra.name)
            }
            return pairs
        }
        if stored.weights.count < parameters.count {
            throw WeightsError.missingWeight(file: file, layer: layer.name,
                                             weight: parameters[stored.weights.count].name)
        }
        if stored.weights.count > parameters.count {
            throw WeightsError.unknownWeight(file: file, layer: layer.name, weight: stored.weights[parameters.count].name)
        }
        return zip(parameters, stored.weights).map {
            WeightAssignment(parameter: $0, stored: $1, layer: stored.qualifiedName)
        }
    }
}

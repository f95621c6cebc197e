import CHDF5
import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// One stored tensor of a layer.
public struct StoredWeight: Sendable, Equatable {
    /// The name as the file lists it: `block1_conv1/kernel:0`, `block1_conv1_W_1:0`, or the
    /// variable index (`0`) in a Keras 3 file.
    public let name: String
    /// `kernel`, `bias`, ... when the name (or the Keras 3 layer class) tells; `nil` otherwise,
    /// and then the weight is matched by its position within the layer.
    public let role: String?
    /// The dataset's path from the file's root.
    public let path: String
    public let shape: Shape

    public var parameterCount: Int { shape.count }
}

/// One layer's weights as stored in a file.
public struct StoredLayer: Sendable, Equatable {
    /// The Keras layer name (`block5_conv1`, `dense_1`); empty for a Keras 3 file that
    /// predates the `name` attribute (then `keras3Path` identifies the layer).
    public let name: String
    /// The nested models enclosing the layer in the file, outermost first (`["vgg19"]`).
    public let containers: [String]
    /// The group path in a Keras 3 `.weights.h5` (`layers/functional/layers/conv2d_3`).
    public let keras3Path: String?
    public var weights: [StoredWeight]

    /// `vgg19/block1_conv1`.
    public var qualifiedName: String {
        (containers + [name.isEmpty ? (keras3Path ?? "?") : name]).joined(separator: "/")
    }

    public var parameterCount: Int { weights.reduce(0) { $0 + $1.parameterCount } }
}

/// What a weights file holds: its layout and its layers' weights (names and shapes, no values).
public struct WeightsFileInfo: Sendable {
    public let url: URL
    public let layout: WeightsLayout
    public let kerasVersion: String?
    public let backend: String?
    /// Every layer the file lists, weightless ones included, in the file's order (`layer_names`;
    /// a nested model's layers in natural name order, since its `weight_names` put trainable
    /// layers first; a Keras 3 file's layers by class name and number, as stored).
    public let layers: [StoredLayer]
    public let metadata: ModelMetadata

    public var layersWithWeights: [StoredLayer] { layers.filter { !$0.weights.isEmpty } }
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Whether the file was saved from an EfficientNet graph built for ImageNet weights: its
    /// layer list (weightless layers included, as Keras' `layer_names` has them) names
    /// `rescaling_1` next to `normalization`. Nested files list no weightless layers; they are
    /// taken to come from the graph without it (what `weights=None` builds). Build the model
    /// with Zoo's `BackboneOptions(imageNetRescaling:)` set to this value.
    public var hasImageNetRescaling: Bool {
        let names = Set(layers.map(\.name))
        return names.contains("rescaling_1") && names.contains("normalization")
    }
}

/// An open weights file with its index; reads tensor values on demand.
///
/// A weights file may come from anywhere (hostile input: Fuzz/README.md): before it is indexed the whole
/// file is walked and anything but hard links to plain groups and datasets stored in the file is
/// refused (`WeightsError.refusedObject`); every weight dataset must be IEEE float32
/// (`.unsupportedDataType`) with a shape within `TensorLimits` (`.invalidShape`), and every
/// value read must be finite (`.nonFiniteWeight`).
final class WeightsArchive {
    let url: URL
    let file: HDF5File
    let info: WeightsFileInfo
    let limits: TensorLimits

    private init(url: URL, file: HDF5File, info: WeightsFileInfo, limits: TensorLimits) {
        self.url = url
        self.file = file
        self.info = info
        self.limits = limits
    }

    var fileName: String { url.path }

    /// Opens `url` and indexes it; every failure is a `WeightsError` naming the file. The file
    /// is first read in a separate process (`preflight`); `readsValues` says whether that pass
    /// reads the tensors' values too (`load`, `tensors`) or only the index (`inspect`).
    static func open(_ url: URL, limits: TensorLimits = .default, readsValues: Bool = true) throws -> WeightsArchive {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw WeightsError.fileNotFound(file: path)
        }
        guard !isDirectory.boolValue else { throw WeightsError.notHDF5(file: path) }
        switch HDF5.isHDF5(path) {
        case nil: throw WeightsError.unreadable(file: path, reason: "cannot read the file")
        case false?: throw WeightsError.notHDF5(file: path)
        case true?: break
        }
        return try HDF5.locked {
            try preflight(path, limits: limits, readsValues: readsValues)
            do {
                let file = try HDF5File.open(path)
                try file.checkStructure(maximumLinks: KerasWeights.maximumLinks, maximumDepth: KerasWeights.maximumDepth)
                let root = try file.root
                let info = try index(root: root, url: url, limits: limits)
                return WeightsArchive(url: url, file: file, info: info, limits: limits)
            } catch let error as HDF5Error {
                throw weightsError(error, file: path)
            }
        }
    }

    /// Runs the reader's walk over the file in a forked child first (`rh5_preflight`: only C,
    /// under an address-space limit and `KerasWeights.preflightTimeout`): libhdf5 1.10 crashes
    /// on some malformed files (a corrupt global-heap length found by fuzzing, see
    /// Fuzz/README.md), and this way such a file is `WeightsError.unsafeToRead`, not a crash.
    /// Errors the child meets are left to the real read, which reports them typed.
    static func preflight(_ path: String, limits: TensorLimits, readsValues: Bool) throws {
        var detail: Int32 = 0
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let timeout = preflightTimeoutForTesting ?? KerasWeights.preflightTimeout(forFileBytes: size)
        let verdict = rh5_preflight(path, UInt64(KerasWeights.maximumLinks), Int32(KerasWeights.maximumDepth),
                                    UInt64(max(limits.maximumTensorBytes, 0)), readsValues ? 1 : 0,
                                    Int32(clamping: timeout), &detail)
        let reason: String
        switch verdict {
        case Int32(RH5_PREFLIGHT_OK), Int32(RH5_PREFLIGHT_ERROR):
            return
        case Int32(RH5_PREFLIGHT_CRASHED):
            let name = strsignal(detail).map { String(cString: $0) } ?? "unknown"
            reason = "libhdf5 crashed reading it (signal \(detail), \(name))"
        case Int32(RH5_PREFLIGHT_TIMED_OUT):
            reason = "reading it took more than \(detail) s"
        case Int32(RH5_PREFLIGHT_OUT_OF_MEMORY):
            reason = "reading it needed more memory than the tensor budget (\(TensorLimits.describe(bytes: limits.maximumTensorBytes))) and 1 GiB"
        default:
            reason = "the separate reading process could not run (errno \(detail): \(String(cString: strerror(detail))))"
        }
        throw WeightsError.unsafeToRead(file: path, reason: reason)
    }

    /// Seconds the preflight may take in tests (a hanging file need not take the real timeout).
    @TaskLocal static var preflightTimeoutForTesting: Int?

    /// A failed HDF5 call as the `WeightsError` that names the file (and, for a refusal, the object).
    static func weightsError(_ error: HDF5Error, file: String) -> WeightsError {
        switch error.refusal?.kind {
        case .object(let reason)?:
            return .refusedObject(file: file, object: error.refusal!.object, reason: reason)
        case .elementType(let type)?:
            return .unsupportedDataType(file: file, dataset: error.refusal!.object, type: type)
        case nil:
            return .unreadable(file: file, reason: error.description)
        }
    }

    /// The shape of a weight dataset, after every check that must pass before it is read:
    /// float32 elements (or one integer), a shape within `limits`, chunks within the tensor budget.
    static func weightShape(_ dataset: HDF5Dataset, file: String, limits: TensorLimits) throws -> Shape {
        let element = try dataset.element
        let dims = try dataset.dims
        // Besides float32, a single integer (Keras' Normalization `count`, an int64 scalar).
        let isIntegerScalar = element.name.hasPrefix("int") || element.name.hasPrefix("uint")
        guard element.isFloat32 || (isIntegerScalar && dims.reduce(UInt64(1), *) == 1) else {
            throw WeightsError.unsupportedDataType(file: file, dataset: dataset.path, type: element.name)
        }
        switch limits.shape(dims) {
        case .success(let shape):
            try dataset.checkStorage(maximumChunkBytes: limits.maximumTensorBytes)
            return shape
        case .failure(let problem):
            throw WeightsError.invalidShape(file: file, dataset: dataset.path, problem: problem)
        }
    }

    /// The values of `weight` of the file's layer `layer` (its qualified name), float32, in its
    /// stored shape; NaN or infinity anywhere is `WeightsError.nonFiniteWeight`.
    func read(_ weight: StoredWeight, layer: String) throws -> Tensor {
        let tensor: Tensor
        do {
            // `weight.shape` passed `weightShape` (type, shape, budget) when the file was indexed;
            // the shim checks again that the element count matches before it reads.
            tensor = try HDF5.locked { try file.root.dataset(weight.path).read(shape: weight.shape) }
        } catch let error as HDF5Error {
            throw Self.weightsError(error, file: fileName)
        }
        if let bad = TensorLimits.firstNonFinite(in: tensor) {
            throw WeightsError.nonFiniteWeight(file: fileName, layer: layer, weight: weight.name, index: bad.index,
                                               value: "\(bad.value)")
        }
        return tensor
    }

    private static func index(root: HDF5Group, url: URL, limits: TensorLimits) throws -> WeightsFileInfo {
        let file = url.path
        let metadata = try readMetadata(root, file: file)
        if try root.kind(of: "model_weights") == .group {
            let weightsGroup = try root.group("model_weights")
            if try weightsGroup.stringList("layer_names") != nil {
                let index = try KerasH5Index.read(weightsGroup, file: file, fullModel: true,
                                                  rootVersion: try root.string("keras_version"), limits: limits)
                return WeightsFileInfo(url: url, layout: index.layout, kerasVersion: index.kerasVersion,
                                       backend: try weightsGroup.string("backend") ?? root.string("backend"),
                                       layers: index.layers, metadata: metadata)
            }
        }
        if try root.stringList("layer_names") != nil {
            let index = try KerasH5Index.read(root, file: file, fullModel: false, rootVersion: nil, limits: limits)
            return WeightsFileInfo(url: url, layout: index.layout, kerasVersion: index.kerasVersion,
                                   backend: try root.string("backend"), layers: index.layers, metadata: metadata)
        }
        if try root.kind(of: "layers") == .group || root.kind(of: "vars") == .group {
            return WeightsFileInfo(url: url, layout: .keras3, kerasVersion: nil, backend: nil,
                                   layers: try Keras3Index.read(root, file: file, limits: limits), metadata: metadata)
        }
        let members = (try? root.children()) ?? []
        throw WeightsError.unknownLayout(
            file: file,
            reason: "no 'layer_names' attribute (Keras 1/2 .h5), no 'model_weights' group (model.save) and "
                + "no 'layers' group (Keras 3 .weights.h5); top-level members: "
                + (members.isEmpty ? "none" : members.prefix(8).joined(separator: ", ")))
    }

    private static func readMetadata(_ root: HDF5Group, file: String) throws -> ModelMetadata {
        typealias Key = ModelMetadata.Attribute
        let metadata = ModelMetadata(
            classNames: try root.strings(Key.classNames),
            inputShape: try root.integers(Key.inputSize)?.map { Int(clamping: $0) },
            architecture: try root.string(Key.architecture), head: try root.string(Key.head),
            preprocessing: try root.string(Key.preprocessing), resize: try root.string(Key.resize),
            positiveClass: try root.string(Key.positiveClass), alpha: try root.string(Key.alpha))
        if let problem = metadata.problem() {
            throw WeightsError.invalidAttribute(file: file, attribute: problem.attribute, reason: problem.reason)
        }
        return metadata
    }
}

extension KerasWeights {
    /// Most links a weights file may hold (VGG19 in any layout has under 200).
    public static let maximumLinks = 100_000
    /// Seconds the separate process that reads a file first may take: 30, plus one for every
    /// 10 MB (a 550 MB full VGG19 file: 85 s; it takes about one). libhdf5 1.10 loops forever
    /// on some 10 KB files (fuzzing, Fuzz/README.md): those end as `WeightsError.unsafeToRead`.
    public static func preflightTimeout(forFileBytes bytes: Int) -> Int {
        30 + max(bytes, 0) / 10_000_000
    }
    /// Deepest nesting of groups a weights file may have (Keras 3 nests a model in a model at 6).
    public static let maximumDepth = 32

    /// The layout, layers and weight shapes of a weights file, without reading the values.
    /// The file is checked as for `load` (`WeightsArchive`), shapes against `limits`.
    public static func inspect(_ url: URL, limits: TensorLimits = .default) throws -> WeightsFileInfo {
        try WeightsArchive.open(url, limits: limits, readsValues: false).info
    }

    /// ``WeightsFileInfo/hasImageNetRescaling`` of the file at `url` (checked as for `inspect`).
    public static func hasImageNetRescaling(_ url: URL, limits: TensorLimits = .default) throws -> Bool {
        try inspect(url, limits: limits).hasImageNetRescaling
    }

    /// The class names and input size stored by `save` (empty when the file has none).
    public static func metadata(of url: URL, limits: TensorLimits = .default) throws -> ModelMetadata {
        try inspect(url, limits: limits).metadata
    }

    /// Every stored tensor, keyed by `<qualified layer name>/<weight role or name>`
    /// (`vgg19/block1_conv1/kernel`); each within `limits` and finite.
    public static func tensors(in url: URL, limits: TensorLimits = .default) throws -> [String: Tensor] {
        let archive = try WeightsArchive.open(url, limits: limits)
        var result: [String: Tensor] = [:]
        for layer in archive.info.layers {
            for weight in layer.weights {
                result[layer.qualifiedName + "/" + (weight.role ?? weight.name)] =
                    try archive.read(weight, layer: layer.qualifiedName)
            }
        }
        return result
    }
}

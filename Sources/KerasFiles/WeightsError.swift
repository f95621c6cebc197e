import Foundation
import Tensor

/// Why a weights file could not be read, matched to a model, or written. Every case names the
/// file (its path as given), and the matching cases name the layer and weight.
public enum WeightsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Nothing at that path.
    case fileNotFound(file: String)
    /// The file exists but does not start with an HDF5 signature (a text file, a JPEG, ...).
    case notHDF5(file: String)
    /// An HDF5 file that cannot be read: truncated, corrupt, or a dataset that is not numeric.
    case unreadable(file: String, reason: String)
    /// A readable HDF5 file that is none of the Keras weights layouts (or breaks one).
    case unknownLayout(file: String, reason: String)
    /// The model has a layer with weights that the file does not hold.
    case missingLayer(file: String, layer: String)
    /// The file holds the layer but not one of its weights (`kernel`, `bias`).
    case missingWeight(file: String, layer: String, weight: String)
    /// The file holds weights for a layer the model does not have.
    case unknownLayer(file: String, layer: String)
    /// The file holds a weight the model's layer does not have.
    case unknownWeight(file: String, layer: String, weight: String)
    /// The stored tensor's shape differs from the model's parameter.
    case shapeMismatch(file: String, layer: String, weight: String, expected: Shape, found: Shape)
    /// Writing failed (directory missing, disk full, ...); no file was left behind.
    case writeFailed(file: String, reason: String)
    /// A `rubble_*` attribute holds a value that cannot be right (an input size of 0, an
    /// unknown preprocessing name).
    case invalidAttribute(file: String, attribute: String, reason: String)
    /// A dataset whose shape cannot be a tensor here (`TensorLimits`): rank over 8, a dimension
    /// that does not fit, an element count that overflows, or more bytes than the tensor budget
    /// (4 GiB by default). Checked before anything is allocated.
    case invalidShape(file: String, dataset: String, problem: TensorLimits.ShapeProblem)
    /// A weight dataset whose elements are not IEEE float32 (`type`: `float64`, `float16`,
    /// `int32`, `string`, ...). Such datasets are refused, never converted: Keras writes its
    /// weights (the published ImageNet files included) as float32.
    case unsupportedDataType(file: String, dataset: String, type: String)
    /// A weight holds NaN or an infinity: `layer` (qualified, `vgg19/block1_conv1`) and `weight`
    /// as the file names them, `index` the first bad element (row-major), `value` it printed.
    case nonFiniteWeight(file: String, layer: String, weight: String, index: Int, value: String)
    /// An object or link the reader does not follow or read (`object`: its path in the file):
    /// links to other files or other paths, virtual datasets, external raw data, ... (`reason`).
    case refusedObject(file: String, object: String, reason: WeightsRefusal)
    /// Reading the file in a separate process first crashed libhdf5, ran out of time or memory
    /// (`reason` says which): the file is corrupt or built to attack the reader, and was not
    /// read in this process.
    case unsafeToRead(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case let .fileNotFound(file), let .notHDF5(file), let .unreadable(file, _), let .unknownLayout(file, _),
             let .missingLayer(file, _), let .missingWeight(file, _, _), let .unknownLayer(file, _),
             let .unknownWeight(file, _, _), let .shapeMismatch(file, _, _, _, _), let .writeFailed(file, _),
             let .invalidAttribute(file, _, _), let .invalidShape(file, _, _), let .unsupportedDataType(file, _, _),
             let .nonFiniteWeight(file, _, _, _, _), let .refusedObject(file, _, _), let .unsafeToRead(file, _):
            return file
        }
    }

    public var description: String {
        switch self {
        case let .fileNotFound(file):
            return "\(file): no such file"
        case let .notHDF5(file):
            return "\(file): not an HDF5 file (Keras weights are .h5 / .weights.h5 HDF5 files)"
        case let .unreadable(file, reason):
            return "\(file): unreadable HDF5 file (truncated or corrupt?): \(reason)"
        case let .unknownLayout(file, reason):
            return "\(file): not a Keras weights layout this reader knows: \(reason)"
        case let .missingLayer(file, layer):
            return "\(file): the file has no weights for layer '\(layer)'"
        case let .missingWeight(file, layer, weight):
            return "\(file): layer '\(layer)' in the file has no '\(weight)' weight"
        case let .unknownLayer(file, layer):
            return "\(file): the file holds weights for layer '\(layer)', which the model does not have"
        case let .unknownWeight(file, layer, weight):
            return "\(file): layer '\(layer)' in the file holds weight '\(weight)', which the model's layer does not have"
        case let .shapeMismatch(file, layer, weight, expected, found):
            return "\(file): layer '\(layer)' weight '\(weight)': the model expects \(expected), the file holds \(found)"
        case let .writeFailed(file, reason):
            return "\(file): cannot write: \(reason)"
        case let .invalidAttribute(file, attribute, reason):
            return "\(file): attribute '\(attribute)' \(reason)"
        case let .invalidShape(file, dataset, problem):
            return "\(file): dataset '\(dataset)' has an impossible shape: \(problem)"
        case let .unsupportedDataType(file, dataset, type):
            return "\(file): dataset '\(dataset)' holds \(type) values; weights must be float32 "
                + "(other types are refused, not converted)"
        case let .nonFiniteWeight(file, layer, weight, index, value):
            return "\(file): layer '\(layer)' weight '\(weight)' holds \(value) at index \(index) (first non-finite element)"
        case let .refusedObject(file, object, reason):
            return "\(file): refused '\(object)': \(reason)"
        case let .unsafeToRead(file, reason):
            return "\(file): not read: \(reason) in a separate process that read it first; the file is corrupt "
                + "or made to attack the reader"
        }
    }
}

/// Why the reader refused an object of a weights file (`WeightsError.refusedObject`). A weights
/// file is plain groups, float32 datasets stored in the file itself and attributes; anything
/// that would make libhdf5 open another file, load a plugin or loop is refused before it is
/// followed (hostile input: Fuzz/README.md).
public enum WeightsRefusal: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// A soft link (a path to another object, possibly a loop).
    case softLink
    /// A link into another file.
    case externalLink
    /// A user-defined link type.
    case userDefinedLink
    /// A committed datatype object.
    case namedDatatype
    /// An object that is neither a group nor a dataset, or a dataset layout libhdf5 1.10 does not know.
    case unknownObject
    /// An object reachable by more than one hard link (what makes cycles).
    case sharedObject
    /// A virtual dataset (its data comes from other files).
    case virtualDataset
    /// A dataset whose raw data lives in external files.
    case externalStorage
    /// A filter that is not built into libhdf5 (it would need a plugin; plugins are never loaded).
    case unsupportedFilter
    /// More links than `KerasWeights.maximumLinks`.
    case tooManyLinks
    /// Groups nested deeper than `KerasWeights.maximumDepth`.
    case tooDeep
    /// An attribute over 2^20 elements or 64 MiB, or a chunk larger than the tensor budget.
    case tooLarge
    /// A dataset whose data is not (fully) written in the file.
    case notStored

    public var description: String {
        switch self {
        case .softLink: return "a soft link (only hard links are followed)"
        case .externalLink: return "an external link to another file (never followed)"
        case .userDefinedLink: return "a user-defined link (only hard links are followed)"
        case .namedDatatype: return "a committed datatype (weights files hold only groups and datasets)"
        case .unknownObject: return "neither a group nor a dataset"
        case .sharedObject: return "an object linked more than once (cycles are refused)"
        case .virtualDataset: return "a virtual dataset (its data would come from other files)"
        case .externalStorage: return "a dataset stored in external files"
        case .unsupportedFilter: return "a filter that is not built into libhdf5 (plugins are never loaded)"
        case .tooManyLinks: return "more than \(KerasWeights.maximumLinks) links in the file"
        case .tooDeep: return "groups nested more than \(KerasWeights.maximumDepth) deep"
        case .tooLarge: return "larger than the reader's limits"
        case .notStored: return "a dataset whose data is not fully written in the file"
        }
    }
}

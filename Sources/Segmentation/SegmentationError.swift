import Foundation

/// What can go wrong building, loading, training or scoring a segmentation model: each case names
/// the value and, where there is one, the file.
public enum SegmentationError: Error, Equatable, CustomStringConvertible {
    /// The labels do not cover the logits' pixels.
    case labelShape(expected: String, got: Int)
    /// A class index beyond the model's classes (other than the ignore index).
    case labelOutOfRange(value: Int, classes: Int, file: String?)
    /// Class weights of the wrong count, negative or not finite.
    case invalidClassWeights([Float], classes: Int)
    /// Every pixel of the batch is ignored: there is nothing to learn from.
    case noLabelledPixels
    /// Tensors in the file that no layer of the model reads.
    case unexpectedTensors(names: [String], file: String)
    /// Weights or outputs that are not finite numbers.
    case notFinite(what: String)
    /// The model's classes are not the damage label set, so which of them are structure (and how
    /// damaged) must be said.
    case severityWeightsNeeded(classNames: [String])

    public var description: String {
        switch self {
        case let .labelShape(expected, got): return "labels: expected \(expected), got \(got) values"
        case let .labelOutOfRange(value, classes, file):
            return "\(file.map { "\($0): " } ?? "")class index \(value) is not one of the model's \(classes) classes (0...\(classes - 1)) or the ignore index 255"
        case let .invalidClassWeights(weights, classes):
            return "class weights \(weights): need \(classes) finite values >= 0, one per class"
        case .noLabelledPixels: return "every pixel of the batch has the ignore label: there is no loss to train on"
        case let .unexpectedTensors(names, file):
            return "\(file): \(names.count) tensor(s) that this SegFormer does not use, e.g. \(names.prefix(3).joined(separator: ", "))"
        case let .notFinite(what): return "\(what) is not finite (NaN or infinity)"
        case let .severityWeightsNeeded(classNames):
            return "the model's classes \(classNames) are not undamaged_structure, damaged_structure, debris: "
                + "give each structure class its damage value (e.g. --class-values wall=0,crack=0.5,rubble=1)"
        }
    }
}

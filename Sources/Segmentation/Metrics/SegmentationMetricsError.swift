/// Why pixels could not be counted or metrics written. Every case names the value and, when
/// the caller gave one, the `source` (the mask file or image the pixels came from).
public enum SegmentationMetricsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A class count outside `1...PixelConfusionMatrix.maximumClassCount`.
    case classCount(Int)
    /// Counts that are not `classes * classes` non-negative numbers.
    case counts(count: Int, classes: Int, negativeAt: Int?)
    /// Predictions and labels of different lengths.
    case lengthMismatch(predicted: Int, labels: Int, source: String?)
    /// A true label that is neither a class nor the ignore index, at pixel `index`.
    case labelOutOfRange(value: Int, index: Int, classes: Int, ignoreIndex: Int, source: String?)
    /// A prediction that is not a class, at pixel `index`.
    case predictionOutOfRange(value: Int, index: Int, classes: Int, source: String?)
    /// Merging matrices of different class counts.
    case mergeMismatch(classes: Int, other: Int)
    /// Class names that are not one distinct name per class.
    case classNames([String], classes: Int)

    public var description: String {
        func from(_ source: String?) -> String { source.map { "\($0): " } ?? "" }
        switch self {
        case let .classCount(n):
            return "a confusion matrix needs 1...\(PixelConfusionMatrix.maximumClassCount) classes, not \(n)"
        case let .counts(count, classes, negativeAt):
            if let at = negativeAt { return "confusion count \(at) is negative" }
            return "\(count) confusion counts for \(classes) classes (need \(classes * classes))"
        case let .lengthMismatch(predicted, labels, source):
            return "\(from(source))\(predicted) predicted pixels but \(labels) labelled pixels"
        case let .labelOutOfRange(value, index, classes, ignoreIndex, source):
            return "\(from(source))label \(value) at pixel \(index) is not a class (0...\(classes - 1)) "
                + "nor the ignore index \(ignoreIndex)"
        case let .predictionOutOfRange(value, index, classes, source):
            return "\(from(source))prediction \(value) at pixel \(index) is not a class (0...\(classes - 1))"
        case let .mergeMismatch(classes, other):
            return "cannot merge a confusion matrix of \(other) classes into one of \(classes)"
        case let .classNames(names, classes):
            return "class names \(names) are not \(classes) distinct names, one per class"
        }
    }
}

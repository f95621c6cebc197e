import Foundation

/// The standard semantic-segmentation scores of a ``PixelConfusionMatrix``, as Hugging Face
/// `evaluate`'s `mean_iou` computes them (ignored pixels already left out of the matrix):
///
/// - per-class IoU `TP / (TP + FP + FN)` = intersection / union of the predicted and true areas;
///   a class with an empty union (never labelled, never predicted) has IoU NaN;
/// - mean IoU: the mean over classes whose union is not empty (`nanmean`, as `evaluate`);
/// - pixel accuracy: `sum TP / labelled pixels` (`overall_accuracy`);
/// - per-class accuracy `TP / (TP + FN)` (the recall of the class; NaN for a class never
///   labelled), and its `nanmean`, the mean accuracy.
///
/// With no labelled pixel at all the means and the pixel accuracy are NaN; `metrics.json`
/// writes every NaN as `null`. (Not `Equatable`: NaN is unequal to itself; compare `matrix`.)
public struct SegmentationMetrics: Sendable {
    public let matrix: PixelConfusionMatrix
    /// `[classes]`: IoU of each class, NaN where its union is empty.
    public let perClassIoU: [Double]
    /// `[classes]`: `TP / (TP + FN)` of each class, NaN where it has no labelled pixel.
    public let perClassAccuracy: [Double]
    /// The mean of the non-NaN per-class IoUs (NaN when there is none).
    public let meanIoU: Double
    /// The mean of the non-NaN per-class accuracies (NaN when there is none).
    public let meanAccuracy: Double
    /// Correct pixels over labelled pixels (NaN for no labelled pixel).
    public let pixelAccuracy: Double

    public init(_ matrix: PixelConfusionMatrix) {
        self.matrix = matrix
        let tp = matrix.truePositives, labelled = matrix.labelPixels, predicted = matrix.predictedPixels
        perClassIoU = (0..<matrix.classCount).map { c in
            let union = labelled[c] + predicted[c] - tp[c]
            return union == 0 ? .nan : Double(tp[c]) / Double(union)
        }
        perClassAccuracy = (0..<matrix.classCount).map { c in
            labelled[c] == 0 ? .nan : Double(tp[c]) / Double(labelled[c])
        }
        meanIoU = Self.nanMean(perClassIoU)
        meanAccuracy = Self.nanMean(perClassAccuracy)
        let total = matrix.labelledPixels
        pixelAccuracy = total == 0 ? .nan : Double(tp.reduce(0, +)) / Double(total)
    }

    /// Labelled (counted) pixels.
    public var pixels: Int { matrix.labelledPixels }

    /// The mean of the values that are not NaN; NaN when every value is.
    static func nanMean(_ values: [Double]) -> Double {
        let present = values.filter { !$0.isNaN }
        return present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
    }

    /// `metrics.json`: an object with `pixel_accuracy`, `mean_iou`, `mean_accuracy`,
    /// `per_class_iou` and `per_class_accuracy` (`{class name: value or null}`),
    /// `confusion_matrix` (`[classes][classes]`, rows = true class, columns = predicted),
    /// `class_names` (in index order) and `pixels` (labelled pixels); keys sorted, NaN as
    /// `null`. `classNames` must be one distinct name per class.
    public func jsonData(classNames: [String]) throws -> Data {
        guard classNames.count == matrix.classCount, Set(classNames).count == classNames.count else {
            throw SegmentationMetricsError.classNames(classNames, classes: matrix.classCount)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(MetricsFile(metrics: self, classNames: classNames))
    }

    /// The layout of `metrics.json`.
    private struct MetricsFile: Encodable {
        let metrics: SegmentationMetrics
        let classNames: [String]

        enum Key: String, CodingKey {
            case pixelAccuracy = "pixel_accuracy", meanIoU = "mean_iou", meanAccuracy = "mean_accuracy"
            case perClassIoU = "per_class_iou", perClassAccuracy = "per_class_accuracy"
            case confusionMatrix = "confusion_matrix", classNames = "class_names", pixels
        }

        /// `nil` (written as `null`) for NaN.
        static func finite(_ value: Double) -> Double? { value.isNaN ? nil : value }

        func byName(_ values: [Double]) -> [String: Double?] {
            Dictionary(uniqueKeysWithValues: zip(classNames, values.map(Self.finite)))
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            // `encode` of an Optional writes null; `encodeIfPresent` would leave the key out.
            try c.encode(Self.finite(metrics.pixelAccuracy), forKey: .pixelAccuracy)
            try c.encode(Self.finite(metrics.meanIoU), forKey: .meanIoU)
            try c.encode(Self.finite(metrics.meanAccuracy), forKey: .meanAccuracy)
            try c.encode(byName(metrics.perClassIoU), forKey: .perClassIoU)
            try c.encode(byName(metrics.perClassAccuracy), forKey: .perClassAccuracy)
            try c.encode(metrics.matrix.rows, forKey: .confusionMatrix)
            try c.encode(classNames, forKey: .classNames)
            try c.encode(metrics.pixels, forKey: .pixels)
        }
    }
}

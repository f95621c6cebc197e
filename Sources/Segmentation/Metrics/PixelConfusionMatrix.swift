/// Per-pixel confusion counts of a segmentation model over any number of images:
/// `counts[truth * classes + predicted]`, rows = true label, columns = predicted class (as
/// scikit-learn's `confusion_matrix` and Hugging Face `evaluate`'s `mean_iou`, which builds the
/// same table from its intersect and union areas).
///
/// Pixels whose true label is the ignore index (255 by default, the ADE20K / mmseg convention:
/// unlabelled, or background outside the classes) are skipped entirely, their prediction too.
/// (Train's `ConfusionMatrix` counts whole images by class name; this one counts pixels.)
public struct PixelConfusionMatrix: Sendable, Equatable {
    /// The label of pixels that are not counted.
    public static let defaultIgnoreIndex = 255
    /// The most classes a matrix holds (its counts take `classes²` integers).
    public static let maximumClassCount = 1024

    public let classCount: Int
    /// `classCount * classCount` counts, row-major: `counts[truth * classCount + predicted]`.
    public private(set) var counts: [Int]

    /// An empty matrix of `classCount` classes (`1...maximumClassCount`).
    public init(classCount: Int) throws {
        guard (1...Self.maximumClassCount).contains(classCount) else {
            throw SegmentationMetricsError.classCount(classCount)
        }
        self.classCount = classCount
        counts = [Int](repeating: 0, count: classCount * classCount)
    }

    /// A matrix from given counts (`classCount²` of them, row-major, rows = truth, none negative).
    public init(classCount: Int, counts: [Int]) throws {
        try self.init(classCount: classCount)
        guard counts.count == classCount * classCount else {
            throw SegmentationMetricsError.counts(count: counts.count, classes: classCount, negativeAt: nil)
        }
        if let negative = counts.firstIndex(where: { $0 < 0 }) {
            throw SegmentationMetricsError.counts(count: counts.count, classes: classCount, negativeAt: negative)
        }
        self.counts = counts
    }

    /// Pixels of true class `truth` predicted as `predicted` (both must be classes).
    public subscript(truth truth: Int, predicted predicted: Int) -> Int {
        counts[truth * classCount + predicted]
    }

    /// Counts one image (or any run of pixels): `predicted[i]` against `labels[i]`, in the same
    /// pixel order (`[height, width]` row-major for masks). Labels equal to `ignoreIndex` are
    /// skipped; any other label outside `0..<classCount`, and any prediction outside it, is an
    /// error naming the value, the pixel and `source`. Nothing is counted when it throws.
    public mutating func add<P: Collection, L: Collection>(predicted: P, labels: L,
                                                           ignoreIndex: Int = PixelConfusionMatrix.defaultIgnoreIndex,
                                                           source: String? = nil) throws
        where P.Element: BinaryInteger, L.Element: BinaryInteger {
        guard predicted.count == labels.count else {
            throw SegmentationMetricsError.lengthMismatch(predicted: predicted.count, labels: labels.count, source: source)
        }
        let n = classCount
        var updated = counts
        try updated.withUnsafeMutableBufferPointer { table in
            for (index, (p, l)) in zip(predicted, labels).enumerated() {
                guard let label = Int(exactly: l) else {
                    throw SegmentationMetricsError.labelOutOfRange(value: Int(clamping: l), index: index, classes: n,
                                                                   ignoreIndex: ignoreIndex, source: source)
                }
                if label == ignoreIndex { continue }
                guard label >= 0, label < n else {
                    throw SegmentationMetricsError.labelOutOfRange(value: label, index: index, classes: n,
                                                                   ignoreIndex: ignoreIndex, source: source)
                }
                guard let prediction = Int(exactly: p), prediction >= 0, prediction < n else {
                    throw SegmentationMetricsError.predictionOutOfRange(value: Int(clamping: p), index: index, classes: n,
                                                                        source: source)
                }
                table[label * n + prediction] += 1
            }
        }
        counts = updated
    }

    /// Counts a predicted mask against a true one (same size).
    public mutating func add(predicted: some ClassMaskLike, labels: some ClassMaskLike,
                             ignoreIndex: Int = PixelConfusionMatrix.defaultIgnoreIndex, source: String? = nil) throws {
        guard predicted.width == labels.width, predicted.height == labels.height else {
            throw SegmentationMetricsError.lengthMismatch(predicted: predicted.width * predicted.height,
                                                          labels: labels.width * labels.height, source: source)
        }
        try add(predicted: predicted.indices, labels: labels.indices, ignoreIndex: ignoreIndex, source: source)
    }

    /// Adds `other`'s counts (e.g. one worker's images) to this matrix.
    public mutating func merge(_ other: PixelConfusionMatrix) throws {
        guard other.classCount == classCount else {
            throw SegmentationMetricsError.mergeMismatch(classes: classCount, other: other.classCount)
        }
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// This matrix with `other`'s counts added.
    public func merged(with other: PixelConfusionMatrix) throws -> PixelConfusionMatrix {
        var sum = self
        try sum.merge(other)
        return sum
    }

    /// Every counted (non-ignored) pixel.
    public var labelledPixels: Int { counts.reduce(0, +) }

    /// `[classCount]`: correctly predicted pixels of each class (the diagonal).
    public var truePositives: [Int] { (0..<classCount).map { counts[$0 * classCount + $0] } }

    /// `[classCount]`: labelled pixels of each class (row sums).
    public var labelPixels: [Int] {
        (0..<classCount).map { c in counts[(c * classCount)..<((c + 1) * classCount)].reduce(0, +) }
    }

    /// `[classCount]`: pixels predicted as each class, among the labelled ones (column sums).
    public var predictedPixels: [Int] {
        var sums = [Int](repeating: 0, count: classCount)
        for t in 0..<classCount { for p in 0..<classCount { sums[p] += counts[t * classCount + p] } }
        return sums
    }

    /// `[classCount][classCount]`, rows = truth (for JSON and printing).
    public var rows: [[Int]] {
        (0..<classCount).map { t in Array(counts[(t * classCount)..<((t + 1) * classCount)]) }
    }
}

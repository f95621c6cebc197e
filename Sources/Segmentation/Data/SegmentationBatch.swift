import Foundation
import Tensor
import Vision

/// Samples stacked for a model: pixel values `[batch, height, width, 3]` (NHWC, the layout of
/// ``Tensor`` activations) and labels `[batch, labelHeight, labelWidth]`.
public struct SegmentationBatch: Sendable {
    /// `[batch, height, width, 3]`.
    public let pixelValues: Tensor
    /// `[batch, labelHeight, labelWidth]` row-major class indices, 255 = ignore.
    public let labels: [UInt8]
    public let labelWidth: Int
    public let labelHeight: Int
    /// The pairs' names, in batch order.
    public let names: [String]

    public var count: Int { names.count }

    /// ``labels`` widened to Int32.
    public var labelsInt32: [Int32] { labels.map { Int32($0) } }

    /// Stacks `samples`.
    /// - Throws: ``SegmentationDataError/invalidArgument(_:)`` for no samples, or samples whose
    ///   pixel or label sizes differ (naming the first that differs).
    public init(_ samples: [SegmentationSample]) throws {
        guard let first = samples.first else {
            throw SegmentationDataError.invalidArgument("a batch needs at least one sample")
        }
        for sample in samples.dropFirst() where sample.width != first.width || sample.height != first.height
            || sample.labelWidth != first.labelWidth || sample.labelHeight != first.labelHeight {
            throw SegmentationDataError.invalidArgument(
                "sample \(sample.name) is \(sample.width)x\(sample.height) with \(sample.labelWidth)x\(sample.labelHeight) "
                    + "labels, sample \(first.name) \(first.width)x\(first.height) with "
                    + "\(first.labelWidth)x\(first.labelHeight): a batch needs one size (use modelInput labels)")
        }
        let length = first.pixelValues.count
        pixelValues = Tensor(unsafeUninitializedShape: Shape([samples.count, first.height, first.width, 3])) { buffer in
            for (i, sample) in samples.enumerated() {
                sample.pixelValues.withUnsafeBufferPointer { src in
                    guard let base = src.baseAddress, let out = buffer.baseAddress else { return }
                    (out + i * length).update(from: base, count: length)
                }
            }
        }
        labels = samples.flatMap(\.labels)
        labelWidth = first.labelWidth
        labelHeight = first.labelHeight
        names = samples.map(\.name)
    }
}

extension SegmentationDataset {
    /// The training samples of `indices` (see ``trainingSample(_:processor:augmentation:seed:epoch:)``),
    /// decoded and augmented in parallel, stacked. The first failing index (in batch order) throws.
    public func trainingBatch(_ indices: [Int], processor: ImageProcessor, augmentation: SegmentationAugmentation,
                              seed: UInt64, epoch: Int = 0) throws -> SegmentationBatch {
        try SegmentationBatch(parallelSamples(indices) {
            try trainingSample($0, processor: processor, augmentation: augmentation, seed: seed, epoch: epoch)
        })
    }

    /// The validation samples of `indices` (see ``validationSample(_:processor:labels:)``), stacked;
    /// `.original` labels batch only when every mask has the same size.
    public func validationBatch(_ indices: [Int], processor: ImageProcessor,
                                labels resolution: SegmentationLabelResolution = .modelInput) throws -> SegmentationBatch {
        try SegmentationBatch(parallelSamples(indices) {
            try validationSample($0, processor: processor, labels: resolution)
        })
    }

    /// `make(index)` for every index, spread over the cores; rethrows the first failure in order.
    private func parallelSamples(_ indices: [Int],
                                 _ make: @Sendable (Int) throws -> SegmentationSample) throws -> [SegmentationSample] {
        var results = [Result<SegmentationSample, any Error>?](repeating: nil, count: indices.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer)
            Parallel.forEachRange(indices.count) { range in
                for i in range { out.value[i] = Result { try make(indices[i]) } }
            }
        }
        return try results.map { result in
            guard let result else { throw SegmentationDataError.invalidArgument("a sample was not computed") }
            return try result.get()
        }
    }
}

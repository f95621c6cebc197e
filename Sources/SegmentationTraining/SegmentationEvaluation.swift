import Segmentation
import Foundation
import Layers
import Tensor
import Train
import Vision

/// A model's validation numbers on a data set: the per-pixel loss and the confusion matrix.
public struct SegmentationEvaluation: Sendable {
    /// Unweighted cross-entropy, the mean over every labelled pixel of every image (logits
    /// upsampled bilinearly to each mask's own size, as Hugging Face's loss does).
    public var loss: Double
    public var metrics: SegmentationMetrics

    /// Scores `model` on every pair of `dataset`: images through `processor` (plain resize, no
    /// augmentation), in batches of `batchSize` decoded `prefetchDepth` ahead; logits upsampled
    /// to the mask's stored size, argmax per pixel against the mask (255 ignored).
    /// `progress(done, total)` hears about each batch.
    /// - Throws: what loading a pair throws (a mask value out of range names the file),
    ///   ``SegmentationTrainingError/invalidSetting(name:value:requirement:)`` for a batch size < 1.
    public static func evaluate(_ model: Segformer, on dataset: SegmentationDataset, processor: ImageProcessor,
                                batchSize: Int = 8, prefetchDepth: Int = 2,
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> SegmentationEvaluation {
        guard batchSize >= 1 else {
            throw SegmentationTrainingError.invalidSetting(name: "batch size", value: "\(batchSize)", requirement: "must be >= 1")
        }
        guard dataset.numLabels == model.classCount else {
            throw SegmentationTrainingError.dataMismatch(
                "\(dataset.directory.path): the data set has \(dataset.numLabels) classes, the model \(model.classCount)")
        }
        let classes = model.classCount
        var matrix = try PixelConfusionMatrix(classCount: classes)
        var lossSum = 0.0
        var pixels = 0
        let batches = stride(from: 0, to: dataset.count, by: batchSize).map { Array($0..<min($0 + batchSize, dataset.count)) }
        let loader = Prefetcher(count: batches.count, depth: prefetchDepth) { i -> [SegmentationSample] in
            try Self.samples(batches[i], of: dataset, processor: processor)
        }
        defer { loader.finish() }
        for (b, batch) in batches.enumerated() {
            let samples = try loader.next()
            let logits = try withoutGradients { try model(Self.stack(samples), training: false) }
            for (i, sample) in samples.enumerated() {
                let one = Self.slice(logits, i)
                let upsampled = one.shape[1] == sample.labelHeight && one.shape[2] == sample.labelWidth
                    ? one : one.resizedBilinear(height: sample.labelHeight, width: sample.labelWidth, alignCorners: false)
                let (loss, counted, predicted) = Self.lossAndPrediction(upsampled, labels: sample.labels, classes: classes)
                lossSum += loss
                pixels += counted
                try matrix.add(predicted: predicted, labels: sample.labels,
                               source: dataset.pairs[batch[i]].mask.path)
            }
            progress(b + 1, batches.count)
        }
        return SegmentationEvaluation(loss: pixels > 0 ? lossSum / Double(pixels) : .nan, metrics: SegmentationMetrics(matrix))
    }

    /// The validation samples of `indices` (labels at the masks' own size), decoded in parallel.
    static func samples(_ indices: [Int], of dataset: SegmentationDataset,
                        processor: ImageProcessor) throws -> [SegmentationSample] {
        var results = [Result<SegmentationSample, any Error>?](repeating: nil, count: indices.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer)
            Parallel.forEachRange(indices.count) { range in
                for i in range {
                    out.value[i] = Result { try dataset.validationSample(indices[i], processor: processor, labels: .original) }
                }
            }
        }
        return try results.map { result in
            guard let result else { throw SegmentationDataError.invalidArgument("a validation sample was not computed") }
            return try result.get()
        }
    }

    /// `[n, h, w, 3]` of samples of one pixel size.
    static func stack(_ samples: [SegmentationSample]) throws -> Tensor {
        guard let first = samples.first else { throw SegmentationDataError.invalidArgument("a batch needs at least one sample") }
        if let odd = samples.first(where: { $0.width != first.width || $0.height != first.height }) {
            throw SegmentationDataError.invalidArgument(
                "sample \(odd.name) is \(odd.width)x\(odd.height), sample \(first.name) \(first.width)x\(first.height): "
                    + "a batch needs one input size (the image processor must resize)")
        }
        let length = first.pixelValues.count
        return Tensor(unsafeUninitializedShape: Shape([samples.count, first.height, first.width, 3])) { buffer in
            guard let out = buffer.baseAddress else { return }
            for (i, sample) in samples.enumerated() {
                sample.pixelValues.withUnsafeBufferPointer { src in
                    if let base = src.baseAddress { (out + i * length).update(from: base, count: length) }
                }
            }
        }
    }

    /// Sample `index` of a `[batch, h, w, c]` tensor as `[1, h, w, c]`.
    static func slice(_ tensor: Tensor, _ index: Int) -> Tensor {
        let length = tensor.count / max(tensor.shape[0], 1)
        return Tensor(unsafeUninitializedShape: Shape([1] + Array(tensor.shape.dims.dropFirst()))) { out in
            tensor.withUnsafeBufferPointer { src in
                guard let base = src.baseAddress, let target = out.baseAddress else { return }
                target.update(from: base + index * length, count: length)
            }
        }
    }

    /// Summed cross-entropy and count of the labelled pixels, and the argmax of every pixel.
    static func lossAndPrediction(_ logits: Tensor, labels: [UInt8], classes: Int) -> (Double, Int, [UInt8]) {
        var total = 0.0, counted = 0
        var predicted = [UInt8](repeating: 0, count: labels.count)
        logits.withUnsafeBufferPointer { z in
            guard let base = z.baseAddress else { return }
            for p in 0..<labels.count {
                let row = base + p * classes
                var top = row[0], best = 0
                for c in 1..<max(classes, 1) where row[c] > top {
                    top = row[c]
                    best = c
                }
                predicted[p] = UInt8(best)
                let label = labels[p]
                guard label != ClassMask.ignoreIndex, Int(label) < classes else { continue }
                var sum = 0.0
                for c in 0..<classes { sum += Foundation.exp(Double(row[c] - top)) }
                total += Double(top) + Foundation.log(sum) - Double(row[Int(label)])
                counted += 1
            }
        }
        return (total, counted, predicted)
    }
}

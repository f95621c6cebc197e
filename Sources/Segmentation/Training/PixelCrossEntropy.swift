import Foundation
import Layers
import Tensor

/// Per-pixel cross-entropy as Hugging Face trains SegFormer: the logits are resized bilinearly
/// (`align_corners=False`) to the labels' size, then PyTorch's `CrossEntropyLoss(weight=w,
/// ignore_index=255)` with its mean reduction:
///
///     loss = Σ_p w[y_p] · (-log softmax(z_p)[y_p]) / Σ_p w[y_p]
///
/// over the pixels `p` whose label is not the ignore index (without weights every `w` is 1, so
/// it is the mean over labelled pixels). A batch with no labelled pixel has no loss: that is an
/// error rather than PyTorch's NaN.
public struct PixelCrossEntropy: Sendable {
    /// One weight per class, or `nil` for none.
    public var classWeights: [Float]?
    public var ignoreIndex: Int32

    public init(classWeights: [Float]? = nil, ignoreIndex: Int32 = 255) {
        self.classWeights = classWeights
        self.ignoreIndex = ignoreIndex
    }

    /// - Parameters:
    ///   - logits: `[batch, h, w, classes]` at any resolution (SegFormer's is 1/4 of the input).
    ///   - labels: `batch * height * width` class indices, row-major `[batch, height, width]`.
    /// - Returns: the scalar loss, connected to the logits' graph.
    public func loss(logits: Tensor, labels: [Int32], height: Int, width: Int) throws -> Tensor {
        guard logits.rank == 4, height > 0, width > 0, labels.count == logits.shape[0] * height * width else {
            throw SegmentationError.labelShape(expected: "\(logits.rank == 4 ? logits.shape[0] : 0) x \(height) x \(width)",
                                               got: labels.count)
        }
        let resized = logits.shape[1] == height && logits.shape[2] == width
            ? logits : logits.resizedBilinear(height: height, width: width, alignCorners: false)
        return try pixelLoss(resized, labels: labels)
    }

    /// The loss of logits already at the labels' resolution, `[batch, height, width, classes]`.
    public func pixelLoss(_ logits: Tensor, labels: [Int32]) throws -> Tensor {
        let classes = logits.shape[logits.rank - 1]
        let pixels = logits.count / max(classes, 1)
        guard labels.count == pixels else {
            throw SegmentationError.labelShape(expected: "\(pixels) labels", got: labels.count)
        }
        if let classWeights, classWeights.count != classes || classWeights.contains(where: { !$0.isFinite || $0 < 0 }) {
            throw SegmentationError.invalidClassWeights(classWeights, classes: classes)
        }
        let weights = classWeights ?? [Float](repeating: 1, count: classes)
        var total = 0.0, weightSum = 0.0
        var gradient = [Float](repeating: 0, count: logits.count)
        try logits.withUnsafeBufferPointer { z in
            for p in 0..<pixels {
                let label = labels[p]
                if label == ignoreIndex { continue }
                guard label >= 0, Int(label) < classes else {
                    throw SegmentationError.labelOutOfRange(value: Int(label), classes: classes, file: nil)
                }
                let row = z.baseAddress! + p * classes
                var top = -Float.infinity
                for c in 0..<classes { top = max(top, row[c]) }
                var sum = 0.0
                for c in 0..<classes { sum += Foundation.exp(Double(row[c] - top)) }
                let logSum = Double(top) + Foundation.log(sum)
                let w = Double(weights[Int(label)])
                total += w * (logSum - Double(row[Int(label)]))
                weightSum += w
                for c in 0..<classes {
                    gradient[p * classes + c] = Float(w * Foundation.exp(Double(row[c]) - logSum))
                }
                gradient[p * classes + Int(label)] -= Float(w)
            }
        }
        guard weightSum > 0 else { throw SegmentationError.noLabelledPixels }
        let shape = logits.shape
        let scale = Float(1 / weightSum)
        let value = Tensor([Float(total / weightSum)], shape: [])
        return value.recordingGradient(from: logits) { upstream in
            let g = upstream.scalar * scale
            return Tensor(gradient.map { $0 * g }, shape: shape)
        }
    }
}

import Tensor
import Vision

/// Class masks from logits, as transformers' `post_process_semantic_segmentation(target_sizes=)`:
/// the logits resized bilinearly (`align_corners=False`) to the target size, then the class of
/// the largest logit per pixel (the first on ties). Row by row, so a 12-megapixel target needs
/// one row of interpolated logits, never the full-size `[height, width, classes]` array.
public enum LogitsToMask {
    /// - Parameter logits: `[h, w, classes]` of one image (NHWC without the batch axis).
    public static func mask(_ logits: Tensor, width: Int, height: Int) throws -> ClassMask {
        guard logits.rank == 3, width > 0, height > 0 else {
            throw SegmentationError.labelShape(expected: "logits [h, w, classes] for a \(width)x\(height) mask",
                                               got: logits.count)
        }
        let (h, w, classes) = (logits.shape[0], logits.shape[1], logits.shape[2])
        let rows = ResizeTaps(input: h, output: height), cols = ResizeTaps(input: w, output: width)
        var indices = [UInt8](repeating: 0, count: width * height)
        logits.withUnsafeBufferPointer { source in
            let z = source.baseAddress!
            indices.withUnsafeMutableBufferPointer { out in
                let target = UncheckedSendable(out.baseAddress!), base = UncheckedSendable(z)
                Parallel.forEachRange(height, grain: 8) { range in
                    var interpolated = [Float](repeating: 0, count: classes)
                    for y in range {
                        let top = base.value + rows.low[y] * w * classes, bottom = base.value + rows.high[y] * w * classes
                        let wy1 = rows.weight[y], wy0 = 1 - wy1
                        for x in 0..<width {
                            let left = cols.low[x] * classes, right = cols.high[x] * classes
                            let wx1 = cols.weight[x], wx0 = 1 - wx1
                            var best = 0
                            for c in 0..<classes {
                                let value = wy0 * (wx0 * top[left + c] + wx1 * top[right + c])
                                    + wy1 * (wx0 * bottom[left + c] + wx1 * bottom[right + c])
                                interpolated[c] = value
                                if value > interpolated[best] { best = c }
                            }
                            target.value[y * width + x] = UInt8(truncatingIfNeeded: best)
                        }
                    }
                }
            }
        }
        return try ClassMask(width: width, height: height, indices: indices)
    }

    /// PyTorch's `align_corners=False` taps along one axis (as ``Tensor/resizedBilinear(height:width:alignCorners:)``).
    struct ResizeTaps {
        var low: [Int] = [], high: [Int] = [], weight: [Float] = []
        init(input: Int, output: Int) {
            let scale = Float(input) / Float(output)
            for index in 0..<output {
                let source = max(scale * (Float(index) + 0.5) - 0.5, 0)
                let first = min(Int(source), input - 1)
                low.append(first)
                high.append(first < input - 1 ? first + 1 : first)
                weight.append(min(source - Float(first), 1))
            }
        }
    }
}

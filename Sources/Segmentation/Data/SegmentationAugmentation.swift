import Foundation
import Tensor
import Vision

/// Training-time geometry for an image and its mask TOGETHER, in the spirit of mmseg's SegFormer
/// pipeline (`RandomResize` ratio 0.5-2.0, `RandomCrop`, `RandomFlip` 0.5, padding with 255):
///
/// 1. **scale**: `r` uniform in [``minScale``, ``maxScale``]; the pair is resized by
///    `f = r * max(outW / w, outH / h)` (at `r = 1` the image just covers the model input, as
///    mmseg's short-side rule does for a square crop) to `max(1, Int(w * f + 0.5))` x
///    `max(1, Int(h * f + 0.5))`: the image with the processor's filter and backend (bilinear,
///    antialiased when shrinking), the mask with nearest neighbour of the same backend, so
///    classes are never blended;
/// 2. **crop** to the model input `outW` x `outH`: the window's corner is uniform over the
///    positions that keep it inside the resized image; a side smaller than the input is padded
///    at the right / bottom (mmseg's `Pad`), with 0 in the image and ``ignoreIndex`` (255) in
///    the mask, so padding is never trained on;
/// 3. **flip**: left-right with probability ``flipProbability``.
///
/// Draws, in order: `r`, the crop's x then y, the flip; all from the caller's
/// ``SeededGenerator``, so a sample is reproducible from its seed. Crops and flips are exact
/// whole-pixel copies, applied to both with the same numbers.
public struct SegmentationAugmentation: Sendable, Hashable, Codable {
    /// Smallest and largest scale ratio `r` (0 < minScale <= maxScale <= 16).
    public let minScale: Double
    public let maxScale: Double
    /// Probability of a left-right flip, in [0, 1].
    public let flipProbability: Double
    /// The mask value of padded pixels (255: ignore).
    public let ignoreIndex: UInt8

    /// mmseg's SegFormer recipe: scale 0.5...2.0, flip 0.5.
    public static let mmseg = SegmentationAugmentation(uncheckedMinScale: 0.5, maxScale: 2.0, flipProbability: 0.5)
    /// No change beyond fitting the input: scale 1 (the image resized to cover the input, then
    /// cropped at a random position), no flip.
    public static let coverAndCrop = SegmentationAugmentation(uncheckedMinScale: 1, maxScale: 1, flipProbability: 0)

    /// - Throws: ``SegmentationDataError/invalidArgument(_:)`` for a scale range outside
    ///   0 < min <= max <= 16 or a probability outside [0, 1].
    public init(minScale: Double = 0.5, maxScale: Double = 2.0, flipProbability: Double = 0.5,
                ignoreIndex: UInt8 = ClassMask.ignoreIndex) throws {
        guard minScale.isFinite, maxScale.isFinite, minScale > 0, minScale <= maxScale, maxScale <= 16 else {
            throw SegmentationDataError.invalidArgument(
                "augmentation scale range \(minScale)...\(maxScale) must satisfy 0 < min <= max <= 16")
        }
        guard flipProbability >= 0, flipProbability <= 1 else {
            throw SegmentationDataError.invalidArgument("flip probability \(flipProbability) is not in [0, 1]")
        }
        self.init(uncheckedMinScale: minScale, maxScale: maxScale, flipProbability: flipProbability,
                  ignoreIndex: ignoreIndex)
    }

    /// Decodes and validates (as ``init(minScale:maxScale:flipProbability:ignoreIndex:)``).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(minScale: container.decode(Double.self, forKey: .minScale),
                      maxScale: container.decode(Double.self, forKey: .maxScale),
                      flipProbability: container.decode(Double.self, forKey: .flipProbability),
                      ignoreIndex: container.decode(UInt8.self, forKey: .ignoreIndex))
    }

    private init(uncheckedMinScale minScale: Double, maxScale: Double, flipProbability: Double,
                 ignoreIndex: UInt8 = ClassMask.ignoreIndex) {
        self.minScale = minScale
        self.maxScale = maxScale
        self.flipProbability = flipProbability
        self.ignoreIndex = ignoreIndex
    }

    /// What one application drew (for logging and tests).
    public struct Draw: Sendable, Equatable {
        /// The scale ratio `r` and the resized size.
        public let ratio: Double
        public let resizedWidth: Int
        public let resizedHeight: Int
        /// The crop window's top-left corner in the resized image.
        public let cropX: Int
        public let cropY: Int
        public let flipped: Bool
    }

    /// `image` and `mask` (the same size) scaled, cropped or padded to `width` x `height` and
    /// maybe flipped, with `resample` / `backend` for the image (nearest of `backend` for the mask).
    /// - Throws: ``SegmentationDataError/invalidArgument(_:)`` for an empty image, differing
    ///   image and mask sizes, a target size <= 0, or a filter the backend lacks.
    public func apply(image: RGBImage, mask: ClassMask, width: Int, height: Int,
                      resample: PILResample = .bilinear, backend: ResizeBackend = .torchvision,
                      using generator: inout SeededGenerator) throws -> (image: RGBImage, mask: ClassMask, draw: Draw) {
        guard image.width > 0, image.height > 0, width > 0, height > 0 else {
            throw SegmentationDataError.invalidArgument(
                "cannot augment a \(image.width)x\(image.height) image to \(width)x\(height)")
        }
        guard image.width == mask.width, image.height == mask.height else {
            throw SegmentationDataError.invalidArgument(
                "image \(image.width)x\(image.height) and mask \(mask.width)x\(mask.height) differ in size")
        }
        let ratio = minScale + (maxScale - minScale) * generator.nextUnitDouble()
        let cover = max(Double(width) / Double(image.width), Double(height) / Double(image.height))
        let factor = ratio * cover
        let resizedWidth = max(1, Int(Double(image.width) * factor + 0.5))
        let resizedHeight = max(1, Int(Double(image.height) * factor + 0.5))
        let cropX = generator.below(max(resizedWidth - width, 0) + 1)
        let cropY = generator.below(max(resizedHeight - height, 0) + 1)
        let flipped = flipProbability > 0 && generator.nextUnitDouble() < flipProbability
        do {
            var outImage = try resample.resize(image, width: resizedWidth, height: resizedHeight, backend: backend)
            var outMask = try mask.resized(width: resizedWidth, height: resizedHeight, backend: backend)
            outImage = try outImage.cropped(x: cropX, y: cropY, width: width, height: height)
            outMask = try outMask.cropped(x: cropX, y: cropY, width: width, height: height, fill: ignoreIndex)
            if flipped {
                outImage = outImage.flippedHorizontally()
                outMask = outMask.flippedHorizontally()
            }
            let draw = Draw(ratio: ratio, resizedWidth: resizedWidth, resizedHeight: resizedHeight,
                            cropX: cropX, cropY: cropY, flipped: flipped)
            return (outImage, outMask, draw)
        } catch let error as ImageError {
            throw SegmentationDataError.invalidArgument("augmentation: \(error)")
        }
    }
}

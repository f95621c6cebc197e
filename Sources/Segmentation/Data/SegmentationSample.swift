import Foundation
import Tensor
import Vision

/// One model input and its per-pixel labels.
public struct SegmentationSample: Sendable, Equatable {
    /// The pair's name.
    public let name: String
    /// Size of ``pixelValues``.
    public let width: Int
    public let height: Int
    /// `[height, width, 3]` row-major floats, normalised by the ``ImageProcessor``.
    public let pixelValues: [Float]
    /// Size of ``labels`` (the model input's, or the original mask's for
    /// ``SegmentationLabelResolution/original``).
    public let labelWidth: Int
    public let labelHeight: Int
    /// `[labelHeight, labelWidth]` row-major class indices, 255 = ignore.
    public let labels: [UInt8]

    /// ``labels`` widened (PyTorch's int64 labels hold the same values).
    public var labelsInt32: [Int32] { labels.map { Int32($0) } }
}

/// Where validation labels live.
public enum SegmentationLabelResolution: String, Sendable, CaseIterable {
    /// The mask as stored (what mmseg and HF evaluation scripts score against, after
    /// upsampling the logits to the mask's size).
    case original
    /// The mask resized by nearest neighbour to the model input (transformers' image processors'
    /// `segmentation_maps` path).
    case modelInput
}

extension SegmentationDataset {
    /// Pair `index` augmented for training: ``SegmentationAugmentation`` to the processor's size
    /// (image with its filter and backend, mask nearest), then the processor's rescale and
    /// normalisation. The draws come from a generator seeded by `(seed, epoch, index)`, so the
    /// same arguments always give the same sample, whatever thread computes it.
    /// - Throws: as ``load(_:)``, and ``SegmentationDataError/invalidArgument(_:)`` for a
    ///   processor with `doResize` off (the crop needs a target size).
    public func trainingSample(_ index: Int, processor: ImageProcessor, augmentation: SegmentationAugmentation,
                               seed: UInt64, epoch: Int = 0) throws -> SegmentationSample {
        guard processor.doResize else {
            throw SegmentationDataError.invalidArgument("training augmentation needs an image processor with doResize on")
        }
        let (image, mask) = try load(index)
        // The generator of sample `index` in `epoch` of a run seeded `seed`.
        var generator = SeededGenerator(seed: SeededGenerator.mixing(
            SeededGenerator.mixing(seed, UInt64(bitPattern: Int64(epoch)) &+ 0xA06), UInt64(bitPattern: Int64(index))))
        let (outImage, outMask, _) = try augmentation.apply(image: image, mask: mask, width: processor.width,
                                                            height: processor.height, resample: processor.resample,
                                                            backend: processor.backend, using: &generator)
        return SegmentationSample(name: pairs[index].name, width: outImage.width, height: outImage.height,
                                  pixelValues: processor.normalized(outImage), labelWidth: outMask.width,
                                  labelHeight: outMask.height, labels: outMask.indices)
    }

    /// Pair `index` without augmentation: the image through the processor (resized to its size),
    /// the labels at the mask's own resolution or resized (nearest, the processor's backend) to
    /// the model input.
    /// - Throws: as ``load(_:)``.
    public func validationSample(_ index: Int, processor: ImageProcessor,
                                 labels resolution: SegmentationLabelResolution = .original) throws -> SegmentationSample {
        let (image, mask) = try load(index)
        do {
            let resized = try processor.resized(image)
            var labels = mask
            if resolution == .modelInput && (mask.width != resized.width || mask.height != resized.height) {
                labels = try mask.resized(width: resized.width, height: resized.height, backend: processor.backend)
            }
            return SegmentationSample(name: pairs[index].name, width: resized.width, height: resized.height,
                                      pixelValues: processor.normalized(resized), labelWidth: labels.width,
                                      labelHeight: labels.height, labels: labels.indices)
        } catch let error as ImageError {
            throw SegmentationDataError.unreadable(error)
        }
    }
}

import HuggingFaceFiles
import Tensor
import Vision

/// `DPTImageProcessor` as Depth Anything configures it, value for value (transformers 5's
/// torchvision backend by default):
///
/// 1. **size** (`get_resize_output_image_size`): with `keep_aspect_ratio` the scale of the side
///    that needs the smaller change (`|1 - scale|`) is used for both; each side becomes
///    `round(scale · side / multiple) · multiple` with Python's `round` (half to even: 13x20
///    to 140 keeping the ratio is 84x140, not 98x140). Without it each side is scaled to the
///    target on its own, then rounded the same way. A side that rounds to 0, or more than
///    ``maximumPixels`` pixels, is ``DepthError/inputSize(photoWidth:photoHeight:width:height:reason:)``.
/// 2. **resize** of the 8-bit image with `resample` (bicubic: torchvision's antialiased uint8
///    resize, or Pillow's with `backend: .pil`), skipped with `do_resize: false`;
/// 3. **rescale and normalise** as ``ImageProcessor`` does for the backend.
///
/// Photos of different sizes preprocess to different sizes: ``tensor(_:)`` needs one size, so
/// a batch is formed of photos that share it (``DepthEstimator`` groups them).
public struct DepthPreprocessor: Sendable, Equatable {
    /// The resize target (`size`).
    public let height: Int
    public let width: Int
    public let keepAspectRatio: Bool
    /// `ensure_multiple_of` (14 for Depth Anything; 1 = any size).
    public let multiple: Int
    public let doResize: Bool
    /// Filter, backend, rescale and normalisation (at the target size; applied at any size).
    public let processor: ImageProcessor

    /// The most pixels a preprocessed photo may have: 2048 x 2048, 15 times Depth Anything's 518 x 518.
    public static let maximumPixels = 2048 * 2048

    /// The processor a model folder's `preprocessor_config.json` describes
    /// (``ImageProcessorConfiguration/depthAnythingDefaults`` when the folder has none).
    /// `inputSize` replaces `size` by a square of that side (the aspect-ratio rule still applies).
    /// - Throws: `HuggingFaceError.invalidConfig` naming the key for `size: {shortest_edge}`,
    ///   `do_pad: true`, a filter the backend lacks, an `inputSize` outside 14...4096, or a mean
    ///   or std that is not 1 or 3 values.
    public init(configuration: ImageProcessorConfiguration, inputSize: Int? = nil, backend: ResizeBackend = .torchvision,
                file: String = ImageProcessorConfiguration.fileName) throws {
        func fail(_ key: String, _ reason: String) -> HuggingFaceError { .invalidConfig(file: file, key: key, reason: reason) }
        try configuration.validate(file: file)
        var (h, w): (Int, Int)
        switch configuration.size {
        case let .exact(height, width): (h, w) = (height, width)
        case let .shortestEdge(shortest, _):
            throw fail("size", "shortest_edge \(shortest) is not how DPTImageProcessor sizes images (height and width)")
        }
        if let inputSize {
            guard (14...4096).contains(inputSize) else { throw fail("size", "the input size \(inputSize) that replaces it is outside 14...4096") }
            (h, w) = (inputSize, inputSize)
        }
        guard configuration.doPad != true else { throw fail("do_pad", "true is not supported (Depth Anything does not pad)") }
        let multiple = configuration.ensureMultipleOf ?? 1
        guard let resample = PILResample(pillowCode: configuration.resample.rawValue) else {
            throw fail("resample", "\(configuration.resample.rawValue) is not one of Pillow's filters 0...5")
        }
        func perChannel(_ key: String, _ values: [Double]) throws -> [Double] {
            switch values.count {
            case 1: return [Double](repeating: values[0], count: 3)
            case 3: return values
            default: throw fail(key, "has \(values.count) values; an RGB pipeline needs 1 or 3")
            }
        }
        do {
            processor = try ImageProcessor(height: h, width: w, resample: resample, backend: backend, doResize: configuration.doResize,
                                           doRescale: configuration.doRescale, rescaleFactor: configuration.rescaleFactor,
                                           doNormalize: configuration.doNormalize,
                                           mean: try perChannel("image_mean", configuration.imageMean),
                                           std: try perChannel("image_std", configuration.imageStd))
        } catch let error as ImageError {
            throw fail("resample", "\(error)")
        }
        height = h
        width = w
        keepAspectRatio = configuration.keepAspectRatio ?? false
        self.multiple = multiple
        doResize = configuration.doResize
    }

    /// DPT's output size for a `photoWidth` x `photoHeight` photo (the photo's own size without
    /// `do_resize`).
    public func outputSize(photoWidth: Int, photoHeight: Int) throws -> (width: Int, height: Int) {
        guard doResize else { return try checked(photoWidth, photoHeight, photoWidth, photoHeight) }
        var scaleHeight = Double(height) / Double(photoHeight), scaleWidth = Double(width) / Double(photoWidth)
        if keepAspectRatio {
            if abs(1 - scaleWidth) < abs(1 - scaleHeight) { scaleHeight = scaleWidth } else { scaleWidth = scaleHeight }
        }
        func constrained(_ value: Double) -> Int {
            let steps = (value / Double(multiple)).rounded(.toNearestOrEven)
            return steps < Double(Int.max / (2 * multiple)) ? Int(steps) * multiple : Int.max / 2
        }
        return try checked(photoWidth, photoHeight, constrained(scaleWidth * Double(photoWidth)),
                           constrained(scaleHeight * Double(photoHeight)))
    }

    private func checked(_ photoWidth: Int, _ photoHeight: Int, _ w: Int, _ h: Int) throws -> (width: Int, height: Int) {
        guard w >= 1, h >= 1 else {
            throw DepthError.inputSize(photoWidth: photoWidth, photoHeight: photoHeight, width: w, height: h,
                                       reason: "a side rounds to 0 (the aspect ratio is too extreme for \(width)x\(height) "
                                           + "in multiples of \(multiple))")
        }
        let (pixels, overflow) = w.multipliedReportingOverflow(by: h)
        guard !overflow, pixels <= Self.maximumPixels else {
            throw DepthError.inputSize(photoWidth: photoWidth, photoHeight: photoHeight, width: w, height: h,
                                       reason: "more than \(Self.maximumPixels) pixels (give a smaller input size)")
        }
        return (w, h)
    }

    /// Resize, rescale and normalise: `[height, width, 3]` floats (HWC) at ``outputSize(photoWidth:photoHeight:)``.
    public func pixelValues(_ image: RGBImage) throws -> (values: [Float], width: Int, height: Int) {
        let resized = try self.resized(image)
        return (processor.normalized(resized), resized.width, resized.height)
    }

    /// Step 2 alone: the 8-bit image at the output size.
    public func resized(_ image: RGBImage) throws -> RGBImage {
        let (w, h) = try outputSize(photoWidth: image.width, photoHeight: image.height)
        guard w != image.width || h != image.height else { return image }
        return try processor.resample.resize(image, width: w, height: h, backend: processor.backend)
    }

    /// `[images.count, height, width, 3]`; every image must preprocess to the same size.
    /// - Throws: ``DepthError/inputSize(photoWidth:photoHeight:width:height:reason:)`` when they do not.
    public func tensor(_ images: [RGBImage]) throws -> Tensor {
        let resized = try images.map { try self.resized($0) }
        guard let first = resized.first else { return Tensor(zeros: [0, height, width, 3]) }
        if let odd = resized.firstIndex(where: { $0.width != first.width || $0.height != first.height }) {
            throw DepthError.inputSize(photoWidth: images[odd].width, photoHeight: images[odd].height, width: resized[odd].width,
                                       height: resized[odd].height,
                                       reason: "image 0 preprocesses to \(first.width)x\(first.height): a batch needs one size")
        }
        let length = first.height * first.width * 3
        return try Tensor(unsafeUninitializedShape: [images.count, first.height, first.width, 3]) { buffer in
            for (i, image) in resized.enumerated() {
                try processor.normalize(image, into: UnsafeMutableBufferPointer(rebasing: buffer[i * length..<(i + 1) * length]))
            }
        }
    }
}

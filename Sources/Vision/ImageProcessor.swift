import Tensor

/// The pixel pipeline of Hugging Face's image processors, as `SegformerImageProcessor` runs
/// it, value for value, in either of transformers' backends (``ResizeBackend``):
///
/// 1. **resize** (`do_resize`) of the 8-bit RGB image to an 8-bit result with `resample`
///    (``PILResample``; SegFormer's default is bilinear, antialiased when shrinking):
///    Pillow's `resize((width, height), resample)` for `.pil`, torchvision's antialiased
///    uint8 `resize` for `.torchvision`;
/// 2. **rescale** (`do_rescale`) and 3. **normalize** (`do_normalize`):
///    - `.pil` (`PilBackend`, transformers 4): `x * rescale_factor` in double precision rounded
///      to float32 (`rescale` upcasts to float64), then `(x - mean[c]) / std[c]` in float32 with
///      `mean` and `std` rounded to float32 (`normalize`);
///    - `.torchvision` (`TorchvisionBackend`, transformers 5's default): both fused into one
///      float32 `(x - m[c]) / s[c]` with `m = float32(mean) * float32(1 / rescale_factor)` and
///      `s` likewise (`_fuse_mean_std_and_rescale_factor`); rescale alone is
///      `x * float32(rescale_factor)`, normalize alone `(x - mean) / std`, all in float32.
///
/// The two backends differ by one 8-bit level at a few pixels (torchvision quantises the
/// weights to int16) and by float rounding below 1e-6 after normalising.
///
/// The output is channels-last, `[height, width, 3]` row-major (transformers returns NCHW:
/// transpose `(1, 2, 0)` of one of its images is this). Each step is a pure function of the 8-bit
/// value and channel, so it runs from a 256-entry table per channel.
///
/// ```swift
/// let processor = try ImageProcessor.segformer(height: 512, width: 512)
/// let values = try processor.pixelValues(photo)          // [512, 512, 3] floats, normalised
/// let batch = try processor.tensor([photo, other])       // [2, 512, 512, 3]
/// ```
public struct ImageProcessor: Sendable, Equatable {
    /// ImageNet's channel means (RGB), transformers' `IMAGENET_DEFAULT_MEAN`.
    public static let imageNetMean: [Double] = [0.485, 0.456, 0.406]
    /// ImageNet's channel standard deviations (RGB), transformers' `IMAGENET_DEFAULT_STD`.
    public static let imageNetStd: [Double] = [0.229, 0.224, 0.225]

    /// Target size of the resize (`size["height"]`, `size["width"]`).
    public let height: Int
    public let width: Int
    public let resample: PILResample
    /// Whose resize and float arithmetic to reproduce.
    public let backend: ResizeBackend
    public let doResize: Bool
    public let doRescale: Bool
    public let rescaleFactor: Double
    public let doNormalize: Bool
    /// Per channel (R, G, B).
    public let mean: [Double]
    public let std: [Double]

    /// Per channel, the output value of each 8-bit input value: `[3 * 256]`.
    private let table: [Float]

    /// - Throws: ``ImageError/invalidArgument(detail:)`` when the size is <= 0, `mean` or `std`
    ///   does not hold 3 values, a standard deviation is 0 or not finite, a value is not
    ///   finite, or `resample` is one torchvision lacks (box, hamming, lanczos) with `.torchvision`.
    public init(height: Int, width: Int, resample: PILResample = .bilinear, backend: ResizeBackend = .torchvision,
                doResize: Bool = true,
                doRescale: Bool = true, rescaleFactor: Double = 1.0 / 255.0, doNormalize: Bool = true,
                mean: [Double] = ImageProcessor.imageNetMean, std: [Double] = ImageProcessor.imageNetStd) throws {
        guard height > 0, width > 0 else {
            throw ImageError.invalidArgument(detail: "image processor size \(height)x\(width) (height x width must be > 0)")
        }
        guard mean.count == 3, std.count == 3 else {
            throw ImageError.invalidArgument(
                detail: "image processor mean \(mean) and std \(std) must hold 3 values (R, G, B)")
        }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && Float($0) != 0 }) else {
            throw ImageError.invalidArgument(
                detail: "image processor mean \(mean) / std \(std): values must be finite and std non-zero")
        }
        guard rescaleFactor.isFinite, rescaleFactor != 0 || !(doRescale && doNormalize) else {
            throw ImageError.invalidArgument(detail: "image processor rescale factor \(rescaleFactor) is not finite and non-zero")
        }
        try resample.check(fromWidth: 1, fromHeight: 1, toWidth: width, toHeight: height, backend: backend)
        self.height = height
        self.width = width
        self.resample = resample
        self.backend = backend
        self.doResize = doResize
        self.doRescale = doRescale
        self.rescaleFactor = rescaleFactor
        self.doNormalize = doNormalize
        self.mean = mean
        self.std = std
        self.table = Self.table(backend: backend, doRescale: doRescale, rescaleFactor: rescaleFactor,
                                doNormalize: doNormalize, mean: mean, std: std)
    }

    /// `SegformerImageProcessor()`'s defaults at `height` x `width`: bilinear resize, rescale
    /// 1/255, ImageNet mean and std (`backend: .pil` for `SegformerImageProcessorPil`).
    public static func segformer(height: Int = 512, width: Int = 512,
                                 backend: ResizeBackend = .torchvision) throws -> ImageProcessor {
        try ImageProcessor(height: height, width: width, backend: backend)
    }

    /// Per channel, the float each 8-bit value becomes: `[3 * 256]`.
    private static func table(backend: ResizeBackend, doRescale: Bool, rescaleFactor: Double, doNormalize: Bool,
                              mean: [Double], std: [Double]) -> [Float] {
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            var m = Float(mean[c]), s = Float(std[c])
            if backend == .torchvision && doRescale && doNormalize {
                let inverse = Float(1.0 / rescaleFactor)
                m *= inverse
                s *= inverse
            }
            for v in 0..<256 {
                var x: Float
                switch backend {
                case .pil:
                    x = doRescale ? Float(Double(v) * rescaleFactor) : Float(v)
                    if doNormalize { x = (x - m) / s }
                case .torchvision:
                    x = Float(v)
                    if doNormalize { x = (x - m) / s } else if doRescale { x *= Float(rescaleFactor) }
                }
                table[c * 256 + v] = x
            }
        }
        return table
    }

    public static func == (a: ImageProcessor, b: ImageProcessor) -> Bool {
        a.height == b.height && a.width == b.width && a.resample == b.resample && a.backend == b.backend
            && a.doResize == b.doResize
            && a.doRescale == b.doRescale && a.rescaleFactor == b.rescaleFactor && a.doNormalize == b.doNormalize
            && a.mean == b.mean && a.std == b.std
    }

    /// The size of ``pixelValues(_:)``'s output for `image`: the target size, or the image's
    /// own when ``doResize`` is off.
    public func outputSize(for image: RGBImage) -> (width: Int, height: Int) {
        doResize ? (width, height) : (image.width, image.height)
    }

    /// Step 1 alone: the 8-bit image PIL's resize gives (the image itself when ``doResize`` is
    /// off or it already has the target size).
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for an empty image.
    public func resized(_ image: RGBImage) throws -> RGBImage {
        guard doResize else { return image }
        return try resample.resize(image, width: width, height: height, backend: backend)
    }

    /// Resize, rescale and normalise: `[height, width, 3]` floats, row-major (HWC).
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for an empty image.
    public func pixelValues(_ image: RGBImage) throws -> [Float] {
        normalized(try resized(image))
    }

    /// Steps 2 and 3 alone (rescale and normalise, no resize): `[image.height, image.width, 3]`
    /// floats, e.g. for an image an augmentation has already resized and cropped.
    public func normalized(_ image: RGBImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: image.pixels.count) { out, initialized in
            write(image, into: out)
            initialized = image.pixels.count
        }
    }

    /// Writes ``normalized(_:)`` of `image` into `out` (`image.pixels.count` floats).
    /// - Throws: ``ImageError/invalidArgument(detail:)`` when `out` has another length.
    public func normalize(_ image: RGBImage, into out: UnsafeMutableBufferPointer<Float>) throws {
        guard out.count == image.pixels.count else {
            throw ImageError.invalidArgument(
                detail: "buffer of \(out.count) floats for a \(image.width)x\(image.height)x3 image")
        }
        write(image, into: out)
    }

    /// A `[images.count, height, width, 3]` tensor of ``pixelValues(_:)`` of each image.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for an empty image, or, with
    ///   ``doResize`` off, images of different sizes.
    public func tensor(_ images: [RGBImage]) throws -> Tensor {
        let resized = try images.map { try self.resized($0) }
        let (w, h) = resized.first.map { ($0.width, $0.height) } ?? (width, height)
        if let odd = resized.firstIndex(where: { $0.width != w || $0.height != h }) {
            throw ImageError.invalidArgument(
                detail: "image \(odd) is \(resized[odd].width)x\(resized[odd].height), image 0 is \(w)x\(h): "
                    + "a batch needs one size (turn doResize on)")
        }
        let length = h * w * 3
        return Tensor(unsafeUninitializedShape: Shape([images.count, h, w, 3])) { buffer in
            for (i, image) in resized.enumerated() {
                write(image, into: UnsafeMutableBufferPointer(rebasing: buffer[i * length..<(i + 1) * length]))
            }
        }
    }

    private func write(_ image: RGBImage, into out: UnsafeMutableBufferPointer<Float>) {
        table.withUnsafeBufferPointer { t in
            image.pixels.withUnsafeBufferPointer { src in
                var i = 0
                while i + 2 < src.count {
                    out[i] = t[Int(src[i])]
                    out[i + 1] = t[256 + Int(src[i + 1])]
                    out[i + 2] = t[512 + Int(src[i + 2])]
                    i += 3
                }
            }
        }
    }
}

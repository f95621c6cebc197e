/// Pillow's `Image.resize` filters, reproduced bit for bit on 8-bit images (what Hugging Face's
/// image processors call: `SegformerImageProcessor` resizes with `BILINEAR`, `DPTImageProcessor`
/// with `BICUBIC`, segmentation maps with `NEAREST`).
///
/// The convolution filters follow Pillow's `libImaging/Resample.c`: a separable two-pass
/// resample whose kernel support is widened by the scale factor when shrinking (so shrinking
/// antialiases: every source pixel contributes), weights normalised to sum 1 and converted to
/// 22-bit fixed point, each pass accumulated in integers and clipped to 0...255 (the image
/// between the passes is 8-bit). A pass whose size is unchanged is skipped; when both are
/// needed the order is Pillow 13's (vertical first when the height shrinks by more than twice
/// as many pixels as the width, else horizontal first). Resizing to the image's own size
/// returns it unchanged, as Pillow does.
///
/// With ``ResizeBackend/torchvision`` the same filters run as torchvision's `resize` of a uint8
/// tensor (antialiased, what transformers 5's default image processors do): see
/// ``resize(_:width:height:backend:)``.
///
/// ```swift
/// let small = try PILResample.bilinear.resize(photo, width: 512, height: 512)   // == PIL's uint8 result
/// let tv = try PILResample.bilinear.resize(photo, width: 512, height: 512, backend: .torchvision)
/// ```
public enum PILResample: String, Sendable, CaseIterable, Codable {
    /// `Image.NEAREST` (0): the pixel under `floor((x + 0.5) * in / out)` (Pillow accumulates
    /// the position in double precision, reproduced here).
    case nearest
    /// `Image.BOX` (4): each output pixel the mean of the source pixels it covers.
    case box
    /// `Image.BILINEAR` (2): triangle filter, support 1 (widened when shrinking).
    case bilinear
    /// `Image.HAMMING` (5): Hamming-windowed sinc, support 1.
    case hamming
    /// `Image.BICUBIC` (3): cubic convolution with `a = -0.5`, support 2 (can overshoot; clipped).
    case bicubic
    /// `Image.LANCZOS` (1): Lanczos-3, support 3.
    case lanczos

    /// Pillow's `Image.Resampling` number, as `preprocessor_config.json`'s `"resample"` holds it.
    public var pillowCode: Int {
        switch self {
        case .nearest: return 0
        case .lanczos: return 1
        case .bilinear: return 2
        case .bicubic: return 3
        case .box: return 4
        case .hamming: return 5
        }
    }

    /// The filter with Pillow's number `pillowCode` (0...5); nil for any other number.
    public init?(pillowCode: Int) {
        guard let filter = PILResample.allCases.first(where: { $0.pillowCode == pillowCode }) else { return nil }
        self = filter
    }

    /// `image.resize((width, height), filter)` in Pillow (or, with `backend: .torchvision`,
    /// torchvision's `resize(tensor, [height, width], filter, antialias=True)` of the uint8
    /// tensor), for an RGB image: 8-bit RGB out.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for a size <= 0, an empty image, or a
    ///   filter torchvision does not have for tensors (box, hamming, lanczos).
    public func resize(_ image: RGBImage, width: Int, height: Int, backend: ResizeBackend = .pil) throws -> RGBImage {
        try check(fromWidth: image.width, fromHeight: image.height, toWidth: width, toHeight: height, backend: backend)
        let pixels = resample(image.pixels, width: image.width, height: image.height, channels: 3,
                              toWidth: width, toHeight: height, flavor: backend.flavor)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// As ``resize(_:width:height:backend:)``, for an "L" image.
    public func resize(_ image: GrayImage, width: Int, height: Int, backend: ResizeBackend = .pil) throws -> GrayImage {
        try check(fromWidth: image.width, fromHeight: image.height, toWidth: width, toHeight: height, backend: backend)
        let pixels = resample(image.pixels, width: image.width, height: image.height, channels: 1,
                              toWidth: width, toHeight: height, flavor: backend.flavor)
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// Any interleaved 8-bit image (sizes and backend checked by the caller).
    func resample(_ pixels: [UInt8], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int,
                  flavor: PILResampleKernel.Flavor = .pillow(.pillow13)) -> [UInt8] {
        let filter: PILConvolutionFilter
        switch self {
        case .nearest:
            if flavor == .torchvision {
                return PILResampleKernel.nearestExact(pixels, width: width, height: height, channels: channels,
                                                      toWidth: toWidth, toHeight: toHeight)
            }
            return PILResampleKernel.nearest(pixels, width: width, height: height, channels: channels,
                                             toWidth: toWidth, toHeight: toHeight)
        case .box: filter = .box
        case .bilinear: filter = .bilinear
        case .hamming: filter = .hamming
        case .bicubic: filter = .bicubic
        case .lanczos: filter = .lanczos
        }
        return PILResampleKernel.resample(pixels, width: width, height: height, channels: channels,
                                          toWidth: toWidth, toHeight: toHeight, filter: filter, flavor: flavor)
    }

    func check(fromWidth: Int, fromHeight: Int, toWidth: Int, toHeight: Int, backend: ResizeBackend) throws {
        guard fromWidth > 0, fromHeight > 0 else {
            throw ImageError.invalidArgument(detail: "cannot resize an empty \(fromWidth)x\(fromHeight) image")
        }
        guard toWidth > 0, toHeight > 0 else {
            throw ImageError.invalidArgument(
                detail: "cannot resize \(fromWidth)x\(fromHeight) to \(toWidth)x\(toHeight) (sizes must be > 0)")
        }
        if backend == .torchvision, ![.nearest, .bilinear, .bicubic].contains(self) {
            throw ImageError.invalidArgument(
                detail: "torchvision resizes tensors with nearest, bilinear or bicubic only, not \(rawValue)")
        }
    }
}

/// Whose resize an 8-bit resample reproduces: Hugging Face image processors have two backends
/// that differ by a unit here and there.
public enum ResizeBackend: String, Sendable, CaseIterable, Codable {
    /// Pillow's `Image.resize` (transformers' `PilBackend`, e.g. `SegformerImageProcessorPil`,
    /// and every processor of transformers 4).
    case pil
    /// torchvision's `resize` of a uint8 tensor with `antialias=True` on a CPU (transformers 5's
    /// default `TorchvisionBackend`, e.g. `SegformerImageProcessor`): Pillow's weights quantised
    /// to int16 (PyTorch's `UpSampleKernel.cpp`), always horizontal first; `NEAREST` is
    /// PyTorch's `nearest-exact`.
    case torchvision

    var flavor: PILResampleKernel.Flavor { self == .pil ? .pillow(.pillow13) : .torchvision }
}

import Tensor

/// How pixel values (0-255, RGB) become model inputs.
public enum Preprocessing: Sendable, Equatable {
    /// Unchanged: RGB on the 0-255 scale.
    case raw
    /// `x * (1/255)`, RGB in [0, 1]: Keras' `rescale=1/255` / `Rescaling(1/255)`, the paper's choice.
    case unit
    /// Keras' ImageNet "caffe" mode (`vgg16.preprocess_input`): channels reversed to BGR, then
    /// 103.939, 116.779, 123.68 subtracted from B, G, R.
    case caffe
    /// Keras' "tf" mode (`mobilenet_v2.preprocess_input`): `x / 127.5 - 1`, RGB in [-1, 1].
    case tf

    /// Keras' caffe means in B, G, R order.
    public static let caffeMeanBGR: (Float, Float, Float) = (103.939, 116.779, 123.68)

    /// Rewrites `pixels` RGB triples (0-255) in place into the model's channels.
    @inline(__always)
    func apply(_ values: UnsafeMutablePointer<Float>, pixels: Int) {
        switch self {
        case .raw:
            return
        case .unit:
            let scale: Float = 1 / 255
            for i in 0..<pixels * 3 { values[i] *= scale }
        case .tf:
            let scale: Float = 1 / 127.5
            for i in 0..<pixels * 3 { values[i] = values[i] * scale - 1 }
        case .caffe:
            let (mb, mg, mr) = Preprocessing.caffeMeanBGR
            for p in 0..<pixels {
                let v = values + p * 3
                let r = v[0], g = v[1], b = v[2]
                v[0] = b - mb
                v[1] = g - mg
                v[2] = r - mr
            }
        }
    }
}

/// Turns images into NHWC model input: resize and preprocessing in one pass per output row,
/// rows of all images spread over the cores.
public enum ModelInput {
    /// A `[images.count, height, width, 3]` tensor. Images may differ in size; each is resized
    /// to `height` x `width` (aspect ratio not kept, as Keras does) and then preprocessed.
    public static func tensor(_ images: [RGBImage], height: Int, width: Int, method: ResizeMethod = .bilinear,
                              preprocessing: Preprocessing = .unit) -> Tensor {
        precondition(height > 0 && width > 0, "model input size \(height)x\(width)")
        let imageLength = height * width * 3
        return Tensor(unsafeUninitializedShape: Shape([images.count, height, width, 3])) { buffer in
            guard !images.isEmpty else { return }
            let base = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachRange(images.count * height, grain: height) { rows in
                var current = -1
                var sampler: Resampler? = nil
                for unit in rows {
                    let index = unit / height, y = unit % height
                    let image = images[index]
                    if index != current {
                        current = index
                        precondition(image.width > 0 && image.height > 0, "image \(index) is empty")
                        sampler = Resampler(width: image.width, height: image.height, channels: 3,
                                            toWidth: width, toHeight: height, method: method)
                    }
                    let out = base.value + index * imageLength + y * width * 3
                    image.pixels.withUnsafeBufferPointer { sampler!.row(y, from: $0.baseAddress!, into: out) }
                    preprocessing.apply(out, pixels: width)
                }
            }
        }
    }

    /// A `[images.count, size, size, 3]` tensor.
    public static func tensor(_ images: [RGBImage], size: Int, method: ResizeMethod = .bilinear,
                              preprocessing: Preprocessing = .unit) -> Tensor {
        tensor(images, height: size, width: size, method: method, preprocessing: preprocessing)
    }

    /// A `[1, size, size, 3]` tensor of one image.
    public static func tensor(_ image: RGBImage, size: Int, method: ResizeMethod = .bilinear,
                              preprocessing: Preprocessing = .unit) -> Tensor {
        tensor([image], height: size, width: size, method: method, preprocessing: preprocessing)
    }

    /// Writes one image, resized and preprocessed, into `out` (`height * width * 3` floats),
    /// e.g. one slot of a batch buffer a data loader fills from several threads.
    public static func write(_ image: RGBImage, height: Int, width: Int, method: ResizeMethod = .bilinear,
                             preprocessing: Preprocessing = .unit, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == height * width * 3, "buffer of \(out.count) floats for \(height)x\(width)x3")
        precondition(image.width > 0 && image.height > 0, "cannot resize an empty image")
        let sampler = Resampler(width: image.width, height: image.height, channels: 3,
                                toWidth: width, toHeight: height, method: method)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let row = out.baseAddress! + y * width * 3
                sampler.row(y, from: src.baseAddress!, into: row)
                preprocessing.apply(row, pixels: width)
            }
        }
    }
}

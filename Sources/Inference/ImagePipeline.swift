import Foundation
import Tensor
import Vision

/// How photos become model input: decode (with JPEG DCT scaling to just above the model size),
/// resize, preprocess. Shared by prediction, evaluation and training so they see identical input.
public struct ImagePipeline: Sendable, Equatable {
    /// Model input height and width.
    public var imageSize: Int
    public var resize: ResizeMethod
    public var preprocessing: Preprocessing

    public init(imageSize: Int = 150, resize: ResizeMethod = .bilinear, preprocessing: Preprocessing = .unit) {
        self.imageSize = imageSize
        self.resize = resize
        self.preprocessing = preprocessing
    }

    /// Decodes `files` in parallel; each entry is the image or the error naming that file.
    public func decode(_ files: [URL]) -> [Result<RGBImage, ImageError>] {
        var results = [Result<RGBImage, ImageError>](repeating: .failure(.empty(file: "")), count: files.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachRange(files.count) { range in
                for i in range {
                    do {
                        let image = try ImageDecoder.decode(contentsOf: files[i],
                                                            atLeast: (imageSize, imageSize))
                        out.value[i] = .success(image)
                    } catch let error as ImageError {
                        out.value[i] = .failure(error)
                    } catch {
                        out.value[i] = .failure(.unreadable(file: files[i].path, reason: "\(error)"))
                    }
                }
            }
        }
        return results
    }

    /// `[images.count, imageSize, imageSize, 3]`
    public func tensor(_ images: [RGBImage]) -> Tensor {
        ModelInput.tensor(images, height: imageSize, width: imageSize, method: resize, preprocessing: preprocessing)
    }
}

import Foundation
import Inference
import Markup
import Tensor
import Vision

/// Labelled photos given as a list of files named by bytes (no folder layout): what
/// ``VerifiedDataset`` builds from verified labels and training folders together.
///
/// A path that is UTF-8 is decoded from the file as ``ImageFolderExamples`` does (so the same
/// photo gives the same input either way); one that is not is read with POSIX calls and
/// decoded from memory. ``identifier(_:)`` is the path as Rubble shows names (``FileName``).
public struct PhotoListExamples: LabelledExamples {
    /// One photo: the bytes to open and the name reports show.
    public struct Photo: Sendable, Equatable {
        public var path: [UInt8]
        public var shownPath: String

        public init(path: [UInt8], shownPath: String? = nil) {
            self.path = path
            self.shownPath = shownPath ?? FileName.escape(path)
        }
    }

    public let classNames: [String]
    public let photos: [Photo]
    public let labels: [Int]
    public let pipeline: ImagePipeline

    /// Every label must be in `0..<classNames.count`.
    public init(photos: [Photo], labels: [Int], classNames: [String], pipeline: ImagePipeline = ImagePipeline()) throws {
        guard photos.count == labels.count else {
            throw DatasetError.invalidArgument("\(photos.count) photos but \(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classNames.count }) {
            throw DatasetError.invalidArgument("label \(bad) outside 0..<\(classNames.count) (\(classNames))")
        }
        self.classNames = classNames
        self.photos = photos
        self.labels = labels
        self.pipeline = pipeline
    }

    public var count: Int { photos.count }

    public func identifier(_ index: Int) -> String { photos[index].shownPath }

    /// `[indices.count, imageSize, imageSize, 3]`, decoded in parallel, resized and preprocessed
    /// by ``pipeline``, then augmented when asked.
    /// - Throws: ``DatasetError/unreadableFile(path:reason:)`` for the first photo (in `indices`
    ///   order) that cannot be read or decoded.
    public func inputs(_ indices: [Int], augmentation: Augmentation?, seed: UInt64) throws -> Tensor {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DatasetError.invalidArgument("example index \(bad) outside 0..<\(count)")
        }
        let chosen = indices.map { photos[$0] }
        let size = (pipeline.imageSize, pipeline.imageSize)
        var results = [Result<RGBImage, DatasetError>](repeating: .failure(.invalidArgument("")), count: chosen.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachRange(chosen.count) { range in
                for i in range {
                    out.value[i] = Self.decode(chosen[i], atLeast: size)
                }
            }
        }
        var images: [RGBImage] = []
        images.reserveCapacity(chosen.count)
        for result in results { images.append(try result.get()) }
        var batch = pipeline.tensor(images)
        if let augmentation { augmentation.apply(to: &batch, seed: seed, preprocessing: pipeline.preprocessing) }
        return batch
    }

    static func decode(_ photo: Photo, atLeast size: (Int, Int)) -> Result<RGBImage, DatasetError> {
        do {
            if let path = String(validating: photo.path, as: UTF8.self) {
                return .success(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path), atLeast: size))
            }
            let data = try BytePath.read(photo.path)
            return .success(try ImageDecoder.decode(data: data, name: photo.shownPath, atLeast: size))
        } catch {
            return .failure(.unreadableFile(path: photo.shownPath, reason: ImageFolderExamples.reason(photo.shownPath, error)))
        }
    }
}

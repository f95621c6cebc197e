import Foundation
import HuggingFaceFiles
import Layers
import Segmentation
import Tensor
import Vision

/// The depth model's output for one photo.
public struct DepthPrediction: Sendable {
    /// `[height, width]` at the model's input resolution (the preprocessed photo's size floored
    /// to whole patches): transformers' `predicted_depth[i]`, what `rubble segment` writes as
    /// `<stem>_depth.npy`.
    public let values: Tensor
    /// Relative inverse depth (larger is nearer) or metric depth (metres).
    public let type: DepthAnythingConfiguration.DepthEstimationType
    /// Preprocessing and the model, in milliseconds (per photo when run in a batch).
    public let milliseconds: Double

    public var width: Int { values.shape[1] }
    public var height: Int { values.shape[0] }

    /// The relative depth the severity score weighs pixels by (``DepthMap/relative(disparity:width:height:file:)``
    /// for relative models, ``DepthMap/relative(metricDepth:width:height:file:)`` for metric
    /// ones), at the model's resolution; `file` names the photo in errors.
    public func relativeDepth(file: String? = nil) throws -> DepthMap {
        switch type {
        case .relative: return try DepthMap.relative(disparity: values.scalars, width: width, height: height, file: file)
        case .metric: return try DepthMap.relative(metricDepth: values.scalars, width: width, height: height, file: file)
        }
    }
}

/// A Depth Anything with its preprocessing: photos in, depth maps out.
public struct DepthEstimator: @unchecked Sendable {
    public let model: DepthAnything
    public let preprocessor: DepthPreprocessor

    /// The folder's model and `preprocessor_config.json` (Depth Anything's defaults, 518, when
    /// absent); `inputSize` replaces the processor's size.
    public init(folder: URL, inputSize: Int? = nil) throws {
        let model = try DepthAnythingFolder.load(folder)
        let configuration = try ImageProcessorConfiguration.load(folder: folder, default: .depthAnythingDefaults)
        let file = folder.appendingPathComponent(ImageProcessorConfiguration.fileName).path
        try self.init(model: model, preprocessor: DepthPreprocessor(configuration: configuration, inputSize: inputSize, file: file))
    }

    public init(model: DepthAnything, preprocessor: DepthPreprocessor) throws {
        self.model = model
        self.preprocessor = preprocessor
    }

    /// The depth of each photo, in order. Photos that preprocess to the same size go through
    /// the model as one batch (items side by side on the cores); the milliseconds of a batch are
    /// shared by its photos.
    /// - Throws: ``DepthError`` for a photo whose preprocessed size is refused or a non-finite output.
    public func predict(_ photos: [RGBImage]) throws -> [DepthPrediction] {
        var groups: [[Int]] = [], sizes: [(Int, Int)] = []
        for (index, photo) in photos.enumerated() {
            let size = try preprocessor.outputSize(photoWidth: photo.width, photoHeight: photo.height)
            if let group = sizes.firstIndex(where: { $0 == (size.width, size.height) }) {
                groups[group].append(index)
            } else {
                sizes.append((size.width, size.height))
                groups.append([index])
            }
        }
        var results = [DepthPrediction?](repeating: nil, count: photos.count)
        for group in groups {
            let start = DispatchTime.now().uptimeNanoseconds
            let input = try preprocessor.tensor(group.map { photos[$0] })
            let depth = try withoutGradients { try model(input, training: false) }
            guard depth.isFinite else { throw DepthError.notFinite(what: "the depth model's output") }
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(group.count)
            let (h, w) = (depth.shape[1], depth.shape[2])
            depth.withUnsafeBufferPointer { all in
                for (offset, index) in group.enumerated() {
                    let own = Tensor(Array(all[(offset * h * w)..<((offset + 1) * h * w)]), shape: [h, w])
                    results[index] = DepthPrediction(values: own, type: model.configuration.depthEstimationType,
                                                     milliseconds: milliseconds)
                }
            }
        }
        return results.compactMap { $0 }
    }
}

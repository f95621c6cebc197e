import Foundation
import Layers
import Tensor
import Vision

/// Class probabilities for image files, in batches, without recording gradients.
public struct ImagePredictor {
    public let model: any Layer
    public let pipeline: ImagePipeline
    public let batchSize: Int

    public init(model: any Layer, pipeline: ImagePipeline, batchSize: Int = 32) {
        self.model = model
        self.pipeline = pipeline
        self.batchSize = max(1, batchSize)
    }

    /// One file's outcome: its probabilities (one per class) or why it could not be read.
    public struct Prediction {
        public let file: URL
        public let probabilities: Result<[Float], any Error>
        public let milliseconds: Double
    }

    /// Predicts `files` batch by batch, handing each result to `report` in input order.
    /// A file that cannot be decoded is reported as a failure; the others still run. So is a
    /// file whose probabilities are not finite (`InferenceError.nonFiniteOutput`): a NaN is
    /// never handed on as a prediction.
    public func predict(_ files: [URL], report: (Prediction) throws -> Void) throws {
        var start = 0
        while start < files.count {
            let batch = Array(files[start..<min(start + batchSize, files.count)])
            let clock = ContinuousClock.now
            let decoded = pipeline.decode(batch)
            let images = decoded.compactMap { try? $0.get() }
            var probabilities: [[Float]] = []
            if !images.isEmpty {
                let output = try withoutGradients { try model(pipeline.tensor(images)) }
                let classes = output.shape[1]
                let values = output.scalars
                probabilities = (0..<images.count).map { Array(values[$0 * classes..<($0 + 1) * classes]) }
            }
            let elapsed = ContinuousClock.now - clock
            let perImage = Double(elapsed.components.attoseconds) / 1e15 / Double(batch.count)
                + Double(elapsed.components.seconds) * 1000 / Double(batch.count)
            var next = 0
            for (file, result) in zip(batch, decoded) {
                switch result {
                case .success:
                    let row = probabilities[next]
                    let outcome: Result<[Float], any Error> = row.allSatisfy(\.isFinite)
                        ? .success(row) : .failure(InferenceError.nonFiniteOutput(file: file.path))
                    try report(Prediction(file: file, probabilities: outcome, milliseconds: perImage))
                    next += 1
                case .failure(let error):
                    try report(Prediction(file: file, probabilities: .failure(error), milliseconds: 0))
                }
            }
            start += batch.count
        }
    }
}

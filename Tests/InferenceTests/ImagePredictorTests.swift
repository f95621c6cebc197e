import Foundation
import Inference
import Layers
import Tensor
import Vision
import XCTest

/// `ImagePredictor`: one outcome per file in input order, unreadable files and non-finite
/// outputs as failures, batches of `batchSize`.
final class ImagePredictorTests: XCTestCase {
    /// Returns the rows of `outputs` in turn (one per image) and records the batch sizes.
    final class FixedOutputs: Layer {
        let name = "fixed"
        let outputs: [[Float]]
        var parameters: [Parameter] { [] }
        private(set) var batches: [Int] = []
        private(set) var inputShapes: [Shape] = []
        init(_ outputs: [[Float]]) { self.outputs = outputs }
        func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
            let n = input.shape[0], k = outputs[0].count
            inputShapes.append(input.shape)
            var values: [Float] = []
            for i in 0..<n { values += outputs[(batches.reduce(0, +) + i) % outputs.count] }
            batches.append(n)
            return Tensor(values, shape: Shape([n, k]))
        }
    }

    private func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-inference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testOutcomesComeInInputOrderWithFailuresInPlace() throws {
        let root = try folder()
        var files: [URL] = []
        for i in 0..<5 {
            let url = root.appendingPathComponent("\(i).png")
            if i == 2 {
                try Data("not an image".utf8).write(to: url)
            } else {
                try ImageEncoder.writePNG(RGBImage(width: 20, height: 12) { x, y in (UInt8(x * 10), UInt8(y * 20), UInt8(i * 40)) },
                                          to: url)
            }
            files.append(url)
        }
        let model = FixedOutputs([[0.25, 0.75], [.nan, 0.5], [0.9, 0.1]])
        let predictor = ImagePredictor(model: model, pipeline: ImagePipeline(imageSize: 8), batchSize: 3)
        var seen: [ImagePredictor.Prediction] = []
        try predictor.predict(files) { seen.append($0) }

        XCTAssertEqual(seen.map(\.file), files)
        XCTAssertEqual(model.batches, [2, 2], "batches of 3 files, the unreadable one not run")
        XCTAssertEqual(model.inputShapes, [Shape([2, 8, 8, 3]), Shape([2, 8, 8, 3])])
        XCTAssertEqual(try seen[0].probabilities.get(), [0.25, 0.75])
        XCTAssertThrowsError(try seen[1].probabilities.get()) { error in
            XCTAssertEqual(error as? InferenceError, .nonFiniteOutput(file: files[1].path))
            XCTAssertTrue("\(error)".contains("not finite"), "\(error)")
        }
        XCTAssertThrowsError(try seen[2].probabilities.get()) { error in
            XCTAssertTrue(error is ImageError, "\(error)")
        }
        XCTAssertEqual(seen[2].milliseconds, 0)
        XCTAssertEqual(try seen[3].probabilities.get(), [0.9, 0.1])
        XCTAssertEqual(try seen[4].probabilities.get(), [0.25, 0.75])
    }

    func testPipelineTensorHasTheModelInputShape() throws {
        let image = RGBImage(width: 30, height: 10) { x, _ in (UInt8(x), 255, 0) }
        let unit = ImagePipeline(imageSize: 6).tensor([image, image])
        XCTAssertEqual(unit.shape, Shape([2, 6, 6, 3]))
        XCTAssertTrue(unit.scalars.allSatisfy { (0...1).contains($0) })
        XCTAssertEqual(ImagePredictor(model: FixedOutputs([[1]]), pipeline: ImagePipeline(), batchSize: 0).batchSize, 1)
    }
}

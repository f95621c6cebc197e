import Foundation
import HuggingFaceFiles
import Tensor
import TestSupport
import Vision
import XCTest
@testable import Segmentation

/// Photos to masks and severity, against transformers' whole pipeline
/// (`make_pipeline_fixtures.py`: AutoImageProcessor, the model, post_process_semantic_segmentation).
final class SegmenterTests: XCTestCase {
    func testThePipelineMatchesTransformers() throws {
        let segmenter = try Segmenter(folder: SegformerFixtureTests.folder)
        XCTAssertEqual(segmenter.processor.height, 64, "the size comes from preprocessor_config.json")
        let photo = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        let result = try XCTUnwrap(try segmenter.segment([photo]).first)
        let logits = try Fixtures.tensor("segformer/pipeline_logits")
        XCTAssertEqual(result.logits.shape, logits.shape)
        XCTAssertLessThan(result.logits.maxAbsDifference(logits), 1e-4)
        let expected = try Fixtures.tensor("segformer/pipeline_mask").scalars.map { UInt8($0) }
        XCTAssertEqual(result.mask.width, 97); XCTAssertEqual(result.mask.height, 61)
        let disagreements = zip(result.mask.indices, expected).filter { $0 != $1 }.count
        // Pixels whose two best interpolated logits are within float32 round-off may flip.
        XCTAssertLessThanOrEqual(disagreements, 3, "\(disagreements) of \(expected.count) pixels differ")
        // The severity follows from the mask: v = 0, 0.5, 1 over every pixel (all are structure here).
        let counts = (0..<3).map { c in result.mask.indices.filter { $0 == c }.count }
        let formula = (0.5 * Double(counts[1]) + Double(counts[2])) / Double(counts.reduce(0, +))
        XCTAssertEqual(result.severity.score, formula, accuracy: 1e-12)
    }

    func testDepthWeightsTheScoreAndMustFitThePhoto() throws {
        let segmenter = try Segmenter(folder: SegformerFixtureTests.folder)
        let photo = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        // Depth 1 on the left half, 3 on the right: right-hand pixels weigh 9 times as much.
        let values = (0..<(61 * 97)).map { $0 % 97 < 48 ? Float(1) : 3 }
        let depth = try DepthMap(width: 97, height: 61, values: values)
        let result = try XCTUnwrap(try segmenter.segment([photo], depths: [depth]).first)
        var weighted = 0.0, area = 0.0
        for (p, c) in result.mask.indices.enumerated() {
            let a = Double(values[p] * values[p])
            weighted += a * [0, 0.5, 1][Int(c)]
            area += a
        }
        XCTAssertEqual(try XCTUnwrap(result.depthWeightedSeverity).score, weighted / area, accuracy: 1e-9)
        // The plain score stays unweighted.
        let counts = (0..<3).map { c in result.mask.indices.filter { $0 == c }.count }
        XCTAssertEqual(result.severity.score, (0.5 * Double(counts[1]) + Double(counts[2])) / Double(counts.reduce(0, +)),
                       accuracy: 1e-9)
        XCTAssertNil(try segmenter.segment([photo]).first?.depthWeightedSeverity)
        let tall = try DepthMap(width: 20, height: 40, values: [Float](repeating: 1, count: 800))
        XCTAssertThrowsError(try segmenter.segment([photo], depths: [tall])) { error in
            XCTAssertTrue("\(error)".contains("20") && "\(error)".contains("97"), "names both sizes: \(error)")
        }
    }

    func testOtherLabelSetsNeedTheirClassValues() throws {
        let model = try SegformerFolder.load(SegformerFixtureTests.folder) { $0.classNames = ["wall", "crack", "rubble"] }
        XCTAssertThrowsError(try Segmenter(model: model, processor: ImageProcessor.segformer(height: 64, width: 64))) { error in
            guard case SegmentationError.severityWeightsNeeded = error else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try Segmenter(model: model, processor: ImageProcessor.segformer(height: 64, width: 64),
                                       weights: SeverityWeights([0: 0, 1: 0.5, 2: 1])))
    }

    /// Opt-in: `RUBBLE_TRANSFORMERS_PYTHON=/path/to/python` (a virtualenv with torch and
    /// transformers) loads a folder Rubble saved with `from_pretrained` and compares its logits.
    func testTransformersLoadsASavedFolder() throws {
        guard let python = ProcessInfo.processInfo.environment["RUBBLE_TRANSFORMERS_PYTHON"] else {
            throw XCTSkip("set RUBBLE_TRANSFORMERS_PYTHON to a python with torch and transformers")
        }
        let model = try SegformerFolder.load(SegformerFixtureTests.folder)
        // Move every weight so the check cannot pass on the original file.
        for parameter in model.weights { parameter.value = parameter.value * 1.01 }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-saved-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try SegformerFolder.save(model, preprocessing: try ImageProcessorConfiguration.load(folder: SegformerFixtureTests.folder),
                                 to: folder)
        let x = try Fixtures.tensor("segformer/seg_pixel_values")
        let ours = try withoutGradients { try model(x.permuted([0, 2, 3, 1]).detached, training: false) }.permuted([0, 3, 1, 2])
        let output = folder.appendingPathComponent("theirs.npy")
        let script = """
            import numpy as np, torch
            from transformers import SegformerForSemanticSegmentation
            m = SegformerForSemanticSegmentation.from_pretrained("\(folder.path)").eval()
            with torch.no_grad(): y = m(pixel_values=torch.from_numpy(np.load("\(Fixtures.url("segformer/seg_pixel_values.npy").path)"))).logits
            np.save("\(output.path)", y.numpy())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "from_pretrained failed")
        let theirs = try NPYFile.read(output)
        XCTAssertLessThan(ours.maxAbsDifference(theirs), 1e-4)
    }
}

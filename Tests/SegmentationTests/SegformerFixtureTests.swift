import Foundation
import HuggingFaceFiles
import Layers
import Tensor
import TestSupport
import Train
import XCTest
@testable import Segmentation

/// SegFormer against transformers + PyTorch (`Tests/Fixtures/segformer/`, written by
/// `make_segformer_fixtures.py`): a small random model (hidden sizes 16/32/40/64, sr ratios
/// 8/4/2/1) as a Hugging Face folder, its stage outputs, logits, losses and one SGD / AdamW step.
///
/// `RUBBLE_SEGFORMER_FIXTURES=DIR` runs the same checks on another output of the generator, e.g.
/// `make_segformer_fixtures.py --out DIR --full` (SegFormer-B0's real sizes at 256x256).
final class SegformerFixtureTests: XCTestCase {
    /// The folder the generator wrote into.
    static let root: URL = ProcessInfo.processInfo.environment["RUBBLE_SEGFORMER_FIXTURES"]
        .map { URL(fileURLWithPath: $0, isDirectory: true) } ?? Fixtures.url("segformer")
    static let folder = Fixtures.url("segformer/segformer")
    var modelFolder: URL { Self.root.appendingPathComponent("segformer") }

    func fixture(_ name: String) throws -> Tensor { try NPYFile.read(Self.root.appendingPathComponent(name + ".npy")) }

    /// `[2, S, S, 3]` NHWC from the fixture's NCHW pixel values.
    func pixelValues() throws -> Tensor { try fixture("seg_pixel_values").permuted([0, 2, 3, 1]).detached }

    func labels() throws -> [Int32] { try fixture("seg_labels").scalars.map { Int32($0) } }

    /// The labels' side, S.
    func side() throws -> Int { try fixture("seg_labels").shape[1] }

    func nchw(_ nhwc: Tensor) -> Tensor { nhwc.permuted([0, 3, 1, 2]) }

    func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let difference = actual.maxAbsDifference(expected)
        XCTAssertLessThan(difference, tolerance, "\(what): max |difference| \(difference)", file: file, line: line)
    }

    func testStageOutputsAndLogitsMatchTransformers() throws {
        let model = try SegformerFolder.load(modelFolder)
        XCTAssertEqual(model.classNames, ["undamaged_structure", "damaged_structure", "debris"])
        // transformers' parameter count (manifest.json); the BatchNorm's running statistics are state.
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("manifest.json")))
        let expectedCount = try XCTUnwrap((manifest as? [String: Any])?["segformer_params"] as? Int)
        XCTAssertEqual(model.weights.reduce(0) { $0 + $1.value.count }, expectedCount)
        XCTAssertEqual(model.state.reduce(0) { $0 + $1.value.count }, 2 * model.configuration.decoderHiddenSize)
        let x = try pixelValues()
        let states = try withoutGradients { try model.hiddenStates(x, training: false) }
        for (index, state) in states.enumerated() {
            assertClose(nchw(state), try fixture("seg_hidden_\(index)"), tolerance: 1e-4, "stage \(index)")
        }
        let logits = try withoutGradients { try model(x, training: false) }
        assertClose(nchw(logits), try fixture("seg_logits"), tolerance: 1e-4, "logits")
    }

    /// Inference reorders the decode head's algebra (one matrix per stage, no concatenation);
    /// the graph-recording path computes it as transformers writes it. Both agree.
    func testInferenceDecodeHeadEqualsTheRecordedPath() throws {
        let model = try SegformerFolder.load(modelFolder)
        let x = try pixelValues()
        let fast = try withoutGradients { try model(x, training: false) }
        let recorded = try model(x.requiringGradient(), training: false)
        assertClose(fast, recorded.detached, tolerance: 2e-5, "fused inference head")
    }

    func testLossesMatchPyTorch() throws {
        let model = try SegformerFolder.load(modelFolder)
        let x = try pixelValues(), y = try labels()
        // Hugging Face computes the loss in train mode: the decode head's BatchNorm uses batch statistics.
        let logits = try model(x, training: true)
        let loss = try PixelCrossEntropy().loss(logits: logits, labels: y, height: side(), width: side())
        let expected = try fixture("seg_loss").scalar
        XCTAssertEqual(loss.scalar, expected, accuracy: 1e-5 * abs(expected))
        let weights = try fixture("seg_class_weights").scalars
        let weighted = try PixelCrossEntropy(classWeights: weights).loss(logits: logits, labels: y, height: side(), width: side())
        let expectedWeighted = try fixture("seg_loss_weighted").scalar
        XCTAssertEqual(weighted.scalar, expectedWeighted, accuracy: 1e-5 * abs(expectedWeighted))
    }

    /// The fixture's model after one train-mode step (PyTorch ran three train-mode forward passes
    /// before saving: the loss, the weighted loss, and the step's own).
    func trainedReference(_ name: String) throws -> Segformer {
        try SegformerFolder.load(Self.root.appendingPathComponent(name))
    }

    func oneStep(_ optimizer: any Optimizer) throws -> Segformer {
        let model = try SegformerFolder.load(modelFolder)
        let x = try pixelValues(), y = try labels()
        _ = try withoutGradients { try model(x, training: true) }
        _ = try withoutGradients { try model(x, training: true) }
        let loss = try PixelCrossEntropy().loss(logits: model(x, training: true), labels: y, height: side(), width: side())
        loss.backward()
        optimizer.step(model.parameters)
        model.batchNormSteps += 3
        return model
    }

    func testOneSGDStepMatchesPyTorch() throws {
        let model = try oneStep(try SGD(learningRate: 0.01))
        let reference = try trainedReference("segformer_trained_sgd")
        let start = try SegformerFolder.load(modelFolder)
        var largestUpdate: Float = 0
        for (before, after) in zip(start.torchStateDict, reference.torchStateDict) where before.parameter.role == .weight {
            largestUpdate = max(largestUpdate, before.parameter.value.maxAbsDifference(after.parameter.value))
        }
        XCTAssertGreaterThan(largestUpdate, 1e-4, "the step moved the weights")
        for (mine, theirs) in zip(model.torchStateDict, reference.torchStateDict) {
            XCTAssertEqual(mine.name, theirs.name)
            let difference = mine.parameter.value.maxAbsDifference(theirs.parameter.value)
            let tolerance = mine.parameter.role == .weight ? 2e-4 * largestUpdate : 1e-5
            XCTAssertLessThan(difference, tolerance, "\(mine.name): \(difference) (largest update \(largestUpdate))")
        }
        XCTAssertEqual(model.batchNormSteps, reference.batchNormSteps)
    }

    func testOneAdamWStepMatchesPyTorch() throws {
        let learningRate: Float = 6e-5
        let model = try oneStep(try AdamW(learningRate: learningRate, weightDecay: 0.01, beta1: 0.9, beta2: 0.999,
                                          epsilon: 1e-8, epsilonPlacement: .pytorch))
        let reference = try trainedReference("segformer_trained")
        var total = 0, close = 0
        for (mine, theirs) in zip(model.torchStateDict, reference.torchStateDict) where mine.parameter.role == .weight {
            let a = mine.parameter.value.scalars, b = theirs.parameter.value.scalars
            for (u, v) in zip(a, b) {
                total += 1
                let difference = abs(u - v)
                if difference <= 0.1 * learningRate { close += 1 }
                XCTAssertLessThanOrEqual(difference, 2 * learningRate, "\(mine.name)")
            }
        }
        XCTAssertGreaterThanOrEqual(Double(close) / Double(total), 0.995, "\(close) of \(total) within 0.1 x lr")
        let y = try labels()
        let after = try PixelCrossEntropy().loss(logits: model(try pixelValues(), training: true), labels: y, height: side(), width: side())
        let expected = try fixture("seg_loss_after_step").scalar
        XCTAssertEqual(after.scalar, expected, accuracy: 1e-4 * abs(expected))
    }
}

import Foundation
import KerasFiles
import Layers
import Tensor
import TestSupport
import Train
import XCTest
import Zoo

/// The trainer against TensorFlow/Keras: three `train_on_batch` steps and a two-epoch `fit`
/// of the mini VGG16/19 transfer models (see `Tests/Fixtures` and the Keras fixtures'
/// `README.md` / `make_mini_fixtures.py`).
final class TrainerFixtureTests: XCTestCase {
    static let classWeights: [Float] = [0.8897, 1.1414]

    /// Three steps on all 8 training images with class weights, lr 1e-3: each step's loss
    /// (before its update), every trained tensor, and the probabilities on `x_infer` afterwards.
    func checkThreeSteps(_ depth: VGGConfiguration.Depth, legacy: Bool) throws {
        let model = try TrainerTestData.miniTransfer(depth)
        let trainer = Trainer(model: model,
                              optimizer: try RMSprop(learningRate: 1e-3, epsilonOutsideSquareRoot: legacy),
                              configuration: TrainingConfiguration(classWeights: Self.classWeights, progress: .silent))
        let data = try TrainerTestData.fixtureExamples()
        let x = try data.inputs(Array(0..<data.count))
        let losses = try (0..<3).map { _ in try trainer.trainOnBatch(inputs: x, labels: data.labels).loss }

        let tag = "\(depth.rawValue)_trained3_\(legacy ? "rmsprop_legacy" : "rmsprop")"
        let expected = try Fixtures.tensor(tag + "_losses").scalars
        XCTAssertEqual(losses.count, expected.count)
        for (step, (loss, reference)) in zip(losses, expected).enumerated() {
            XCTAssertEqual(loss, reference, accuracy: 1e-5, "\(tag) step \(step + 1)")
        }

        let reference = try KerasWeights.tensors(in: Fixtures.url(tag + ".h5"))
        let ours = try TrainerTestData.savedTensors(of: model)
        XCTAssertEqual(Set(ours.keys), Set(reference.keys))
        XCTAssertEqual(reference.count, depth == .vgg19 ? 2 * 16 + 4 : 2 * 13 + 4)
        for (key, value) in reference.sorted(by: { $0.key < $1.key }) {
            guard let mine = ours[key] else { continue }
            XCTAssertEqual(mine.shape, value.shape, key)
            XCTAssertLessThanOrEqual(mine.maxAbsDifference(value), 1e-5, "\(tag): \(key)")
        }

        let probabilities = try withoutGradients { try model(Fixtures.tensor("x_infer")) }
        XCTAssertLessThanOrEqual(probabilities.maxAbsDifference(try Fixtures.tensor(tag + "_probs")), 1e-5, tag)
    }

    func testThreeStepsVGG19RMSprop() throws { try checkThreeSteps(.vgg19, legacy: false) }
    func testThreeStepsVGG19RMSpropLegacy() throws { try checkThreeSteps(.vgg19, legacy: true) }
    func testThreeStepsVGG16RMSprop() throws { try checkThreeSteps(.vgg16, legacy: false) }
    func testThreeStepsVGG16RMSpropLegacy() throws { try checkThreeSteps(.vgg16, legacy: true) }

    /// `fit(x_train, y_train, batch_size=3, epochs=2, shuffle=False, class_weight=...)` with
    /// the current RMSprop (lr 1e-3) from the transfer model's initial weights: batches of
    /// 3, 3, 2 and each epoch's loss the batch-size-weighted mean. Reference values from
    /// `manifest.json` (`nets.<net>.fit_b3_e2_epoch_losses`), with and without the cache.
    func checkFit(_ depth: VGGConfiguration.Depth, cache: Bool) throws {
        let model = try TrainerTestData.miniTransfer(depth)
        let configuration = TrainingConfiguration(epochs: 2, batchSize: 3, shuffle: false, classWeights: Self.classWeights,
                                                  featureCache: cache, progress: .silent)
        let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 1e-3), configuration: configuration)
        let history = try trainer.fit(try TrainerTestData.fixtureExamples())
        XCTAssertEqual(trainer.featureCache != nil, cache)
        let expected = try TrainerTestData.manifestFitLosses(depth)
        XCTAssertEqual(history.records.count, 2)
        for (record, reference) in zip(history.records, expected) {
            XCTAssertEqual(record.loss, reference, accuracy: 1e-5, "\(depth) epoch \(record.epoch) cache \(cache)")
        }
    }

    func testFitEpochLossesVGG19() throws { try checkFit(.vgg19, cache: true) }
    func testFitEpochLossesVGG19Uncached() throws { try checkFit(.vgg19, cache: false) }
    func testFitEpochLossesVGG16() throws { try checkFit(.vgg16, cache: true) }
}

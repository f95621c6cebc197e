import Foundation
import GradCAM
import KerasFiles
import Layers
import Tensor
import TestSupport
import Train
import XCTest
import Zoo

/// Two `train_on_batch` steps and Grad-CAM of the reduced backbones against tf_keras.
final class BackboneTrainingTests: XCTestCase {
    /// SGD(0.05, momentum 0.9), class weights 0.75/1.5, the last stage trainable with its
    /// BatchNorms in training mode and the rest frozen in inference mode: per-step losses,
    /// every trained weight (within 2e-4 of the largest update) and the moving statistics
    /// (within 1e-4 relative).
    func checkTwoSteps(_ net: Backbone) throws {
        let model = try net.transfer()
        let before = try KerasWeights.tensors(in: net.url("transfer.h5"))
        let trainer = Trainer(model: model, optimizer: try SGD(learningRate: 0.05, momentum: 0.9),
                              configuration: TrainingConfiguration(classWeights: [0.75, 1.5], progress: .silent))
        let x = try net.tensor("x_train")
        let labels = try net.tensor("y_train").scalars.map { Int($0) }
        let losses = try (0..<2).map { _ in try trainer.trainOnBatch(inputs: x, labels: labels).loss }
        for (step, (loss, reference)) in zip(losses, try net.tensor("train_losses").scalars).enumerated() {
            XCTAssertEqual(loss, reference, accuracy: 1e-5 * max(1, abs(reference)), "\(net) step \(step + 1)")
        }

        let after = try KerasWeights.tensors(in: net.url("trained.h5"))
        let ours = try TrainerTestData.savedTensors(of: model)
        XCTAssertEqual(Set(ours.keys), Set(after.keys))
        let largestUpdate = after.reduce(Float(0)) { worst, entry in
            max(worst, entry.value.maxAbsDifference(before[entry.key]!))
        }
        XCTAssertGreaterThan(largestUpdate, 1e-3, "\(net): the steps changed something")
        var changedStatistics = 0
        for (key, reference) in after.sorted(by: { $0.key < $1.key }) {
            guard let mine = ours[key] else { continue }
            XCTAssertEqual(mine.shape, reference.shape, key)
            if key.contains("moving_") {
                XCTAssertLessThanOrEqual(relativeDifference(mine, reference), 1e-4, "\(net): \(key)")
                if reference.maxAbsDifference(before[key]!) > 0 { changedStatistics += 1 }
            } else {
                XCTAssertLessThanOrEqual(mine.maxAbsDifference(reference), 2e-4 * largestUpdate, "\(net): \(key)")
            }
        }
        XCTAssertGreaterThan(changedStatistics, 0, "\(net): trainable BatchNorms update their moving statistics")
    }

    func testResNet50TwoSteps() throws { try checkTwoSteps(.resnet50) }
    func testMobileNetV2TwoSteps() throws { try checkTwoSteps(.mobilenetv2) }
    func testEfficientNetTwoSteps() throws { try checkTwoSteps(.efficientnetb0) }

    /// Grad-CAM of class 1 on the logit at the base's last layer, ReLU, divided by the max.
    func checkGradCAM(_ net: Backbone) throws {
        let model = try net.transfer()
        let cam = try GradCAM(model: model, layer: net.gradCAMLayer)
        let result = try cam.explain(try net.tensor("x"), target: .class(1),
                                     options: GradCAMOptions(score: .logit))
        let reference = try net.tensor("gradcam_c1")
        XCTAssertEqual(result.maps.shape, reference.shape)
        XCTAssertLessThanOrEqual(result.maps.maxAbsDifference(reference), 1e-4, "\(net) Grad-CAM")
    }

    func testResNet50GradCAM() throws { try checkGradCAM(.resnet50) }
    func testMobileNetV2GradCAM() throws { try checkGradCAM(.mobilenetv2) }
    func testEfficientNetGradCAM() throws { try checkGradCAM(.efficientnetb0) }

    /// The frozen prefix ends at the last frozen node whose output alone feeds the rest, and
    /// caching it trains exactly as running it each step.
    func testFrozenCutOfAResidualGraph() throws {
        let split = try FrozenPrefix(try Backbone.resnet50.transfer())
        XCTAssertEqual(split.prefix.last?.name, "conv4_block6_out")
        XCTAssertTrue(split.isCacheable)
        XCTAssertEqual(split.trainable.first?.name, "conv5_block1_0_conv")
    }
}

enum TrainerTestData {
    /// The model's weights as `KerasWeights.tensors(in:)` reads them back after `save`.
    static func savedTensors(of model: any Layer) throws -> [String: Tensor] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-backbone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.h5")
        try KerasWeights.save(model, to: url)
        return try KerasWeights.tensors(in: url)
    }
}

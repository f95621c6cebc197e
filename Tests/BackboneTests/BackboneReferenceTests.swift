import Foundation
import KerasFiles
import Layers
import Tensor
import TestSupport
import XCTest
import Zoo

/// ResNet50, MobileNetV2 and EfficientNet against tf_keras' own graphs
/// (`Tests/Fixtures/keras_backbones/`): names, weights loading, inference outputs.
final class BackboneReferenceTests: XCTestCase {
    /// The inference plan of each full-size base folds every BatchNormalization, activation
    /// layer and dropout into a convolution (ResNet's stem pool keeps its padding, which pads a
    /// max pool): the step counts below are what it leaves (of 174, 153 and 236; ResNet50's
    /// identity blocks run in 3 steps, its projection blocks in 4).
    func testTheInferencePlanFusesEveryBatchNormAndActivation() throws {
        for (arch, expectedSteps) in [(Architecture.resnet50, 55), (.mobilenetv2, 52), (.efficientnetb0, 131)] {
            let plain = try ExecutionPlan(arch.makeBase(imageSize: 32, seed: 1))
            let fused = plain.fusedForInference()
            let unfused = fused.steps.map(\.layer.kerasClassName)
                .filter { ["BatchNormalization", "ReLU", "Activation", "Dropout"].contains($0) }
            XCTAssertEqual(unfused, [], "\(arch): layers left unfused")
            XCTAssertEqual(fused.steps.count, expectedSteps, "\(arch): \(plain.steps.count) steps before")
            XCTAssertEqual(fused.output, fused.steps.count - 1)
        }
    }

    func checkInference(_ net: Backbone) throws {
        let model = try net.transfer()
        let x = try net.tensor("x")
        // Within 1e-5 of the float64 reference (make_float64_references.py); TensorFlow's own
        // float32 run (the fixture) is up to 7e-6 from it on MobileNetV2, so the two float32
        // results are held to 2e-5 of each other.
        let probabilities = try withoutGradients { try model(x) }
        XCTAssertLessThanOrEqual(probabilities.maxAbsDifference(try net.tensor("probs_f64")), 1e-5, "\(net) probabilities")
        XCTAssertLessThanOrEqual(probabilities.maxAbsDifference(try net.tensor("probs")), 2e-5, "\(net) probabilities")
        let logits = try withoutGradients { try model.logits(x) }
        XCTAssertLessThanOrEqual(relativeDifference(logits, try net.tensor("logits_f64")), 1e-4, "\(net) logits")
        XCTAssertLessThanOrEqual(relativeDifference(logits, try net.tensor("logits")), 1e-4, "\(net) logits")

        let plan = try model.plan()
        let index = try plan.value(named: net.gradCAMLayer)
        let activation = try withoutGradients { try plan.advance(plan.start(x), through: index, training: false).value(index) }
        let reference = try net.tensor("lastconv")
        XCTAssertEqual(activation.shape, reference.shape)
        XCTAssertLessThanOrEqual(relativeDifference(activation, reference), 1e-4, "\(net) \(net.gradCAMLayer)")
    }

    func testResNet50Inference() throws { try checkInference(.resnet50) }
    func testMobileNetV2Inference() throws { try checkInference(.mobilenetv2) }
    func testEfficientNetInference() throws { try checkInference(.efficientnetb0) }

    /// Every weight of the file lands in a layer of ours, and the layer count matches Keras'.
    func testLayerNamesMatchTheFile() throws {
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.url("keras_backbones/manifest.json"))) as! [String: Any]
        let nets = manifest["nets"] as! [String: [String: Any]]
        for net in Backbone.allCases {
            let base = try net.base()
            // Keras counts the InputLayer among `base.layers`.
            XCTAssertEqual(base.layers.count + 1, nets[net.rawValue]!["layers"] as? Int, "\(net) layer count")
            let model = try net.transfer(loadWeights: false)
            let report = try KerasWeights.load(net.url("transfer.h5"), into: model)
            XCTAssertTrue(report.unusedInFile.isEmpty, "\(net): \(report.unusedInFile)")
            XCTAssertTrue(report.leftAtInitialValue.isEmpty, "\(net): \(report.leftAtInitialValue)")
            let params = model.parameters.reduce(0) { $0 + $1.shape.count }
            // Keras' count_params counts Normalization's mean, variance and count (3 + 3 + 1).
            XCTAssertEqual(params, nets[net.rawValue]!["params"] as? Int, "\(net) parameter count")
        }
    }

    /// The reference files' Keras class names appear among our layers' self-descriptions.
    func testLayersDescribeTheirKerasClasses() throws {
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.url("keras_backbones/manifest.json"))) as! [String: Any]
        let nets = manifest["nets"] as! [String: [String: Any]]
        for net in Backbone.allCases {
            let classes = Set(try net.base().layers.map(\.kerasClassName)).union(["InputLayer"])
            XCTAssertEqual(classes.sorted(), (nets[net.rawValue]!["layer_classes"] as! [String]).sorted(), "\(net)")
        }
    }

    /// A file for another width names the first layer that differs and both shapes.
    func testWrongAlphaNamesTheLayerAndShapes() throws {
        var rng = SeededGenerator(seed: 1)
        let wide = try TransferModel.pooled(base: try MobileNetV2.make(MobileNetV2Configuration(inputSize: 96, alpha: 1.0)),
                                            inputShape: [96, 96, 3], classes: 2, rng: &rng)
        XCTAssertThrowsError(try KerasWeights.load(Backbone.mobilenetv2.url("transfer.h5"), into: wide)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("Conv1"), text)
            XCTAssertTrue(text.contains("[3, 3, 3, 16]") && text.contains("[3, 3, 3, 32]"), text)
        }
    }

    func testTooSmallInputIsRefusedBeforeAnyWork() throws {
        for arch in [Architecture.resnet50, .mobilenetv2, .efficientnetb0] {
            XCTAssertThrowsError(try arch.makeClassifier(imageSize: 31, head: .pooled, classes: 2, freezeThrough: nil)) {
                XCTAssertTrue("\($0)".contains("input size 31"), "\($0)")
            }
        }
    }
}

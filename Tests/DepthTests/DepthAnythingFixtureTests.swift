import Foundation
import HuggingFaceFiles
import Layers
import Tensor
import TestSupport
import XCTest
@testable import Depth

/// Depth Anything against transformers + PyTorch: the small random model of
/// `Tests/Fixtures/segformer/depth` (DINOv2 hidden 32, 4 layers, 2 heads, a 4x4 position grid;
/// neck 8/16/24/32, fusion 16) on its own 56x56 input and on a 3x5 patch grid (42x70), where the
/// position embeddings are interpolated (`Tests/Fixtures/depth/make_depth_fixtures.py`).
final class DepthAnythingFixtureTests: XCTestCase {
    func testPredictedDepthMatchesTransformers() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        let x = DepthFixtures.nhwc(try DepthFixtures.shared("depth_pixel_values"))
        let depth = try withoutGradients { try model(x, training: false) }
        let expected = try DepthFixtures.shared("depth_predicted")
        assertRelativelyClose(depth, expected, 1e-4, "predicted_depth")
        // The fixture is not degenerate: the ReLU head leaves a good share of pixels positive.
        XCTAssertGreaterThan(expected.scalars.filter { $0 > 0 }.count, expected.count / 10)
    }

    func testParameterCountMatchesTransformers() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: DepthFixtures.root.appendingPathComponent("manifest.json")))
        let expected = try XCTUnwrap((manifest as? [String: Any])?["depth_params"] as? Int)
        XCTAssertEqual(model.parameters.reduce(0) { $0 + $1.value.count }, expected)
        XCTAssertEqual(model.configuration.parameterCount, expected)
        XCTAssertEqual(model.torchStateDict.count, try SafeTensorsFile(folder: DepthFixtures.model).names.count)
    }

    /// `interpolate_pos_encoding` for grids other than the configuration's 4x4: bicubic, both
    /// shrinking one side and growing the other (3x5) and growing both (6x7).
    func testPositionEmbeddingsOnOtherGridsMatchTransformers() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        let tokens = model.backbone.embeddings.tokens
        XCTAssertEqual(tokens.grid, 4)
        for (h, w) in [(3, 5), (6, 7)] {
            let expected = try DepthFixtures.tensor("pos_embed_\(h)x\(w)")
            let positions = withoutGradients { tokens.positions(height: h, width: w) }
            assertRelativelyClose(positions, expected, 1e-6, "position embeddings \(h)x\(w)")
            assertRelativelyClose(tokens.cachedPositions(height: h, width: w), expected, 1e-6, "cached \(h)x\(w)")
        }
        // The configuration's own grid is the table itself.
        XCTAssertEqual(tokens.positions(height: 4, width: 4).scalars, tokens.positionEmbeddings.value.scalars)
    }

    /// A batch of two 42x70 inputs (a 3x5 grid): the backbone's feature maps and the depth.
    func testBackboneAndDepthOnAnotherGridMatchTransformers() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        let x = DepthFixtures.nhwc(try DepthFixtures.tensor("grid_pixel_values"))
        let features = try withoutGradients { try model.backbone.features(x, training: false) }
        let expected = try DepthFixtures.tensor("grid_features")
        XCTAssertEqual(features.count, 4)
        let perFeature = expected.count / 4
        for (index, feature) in features.enumerated() {
            let slice = Tensor(Array(expected.scalars[(index * perFeature)..<((index + 1) * perFeature)]), shape: feature.shape)
            assertRelativelyClose(feature, slice, 1e-5, "feature map \(index)")
        }
        let depth = try withoutGradients { try model(x, training: false) }
        assertRelativelyClose(depth, try DepthFixtures.tensor("grid_predicted"), 1e-4, "predicted_depth 42x70")
    }

    /// Sides that are not multiples of 14 are floored to whole patches, as PyTorch's strided
    /// convolution floors them: 48x75 gives the 42x70 result of its top-left 42x70 crop.
    func testSidesAreFlooredToWholePatches() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        let x = DepthFixtures.nhwc(try DepthFixtures.tensor("grid_pixel_values"))
        var rng = SeededGenerator(seed: 3)
        let noise = Tensor.uniform([2, 48, 75, 3], low: -1, high: 1, using: &rng)
        let padded = Tensor(shape: [2, 48, 75, 3]) { out in
            for item in 0..<2 {
                for y in 0..<48 {
                    for xx in 0..<75 {
                        for c in 0..<3 {
                            let inside = y < 42 && xx < 70
                            out[((item * 48 + y) * 75 + xx) * 3 + c] = inside ? x[flat: ((item * 42 + y) * 70 + xx) * 3 + c]
                                : noise[flat: ((item * 48 + y) * 75 + xx) * 3 + c]
                        }
                    }
                }
            }
        }
        let depth = try withoutGradients { try model(padded, training: false) }
        assertRelativelyClose(depth, try DepthFixtures.tensor("grid_predicted"), 1e-4, "floored 48x75")
    }

    /// The smallest grids (one patch, one row of patches) run through every stage without a trap,
    /// and inputs the model cannot take are errors naming the layer.
    func testTinyAndWrongInputs() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        for (h, w) in [(14, 14), (14, 98), (27, 15), (70, 14)] {
            let depth = try withoutGradients { try model(Tensor(zeros: [1, h, w, 3]), training: false) }
            XCTAssertEqual(depth.shape, [1, h / 14 * 14, w / 14 * 14], "\(h)x\(w)")
        }
        XCTAssertThrowsError(try model(Tensor(zeros: [1, 13, 40, 3]), training: false)) { error in
            XCTAssertTrue("\(error)".contains("depth_anything"), "\(error)")
        }
        XCTAssertThrowsError(try model(Tensor(zeros: [1, 28, 28, 4]), training: false))
        XCTAssertThrowsError(try model(Tensor(zeros: [28, 28, 3]), training: false))
    }

    /// With gradients recorded the model runs its plain PyTorch order (projection after the
    /// upsampling, tokens joined by differentiable ops, items not split): the same numbers.
    func testRecordedPathAgreesWithInference() throws {
        let model = try DepthAnythingFolder.load(DepthFixtures.model)
        let x = DepthFixtures.nhwc(try DepthFixtures.tensor("grid_pixel_values"))
        let recorded = try model(x.requiringGradient(), training: false)
        XCTAssertTrue(recorded.requiresGradient)
        assertRelativelyClose(recorded.detached, try DepthFixtures.tensor("grid_predicted"), 1e-4, "recorded")
        let inference = try withoutGradients { try model(x, training: false) }
        assertRelativelyClose(inference, recorded.detached, 1e-5, "inference vs recorded")
    }

    func testFolderOfAnotherModelIsRefusedNamingBoth() throws {
        XCTAssertThrowsError(try DepthAnythingFolder.load(Fixtures.url("segformer/segformer"))) { error in
            guard case let HuggingFaceError.unsupportedModelType(file, found, expected) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(found, "segformer")
            XCTAssertEqual(expected, "depth_anything")
            XCTAssertTrue(file.hasSuffix("segformer/config.json"), file)
            XCTAssertTrue("\(error)".contains("segformer") && "\(error)".contains("depth_anything"), "\(error)")
        }
    }

    func testWrongTensorsAreRefused() throws {
        let directory = try temporaryDirectory(self)
        let source = DepthFixtures.model
        let folder = directory.appendingPathComponent("depth")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        let file = try SafeTensorsFile(folder: source)
        func write(_ edit: (inout SafeTensorsWriter, String, Tensor) throws -> Void) throws {
            var writer = SafeTensorsWriter()
            for name in file.names { try edit(&writer, name, try file.floatTensor(name)) }
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
            try writer.write(to: folder.appendingPathComponent("model.safetensors"))
        }
        // (as many values as before, so the size check passes and the name check speaks)
        try write { writer, name, value in writer.add(name == "head.conv3.bias" ? "head.conv4.bias" : name, value) }
        XCTAssertThrowsError(try DepthAnythingFolder.load(folder)) { error in
            XCTAssertEqual(error as? HuggingFaceError, .missingTensor(name: "head.conv3.bias",
                                                                      file: folder.appendingPathComponent("model.safetensors").path))
        }
        try write { writer, name, value in
            writer.add(name, value)
            if name == "head.conv3.bias" { writer.add("head.extra.bias", value) }
        }
        XCTAssertThrowsError(try DepthAnythingFolder.load(folder)) { error in
            guard case let DepthError.unexpectedTensors(names, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(names, ["head.extra.bias"])
        }
        try write { writer, name, value in
            writer.add(name, name == "neck.convs.0.weight" ? Tensor(zeros: [16, 8, 3, 4]) : value)
        }
        XCTAssertThrowsError(try DepthAnythingFolder.load(folder)) { error in
            guard case let HuggingFaceError.shapeMismatch(name, _, expected, got) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "neck.convs.0.weight")
            XCTAssertEqual(expected, [16, 8, 3, 3]); XCTAssertEqual(got, [16, 8, 3, 4])
        }
    }

    /// A config.json that describes a far larger model than its file holds is refused before
    /// anything is allocated.
    func testConfigurationLargerThanTheFileIsRefusedBeforeAllocating() throws {
        let directory = try temporaryDirectory(self)
        let folder = directory.appendingPathComponent("depth")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: DepthFixtures.model.appendingPathComponent("model.safetensors"),
                                         to: folder.appendingPathComponent("model.safetensors"))
        var json = try JSONFile.readObject(at: DepthFixtures.model.appendingPathComponent("config.json"))
        guard case var .object(backbone)? = json["backbone_config"] else { return XCTFail("no backbone_config") }
        backbone["hidden_size"] = .integer(1024)
        backbone["num_hidden_layers"] = .integer(64)
        json["backbone_config"] = .object(backbone)
        json["reassemble_hidden_size"] = .integer(1024)
        try JSONFile.write(json, to: folder.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try DepthAnythingFolder.load(folder)) { error in
            guard case let DepthError.configurationTooLarge(parameters, values, _) = error else { return XCTFail("\(error)") }
            XCTAssertGreaterThan(parameters, values)
        }
    }
}

/// A fresh folder for one test, removed afterwards.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-depth-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

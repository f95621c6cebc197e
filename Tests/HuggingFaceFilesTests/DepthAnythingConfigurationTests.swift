import Foundation
import HuggingFaceFiles
import TestSupport
import XCTest

/// `DepthAnythingConfiguration` / `Dinov2Configuration`: the fixture's `config.json` (written by
/// transformers 5.24), a hub file's shape (Depth-Anything-V2-Small-hf: only the non-default keys
/// of the backbone), transformers' defaults, and refusals that name the key.
final class DepthAnythingConfigurationTests: XCTestCase {
    static let folder = Fixtures.url("segformer/depth")

    func testFixtureConfiguration() throws {
        let c = try DepthAnythingConfiguration.load(folder: Self.folder)
        XCTAssertEqual(c.backbone.hiddenSize, 32)
        XCTAssertEqual(c.backbone.numHiddenLayers, 4)
        XCTAssertEqual(c.backbone.numAttentionHeads, 2)
        XCTAssertEqual(c.backbone.imageSize, 56)
        XCTAssertEqual(c.backbone.positionGrid, 4)
        XCTAssertEqual(c.backbone.mlpHiddenSize, 128)
        XCTAssertEqual(c.backbone.layerNormEps, 1e-6)
        XCTAssertEqual(c.backbone.outIndices, [1, 2, 3, 4])
        XCTAssertTrue(c.backbone.useMaskToken)
        XCTAssertEqual(c.neckHiddenSizes, [8, 16, 24, 32])
        XCTAssertEqual(c.reassembleFactors, [4, 2, 1, 0.5])
        XCTAssertEqual((0..<4).map(c.resize(ofStage:)), [.up(4), .up(2), .none, .down(2)])
        XCTAssertEqual(c.fusionHiddenSize, 16)
        XCTAssertEqual(c.headHiddenSize, 8)
        XCTAssertEqual(c.headInIndex, -1)
        XCTAssertEqual(c.depthEstimationType, .relative)
        XCTAssertEqual(c.maxDepth, 1)
        XCTAssertEqual(c.otherKeys["transformers_version"], .string("5.24.0"))
        XCTAssertNil(c.otherKeys["backbone_config"])
        // transformers' parameter count (manifest.json), mask token included.
        XCTAssertEqual(c.parameterCount, 136033)
    }

    /// A hub `config.json` lists only the backbone keys that differ from `Dinov2Config`'s
    /// defaults (12 layers, GELU, LayerNorm 1e-6, MLP ratio 4 come from them).
    func testHubStyleV2SmallConfiguration() throws {
        let json = try JSONFile.object(from: Data("""
            {"architectures": ["DepthAnythingForDepthEstimation"], "backbone": null,
             "backbone_config": {"architectures": ["Dinov2Model"], "hidden_size": 384, "image_size": 518,
               "model_type": "dinov2", "num_attention_heads": 6, "out_features": ["stage3", "stage6", "stage9", "stage12"],
               "out_indices": [3, 6, 9, 12], "patch_size": 14, "reshape_hidden_states": false, "torch_dtype": "float32"},
             "fusion_hidden_size": 64, "head_hidden_size": 32, "head_in_index": -1, "initializer_range": 0.02,
             "model_type": "depth_anything", "neck_hidden_sizes": [48, 96, 192, 384], "patch_size": 14,
             "reassemble_factors": [4, 2, 1, 0.5], "reassemble_hidden_size": 384, "torch_dtype": "float32",
             "transformers_version": null, "use_pretrained_backbone": false}
            """.utf8), file: "config.json")
        let c = try DepthAnythingConfiguration(json: json, file: "config.json")
        XCTAssertEqual(c, DepthAnythingConfiguration.v2Small.with(otherKeys: c.otherKeys, backboneOtherKeys: c.backbone.otherKeys))
        XCTAssertEqual(c.backbone.numHiddenLayers, 12)
        XCTAssertEqual(c.backbone.outIndices, [3, 6, 9, 12])
        XCTAssertEqual(c.backbone.positionGrid, 37)
        // Depth Anything V2 Small has 24.8 M parameters (24,785,089 in transformers, mask token included).
        XCTAssertEqual(c.parameterCount, 24_785_089)
        // out_features alone names the same stages.
        var features = json
        guard case var .object(backbone)? = features["backbone_config"] else { return XCTFail() }
        backbone["out_indices"] = nil
        features["backbone_config"] = .object(backbone)
        XCTAssertEqual(try DepthAnythingConfiguration(json: features, file: "config.json").backbone.outIndices, [3, 6, 9, 12])
    }

    /// Without `backbone_config`: `DepthAnythingConfig()`'s DINOv2-Small at 518, layers 9-12 (V1 Small).
    func testDefaultsAreTransformers() throws {
        let c = try DepthAnythingConfiguration(json: ["model_type": .string("depth_anything")], file: "config.json")
        XCTAssertEqual(c.backbone.hiddenSize, 384)
        XCTAssertEqual(c.backbone.numAttentionHeads, 6)
        XCTAssertEqual(c.backbone.numHiddenLayers, 12)
        XCTAssertEqual(c.backbone.imageSize, 518)
        XCTAssertEqual(c.backbone.outIndices, [9, 10, 11, 12])
        XCTAssertEqual(c.neckHiddenSizes, [48, 96, 192, 384])
        XCTAssertEqual(c.reassembleFactors, [4, 2, 1, 0.5])
        XCTAssertEqual([c.fusionHiddenSize, c.headHiddenSize, c.patchSize], [64, 32, 14])
        XCTAssertEqual(c.maxDepth, 1)
        let d = Dinov2Configuration()
        XCTAssertEqual([d.hiddenSize, d.numHiddenLayers, d.numAttentionHeads, d.imageSize, d.patchSize], [768, 12, 12, 224, 14])
        XCTAssertEqual(d.layerNormEps, 1e-6)
        XCTAssertEqual(d.layerscaleValue, 1)
    }

    func testAnotherModelTypeNamesBoth() throws {
        XCTAssertThrowsError(try DepthAnythingConfiguration.load(folder: Fixtures.url("segformer/segformer"))) { error in
            guard case let HuggingFaceError.unsupportedModelType(file, found, expected) = error else { return XCTFail("\(error)") }
            XCTAssertEqual([found, expected], ["segformer", "depth_anything"])
            XCTAssertTrue(file.hasSuffix("config.json"))
        }
        XCTAssertThrowsError(try DepthAnythingConfiguration(json: ["backbone_config": .object(["model_type": .string("vit")])],
                                                            file: "c.json")) { error in
            XCTAssertEqual(error as? HuggingFaceError, .unsupportedModelType(file: "c.json", found: "vit", expected: "dinov2"))
        }
    }

    func testInvalidValuesNameTheKey() throws {
        try assertInvalid("backbone", "names a backbone") { $0["backbone"] = .string("facebook/dinov2-small") }
        try assertInvalid("reassemble_factors[1]", "0.7 is not an integer") {
            $0["reassemble_factors"] = .array([4, 0.7, 1, 0.5].map { .number($0) })
        }
        try assertInvalid("reassemble_factors[0]", "2.5 is not an integer") {
            $0["reassemble_factors"] = .array([2.5, 2, 1, 0.5].map { .number($0) })
        }
        try assertInvalid("reassemble_factors", "has 3 entries, neck_hidden_sizes 4") {
            $0["reassemble_factors"] = .array([4, 2, 1].map { .number($0) })
        }
        try assertInvalid("backbone_config.out_indices", "has 4 entries, neck_hidden_sizes 3") {
            $0["neck_hidden_sizes"] = .array([8, 16, 24].map { .integer($0) })
            $0["reassemble_factors"] = .array([4, 2, 1].map { .number($0) })
        }
        try assertInvalid("head_in_index", "4 is outside -4...3") { $0["head_in_index"] = .integer(4) }
        try assertInvalid("depth_estimation_type", "\"absolute\" is not") { $0["depth_estimation_type"] = .string("absolute") }
        try assertInvalid("fusion_hidden_size", "15 is not even") { $0["fusion_hidden_size"] = .integer(15) }
        try assertInvalid("reassemble_hidden_size", "64 differs from backbone_config.hidden_size 32") {
            $0["reassemble_hidden_size"] = .integer(64)
        }
        try assertInvalid("patch_size", "16 differs") { $0["patch_size"] = .integer(16) }
        try assertInvalid("max_depth", "is not above 0.0") { $0["max_depth"] = .number(0) }
        try assertBackboneInvalid("backbone_config.num_attention_heads", "hidden_size 32 is not divisible by 3 heads") {
            $0["num_attention_heads"] = .integer(3)
        }
        try assertBackboneInvalid("backbone_config.out_indices[0]", "5 is outside 0...4") {
            $0["out_indices"] = .array([5, 2, 3, 4].map { .integer($0) })
        }
        try assertBackboneInvalid("backbone_config.out_indices[2]", "does not follow") {
            $0["out_indices"] = .array([1, 3, 2, 4].map { .integer($0) })
        }
        try assertBackboneInvalid("backbone_config.out_features[1]", "\"layer2\" is not") {
            $0["out_indices"] = nil
            $0["out_features"] = .array(["stage1", "layer2", "stage3", "stage4"].map { .string($0) })
        }
        try assertBackboneInvalid("backbone_config.use_swiglu_ffn", "true is not supported") { $0["use_swiglu_ffn"] = .bool(true) }
        try assertBackboneInvalid("backbone_config.reshape_hidden_states", "true is not supported") {
            $0["reshape_hidden_states"] = .bool(true)
        }
        try assertBackboneInvalid("backbone_config.hidden_act", "\"relu\" is not supported") { $0["hidden_act"] = .string("relu") }
        try assertBackboneInvalid("backbone_config.num_hidden_layers", "is outside 1...1024") { $0["num_hidden_layers"] = .integer(5000) }
        try assertBackboneInvalid("backbone_config.image_size", "is not one side or a square") {
            $0["image_size"] = .array([56, 70].map { .integer($0) })
        }
        // Sizes that are each in range but together would allocate too much are refused before building.
        try assertInvalid("backbone_config", "more than 2147483648 parameters") {
            guard case var .object(backbone)? = $0["backbone_config"] else { return }
            backbone["hidden_size"] = .integer(16384)
            backbone["num_hidden_layers"] = .integer(1024)
            $0["backbone_config"] = .object(backbone)
            $0["reassemble_hidden_size"] = .integer(16384)
        }
    }

    func fixture() throws -> [String: JSONValue] { try JSONFile.readObject(at: Self.folder.appendingPathComponent("config.json")) }

    func assertInvalid(_ key: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line,
                       _ edit: (inout [String: JSONValue]) -> Void) throws {
        var json = try fixture()
        edit(&json)
        XCTAssertThrowsError(try DepthAnythingConfiguration(json: json, file: "config.json"), file: file, line: line) { error in
            guard case let HuggingFaceError.invalidConfig(_, foundKey, foundReason) = error else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertEqual(foundKey, key, "\(error)", file: file, line: line)
            XCTAssertTrue(foundReason.contains(reason), "\(error)", file: file, line: line)
        }
    }

    func assertBackboneInvalid(_ key: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line,
                               _ edit: (inout [String: JSONValue]) -> Void) throws {
        try assertInvalid(key, reason, file: file, line: line) { json in
            guard case var .object(backbone)? = json["backbone_config"] else { return }
            edit(&backbone)
            json["backbone_config"] = .object(backbone)
        }
    }
}

extension DepthAnythingConfiguration {
    /// This configuration with other unmodelled keys (files carry `torch_dtype`, `architectures`, ...).
    func with(otherKeys: [String: JSONValue], backboneOtherKeys: [String: JSONValue]) -> DepthAnythingConfiguration {
        var copy = self
        copy.otherKeys = otherKeys
        copy.backbone.otherKeys = backboneOtherKeys
        return copy
    }
}

import Foundation
import HuggingFaceFiles
import XCTest

final class SegformerConfigurationTests: XCTestCase {
    func testFixtureConfiguration() throws {
        let config = try SegformerConfiguration.load(folder: SegformerFixture.folder)
        XCTAssertEqual(config.hiddenSizes, [16, 32, 40, 64])
        XCTAssertEqual(config.depths, [2, 1, 1, 1])
        XCTAssertEqual(config.numAttentionHeads, [1, 2, 2, 4])
        XCTAssertEqual(config.srRatios, [8, 4, 2, 1])
        XCTAssertEqual(config.patchSizes, [7, 3, 3, 3])
        XCTAssertEqual(config.strides, [4, 2, 2, 2])
        XCTAssertEqual(config.mlpRatios, [4, 4, 4, 4])
        XCTAssertEqual(config.numChannels, 3)
        XCTAssertEqual(config.numEncoderBlocks, 4)
        XCTAssertEqual(config.decoderHiddenSize, 32)
        XCTAssertEqual(config.classNames, ["undamaged_structure", "damaged_structure", "debris"])
        XCTAssertEqual(config.numLabels, 3)
        XCTAssertEqual(config.layerNormEps, 1e-6)
        XCTAssertEqual(config.hiddenAct, "gelu")
        XCTAssertEqual(config.classifierDropoutProb, 0)
        XCTAssertEqual(config.dropPathRate, 0)
        XCTAssertEqual(config.initializerRange, 0.02)
        XCTAssertEqual(config.semanticLossIgnoreIndex, 255)
        XCTAssertTrue(config.reshapeLastStage)
        XCTAssertEqual(config.otherKeys, ["dtype": .string("float32"), "transformers_version": .string("5.24.0")])

        let raw = try HuggingFaceConfig(folder: SegformerFixture.folder)
        XCTAssertEqual(raw.modelType, "segformer")
        XCTAssertEqual(raw.architectures, ["SegformerForSemanticSegmentation"])
        XCTAssertNoThrow(try raw.requireModelType("segformer"))
    }

    func testDefaultsAreTransformers() {
        let config = SegformerConfiguration()
        XCTAssertEqual(config.numChannels, 3)
        XCTAssertEqual(config.numEncoderBlocks, 4)
        XCTAssertEqual(config.depths, [2, 2, 2, 2])
        XCTAssertEqual(config.srRatios, [8, 4, 2, 1])
        XCTAssertEqual(config.hiddenSizes, [32, 64, 160, 256])
        XCTAssertEqual(config.patchSizes, [7, 3, 3, 3])
        XCTAssertEqual(config.strides, [4, 2, 2, 2])
        XCTAssertEqual(config.numAttentionHeads, [1, 2, 5, 8])
        XCTAssertEqual(config.mlpRatios, [4, 4, 4, 4])
        XCTAssertEqual(config.hiddenAct, "gelu")
        XCTAssertEqual(config.hiddenDropoutProb, 0)
        XCTAssertEqual(config.attentionProbsDropoutProb, 0)
        XCTAssertEqual(config.classifierDropoutProb, 0.1)
        XCTAssertEqual(config.initializerRange, 0.02)
        XCTAssertEqual(config.dropPathRate, 0.1)
        XCTAssertEqual(config.layerNormEps, 1e-6)
        XCTAssertEqual(config.decoderHiddenSize, 256)
        XCTAssertEqual(config.semanticLossIgnoreIndex, 255)
        XCTAssertTrue(config.reshapeLastStage)
        XCTAssertEqual(config.classNames, ["LABEL_0", "LABEL_1"])
        // A config.json with nothing but the model type gives the same defaults.
        XCTAssertEqual(try SegformerConfiguration(json: ["model_type": .string("segformer")], file: "c"), config)
        XCTAssertEqual(try SegformerConfiguration(json: ["num_labels": .integer(4)], file: "c").classNames,
                       ["LABEL_0", "LABEL_1", "LABEL_2", "LABEL_3"])
    }

    func testSaveWritesWhatTransformersWrote() throws {
        let config = try SegformerConfiguration.load(folder: SegformerFixture.folder)
        let folder = try temporaryFolder(self)
        try config.save(to: folder)
        let written = folder.appendingPathComponent("config.json")
        // The values save_pretrained wrote (as Python reads them: 0.0 is written as 0 here).
        assertPythonEqual(try JSONFile.readObject(at: written), try JSONFile.readObject(at: SegformerFixture.config))
        let text = String(decoding: try Data(contentsOf: written), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\n  \"architectures\" : [\n    \"SegformerForSemanticSegmentation\"\n  ],\n"), text)
        XCTAssertTrue(text.hasSuffix("\n  \"transformers_version\" : \"5.24.0\"\n}\n"), text)
        XCTAssertEqual(try SegformerConfiguration.load(folder: folder), config)
    }

    func testEditedConfigurationRoundTripsAndKeepsUnknownKeys() throws {
        var json = try HuggingFaceConfig(folder: SegformerFixture.folder).values
        json["custom_field"] = .object(["nested": .array([.integer(1), .number(2.5), .null, .bool(false)])])
        json["label2id"] = .object(["stale": .integer(9)])
        json["architectures"] = .array([.string("SegformerModel")])
        var config = try SegformerConfiguration(json: json, file: "edited")
        config.classNames = ["background", "crack", "débris ☃"]
        config.decoderHiddenSize = 64
        config.dropPathRate = 0.1
        let folder = try temporaryFolder(self)
        try config.save(to: folder)
        let reloaded = try SegformerConfiguration.load(folder: folder)
        XCTAssertEqual(reloaded, config)
        let values = try HuggingFaceConfig(folder: folder).values
        XCTAssertEqual(values["custom_field"], json["custom_field"])
        XCTAssertEqual(values["architectures"], .array([.string("SegformerForSemanticSegmentation")]))
        XCTAssertEqual(values["model_type"], .string("segformer"))
        XCTAssertEqual(values["id2label"], .object(["0": .string("background"), "1": .string("crack"), "2": .string("débris ☃")]))
        XCTAssertEqual(values["label2id"], .object(["background": .integer(0), "crack": .integer(1), "débris ☃": .integer(2)]))
        XCTAssertEqual(values["drop_path_rate"], .number(0.1))
        // Non-ASCII is written as UTF-8 (transformers reads config.json as UTF-8).
        let text = String(decoding: try Data(contentsOf: folder.appendingPathComponent("config.json")), as: UTF8.self)
        XCTAssertTrue(text.contains(#""2" : "débris ☃""#), text)
    }

    func testCodableIsTheConfigObject() throws {
        let config = try SegformerConfiguration.load(folder: SegformerFixture.folder)
        let data = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(SegformerConfiguration.self, from: data), config)
        let object = try JSONFile.object(from: data, file: "encoded")
        XCTAssertEqual(object["model_type"], .string("segformer"))
        XCTAssertEqual(object["hidden_sizes"], .array([16, 32, 40, 64].map { .integer($0) }))
    }

    func testMissingFileAndWrongModelType() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("config.json")
        XCTAssertEqual(huggingFaceError { _ = try SegformerConfiguration.load(folder: folder) }, .missingFile(file: url.path))

        var json = try HuggingFaceConfig(folder: SegformerFixture.folder).values
        json["model_type"] = .string("bert")
        try writeJSON(json, to: url)
        let error = huggingFaceError { _ = try SegformerConfiguration.load(folder: folder) }
        XCTAssertEqual(error, .unsupportedModelType(file: url.path, found: "bert", expected: "segformer"))
        XCTAssertEqual(error?.description, "\(url.path): model_type is \"bert\", expected \"segformer\"")

        json["model_type"] = nil
        try writeJSON(json, to: url)
        guard case .invalidConfig(file: url.path, key: "model_type", _)? = huggingFaceError({
            _ = try SegformerConfiguration.load(folder: folder)
        }) else { return XCTFail("expected invalidConfig for the missing model_type") }

        try Data("{\"model_type\": \"segformer\",".utf8).write(to: url)
        guard case .invalidJSON(file: url.path, _)? = huggingFaceError({ _ = try SegformerConfiguration.load(folder: folder) }) else {
            return XCTFail("expected invalidJSON")
        }
        try Data("[1]".utf8).write(to: url)
        XCTAssertEqual(huggingFaceError { _ = try SegformerConfiguration.load(folder: folder) },
                       .invalidJSON(file: url.path, reason: "the top level is an array, not an object"))
    }

    /// The fixture's object with `change` applied must fail at `key`, with `fragment` in the reason.
    func assertInvalid(_ key: String, _ fragment: String, line: UInt = #line,
                       _ change: (inout [String: JSONValue]) -> Void) throws {
        var json = try HuggingFaceConfig(folder: SegformerFixture.folder).values
        change(&json)
        let error = huggingFaceError({ _ = try SegformerConfiguration(json: json, file: "config.json") }, line: line)
        guard case let .invalidConfig(file, foundKey, reason)? = error else {
            return XCTFail("expected invalidConfig at \(key), got \(String(describing: error))", line: line)
        }
        XCTAssertEqual(file, "config.json", line: line)
        XCTAssertEqual(foundKey, key, line: line)
        XCTAssertTrue(reason.contains(fragment), "\"\(reason)\" does not contain \"\(fragment)\"", line: line)
    }

    func testInvalidValuesNameTheKey() throws {
        try assertInvalid("id2label", "has no label \"1\"") {
            $0["id2label"] = .object(["0": .string("a"), "2": .string("b"), "3": .string("c")])
        }
        try assertInvalid("id2label", "found \"01\"") { $0["id2label"] = .object(["0": .string("a"), "01": .string("b")]) }
        try assertInvalid("id2label[\"1\"]", "is not a string") { $0["id2label"] = .object(["0": .string("a"), "1": .integer(1)]) }
        try assertInvalid("id2label", "0 labels") { $0["id2label"] = .object([:]) }
        try assertInvalid("id2label[\"1\"]", "is also label 0") { $0["id2label"] = .object(["0": .string("a"), "1": .string("a")]) }
        try assertInvalid("hidden_act", "\"relu\" is not supported") { $0["hidden_act"] = .string("relu") }
        try assertInvalid("num_attention_heads[2]", "40 is not divisible by 3 heads") {
            $0["num_attention_heads"] = .array([1, 2, 3, 4].map { .integer($0) })
        }
        try assertInvalid("depths", "has 3 entries, expected 4") { $0["depths"] = .array([2, 1, 1].map { .integer($0) }) }
        try assertInvalid("depths[1]", "0 is outside 1...1024") { $0["depths"] = .array([2, 0, 1, 1].map { .integer($0) }) }
        try assertInvalid("depths[0]", "5000 is outside 1...1024") { $0["depths"] = .array([5000, 1, 1, 1].map { .integer($0) }) }
        try assertInvalid("hidden_sizes[3]", "is outside 1...65536") {
            $0["hidden_sizes"] = .array([16, 32, 40, 1 << 40].map { .integer($0) })
        }
        try assertInvalid("sr_ratios[0]", "2.5 is not an integer") {
            $0["sr_ratios"] = .array([.number(2.5), .integer(4), .integer(2), .integer(1)])
        }
        try assertInvalid("num_encoder_blocks", "0 is outside") { $0["num_encoder_blocks"] = .integer(0) }
        try assertInvalid("patch_sizes", "has 4 entries (the default), expected 3") {
            $0["num_encoder_blocks"] = .integer(3)
            for key in ["depths", "sr_ratios", "hidden_sizes", "strides", "num_attention_heads", "mlp_ratios"] {
                $0[key] = .array([1, 1, 1].map { .integer($0) })
            }
            $0["patch_sizes"] = nil
        }
        try assertInvalid("num_channels", "\"3\" is not an integer") { $0["num_channels"] = .string("3") }
        try assertInvalid("hidden_dropout_prob", "1.5 is not at least 0.0 and at most 1.0") { $0["hidden_dropout_prob"] = .number(1.5) }
        try assertInvalid("layer_norm_eps", "0.0 is not above 0.0") { $0["layer_norm_eps"] = .number(0) }
        try assertInvalid("reshape_last_stage", "is not true or false") { $0["reshape_last_stage"] = .integer(1) }
        try assertInvalid("depths", "is not a list") { $0["depths"] = .integer(2) }
    }

    func testSaveValidatesFirst() throws {
        var config = SegformerConfiguration()
        config.hiddenSizes = [32, 64, 160]
        let folder = try temporaryFolder(self)
        guard case .invalidConfig(_, key: "hidden_sizes", _)? = huggingFaceError({ try config.save(to: folder) }) else {
            return XCTFail("expected invalidConfig")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }
}

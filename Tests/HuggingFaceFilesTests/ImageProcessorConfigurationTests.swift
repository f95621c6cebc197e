import Foundation
import HuggingFaceFiles
import XCTest

final class ImageProcessorConfigurationTests: XCTestCase {
    func testFixture() throws {
        let config = try ImageProcessorConfiguration.load(folder: SegformerFixture.folder)
        XCTAssertEqual(config.imageProcessorType, "SegformerImageProcessor")
        XCTAssertEqual(config.size, .exact(height: 64, width: 64))
        XCTAssertEqual(config.resample, .bilinear)
        XCTAssertTrue(config.doResize)
        XCTAssertTrue(config.doRescale)
        XCTAssertEqual(config.rescaleFactor, 1.0 / 255.0)
        XCTAssertTrue(config.doNormalize)
        XCTAssertEqual(config.imageMean, [0.485, 0.456, 0.406])
        XCTAssertEqual(config.imageStd, [0.229, 0.224, 0.225])
        XCTAssertEqual(config.doReduceLabels, false)
        XCTAssertNil(config.keepAspectRatio)
        XCTAssertNil(config.ensureMultipleOf)
        XCTAssertNil(config.sizeDivisor)
        XCTAssertNil(config.doPad)
        XCTAssertEqual(config.otherKeys, [:])
        // The fixture is the Segformer defaults but for its size.
        var expected = ImageProcessorConfiguration.segformerDefaults
        expected.size = .exact(height: 64, width: 64)
        XCTAssertEqual(config, expected)
    }

    func testSaveWritesWhatTransformersWrote() throws {
        let config = try ImageProcessorConfiguration.load(folder: SegformerFixture.folder)
        let folder = try temporaryFolder(self)
        try config.save(to: folder)
        // The values save_pretrained wrote, the floats exactly.
        let written = try JSONFile.readObject(at: folder.appendingPathComponent("preprocessor_config.json"))
        XCTAssertEqual(written, try JSONFile.readObject(at: SegformerFixture.preprocessor))
        XCTAssertEqual(try ImageProcessorConfiguration.load(folder: folder), config)
    }

    func testMissingFileGivesTheDefault() throws {
        let folder = try temporaryFolder(self)
        let defaults = ImageProcessorConfiguration.segformerDefaults
        XCTAssertEqual(try ImageProcessorConfiguration.load(folder: folder), defaults)
        XCTAssertEqual(defaults.size, .exact(height: 512, width: 512))
        XCTAssertEqual(defaults.resample, .bilinear)
        XCTAssertEqual(defaults.rescaleFactor, 1.0 / 255.0)
        XCTAssertEqual(defaults.imageMean, [0.485, 0.456, 0.406])
        XCTAssertEqual(defaults.imageStd, [0.229, 0.224, 0.225])
        var other = defaults
        other.size = .shortestEdge(384, longestEdge: nil)
        XCTAssertEqual(try ImageProcessorConfiguration.load(folder: folder, default: other), other)
    }

    func testDepthProcessorFieldsAndNullsRoundTrip() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("preprocessor_config.json")
        let json: [String: JSONValue] = [
            "image_processor_type": .string("DPTImageProcessor"), "do_resize": .bool(true),
            "size": .object(["height": .integer(518), "width": .integer(518)]), "resample": .integer(3),
            "keep_aspect_ratio": .bool(true), "ensure_multiple_of": .integer(14), "do_pad": .bool(false),
            "size_divisor": .null, "do_rescale": .bool(true), "rescale_factor": .number(1.0 / 255.0),
            "do_normalize": .bool(true), "image_mean": .array([0.485, 0.456, 0.406].map { .number($0) }),
            "image_std": .array([0.229, 0.224, 0.225].map { .number($0) }), "processor_class": .string("DPTProcessor"),
        ]
        try writeJSON(json, to: url)
        let config = try ImageProcessorConfiguration.load(folder: folder)
        XCTAssertEqual(config.imageProcessorType, "DPTImageProcessor")
        XCTAssertEqual(config.resample, .bicubic)
        XCTAssertEqual(config.keepAspectRatio, true)
        XCTAssertEqual(config.ensureMultipleOf, 14)
        XCTAssertEqual(config.doPad, false)
        XCTAssertNil(config.sizeDivisor)
        XCTAssertEqual(config.otherKeys, ["processor_class": .string("DPTProcessor"), "size_divisor": .null])
        // A processor without do_reduce_labels takes the default's (the Segformer default: false).
        XCTAssertEqual(config.doReduceLabels, false)
        let saved = try temporaryFolder(self)
        try config.save(to: saved)
        XCTAssertEqual(try ImageProcessorConfiguration.load(folder: saved), config)
        var written = try JSONFile.readObject(at: saved.appendingPathComponent("preprocessor_config.json"))
        XCTAssertEqual(written.removeValue(forKey: "do_reduce_labels"), .bool(false))
        XCTAssertEqual(written, json)
    }

    func testOlderSpellings() throws {
        let square = try ImageProcessorConfiguration(json: ["size": .integer(256), "reduce_labels": .bool(true)], file: "p")
        XCTAssertEqual(square.size, .exact(height: 256, width: 256))
        XCTAssertEqual(square.doReduceLabels, true)
        XCTAssertEqual(square.jsonObject()["do_reduce_labels"], .bool(true))
        XCTAssertNil(square.jsonObject()["reduce_labels"])
        let shortest = try ImageProcessorConfiguration(
            json: ["size": .object(["shortest_edge": .integer(384), "longest_edge": .integer(640)]), "image_mean": .number(0.5)],
            file: "p")
        XCTAssertEqual(shortest.size, .shortestEdge(384, longestEdge: 640))
        XCTAssertEqual(shortest.imageMean, [0.5])
    }

    func assertInvalid(_ json: [String: JSONValue], _ key: String, _ fragment: String, line: UInt = #line) {
        let error = huggingFaceError({ _ = try ImageProcessorConfiguration(json: json, file: "p.json") }, line: line)
        guard case let .invalidConfig("p.json", foundKey, reason)? = error else {
            return XCTFail("expected invalidConfig at \(key), got \(String(describing: error))", line: line)
        }
        XCTAssertEqual(foundKey, key, line: line)
        XCTAssertTrue(reason.contains(fragment), "\"\(reason)\" does not contain \"\(fragment)\"", line: line)
    }

    func testMalformedFilesAreErrors() throws {
        assertInvalid(["size": .object(["height": .integer(64)])], "size", "expected height and width")
        assertInvalid(["size": .object(["height": .integer(0), "width": .integer(64)])], "size.height", "0 is outside 1...65536")
        assertInvalid(["size": .string("64")], "size", "is not an object or an integer")
        assertInvalid(["resample": .integer(7)], "resample", "7 is not a PIL resampling filter")
        assertInvalid(["rescale_factor": .number(0)], "rescale_factor", "is not above 0.0")
        assertInvalid(["image_std": .array([.number(0.2), .number(0), .number(0.2)])], "image_std[1]", "is not above 0.0")
        assertInvalid(["image_mean": .array([])], "image_mean", "has 0 entries")
        assertInvalid(["image_mean": .array([.number(0.5), .number(0.5)])], "image_std", "has 3 entries but image_mean has 2")
        assertInvalid(["do_resize": .string("yes")], "do_resize", "is not true or false")
        assertInvalid(["ensure_multiple_of": .integer(-14)], "ensure_multiple_of", "is outside")

        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("preprocessor_config.json")
        try Data("{\"do_resize\": tru}".utf8).write(to: url)
        guard case .invalidJSON(file: url.path, _)? = huggingFaceError({ _ = try ImageProcessorConfiguration.load(folder: folder) }) else {
            return XCTFail("expected invalidJSON")
        }
    }
}

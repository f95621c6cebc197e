import Foundation
import HuggingFaceFiles
import Tensor
import TestSupport
import Vision
import XCTest
@testable import Depth

/// `DepthPreprocessor` against transformers 5's `DPTImageProcessor` (torchvision backend):
/// the output sizes of `get_resize_output_image_size`, and the pixel values on small photos.
final class DepthPreprocessorTests: XCTestCase {
    func preprocessor(height: Int, width: Int, keep: Bool, multiple: Int) throws -> DepthPreprocessor {
        var configuration = ImageProcessorConfiguration.depthAnythingDefaults
        configuration.size = .exact(height: height, width: width)
        configuration.keepAspectRatio = keep
        configuration.ensureMultipleOf = multiple
        return try DepthPreprocessor(configuration: configuration)
    }

    /// Every case of `dpt_sizes.json`, Python's half-to-even rounding included; the sides that
    /// round to 0 (transformers would fail on them) are a typed error naming both sizes.
    func testOutputSizesMatchTransformers() throws {
        let json = try JSONFile.readObject(at: DepthFixtures.url("dpt_sizes.json"))
        let cases = try XCTUnwrap(json["cases"]?.arrayValue)
        XCTAssertGreaterThan(cases.count, 50)
        var zeros = 0
        for item in cases {
            let c = try XCTUnwrap(item.objectValue)
            let (h, w) = (c["height"]!.intValue!, c["width"]!.intValue!)
            let size = c["size"]!.arrayValue!.map { $0.intValue! }, out = c["out"]!.arrayValue!.map { $0.intValue! }
            let processor = try preprocessor(height: size[0], width: size[1], keep: c["keep_aspect_ratio"]!.boolValue!,
                                             multiple: c["multiple"]!.intValue!)
            let what = "\(h)x\(w) (h x w) to \(size), keep \(processor.keepAspectRatio), multiple \(processor.multiple)"
            if out.contains(0) {
                zeros += 1
                XCTAssertThrowsError(try processor.outputSize(photoWidth: w, photoHeight: h), what) { error in
                    guard case let DepthError.inputSize(pw, ph, _, _, _) = error else { return XCTFail("\(error)") }
                    XCTAssertEqual([pw, ph], [w, h])
                }
                continue
            }
            let result = try processor.outputSize(photoWidth: w, photoHeight: h)
            XCTAssertEqual([result.height, result.width], out, what)
        }
        XCTAssertGreaterThan(zeros, 0)
        // Half to even: 13x20 to 140 keeping the ratio scales by 7 to 91 = 6.5 patches -> 6.
        XCTAssertEqual(try preprocessor(height: 140, width: 140, keep: true, multiple: 14).outputSize(photoWidth: 20, photoHeight: 13).height, 84)
    }

    /// The fixture folder's processor (56, keep aspect ratio, multiple of 14, bicubic) on a
    /// 97x61 photo: 84x56, the pixel values transformers gives.
    func testPixelValuesMatchDPTImageProcessor() throws {
        let configuration = try ImageProcessorConfiguration.load(folder: DepthFixtures.model, default: .depthAnythingDefaults)
        let processor = try DepthPreprocessor(configuration: configuration)
        let photo = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        let x = try processor.tensor([photo])
        XCTAssertEqual(x.shape, [1, 56, 84, 3])
        assertPixels(x, try DepthFixtures.tensor("pipeline_pixel_values"), "56, keep aspect ratio")
    }

    func testUpscalingAndExactSizesMatchDPTImageProcessor() throws {
        var configuration = ImageProcessorConfiguration.depthAnythingDefaults
        configuration.size = .exact(height: 70, width: 70)
        let upscale = try DepthPreprocessor(configuration: configuration)
        let small = try ImageDecoder.decode(contentsOf: Fixtures.url("img_hash_20x13.png"))
        assertPixels(try upscale.tensor([small]), try DepthFixtures.tensor("processed_upscale"), "20x13 up to 70x42")

        configuration.size = .exact(height: 30, width: 45)
        configuration.keepAspectRatio = false
        configuration.ensureMultipleOf = 1
        configuration.imageMean = [0.5, 0.5, 0.5]
        configuration.imageStd = [0.5, 0.5, 0.5]
        let exact = try DepthPreprocessor(configuration: configuration)
        let photo = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        assertPixels(try exact.tensor([photo]), try DepthFixtures.tensor("processed_exact"), "97x61 down to 45x30")
    }

    /// The whole pipeline on the photo: preprocessing, the model on the 4x6 grid (position
    /// embeddings interpolated), `predicted_depth` within 1e-4 of the largest value.
    func testEstimatorMatchesTheTransformersPipeline() throws {
        let estimator = try DepthEstimator(folder: DepthFixtures.model)
        let photo = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        let predictions = try estimator.predict([photo, photo])
        XCTAssertEqual(predictions.count, 2)
        let expected = try DepthFixtures.tensor("pipeline_predicted")
        for prediction in predictions {
            XCTAssertEqual([prediction.height, prediction.width], [56, 84])
            assertRelativelyClose(prediction.values.reshaped([1, 56, 84]), expected, 1e-4, "pipeline predicted_depth")
        }
    }

    /// Photos of different sizes go through the model in groups of one size, in the photos' order.
    func testMixedSizesAreGroupedAndKeepTheirOrder() throws {
        let estimator = try DepthEstimator(folder: DepthFixtures.model)
        let wide = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        let small = try ImageDecoder.decode(contentsOf: Fixtures.url("img_hash_20x13.png"))
        let predictions = try estimator.predict([wide, small, wide])
        // 13x20 (h x w) to 56 keeping the ratio: 42x56 (dpt_sizes.json).
        XCTAssertEqual(predictions.map { [$0.width, $0.height] }, [[84, 56], [56, 42], [84, 56]])
        XCTAssertEqual(predictions[0].values.scalars, predictions[2].values.scalars)
        let alone = try estimator.predict([small])[0]
        assertRelativelyClose(predictions[1].values, alone.values, 1e-6, "grouped vs alone")
    }

    /// Without `preprocessor_config.json`: Depth Anything's defaults (518, multiple of 14, bicubic).
    func testDefaultsWithoutAProcessorFile() throws {
        let processor = try DepthPreprocessor(configuration: try ImageProcessorConfiguration.load(
            folder: FileManager.default.temporaryDirectory, default: .depthAnythingDefaults))
        XCTAssertEqual([processor.height, processor.width, processor.multiple], [518, 518, 14])
        XCTAssertTrue(processor.keepAspectRatio)
        XCTAssertEqual(processor.processor.resample, .bicubic)
        let size = try processor.outputSize(photoWidth: 4000, photoHeight: 3000)
        XCTAssertEqual([size.width, size.height], [686, 518])
    }

    func testRefusals() throws {
        var configuration = ImageProcessorConfiguration.depthAnythingDefaults
        configuration.doPad = true
        XCTAssertThrowsError(try DepthPreprocessor(configuration: configuration)) { error in
            XCTAssertTrue("\(error)".contains("do_pad"), "\(error)")
        }
        configuration = .depthAnythingDefaults
        configuration.size = .shortestEdge(518, longestEdge: nil)
        XCTAssertThrowsError(try DepthPreprocessor(configuration: configuration))
        XCTAssertThrowsError(try DepthPreprocessor(configuration: .depthAnythingDefaults, inputSize: 5000))
        // A side that rounds to 0, and too many pixels, are typed errors naming both sizes.
        let processor = try DepthPreprocessor(configuration: .depthAnythingDefaults)
        XCTAssertThrowsError(try processor.outputSize(photoWidth: 10000, photoHeight: 10)) { error in
            XCTAssertTrue("\(error)".contains("10000x10"), "\(error)")
        }
        XCTAssertThrowsError(try processor.outputSize(photoWidth: 20000, photoHeight: 500)) { error in
            guard case DepthError.inputSize = error else { return XCTFail("\(error)") }
        }
    }

    /// transformers' output NCHW against ours NHWC: the same 8-bit resize (torchvision's int16
    /// weights) and the same fused float32 normalisation, so the values agree to float rounding.
    func assertPixels(_ actual: Tensor, _ expectedNCHW: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = DepthFixtures.nhwc(expectedNCHW)
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        XCTAssertLessThanOrEqual(actual.maxAbsDifference(expected), 1e-5, what, file: file, line: line)
    }
}

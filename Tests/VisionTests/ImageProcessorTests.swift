import Foundation
import TestSupport
@testable import Vision
import XCTest

/// `ImageProcessor` against transformers 5's `SegformerImageProcessor` (torchvision backend;
/// preprocess_output.npy, made by make_segformer_fixtures.py) and a numpy replica of the PIL
/// backend's steps (make_pil_resize_fixtures.py).
final class ImageProcessorTests: XCTestCase {
    func testMatchesSegformerImageProcessor() throws {
        let image = try ImageDecoder.decode(contentsOf: Fixtures.url("segformer/preprocess_input.png"))
        XCTAssertEqual(image.width, 97)
        XCTAssertEqual(image.height, 61)
        let processor = try ImageProcessor(height: 64, width: 64, resample: .bilinear, rescaleFactor: 1 / 255,
                                           mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        XCTAssertEqual(processor, try ImageProcessor.segformer(height: 64, width: 64))
        let values = try processor.pixelValues(image)  // [64, 64, 3]
        let reference = try Fixtures.tensor("segformer/preprocess_output")  // [1, 3, 64, 64]
        XCTAssertEqual(reference.shape.dims, [1, 3, 64, 64])
        let expected = reference.scalars
        var worst: Float = 0
        for y in 0..<64 {
            for x in 0..<64 {
                for c in 0..<3 {
                    worst = max(worst, abs(values[(y * 64 + x) * 3 + c] - expected[(c * 64 + y) * 64 + x]))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1e-5)
        XCTAssertEqual(worst, 0, "int16 weights and fused float32 normalisation should agree exactly")
        XCTAssertEqual(processor.backend, .torchvision)
    }

    /// The PIL backend (transformers 4, `SegformerImageProcessorPil`) differs from the
    /// torchvision one by one 8-bit level at a few pixels of this image (6 of 12288 values).
    func testPILBackendDiffersByOneLevelAtFewPixels() throws {
        let image = try ImageDecoder.decode(contentsOf: Fixtures.url("segformer/preprocess_input.png"))
        let pil = try PILResample.bilinear.resize(image, width: 64, height: 64)
        let tv = try PILResample.bilinear.resize(image, width: 64, height: 64, backend: .torchvision)
        let differing = zip(pil.pixels, tv.pixels).filter { $0 != $1 }
        XCTAssertEqual(differing.count, 6)
        XCTAssertEqual(maxAbsDifference(pil.pixels, tv.pixels), 1)
        XCTAssertEqual(try Fixtures.tensor("segformer/pil_bilinear_64x64").scalars.map { UInt8($0) },
                       try PILResample.bilinear.resize(try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png")),
                                                       width: 64, height: 64).pixels)
        let values = try ImageProcessor.segformer(height: 64, width: 64, backend: .pil).pixelValues(image)
        let expected = try Fixtures.tensor("segformer/preprocess_output").scalars
        var worst: Float = 0
        for i in 0..<64 * 64 {
            for c in 0..<3 { worst = max(worst, abs(values[i * 3 + c] - expected[c * 4096 + i])) }
        }
        XCTAssertLessThan(worst, 0.018)  // one level: (1/255) / 0.225
    }

    func testBicubicRescaleNormaliseMatchesNumpyReplica() throws {
        let image = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        let processor = try ImageProcessor(height: 98, width: 140, resample: .bicubic, backend: .pil,
                                           mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        let expected = try Fixtures.tensor("segformer/processed_bicubic_140x98")
        XCTAssertEqual(expected.shape.dims, [98, 140, 3])
        XCTAssertEqual(try processor.pixelValues(image), expected.scalars)
    }

    func testStepsCanBeTurnedOff() throws {
        let image = RGBImage(width: 3, height: 2) { x, y in (UInt8(x * 100), UInt8(y * 200), 255) }
        let raw = try ImageProcessor(height: 4, width: 4, doResize: false, doRescale: false, doNormalize: false)
        XCTAssertEqual(try raw.pixelValues(image), image.pixels.map(Float.init))
        XCTAssertTrue(raw.outputSize(for: image) == (3, 2))
        let rescaled = try ImageProcessor(height: 4, width: 4, backend: .pil, doResize: false, doNormalize: false)
        XCTAssertEqual(try rescaled.pixelValues(image), image.pixels.map { Float(Double($0) * (1 / 255.0)) })
        let rescaledTV = try ImageProcessor(height: 4, width: 4, doResize: false, doNormalize: false)
        XCTAssertEqual(try rescaledTV.pixelValues(image), image.pixels.map { Float($0) * Float(1 / 255.0) })
        let fused = try ImageProcessor(height: 4, width: 4, doResize: false, mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1])
        XCTAssertEqual(try fused.pixelValues(image)[2], (255 - Float(0.5) * 255) / (Float(1) * 255))
        let resized = try ImageProcessor(height: 4, width: 5, doRescale: false, doNormalize: false)
        XCTAssertEqual(try resized.pixelValues(image).count, 4 * 5 * 3)
        XCTAssertEqual(try resized.resized(image),
                       try PILResample.bilinear.resize(image, width: 5, height: 4, backend: .torchvision))
    }

    func testBatchTensor() throws {
        let a = RGBImage(width: 10, height: 7) { x, y in (UInt8(x * 20), UInt8(y * 30), 9) }
        let b = RGBImage(width: 5, height: 9) { x, y in (UInt8(x), UInt8(y), 200) }
        let processor = try ImageProcessor.segformer(height: 8, width: 6)
        let batch = try processor.tensor([a, b])
        XCTAssertEqual(batch.shape.dims, [2, 8, 6, 3])
        XCTAssertEqual(Array(batch.scalars[0..<144]), try processor.pixelValues(a))
        XCTAssertEqual(Array(batch.scalars[144...]), try processor.pixelValues(b))
        let noResize = try ImageProcessor(height: 8, width: 6, doResize: false)
        XCTAssertThrowsError(try noResize.tensor([a, b]))
    }

    func testBadConfigurationsThrow() throws {
        XCTAssertThrowsError(try ImageProcessor(height: 0, width: 4))
        XCTAssertThrowsError(try ImageProcessor(height: 4, width: 4, mean: [0.5]))
        XCTAssertThrowsError(try ImageProcessor(height: 4, width: 4, std: [0.2, 0, 0.2]))
        XCTAssertThrowsError(try ImageProcessor(height: 4, width: 4, rescaleFactor: .nan))
        XCTAssertThrowsError(try ImageProcessor(height: 4, width: 4, resample: .lanczos))  // torchvision has none
        XCTAssertNoThrow(try ImageProcessor(height: 4, width: 4, resample: .lanczos, backend: .pil))
        var buffer = [Float](repeating: 0, count: 5)
        let processor = try ImageProcessor.segformer(height: 4, width: 4)
        let threw = buffer.withUnsafeMutableBufferPointer { out -> Bool in
            do {
                try processor.normalize(RGBImage(width: 2, height: 2), into: out)
                return false
            } catch {
                return error is ImageError
            }
        }
        XCTAssertTrue(threw)
    }
}

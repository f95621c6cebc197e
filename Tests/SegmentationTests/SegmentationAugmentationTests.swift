import Foundation
import Segmentation
import Tensor
import Vision
import XCTest

/// `SegmentationAugmentation` moves image and mask together: with nearest resampling every
/// labelled pixel keeps its class colour exactly; with bilinear nearly all do.
final class SegmentationAugmentationTests: XCTestCase {
    private typealias F = SegmentationDataFixtures

    /// Fraction of non-ignored label pixels whose image colour decodes to the label, and whether
    /// every ignored (padded) pixel is black.
    private func consistency(_ image: RGBImage, _ mask: ClassMask) -> (agree: Double, paddingBlack: Bool) {
        var agree = 0, labelled = 0, paddingBlack = true
        for y in 0..<mask.height {
            for x in 0..<mask.width {
                let label = mask[x: x, y: y]
                if label == ClassMask.ignoreIndex {
                    if image[x: x, y: y] != (0, 0, 0) { paddingBlack = false }
                    continue
                }
                labelled += 1
                if F.nearestClass(image[x: x, y: y]) == label { agree += 1 }
            }
        }
        return (labelled == 0 ? 1 : Double(agree) / Double(labelled), paddingBlack)
    }

    func testNearestAugmentationKeepsEveryPixelConsistent() throws {
        let (image, mask) = try F.pair(width: 40, height: 28)
        let augmentation = try SegmentationAugmentation(minScale: 0.3, maxScale: 2.0, flipProbability: 0.5)
        var flips = 0, padded = 0
        for seed in 0..<40 {
            var generator = SeededGenerator(seed: UInt64(seed))
            for backend in ResizeBackend.allCases {
                var g = generator
                let (outImage, outMask, draw) = try augmentation.apply(image: image, mask: mask, width: 32, height: 32,
                                                                       resample: .nearest, backend: backend, using: &g)
                XCTAssertEqual([outImage.width, outImage.height, outMask.width, outMask.height], [32, 32, 32, 32])
                let (agree, black) = consistency(outImage, outMask)
                XCTAssertEqual(agree, 1, "seed \(seed) \(backend) \(draw)")
                XCTAssertTrue(black, "padding must be black under ignore labels")
                if draw.flipped { flips += 1 }
                if draw.resizedWidth < 32 || draw.resizedHeight < 32 {
                    padded += 1
                    XCTAssertEqual(outMask[x: 31, y: 31], ClassMask.ignoreIndex)
                }
            }
            _ = generator.next()
        }
        XCTAssertTrue((20...60).contains(flips), "\(flips) flips of 80")
        XCTAssertGreaterThan(padded, 0, "some draws should be smaller than the crop")
    }

    func testBilinearAugmentationIsConsistentAwayFromEdges() throws {
        let (image, mask) = try F.pair(width: 48, height: 36, block: 8)
        var generator = SeededGenerator(seed: 9)
        for _ in 0..<10 {
            let (outImage, outMask, draw) = try SegmentationAugmentation.mmseg.apply(
                image: image, mask: mask, width: 32, height: 24, using: &generator)
            let (agree, black) = consistency(outImage, outMask)
            XCTAssertGreaterThan(agree, 0.85, "\(draw)")
            XCTAssertTrue(black)
        }
    }

    /// Scale 1, no flip: the crop is an exact window of the covering resize; with p = 1 the
    /// result is its mirror image.
    func testCropAndFlipAreExactWindows() throws {
        let (image, mask) = try F.pair(width: 32, height: 20)
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5)
        let plain = try SegmentationAugmentation.coverAndCrop.apply(image: image, mask: mask, width: 20, height: 20,
                                                                    resample: .nearest, using: &g1)
        XCTAssertEqual(plain.draw.resizedHeight, 20)
        XCTAssertEqual(plain.draw.resizedWidth, 32)
        XCTAssertFalse(plain.draw.flipped)
        XCTAssertEqual(plain.image, try image.cropped(x: plain.draw.cropX, y: 0, width: 20, height: 20))
        XCTAssertEqual(plain.mask, try mask.cropped(x: plain.draw.cropX, y: 0, width: 20, height: 20))
        let flipping = try SegmentationAugmentation(minScale: 1, maxScale: 1, flipProbability: 1)
        let flipped = try flipping.apply(image: image, mask: mask, width: 20, height: 20, resample: .nearest, using: &g2)
        XCTAssertTrue(flipped.draw.flipped)
        XCTAssertEqual(flipped.draw.cropX, plain.draw.cropX)
        XCTAssertEqual(flipped.image, plain.image.flippedHorizontally())
        XCTAssertEqual(flipped.mask, plain.mask.flippedHorizontally())
    }

    func testTrainingSamplesAreSeeded() throws {
        let dir = try F.dataset(for: self)
        let (image, mask) = try F.pair(width: 40, height: 30)
        try F.write(image, mask, name: "a", in: dir)
        try F.write(image, mask, name: "b", in: dir)
        let data = try SegmentationDataset(directory: dir, numLabels: 4)
        let processor = try ImageProcessor.segformer(height: 24, width: 24)
        let a = try data.trainingSample(0, processor: processor, augmentation: .mmseg, seed: 1, epoch: 0)
        XCTAssertEqual(a, try data.trainingSample(0, processor: processor, augmentation: .mmseg, seed: 1, epoch: 0))
        XCTAssertEqual([a.width, a.height, a.labelWidth, a.labelHeight], [24, 24, 24, 24])
        XCTAssertEqual(a.pixelValues.count, 24 * 24 * 3)
        let others = try (1..<4).map { try data.trainingSample(0, processor: processor, augmentation: .mmseg, seed: 1, epoch: $0) }
        XCTAssertTrue(others.contains { $0.labels != a.labels }, "other epochs should draw other crops")
        let batch = try data.trainingBatch([1, 0], processor: processor, augmentation: .mmseg, seed: 1)
        XCTAssertEqual(batch.pixelValues.shape.dims, [2, 24, 24, 3])
        XCTAssertEqual(Array(batch.labels[(24 * 24)...]), a.labels)
        XCTAssertEqual(batch.names, ["b", "a"])
        XCTAssertThrowsError(try data.trainingSample(0, processor: ImageProcessor(height: 24, width: 24, doResize: false),
                                                     augmentation: .mmseg, seed: 1))
    }

    func testBadConfigurationsThrow() throws {
        XCTAssertThrowsError(try SegmentationAugmentation(minScale: 0, maxScale: 1))
        XCTAssertThrowsError(try SegmentationAugmentation(minScale: 2, maxScale: 1))
        XCTAssertThrowsError(try SegmentationAugmentation(minScale: 1, maxScale: .infinity))
        XCTAssertThrowsError(try SegmentationAugmentation(flipProbability: 1.5))
        let (image, mask) = try F.pair(width: 8, height: 8)
        var g = SeededGenerator(seed: 1)
        let small = try mask.cropped(x: 0, y: 0, width: 4, height: 8)
        XCTAssertThrowsError(try SegmentationAugmentation.mmseg.apply(image: image, mask: small, width: 4, height: 4, using: &g))
        XCTAssertThrowsError(try SegmentationAugmentation.mmseg.apply(image: image, mask: mask, width: 0, height: 4, using: &g))
        let encoded = try JSONEncoder().encode(SegmentationAugmentation.mmseg)
        XCTAssertEqual(try JSONDecoder().decode(SegmentationAugmentation.self, from: encoded), .mmseg)
        let bad = Data(#"{"minScale": 3, "maxScale": 1, "flipProbability": 0.5, "ignoreIndex": 255}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(SegmentationAugmentation.self, from: bad))
    }
}

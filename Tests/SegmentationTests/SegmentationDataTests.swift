import Foundation
import Segmentation
import Tensor
import Vision
import XCTest

/// `SegmentationDataset`: pairing, every listing and loading error, seeded splits, samples and batches.
final class SegmentationDataTests: XCTestCase {
    private typealias F = SegmentationDataFixtures

    private func assertError(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line,
                             _ check: (SegmentationDataError) -> Void) {
        do {
            _ = try body()
            XCTFail("no error", file: file, line: line)
        } catch let error as SegmentationDataError {
            check(error)
        } catch {
            XCTFail("not a SegmentationDataError: \(error)", file: file, line: line)
        }
    }

    func testPairsAreMatchedByNameAndSorted() throws {
        let dir = try F.dataset(for: self)
        let (image, mask) = try F.pair(width: 12, height: 8)
        try F.write(image, mask, name: "b", ext: "jpg", in: dir)
        try F.write(image, mask, name: "a", ext: "PNG", in: dir)
        try F.write(image, mask, name: "c10", ext: "jpeg", in: dir)
        try F.write(image, mask, name: "c2", in: dir)
        try Data("x".utf8).write(to: dir.appendingPathComponent("images/notes.txt"))
        try Data("x".utf8).write(to: dir.appendingPathComponent("images/.DS_Store"))
        try Data("x".utf8).write(to: dir.appendingPathComponent("masks/.hidden.png"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images/sub"), withIntermediateDirectories: true)
        let data = try SegmentationDataset(directory: dir, numLabels: 4)
        XCTAssertEqual(data.pairs.map(\.name), ["a", "b", "c10", "c2"])
        XCTAssertEqual(data.pairs.map(\.image.lastPathComponent), ["a.PNG", "b.jpg", "c10.jpeg", "c2.png"])
        XCTAssertEqual(data.pairs.map(\.mask.lastPathComponent), ["a.png", "b.png", "c10.png", "c2.png"])
        XCTAssertEqual(data.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }, ["notes.txt"])
        let (loaded, loadedMask) = try data.load(0)
        XCTAssertEqual(loaded, image)
        XCTAssertEqual(loadedMask, mask)
    }

    func testListingErrorsNameTheFiles() throws {
        let dir = try F.dataset(for: self)
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) {
            XCTAssertEqual($0, .noImages(path: dir.appendingPathComponent("images").path))
        }
        let (image, mask) = try F.pair(width: 12, height: 8)
        try F.write(image, nil, name: "lonely", ext: "jpg", in: dir)
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) { error in
            XCTAssertEqual(error, .imageWithoutMask(image: dir.appendingPathComponent("images/lonely.jpg").path,
                                                    expectedMask: dir.appendingPathComponent("masks/lonely.png").path))
            XCTAssertTrue(error.description.contains("lonely.jpg") && error.description.contains("masks/lonely.png"))
        }
        try mask.write(to: dir.appendingPathComponent("masks/lonely.png"))
        try mask.write(to: dir.appendingPathComponent("masks/orphan.png"))
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) {
            XCTAssertEqual($0, .maskWithoutImage(mask: dir.appendingPathComponent("masks/orphan.png").path,
                                                 imageFolder: dir.appendingPathComponent("images").path))
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("masks/orphan.png"))
        try ImageEncoder.writePNG(image, to: dir.appendingPathComponent("images/lonely.png"))
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) { error in
            guard case .duplicateName(let name, let files) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "lonely")
            XCTAssertEqual(files.map { URL(fileURLWithPath: $0).lastPathComponent }, ["lonely.jpg", "lonely.png"])
        }
        assertError({ try SegmentationDataset(directory: dir.appendingPathComponent("nope"), numLabels: 4) }) {
            XCTAssertEqual($0, .notADirectory(path: dir.appendingPathComponent("nope").path))
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("images/lonely.png"))
        XCTAssertEqual(try SegmentationDataset(directory: dir, numLabels: 4).count, 1)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("masks"))
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) {
            XCTAssertEqual($0, .missingFolder(path: dir.appendingPathComponent("masks").path))
        }
        for bad in [0, 256, -1] {
            assertError({ try SegmentationDataset(directory: dir, numLabels: bad) }) { error in
                XCTAssertTrue(error.description.contains("\(bad)"), error.description)
            }
        }
    }

    func testSizeMismatchIsFoundFromHeadersAndAtLoad() throws {
        let dir = try F.dataset(for: self)
        let (image, _) = try F.pair(width: 12, height: 8)
        let (_, otherMask) = try F.pair(width: 10, height: 8)
        try F.write(image, otherMask, name: "x", ext: "jpg", in: dir)
        let expected = SegmentationDataError.sizeMismatch(
            image: dir.appendingPathComponent("images/x.jpg").path, imageWidth: 12, imageHeight: 8,
            mask: dir.appendingPathComponent("masks/x.png").path, maskWidth: 10, maskHeight: 8)
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) { error in
            XCTAssertEqual(error, expected)
            XCTAssertTrue(error.description.contains("10x8") && error.description.contains("12x8"), error.description)
        }
        let unchecked = try SegmentationDataset(directory: dir, numLabels: 4, checkHeaders: false)
        assertError({ try unchecked.load(0) }) { XCTAssertEqual($0, expected) }
    }

    func testOutOfRangeLabelsAndColourMasks() throws {
        let dir = try F.dataset(for: self)
        let (image, mask) = try F.pair(width: 12, height: 8)
        var bad = mask
        bad[x: 5, y: 3] = 7
        bad[x: 0, y: 0] = 255  // ignore is always allowed
        try F.write(image, bad, name: "m", in: dir)
        let data = try SegmentationDataset(directory: dir, numLabels: 4)
        assertError({ try data.load(0) }) { error in
            XCTAssertEqual(error, .labelOutOfRange(mask: dir.appendingPathComponent("masks/m.png").path, value: 7,
                                                   numLabels: 4, x: 5, y: 3))
            XCTAssertTrue(error.description.contains("7") && error.description.contains("4 labels"), error.description)
        }
        XCTAssertNoThrow(try SegmentationDataset(directory: dir, numLabels: 8).load(0))
        assertError({ try data.load(5) }) { XCTAssertTrue($0.description.contains("5"), $0.description) }
        // an RGB "mask" is refused from its header, naming the file
        try ImageEncoder.writePNG(image, to: dir.appendingPathComponent("masks/m.png"))
        assertError({ try SegmentationDataset(directory: dir, numLabels: 4) }) { error in
            guard case .unreadable(let imageError) = error, case .notSingleChannel(let file, _) = imageError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(file, dir.appendingPathComponent("masks/m.png").path)
        }
    }

    func testPaletteMasksReadAsIndices() throws {
        let dir = try F.dataset(for: self)
        let (image, mask) = try F.pair(width: 12, height: 8)
        try F.write(image, mask, name: "p", in: dir, palette: F.palette)
        let data = try SegmentationDataset(directory: dir, numLabels: 4)
        XCTAssertEqual(try data.load(0).mask.indices, mask.indices)
    }

    func testSeededSplitIsDeterministic() throws {
        let dir = try F.dataset(for: self)
        let (image, mask) = try F.pair(width: 6, height: 6)
        for i in 0..<20 { try F.write(image, mask, name: String(format: "img%02d", i), in: dir) }
        let data = try SegmentationDataset(directory: dir, numLabels: 4)
        let a = try data.split(validationFraction: 0.25, seed: 3), b = try data.split(validationFraction: 0.25, seed: 3)
        XCTAssertEqual(a.validation.pairs, b.validation.pairs)
        XCTAssertEqual(a.training.pairs, b.training.pairs)
        XCTAssertEqual(a.validation.count, 5)
        XCTAssertEqual(a.training.count, 15)
        XCTAssertEqual(Set(a.training.pairs.map(\.name)).union(a.validation.pairs.map(\.name)), Set(data.pairs.map(\.name)))
        XCTAssertTrue(Set(a.training.pairs.map(\.name)).isDisjoint(with: a.validation.pairs.map(\.name)))
        XCTAssertEqual(a.validation.pairs.map(\.name), a.validation.pairs.map(\.name).sorted())
        let c = try data.split(validationFraction: 0.25, seed: 4)
        XCTAssertNotEqual(c.validation.pairs, a.validation.pairs)
        XCTAssertThrowsError(try data.split(validationFraction: 0, seed: 1))
        XCTAssertThrowsError(try data.split(validationFraction: 0.01, seed: 1))
    }

    func testValidationSamplesAndBatches() throws {
        let dir = try F.dataset(for: self)
        let (image, mask) = try F.pair(width: 30, height: 18)
        try F.write(image, mask, name: "a", in: dir)
        let (image2, mask2) = try F.pair(width: 20, height: 26, block: 4)
        try F.write(image2, mask2, name: "b", in: dir)
        let data = try SegmentationDataset(directory: dir, numLabels: 4)
        let processor = try ImageProcessor.segformer(height: 16, width: 24)
        let original = try data.validationSample(0, processor: processor, labels: .original)
        XCTAssertEqual(original.pixelValues, try processor.pixelValues(image))
        XCTAssertEqual([original.width, original.height, original.labelWidth, original.labelHeight], [24, 16, 30, 18])
        XCTAssertEqual(original.labels, mask.indices)
        let resized = try data.validationSample(0, processor: processor, labels: .modelInput)
        XCTAssertEqual(resized.labels, try mask.resized(width: 24, height: 16, backend: .torchvision).indices)
        XCTAssertEqual(resized.labelsInt32.count, 24 * 16)

        let batch = try data.validationBatch([0, 1], processor: processor)
        XCTAssertEqual(batch.pixelValues.shape.dims, [2, 16, 24, 3])
        XCTAssertEqual(Array(batch.pixelValues.scalars[(16 * 24 * 3)...]), try processor.pixelValues(image2))
        XCTAssertEqual(batch.labels.count, 2 * 16 * 24)
        XCTAssertEqual(batch.names, ["a", "b"])
        XCTAssertThrowsError(try data.validationBatch([0, 1], processor: processor, labels: .original)) { error in
            XCTAssertTrue("\(error)".contains("one size"), "\(error)")
        }
        XCTAssertThrowsError(try SegmentationBatch([]))
    }
}

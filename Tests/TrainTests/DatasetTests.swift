import Foundation
import Inference
import Tensor
@testable import Train
import Vision
import XCTest

final class DatasetTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("rubble-dataset-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// A solid-colour image.
    private func solid(_ r: UInt8, _ g: UInt8, _ b: UInt8, size: Int = 8) -> RGBImage {
        RGBImage(width: size, height: size) { _, _ in (r, g, b) }
    }

    private func write(_ relative: String, _ image: RGBImage? = nil, jpeg: Bool = false, bytes: String? = nil) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let bytes {
            try Data(bytes.utf8).write(to: url)
        } else if jpeg {
            try ImageEncoder.writeJPEG(image ?? solid(10, 20, 30), to: url)
        } else {
            try ImageEncoder.writePNG(image ?? solid(10, 20, 30), to: url)
        }
    }

    /// The tree used by several tests:
    /// ```
    /// Zeta/z.png  damage/B.png  damage/a.JPG  damage/sub/c.png  damage/notes.txt  damage/old.bmp
    /// damage/.DS_Store  damage/.cache/h.png  no_damage/x.jpeg  .hidden/h.png  README.md (a file at the root)
    /// ```
    private func makeTree() throws {
        try write("Zeta/z.png", solid(255, 0, 0))
        try write("damage/B.png", solid(0, 255, 0))
        try write("damage/a.JPG", solid(128, 128, 128), jpeg: true)
        try write("damage/sub/c.png", solid(0, 0, 255))
        try write("damage/notes.txt", bytes: "not an image")
        try write("damage/old.bmp", bytes: "BM fake")
        try write("damage/.DS_Store", bytes: "junk")
        try write("damage/.cache/h.png")
        try write("no_damage/x.jpeg", solid(200, 100, 50), jpeg: true)
        try write(".hidden/h.png")
        try write("README.md", bytes: "# data")
    }

    func testFolderClassesFilesAndLabelsInSortedOrder() throws {
        try makeTree()
        let set = try ImageFolderExamples(directory: root)
        // Byte order as Python's sorted: upper case before lower case.
        XCTAssertEqual(set.classNames, ["Zeta", "damage", "no_damage"])
        let relative = set.files.map { String($0.path.dropFirst(root.standardizedFileURL.path.count + 1)) }
        XCTAssertEqual(relative, ["Zeta/z.png", "damage/B.png", "damage/a.JPG", "damage/sub/c.png", "no_damage/x.jpeg"])
        XCTAssertEqual(set.labels, [0, 1, 1, 1, 2])
        XCTAssertEqual(set.classCounts, [1, 3, 1])
        XCTAssertEqual(set.count, 5)
        XCTAssertEqual(set.identifier(1), set.files[1].path)
        let skipped = set.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        XCTAssertEqual(skipped, ["notes.txt", "old.bmp"])
        XCTAssertTrue(set.skipped[1].reason.contains("BMP"), set.skipped[1].reason)
        XCTAssertTrue(set.summary.contains("5 images in 3 classes (Zeta 1, damage 3, no_damage 1)"), set.summary)
        XCTAssertTrue(set.summary.contains("skipped 2 files (1 .bmp, 1 .txt)"), set.summary)
    }

    func testInputsDecodeResizeAndPreprocess() throws {
        try makeTree()
        let set = try ImageFolderExamples(directory: root, pipeline: ImagePipeline(imageSize: 4))
        let batch = try set.inputs([1, 0, 3])
        XCTAssertEqual(batch.shape, [3, 4, 4, 3])
        let v = batch.scalars
        // example 1 = damage/B.png green, 0 = Zeta/z.png red, 3 = damage/sub/c.png blue; unit scale
        XCTAssertEqual(Array(v[0..<3]), [0, 1, 0])
        XCTAssertEqual(Array(v[48..<51]), [1, 0, 0])
        XCTAssertEqual(Array(v[96..<99]), [0, 0, 1])
        XCTAssertEqual(Array(v[96 + 45..<96 + 48]), [0, 0, 1])

        let caffe = try ImageFolderExamples(directory: root, pipeline: ImagePipeline(imageSize: 4, preprocessing: .caffe))
        let c = try caffe.inputs([0]).scalars
        // red (255, 0, 0) in BGR minus the means
        XCTAssertEqual(c[0], -103.939, accuracy: 1e-3)
        XCTAssertEqual(c[1], -116.779, accuracy: 1e-3)
        XCTAssertEqual(c[2], 255 - 123.68, accuracy: 1e-3)
    }

    func testNearestResizeOption() throws {
        // 2x2 quadrants upsampled to 4x4: nearest keeps exact quadrant colours, bilinear blends.
        let image = RGBImage(width: 2, height: 2) { x, y in x == 0 && y == 0 ? (255, 255, 255) : (0, 0, 0) }
        try write("a/q.png", image)
        let nearest = try ImageFolderExamples(directory: root, pipeline: ImagePipeline(imageSize: 4, resize: .nearest))
        let bilinear = try ImageFolderExamples(directory: root, pipeline: ImagePipeline(imageSize: 4, resize: .bilinear))
        let n = try nearest.inputs([0]).scalars, b = try bilinear.inputs([0]).scalars
        let nGreen = stride(from: 1, to: 48, by: 3).map { n[$0] }
        XCTAssertEqual(nGreen, [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(b[1], 1)                       // corner stays white
        XCTAssertEqual(b[(1 * 4 + 1) * 3], 0.5625, accuracy: 1e-6) // (0.75)^2 weight of the white pixel
    }

    func testCorruptImageErrorNamesTheFileAndValidateFindsIt() throws {
        try write("damage/good.png", solid(1, 2, 3))
        try write("damage/broken.png", bytes: "\u{89}PNG this is not really a png")
        try write("no_damage/empty.jpg", bytes: "")
        try write("no_damage/ok.jpg", solid(9, 9, 9), jpeg: true)
        let set = try ImageFolderExamples(directory: root) // scanning does not decode
        XCTAssertEqual(set.count, 4)
        let broken = set.files.firstIndex { $0.lastPathComponent == "broken.png" }!
        XCTAssertThrowsError(try set.inputs([0, broken])) { error in
            guard case DatasetError.unreadableFile(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("damage/broken.png"), path)
            XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
        }
        let bad = set.validate()
        XCTAssertEqual(bad.map { URL(fileURLWithPath: $0.path).lastPathComponent }, ["broken.png", "empty.jpg"])
        XCTAssertTrue(bad[1].reason.contains("empty"), bad[1].reason)
        XCTAssertEqual(set.validate(decodePixels: true).count, 2)
        let clean = set.removing(bad)
        XCTAssertEqual(clean.count, 2)
        XCTAssertEqual(clean.labels, [0, 1])
        XCTAssertEqual(try clean.inputs([0, 1]).shape, [2, 150, 150, 3])
    }

    func testRequiredClassNamesAndMismatch() throws {
        try write("no_damage/a.png")
        try write("damage/b.png")
        let set = try ImageFolderExamples(directory: root, classNames: ["no_damage", "damage"])
        XCTAssertEqual(set.classNames, ["no_damage", "damage"])
        XCTAssertEqual(set.labels, [0, 1])  // damage/b.png is label 1 now, no_damage/a.png label 0
        XCTAssertTrue(set.files[0].path.hasSuffix("no_damage/a.png"))
        XCTAssertThrowsError(try ImageFolderExamples(directory: root, classNames: ["damage", "intact"])) { error in
            XCTAssertEqual(error as? DatasetError,
                           .classMismatch(path: root.standardizedFileURL.path, expected: ["damage", "intact"], found: ["damage", "no_damage"]))
            XCTAssertTrue("\(error)".contains("[\"damage\", \"intact\"]") && "\(error)".contains("[\"damage\", \"no_damage\"]"))
        }
    }

    func testEmptyFoldersAreClearErrors() throws {
        let missing = root.appendingPathComponent("nope")
        XCTAssertThrowsError(try ImageFolderExamples(directory: missing)) {
            XCTAssertEqual($0 as? DatasetError, .notADirectory(path: missing.path))
        }
        try write("readme.txt", bytes: "x")
        try write(".hidden/a.png")
        XCTAssertThrowsError(try ImageFolderExamples(directory: root)) {
            XCTAssertEqual($0 as? DatasetError, .noClasses(path: root.standardizedFileURL.path))
        }
        try write("damage/notes.txt", bytes: "x")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("no_damage"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try ImageFolderExamples(directory: root)) {
            XCTAssertEqual($0 as? DatasetError, .noImages(path: root.standardizedFileURL.path, classes: ["damage", "no_damage"]))
        }
    }

    // MARK: - Split, subset, epoch order (in-memory sets)

    private func tensorSet(count: Int, classes: Int = 2) throws -> TensorExamples {
        let images = Tensor((0..<count * 2).map { Float($0) }, shape: [count, 1, 2, 1])
        return try TensorExamples(images: images, labels: (0..<count).map { $0 % classes },
                                  classNames: (0..<classes).map { "c\($0)" })
    }

    func testSeededSplitIsDeterministicDisjointAndKerasSized() throws {
        let set = try tensorSet(count: 50)
        let a = try set.split(validationFraction: 0.2, seed: 7)
        let b = try set.split(validationFraction: 0.2, seed: 7)
        let c = try set.split(validationFraction: 0.2, seed: 8)
        XCTAssertEqual(a.validation.indices, b.validation.indices)
        XCTAssertEqual(a.training.indices, b.training.indices)
        XCTAssertNotEqual(a.validation.indices, c.validation.indices)
        XCTAssertEqual(a.validation.count, 10)           // int(0.2 * 50)
        XCTAssertEqual(a.training.count, 40)
        XCTAssertTrue(Set(a.validation.indices).isDisjoint(with: a.training.indices))
        XCTAssertEqual(Set(a.validation.indices).union(a.training.indices), Set(0..<50))
        XCTAssertEqual(a.validation.indices, a.validation.indices.sorted())
        XCTAssertEqual(a.validation.labels, a.validation.indices.map { $0 % 2 })
        XCTAssertEqual(try set.split(validationFraction: 0.2, seed: 1).validation.count, 10)
        XCTAssertEqual(try tensorSet(count: 7).split(validationFraction: 0.2, seed: 1).validation.count, 1) // int(1.4)

        let stratified = try tensorSet(count: 60, classes: 3).split(validationFraction: 0.25, seed: 3, stratified: true)
        XCTAssertEqual(stratified.validation.classCounts, [5, 5, 5])
        XCTAssertEqual(stratified.training.classCounts, [15, 15, 15])

        XCTAssertThrowsError(try set.split(validationFraction: 0, seed: 1))
        XCTAssertThrowsError(try set.split(validationFraction: 1, seed: 1))
        XCTAssertThrowsError(try tensorSet(count: 4).split(validationFraction: 0.2, seed: 1)) // int(0.8) = 0
    }

    func testSubsetMapsIndicesLabelsAndInputs() throws {
        let set = try tensorSet(count: 6)
        let subset = try Subset(set, indices: [5, 2, 3])
        XCTAssertEqual(subset.labels, [1, 0, 1])
        XCTAssertEqual(subset.identifier(0), "#5")
        XCTAssertEqual(try subset.inputs([1, 0]).scalars, [4, 5, 10, 11])
        let nested = try Subset(subset, indices: [2])
        XCTAssertEqual(nested.indices, [3])
        XCTAssertEqual(try nested.inputs([0]).scalars, [6, 7])
        XCTAssertThrowsError(try Subset(set, indices: [6]))
        XCTAssertThrowsError(try subset.inputs([3]))
    }

    func testTensorExamplesValidatesAndAugments() throws {
        XCTAssertThrowsError(try TensorExamples(images: Tensor(zeros: [2, 1, 1, 1]), labels: [0], classNames: ["a"]))
        XCTAssertThrowsError(try TensorExamples(images: Tensor(zeros: [1, 1, 1, 1]), labels: [1], classNames: ["a"]))
        let set = try TensorExamples(images: Tensor([0, 1, 2, 3], shape: [1, 1, 4, 1]), labels: [0], classNames: ["a"])
        var flipped = false
        for seed in 0..<10 as Range<UInt64> {
            let v = try set.inputs([0], augmentation: Augmentation(flip: true), seed: seed).scalars
            XCTAssertTrue(v == [0, 1, 2, 3] || v == [3, 2, 1, 0], "\(v)")
            flipped = flipped || v == [3, 2, 1, 0]
            XCTAssertEqual(v, try set.inputs([0], augmentation: Augmentation(flip: true), seed: seed).scalars)
        }
        XCTAssertTrue(flipped)
    }

    func testEpochOrderIsASeededPermutation() {
        let a = epochOrder(count: 100, epoch: 0, seed: 42)
        XCTAssertEqual(a.sorted(), Array(0..<100))
        XCTAssertEqual(a, epochOrder(count: 100, epoch: 0, seed: 42))
        XCTAssertNotEqual(a, epochOrder(count: 100, epoch: 1, seed: 42))
        XCTAssertNotEqual(a, epochOrder(count: 100, epoch: 0, seed: 43))
        XCTAssertNotEqual(a, Array(0..<100))
        XCTAssertEqual(epochOrder(count: 0, epoch: 3, seed: 1), [])
        XCTAssertEqual(epochOrder(count: 1, epoch: 3, seed: 1), [0])
        // every position gets every value about equally often (a biased shuffle would not)
        var firstCounts = [Int](repeating: 0, count: 4)
        for epoch in 0..<4000 { firstCounts[epochOrder(count: 4, epoch: epoch, seed: 9)[0]] += 1 }
        XCTAssertTrue(firstCounts.allSatisfy { abs($0 - 1000) < 120 }, "\(firstCounts)")
    }
}

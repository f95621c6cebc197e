import Foundation
import Inference
import Markup
import Tensor
@testable import Train
import Vision
import XCTest

/// `VerifiedDataset`: the run's classes, de-duplication by content against the training
/// folders and among the verified photos, and photos named by bytes decoding as folder photos do.
final class VerifiedDatasetTests: VerifiedLabelsTestCase {
    /// data/damage/{0,1}.png and data/intact/{0,1}.png, photos 0-3.
    private func folder() throws -> ImageFolderExamples {
        try write(try photo(0), at: "data/damage/0.png")
        try write(try photo(1), at: "data/damage/1.png")
        try write(try photo(2), at: "data/intact/0.png")
        try write(try photo(3), at: "data/intact/1.png")
        return try ImageFolderExamples(directory: root.appendingPathComponent("data"), pipeline: ImagePipeline(imageSize: 16))
    }

    func testMergedWithTheFolderAndDeduplicatedByContent() throws {
        let data = try folder()
        try write(try photo(0), at: "photos/copy-of-damage-0.png")   // in the folder already, same class
        try write(try photo(10), at: "photos/new.png")
        try write(try photo(10), at: "photos/new-again.png")          // a copy of the previous verified photo
        try write(try photo(11), at: "photos/other.png")
        let url = try csv("""
            path,predicted,verified_label
            photos/copy-of-damage-0.png,intact,damage
            photos/new.png,damage,intact
            photos/new-again.png,intact,intact
            photos/other.png,intact,damage
            """)
        let merged = try VerifiedDataset(try VerifiedLabels.load(csv: url), mergingWith: data)
        XCTAssertEqual(merged.counts, VerifiedDataset.Counts(folderPhotos: 4, verifiedPhotos: 4, sameAsFolderPhoto: 1,
                                                             sameAsVerifiedPhoto: 1))
        XCTAssertEqual(merged.counts.added, 2)
        let examples = merged.examples
        XCTAssertEqual(examples.classNames, ["damage", "intact"])
        XCTAssertEqual(examples.count, 6)
        XCTAssertEqual((0..<6).map(examples.identifier), data.files.map(\.path) + [root.path + "/photos/new.png",
                                                                                    root.path + "/photos/other.png"])
        XCTAssertEqual(examples.labels, [0, 0, 1, 1, 1, 0])
        XCTAssertEqual(examples.classCounts, [3, 3])
        XCTAssertEqual(examples.pipeline, data.pipeline)
        XCTAssertTrue(merged.summary.contains("merged with \(data.root.path) (4 photos): 2 added, 2 left out as duplicates "
                                              + "(1 of folder photos, 1 of other verified photos); 6 photos"), merged.summary)
        // The folder's photos give the same input as the folder itself.
        XCTAssertEqual(try examples.inputs([0, 1, 2, 3]).scalars, try data.inputs([0, 1, 2, 3]).scalars)
    }

    func testACopyOfAFolderPhotoWithAnotherLabelNamesBothFiles() throws {
        let data = try folder()
        try write(try photo(2), at: "photos/looks-intact.png")   // data/intact/0.png, byte for byte
        let url = try csv("path,label\nphotos/looks-intact.png,damage\n")
        let error = labelsError { try VerifiedDataset(try VerifiedLabels.load(csv: url), mergingWith: data) }
        XCTAssertEqual(error, .conflictsWithFolder(.init(file: url.relativePath, line: 2), path: root.path + "/photos/looks-intact.png",
                                                   label: "damage", folderFile: data.files[2].path, folderLabel: "intact"))
        assertMessage(error, names: [url.relativePath + ", line 2", root.path + "/photos/looks-intact.png",
                                     root.path + "/data/intact/0.png", "'damage'", "'intact'"])
    }

    func testCopiesAmongTheVerifiedWithDifferentLabelsNameBothLines() throws {
        try write(try photo(5), at: "a.png")
        try write(try photo(5), at: "b.png")
        let url = try csv("path,label\na.png,damage\nb.png,intact\n")
        let error = labelsError { try VerifiedDataset(try VerifiedLabels.load(csv: url)) }
        assertMessage(error, names: [url.relativePath + ", line 3", root.path + "/b.png", "'intact'", root.path + "/a.png",
                                     "'damage'", url.relativePath + ", line 2"])
    }

    func testClassesFromTheFolderTheSortedLabelsOrTheGivenOrder() throws {
        try write(try photo(5), at: "a.png")
        try write(try photo(6), at: "b.png")
        try write(try photo(7), at: "c.png")
        let url = try csv("path,label\na.png,no_damage\nb.png,damage\nc.png,Zeta\n")
        let labels = try VerifiedLabels.load(csv: url)
        let sorted = try VerifiedDataset(labels, pipeline: ImagePipeline(imageSize: 16)).examples
        XCTAssertEqual(sorted.classNames, ["Zeta", "damage", "no_damage"], "byte order, as class folders")
        XCTAssertEqual(sorted.labels, [2, 1, 0])
        XCTAssertEqual(sorted.pipeline.imageSize, 16)
        let ordered = try VerifiedDataset(labels, classNames: ["no_damage", "damage", "Zeta", "unused"]).examples
        XCTAssertEqual(ordered.classNames, ["no_damage", "damage", "Zeta", "unused"])
        XCTAssertEqual(ordered.labels, [0, 1, 2])

        let unknown = labelsError { try VerifiedDataset(labels, classNames: ["damage", "no_damage"]) }
        XCTAssertEqual(unknown, .unknownLabel(.init(file: url.relativePath, line: 4), value: "Zeta", classes: ["damage", "no_damage"]))
        assertMessage(unknown, names: [url.relativePath + ", line 4", "'Zeta'", "damage, no_damage"])
        let outsideFolder = labelsError { try VerifiedDataset(labels, mergingWith: try folder()) }
        assertMessage(outsideFolder, names: [url.relativePath + ", line 2", "'no_damage'", "damage, intact"])
        XCTAssertThrowsError(try VerifiedDataset(labels, classNames: ["damage", "damage"]))
        XCTAssertThrowsError(try VerifiedDataset(labels, mergingWith: try folder(), classNames: ["intact", "damage"]))
    }

    func testAMissingOrUnreadablePhotoIsNamedWithItsLine() throws {
        let a = try write(try photo(5), at: "a.png")
        let labels = try VerifiedLabels(origin: "db", entries: [
            .init(path: a, label: "damage", source: .init(file: "db", record: "photo 1")),
            .init(path: Array(root.path.utf8) + Array("/gone.png".utf8), label: "damage", source: .init(file: "db", record: "photo 2")),
        ])
        let error = labelsError { try VerifiedDataset(labels) }
        assertMessage(error, names: ["db (photo 2)", root.path + "/gone.png", "No such file"])
    }

    func testANameThatIsNotUTF8IsReadByItsBytes() throws {
        let bytes = try photo(8)
        try write(bytes, at: "plain.png")
        try write(bytes, at: Array("caf".utf8) + [0xE9] + Array(".png".utf8))
        try write(try photo(9), at: "other.png")
        let url = try csv("path,label\ncaf\\xE9.png,damage\nother.png,intact\n")
        let examples = try VerifiedDataset(try VerifiedLabels.load(csv: url), pipeline: ImagePipeline(imageSize: 16)).examples
        XCTAssertEqual(examples.identifier(0), root.path + "/caf\\xE9.png")
        let plain = try ImageFolderExamples(files: [root.appendingPathComponent("plain.png")], labels: [0],
                                            classNames: ["damage", "intact"], pipeline: ImagePipeline(imageSize: 16))
        XCTAssertEqual(try examples.inputs([0]).scalars, try plain.inputs([0]).scalars)
        // A photo that cannot be decoded is named in the batch's error.
        try write(Data("not an image".utf8), at: "other.png")
        XCTAssertThrowsError(try examples.inputs([0, 1])) { error in
            XCTAssertTrue("\(error)".contains(root.path + "/other.png"), "\(error)")
        }
    }
}

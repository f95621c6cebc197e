import Foundation
import KerasFiles
import Layers
import Tensor
import XCTest
import Zoo

/// The self-describing root attributes of a weights file: written, read back, checked.
final class ModelMetadataTests: XCTestCase {
    private func temporaryFile() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-meta-\(UUID().uuidString).h5")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func model() throws -> Sequential {
        try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 8, classes: 3, seed: 1)
    }

    func testEveryAttributeRoundTripsInBothLayouts() throws {
        let metadata = ModelMetadata(classNames: ["intact", "damage", "débris"], inputShape: [48, 48, 3],
                                     architecture: "baseline", head: "8", preprocessing: "caffe", resize: "nearest",
                                     positiveClass: "damage")
        for format in [WeightsFormat.keras2, .keras3] {
            let url = temporaryFile()
            try KerasWeights.save(try model(), to: url, format: format, metadata: metadata)
            XCTAssertEqual(try KerasWeights.metadata(of: url), metadata, "\(format)")
        }
    }

    func testAFileWithoutAttributesHasEmptyMetadata() throws {
        let url = temporaryFile()
        try KerasWeights.save(try model(), to: url)
        XCTAssertTrue(try KerasWeights.metadata(of: url).isEmpty)
    }

    func testImpossibleValuesAreNamedErrors() throws {
        let cases: [(ModelMetadata, String)] = [
            (ModelMetadata(inputShape: [1 << 40, 1 << 40, 3]), "rubble_input_size"),
            (ModelMetadata(inputShape: [0, 48, 3]), "rubble_input_size"),
            (ModelMetadata(inputShape: [48, 48]), "rubble_input_size"),
            (ModelMetadata(classNames: ["a", "a"]), "rubble_class_names"),
            (ModelMetadata(classNames: ["a", "b"], positiveClass: "c"), "rubble_positive_class"),
        ]
        for (metadata, attribute) in cases {
            let url = temporaryFile()
            try KerasWeights.save(try model(), to: url, metadata: metadata)
            XCTAssertThrowsError(try KerasWeights.metadata(of: url)) { error in
                guard case let .invalidAttribute(file, name, _)? = error as? WeightsError else {
                    return XCTFail("\(error)")
                }
                XCTAssertEqual(file, url.path)
                XCTAssertEqual(name, attribute)
            }
        }
    }

    func testInputSizeLimitsPerArchitecture() throws {
        XCTAssertEqual(Architecture.vgg19.minimumInputSize, 32)
        XCTAssertEqual(Architecture.baseline.minimumInputSize, 46)
        XCTAssertNoThrow(try Architecture.baseline.makeClassifier(imageSize: 46, hiddenUnits: 4, classes: 2))
        XCTAssertThrowsError(try Architecture.baseline.makeClassifier(imageSize: 45, hiddenUnits: 4, classes: 2)) {
            XCTAssertEqual("\($0)", "baseline: input size 45 must be in 46...4096")
        }
        XCTAssertThrowsError(try Architecture.vgg16.makeClassifier(imageSize: 4097, hiddenUnits: 4, classes: 2))
        XCTAssertThrowsError(try Architecture.vgg16.makeClassifier(imageSize: 32, hiddenUnits: 0, classes: 2)) {
            XCTAssertEqual("\($0)", "vgg16: hidden units 0 must be >= 1")
        }
    }

    /// Zoo builds up to the side a file may declare, and no further.
    func testZooAndTheFilesAgreeOnTheLargestInputSide() {
        XCTAssertEqual(Architecture.maximumInputSize, ModelMetadata.maximumInputSize)
    }

    /// `saver` fills in what `fit` knows (class names, input shape) and keeps the rest.
    func testSaverFillsInClassNamesAndInputShape() throws {
        let url = temporaryFile()
        let save = KerasWeights.saver(format: .keras3, metadata: ModelMetadata(classNames: ["stale"], architecture: "baseline",
                                                                               head: "8"))
        try save(try model(), url, ["intact", "damage", "débris"], [48, 48, 3])
        XCTAssertEqual(try KerasWeights.metadata(of: url),
                       ModelMetadata(classNames: ["intact", "damage", "débris"], inputShape: [48, 48, 3],
                                     architecture: "baseline", head: "8"))
        XCTAssertEqual(try KerasWeights.inspect(url).layout, .keras3)
    }

    /// An EfficientNet graph built for ImageNet weights (with `rescaling_1`) is recognised from
    /// its file; the graph without it is not.
    func testImageNetRescalingIsReadFromTheLayerList() throws {
        for imageNet in [true, false] {
            let url = temporaryFile()
            let base = try Architecture.efficientnetb0.makeBase(imageSize: 32, backbone: BackboneOptions(imageNetRescaling: imageNet))
            try KerasWeights.save(base, to: url)
            XCTAssertEqual(try KerasWeights.hasImageNetRescaling(url), imageNet)
            XCTAssertEqual(try KerasWeights.inspect(url).hasImageNetRescaling, imageNet)
        }
    }
}

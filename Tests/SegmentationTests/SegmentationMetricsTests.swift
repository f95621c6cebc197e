import Foundation
import Segmentation
import XCTest

/// A mask for the tests: `indices` row-major.
struct TestMask: ClassMaskLike {
    var width: Int
    var height: Int
    var indices: [UInt8]
}

/// `PixelConfusionMatrix` and `SegmentationMetrics` against matrices and scores computed by hand.
final class SegmentationMetricsTests: XCTestCase {
    // Pixels (truth, prediction): (0,0) (0,0) (0,1) (1,1) (1,2) (2,2) (2,0), plus two ignored.
    let labels: [UInt8] = [0, 0, 0, 1, 1, 2, 255, 2, 255]
    let predicted: [UInt8] = [0, 0, 1, 1, 2, 2, 2, 0, 1]

    func handMatrix() throws -> PixelConfusionMatrix {
        var matrix = try PixelConfusionMatrix(classCount: 3)
        try matrix.add(predicted: predicted, labels: labels)
        return matrix
    }

    func testCountsRowsTrueColumnsPredictedAndSkipsTheIgnoreIndex() throws {
        let matrix = try handMatrix()
        XCTAssertEqual(matrix.rows, [[2, 1, 0], [0, 1, 1], [1, 0, 1]])
        XCTAssertEqual(matrix.counts, [2, 1, 0, 0, 1, 1, 1, 0, 1])
        XCTAssertEqual(matrix[truth: 2, predicted: 0], 1)
        XCTAssertEqual(matrix.labelledPixels, 7)
        XCTAssertEqual(matrix.truePositives, [2, 1, 1])
        XCTAssertEqual(matrix.labelPixels, [3, 2, 2])
        XCTAssertEqual(matrix.predictedPixels, [3, 2, 2])
    }

    func testScoresByHand() throws {
        let metrics = SegmentationMetrics(try handMatrix())
        // IoU = TP / (label + predicted - TP): 2/4, 1/3, 1/3.
        XCTAssertEqual(metrics.perClassIoU, [0.5, 1.0 / 3, 1.0 / 3])
        XCTAssertEqual(metrics.meanIoU, (0.5 + 2.0 / 3) / 3, accuracy: 1e-15)
        XCTAssertEqual(metrics.pixelAccuracy, 4.0 / 7, accuracy: 1e-15)
        XCTAssertEqual(metrics.perClassAccuracy, [2.0 / 3, 0.5, 0.5])
        XCTAssertEqual(metrics.meanAccuracy, (2.0 / 3 + 1) / 3, accuracy: 1e-15)
        XCTAssertEqual(metrics.pixels, 7)
    }

    func testClassesWithAnEmptyUnionAreNaNAndLeftOutOfTheMean() throws {
        // 4 classes: class 3 never labelled nor predicted; class 2 predicted but never labelled.
        var matrix = try PixelConfusionMatrix(classCount: 4)
        try matrix.add(predicted: [0, 0, 1, 2, 1], labels: [0, 1, 1, 1, 255])
        let metrics = SegmentationMetrics(matrix)
        // class 0: TP 1, label 1, pred 2 -> 1/2; class 1: TP 1, label 3, pred 1 -> 1/3; class 2: 0/1.
        XCTAssertEqual(metrics.perClassIoU[0], 0.5)
        XCTAssertEqual(metrics.perClassIoU[1], 1.0 / 3)
        XCTAssertEqual(metrics.perClassIoU[2], 0)
        XCTAssertTrue(metrics.perClassIoU[3].isNaN)
        XCTAssertEqual(metrics.meanIoU, (0.5 + 1.0 / 3 + 0) / 3, accuracy: 1e-15, "nanmean over 3 classes")
        XCTAssertEqual(metrics.perClassAccuracy[0], 1)
        XCTAssertEqual(metrics.perClassAccuracy[1], 1.0 / 3)
        XCTAssertTrue(metrics.perClassAccuracy[2].isNaN, "never labelled")
        XCTAssertTrue(metrics.perClassAccuracy[3].isNaN)
        XCTAssertEqual(metrics.pixelAccuracy, 2.0 / 4)

        let empty = SegmentationMetrics(try PixelConfusionMatrix(classCount: 2))
        XCTAssertTrue(empty.meanIoU.isNaN)
        XCTAssertTrue(empty.pixelAccuracy.isNaN)
    }

    func testMergingEqualsCountingTogether() throws {
        var a = try PixelConfusionMatrix(classCount: 3), b = try PixelConfusionMatrix(classCount: 3)
        try a.add(predicted: predicted.prefix(4), labels: labels.prefix(4))
        try b.add(predicted: predicted.dropFirst(4), labels: labels.dropFirst(4))
        XCTAssertEqual(try a.merged(with: b), try handMatrix())
        try a.merge(b)
        XCTAssertEqual(a, try handMatrix())
        XCTAssertThrowsError(try a.merge(try PixelConfusionMatrix(classCount: 2))) { error in
            XCTAssertEqual(error as? SegmentationMetricsError, .mergeMismatch(classes: 3, other: 2))
        }
    }

    func testMasksAndOtherIntegerTypesAndAnotherIgnoreIndex() throws {
        var fromMasks = try PixelConfusionMatrix(classCount: 3)
        try fromMasks.add(predicted: TestMask(width: 3, height: 3, indices: predicted),
                          labels: TestMask(width: 3, height: 3, indices: labels))
        XCTAssertEqual(fromMasks, try handMatrix())
        var fromInts = try PixelConfusionMatrix(classCount: 3)
        try fromInts.add(predicted: predicted.map { Int64($0) }, labels: labels.map { Int($0) })
        XCTAssertEqual(fromInts, try handMatrix())
        // Labels 0 ignored (mmseg's reduce_zero_label input), 255 then an error.
        var zeroIgnored = try PixelConfusionMatrix(classCount: 3)
        try zeroIgnored.add(predicted: [1, 2, 2], labels: [0, 2, 1], ignoreIndex: 0)
        XCTAssertEqual(zeroIgnored.rows, [[0, 0, 0], [0, 0, 1], [0, 0, 1]])
        XCTAssertThrowsError(try zeroIgnored.add(predicted: [1], labels: [255], ignoreIndex: 0))
    }

    func testRefusalsNameTheValueThePixelAndTheSourceAndCountNothing() throws {
        var matrix = try handMatrix()
        XCTAssertThrowsError(try matrix.add(predicted: [0, 1, 2], labels: [0, 3, 1], source: "masks/a.png")) { error in
            XCTAssertEqual(error as? SegmentationMetricsError,
                           .labelOutOfRange(value: 3, index: 1, classes: 3, ignoreIndex: 255, source: "masks/a.png"))
            XCTAssertTrue("\(error)".hasPrefix("masks/a.png: label 3 at pixel 1"), "\(error)")
        }
        XCTAssertThrowsError(try matrix.add(predicted: [0, 7], labels: [0, 1])) { error in
            XCTAssertEqual(error as? SegmentationMetricsError,
                           .predictionOutOfRange(value: 7, index: 1, classes: 3, source: nil))
        }
        XCTAssertThrowsError(try matrix.add(predicted: [-1], labels: [0] as [Int]))
        XCTAssertThrowsError(try matrix.add(predicted: [0], labels: [-2] as [Int]))
        XCTAssertThrowsError(try matrix.add(predicted: [0, 1], labels: [0])) { error in
            XCTAssertEqual(error as? SegmentationMetricsError, .lengthMismatch(predicted: 2, labels: 1, source: nil))
        }
        XCTAssertThrowsError(try matrix.add(predicted: TestMask(width: 2, height: 1, indices: [0, 0]),
                                            labels: TestMask(width: 1, height: 2, indices: [0, 0])))
        XCTAssertEqual(matrix, try handMatrix(), "a refused image leaves the counts as they were")

        XCTAssertThrowsError(try PixelConfusionMatrix(classCount: 0)) { error in
            XCTAssertEqual(error as? SegmentationMetricsError, .classCount(0))
        }
        XCTAssertThrowsError(try PixelConfusionMatrix(classCount: 1025))
        XCTAssertThrowsError(try PixelConfusionMatrix(classCount: 2, counts: [1, 2, 3]))
        XCTAssertThrowsError(try PixelConfusionMatrix(classCount: 2, counts: [1, 2, -3, 4])) { error in
            XCTAssertEqual(error as? SegmentationMetricsError, .counts(count: 4, classes: 2, negativeAt: 2))
        }
        XCTAssertEqual(try PixelConfusionMatrix(classCount: 3, counts: [2, 1, 0, 0, 1, 1, 1, 0, 1]), try handMatrix())
    }

    func testMetricsJSON() throws {
        var matrix = try PixelConfusionMatrix(classCount: 4)
        try matrix.add(predicted: [0, 0, 1, 2, 1], labels: [0, 1, 1, 1, 255])
        let names = ["undamaged", "damaged", "debris", "vehicle"]
        let data = try SegmentationMetrics(matrix).jsonData(classNames: names)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["pixel_accuracy", "mean_iou", "mean_accuracy", "per_class_iou",
                                        "per_class_accuracy", "confusion_matrix", "class_names", "pixels"])
        XCTAssertEqual(json["pixel_accuracy"] as? Double, 0.5)
        XCTAssertEqual(try XCTUnwrap(json["mean_iou"] as? Double), (0.5 + 1.0 / 3) / 3, accuracy: 1e-12)
        let iou = try XCTUnwrap(json["per_class_iou"] as? [String: Any])
        XCTAssertEqual(iou["undamaged"] as? Double, 0.5)
        XCTAssertEqual(iou["debris"] as? Double, 0)
        XCTAssertTrue(iou["vehicle"] is NSNull, "an empty union is null")
        let accuracy = try XCTUnwrap(json["per_class_accuracy"] as? [String: Any])
        XCTAssertTrue(accuracy["debris"] is NSNull)
        XCTAssertEqual(accuracy["undamaged"] as? Double, 1)
        XCTAssertEqual(json["confusion_matrix"] as? [[Int]], [[1, 0, 0, 0], [1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(json["class_names"] as? [String], names)
        XCTAssertEqual(json["pixels"] as? Int, 4)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"vehicle\" : null"))

        let empty = try SegmentationMetrics(try PixelConfusionMatrix(classCount: 1)).jsonData(classNames: ["a"])
        let emptyJSON = try XCTUnwrap(try JSONSerialization.jsonObject(with: empty) as? [String: Any])
        XCTAssertTrue(emptyJSON["mean_iou"] is NSNull)
        XCTAssertTrue(emptyJSON["pixel_accuracy"] is NSNull)

        XCTAssertThrowsError(try SegmentationMetrics(matrix).jsonData(classNames: ["a", "b", "c"]))
        XCTAssertThrowsError(try SegmentationMetrics(matrix).jsonData(classNames: ["a", "b", "a", "c"])) { error in
            XCTAssertEqual(error as? SegmentationMetricsError, .classNames(["a", "b", "a", "c"], classes: 4))
        }
    }
}

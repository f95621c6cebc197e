import Foundation
import Segmentation
import Vision
import XCTest

/// A depth model's output as the severity score's depth: `DepthMap.relative` on hand-made maps,
/// and the depth-weighted score of a hand-made mask and disparity map against the formula.
final class RelativeDepthTests: XCTestCase {
    func testDisparityBecomesRelativeDepthClippedAt100() throws {
        // Largest disparity 8: depth = 8 / d, 8 / 0.04 = 200 clipped to 100, and 0 (the sky) is 100 too.
        let map = try DepthMap.relative(disparity: [8, 4, 2, 1, 0.04, 0], width: 3, height: 2, file: "d")
        XCTAssertEqual(map.values, [1, 2, 4, 8, 100, 100])
        XCTAssertEqual(map.file, "d")
        XCTAssertEqual(DepthMap.relativeDepthRange, 1...100)
        // No disparity anywhere: no depth information, every pixel alike.
        XCTAssertEqual(try DepthMap.relative(disparity: [0, 0], width: 2, height: 1).values, [1, 1])
        // Only ratios count: scaling the disparity changes nothing.
        XCTAssertEqual(try DepthMap.relative(disparity: [80, 40, 20], width: 3, height: 1).values, [1, 2, 4])
        XCTAssertThrowsError(try DepthMap.relative(disparity: [1, -1], width: 2, height: 1, file: "d")) { error in
            XCTAssertEqual(error as? SeverityError, .depthNegative(value: -1, x: 1, y: 0, file: "d"))
        }
        XCTAssertThrowsError(try DepthMap.relative(disparity: [1, .nan], width: 2, height: 1))
        XCTAssertThrowsError(try DepthMap.relative(disparity: [1, 2, 3], width: 2, height: 1))
    }

    func testMetricDepthIsRelativeToTheNearest() throws {
        // Nearest 2 m, farthest 20 m: 2 -> 1, 10 -> 5, 20 -> 10.
        XCTAssertEqual(try DepthMap.relative(metricDepth: [2, 10, 20], width: 3, height: 1).values, [1, 5, 10])
        // The nearest counts as at least 1 % of the farthest (5 m of 500 m): 2 -> 0.4 raised to 1, 10 -> 2, 500 -> 100.
        XCTAssertEqual(try DepthMap.relative(metricDepth: [2, 10, 500], width: 3, height: 1).values, [1, 2, 100])
        XCTAssertEqual(try DepthMap.relative(metricDepth: [0, 50, 100], width: 3, height: 1).values, [1, 50, 100])
    }

    /// 4 x 2 mask, 2 x 1 disparity map: depth = min(100, 4 / d) = [1, 4], resampled to 4 x 2 without
    /// an aspect check (a model's map covers the photo), a(p) = depth², score = Σ a v / Σ a.
    func testDepthWeightedScoreOfADisparityMapIsTheFormula() throws {
        let mask: [UInt8] = [0, 1, 2, 2,
                             255, 1, 0, 2]
        let relative = try DepthMap.relative(disparity: [4, 1], width: 2, height: 1).resampled(toWidth: 4, height: 2)
        // Half-pixel centres: columns at 1, 1.75, 3.25, 4 (clamped at the edges), both rows alike.
        XCTAssertEqual(relative.values, [1, 1.75, 3.25, 4, 1, 1.75, 3.25, 4])
        let score = try SeverityScore.compute(mask: mask, width: 4, height: 2, classCount: 3, depth: relative.values)
        let a = relative.values.map { Double($0) * Double($0) }
        let v: [Double?] = mask.map { [0, 0.5, 1][safe: Int($0)] }
        var num = 0.0, den = 0.0
        for (ap, vp) in zip(a, v) { if let vp { num += ap * vp; den += ap } }
        XCTAssertEqual(score.score, num / den, accuracy: 1e-12)
        // By hand: structure a = 1, 3.0625, 10.5625, 16 | -, 3.0625, 10.5625, 16; v = 0, .5, 1, 1 | -, .5, 0, 1.
        let expected = (3.0625 * 0.5 + 10.5625 + 16 + 3.0625 * 0.5 + 16) / (1 + 3.0625 + 10.5625 + 16 + 3.0625 + 10.5625 + 16)
        XCTAssertEqual(score.score, expected, accuracy: 1e-9)
        // A model's map of another aspect ratio is resampled all the same; a file's is refused.
        XCTAssertEqual(try relative.resampled(toWidth: 3, height: 3).values.count, 9)
        XCTAssertThrowsError(try relative.fitted(toWidth: 3, height: 3))
    }
}

private extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

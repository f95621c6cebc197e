import Foundation
import Segmentation
import XCTest

/// `SeverityScore` equals its documented formula on hand-made masks and depth maps.
final class SeverityScoreTests: XCTestCase {
    // 3 x 2 (width x height):  0   1   2
    //                        255   1   0
    let mask: [UInt8] = [0, 1, 2, 255, 1, 0]
    let depth: [Float] = [1, 2, 3, 10, 1, 2]

    func testUnweightedScoreAndFractions() throws {
        let s = try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3)
        // Structure: 5 pixels (255 is not structure); sum v = 0 + 0.5 + 1 + 0.5 + 0 = 2.
        XCTAssertEqual(s.score, 2.0 / 5, accuracy: 1e-6)
        XCTAssertEqual(s.structurePixels, 5)
        XCTAssertEqual(s.structureArea, 5)
        XCTAssertEqual(s.pixels, 6)
        XCTAssertTrue(s.hasStructure)
        XCTAssertFalse(s.isDepthWeighted)
        XCTAssertNil(s.depthWeightedClassFractions)
        XCTAssertEqual(s.classFractions, [2.0 / 6, 2.0 / 6, 1.0 / 6])
        XCTAssertEqual(s.summary(classNames: SeverityWeights.damageClassNames),
                       "severity 0.40 \u{B7} damaged_structure 33% \u{B7} debris 17%")
    }

    func testDepthWeightedScoreIsTheFormula() throws {
        let s = try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3, depth: depth)
        // a = depth²: 1 4 9 / 100 1 4. Structure (all but the 255): a = 1, 4, 9, 1, 4 (sum 19);
        // sum a v = 1*0 + 4*0.5 + 9*1 + 1*0.5 + 4*0 = 11.5.
        XCTAssertEqual(s.score, 11.5 / 19, accuracy: 1e-6)
        XCTAssertEqual(s.structureArea, 19, accuracy: 1e-6)
        XCTAssertEqual(s.structurePixels, 5)
        XCTAssertTrue(s.isDepthWeighted)
        // Over the whole mask (sum a = 119): class 0 = 1 + 4, class 1 = 4 + 1, class 2 = 9.
        let weighted = try XCTUnwrap(s.depthWeightedClassFractions)
        for (got, want) in zip(weighted, [5.0 / 119, 5.0 / 119, 9.0 / 119]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        XCTAssertEqual(s.classFractions, [2.0 / 6, 2.0 / 6, 1.0 / 6], "unweighted fractions are still given")
        XCTAssertEqual(s.summary(classNames: ["u", "damaged", "debris"]), "severity 0.61 \u{B7} damaged 4% \u{B7} debris 8%")
    }

    func testTheFormulaOnARandomMask() throws {
        var rng = SplitMix(seed: 5)
        let (w, h) = (17, 11)
        let mask = (0..<(w * h)).map { _ in [0, 1, 2, 255][Int(rng.next() % 4)] as UInt8 }
        let depth = (0..<(w * h)).map { _ in Float(rng.next() % 1000) / 37 }
        let s = try SeverityScore.compute(mask: mask, width: w, height: h, classCount: 3, depth: depth)
        let v: [UInt8: Double] = [0: 0, 1: 0.5, 2: 1]
        var num = 0.0, den = 0.0
        for (c, d) in zip(mask, depth) {
            guard let value = v[c] else { continue }
            num += Double(d) * Double(d) * value
            den += Double(d) * Double(d)
        }
        XCTAssertEqual(s.score, num / den, accuracy: 1e-6)
    }

    func testCustomWeightsLeaveClassesWithoutAValueOut() throws {
        // Class 1 is not structure here: structure = pixels of class 0 and 2 (0, 2, 0).
        let weights = try SeverityWeights([0: 0, 2: 1])
        let s = try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3, weights: weights)
        XCTAssertEqual(s.score, 1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(s.structurePixels, 3)
        XCTAssertEqual(try SeverityWeights([1: 0.25]).value(ofClass: 1), 0.25)
        XCTAssertNil(weights.value(ofClass: 1))
        XCTAssertEqual(SeverityWeights.damage.structureClasses, [0, 1, 2])
    }

    func testNoStructureIsFlaggedNotScored() throws {
        let none = try SeverityScore.compute(mask: [255, 255, 255, 255], width: 2, height: 2, classCount: 3)
        XCTAssertEqual(none.score, 0)
        XCTAssertEqual(none.structurePixels, 0)
        XCTAssertFalse(none.hasStructure)
        XCTAssertEqual(none.classFractions, [0, 0, 0])
        XCTAssertEqual(none.summary(classNames: []), "no structure in view")
        let atZeroDepth = try SeverityScore.compute(mask: [2, 255], width: 2, height: 1, classCount: 3, depth: [0, 5])
        XCTAssertEqual(atZeroDepth.structurePixels, 1)
        XCTAssertFalse(atZeroDepth.hasStructure, "all structure at depth 0 has no area")
        XCTAssertEqual(atZeroDepth.score, 0)
    }

    func testRefusals() {
        func refused(_ body: @autoclosure () throws -> SeverityScore, _ expected: SeverityError, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                XCTAssertEqual(error as? SeverityError, expected, line: line)
            }
        }
        refused(try SeverityScore.compute(mask: mask, width: 4, height: 2, classCount: 3),
                .size(what: "mask", width: 4, height: 2, values: 6))
        refused(try SeverityScore.compute(mask: [], width: 0, height: 0, classCount: 3),
                .size(what: "mask", width: 0, height: 0, values: 0))
        refused(try SeverityScore.compute(mask: [0, 3, 1, 0], width: 2, height: 2, classCount: 3),
                .maskValue(3, x: 1, y: 0, classes: 3))
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 2,
                                          weights: try SeverityWeights([0: 0, 1: 1])),
                .maskValue(2, x: 2, y: 0, classes: 2))
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 2),
                .weight(classIndex: 2, value: 1, classes: 2))
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3, weights: try SeverityWeights([5: 1])),
                .weight(classIndex: 5, value: 1, classes: 3))
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 0), .classCount(0))
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3, depth: [1, 2, 3]),
                .size(what: "depth map", width: 3, height: 2, values: 3))
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3, depth: [1, 2, 3, 4, -1, 6]),
                .depthNegative(value: -1, x: 1, y: 1, file: nil))
        XCTAssertThrowsError(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3,
                                                       depth: [1, .nan, 3, 4, 5, 6])) { error in
            guard case SeverityError.depthNotFinite(_, 1, 0, nil)? = error as? SeverityError else { return XCTFail("\(error)") }
        }
        refused(try SeverityScore.compute(mask: mask, width: 3, height: 2, classCount: 3, depth: [1, 2, .infinity, 4, 5, 6]),
                .depthNotFinite(value: .infinity, x: 2, y: 0, file: nil))
        XCTAssertThrowsError(try SeverityWeights([0: 1.5])) { error in
            XCTAssertEqual(error as? SeverityError, .weight(classIndex: 0, value: 1.5, classes: nil))
        }
        XCTAssertThrowsError(try SeverityWeights([-1: 0.5]))
        XCTAssertThrowsError(try SeverityWeights([0: .nan]))
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

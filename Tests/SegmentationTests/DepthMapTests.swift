import Foundation
import Segmentation
import Tensor
import TestSupport
import Vision
import XCTest

/// Depth maps from `.npy` files: read through `NPYFile`, refused when they cannot be depths,
/// resampled to the mask only when the aspect ratios agree.
final class DepthMapTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("depth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ tensor: Tensor, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try NPYFile.data(tensor).write(to: url)
        return url
    }

    func testReadsANumPyDepthMap() throws {
        let url = Fixtures.url("npy/f4_depth_4x6.npy")
        let depth = try DepthMap.read(url)
        XCTAssertEqual(depth.width, 6)
        XCTAssertEqual(depth.height, 4)
        XCTAssertEqual(depth.values, (0..<24).map { Float($0 + 1) * 0.25 })
        XCTAssertEqual(depth.file, url.path)
        // Integer files are depths too (millimetres from a sensor, say).
        let integers = try DepthMap.read(Fixtures.url("npy/i8_2x2.npy"))
        XCTAssertEqual(integers.values, [0, 1, 2, 255])
    }

    func testRefusesWhatCannotBeADepthMapNamingTheFile() throws {
        let cube = try write(Tensor(repeating: 1, shape: [2, 2, 2]), "cube.npy")
        XCTAssertThrowsError(try DepthMap.read(cube)) { error in
            XCTAssertEqual(error as? SeverityError, .depthRank(shape: [2, 2, 2], file: cube.path))
            XCTAssertTrue("\(error)".hasPrefix(cube.path), "\(error)")
        }
        let nan = try write(Tensor([1, 2, .nan, 4], shape: [2, 2]), "nan.npy")
        XCTAssertThrowsError(try DepthMap.read(nan)) { error in
            guard case SeverityError.depthNotFinite(_, 0, 1, nan.path)? = error as? SeverityError else {
                return XCTFail("\(error)")
            }
        }
        let negative = try write(Tensor([1, 2, 3, -0.5], shape: [2, 2]), "negative.npy")
        XCTAssertThrowsError(try DepthMap.read(negative)) { error in
            XCTAssertEqual(error as? SeverityError, .depthNegative(value: -0.5, x: 1, y: 1, file: negative.path))
        }
        let empty = try write(Tensor(zeros: [0, 5]), "empty.npy")
        XCTAssertThrowsError(try DepthMap.read(empty)) { error in XCTAssertTrue(error is SeverityError, "\(error)") }
        let garbage = directory.appendingPathComponent("garbage.npy")
        try Data("not numpy".utf8).write(to: garbage)
        XCTAssertThrowsError(try DepthMap.read(garbage)) { error in
            XCTAssertEqual((error as? NPYError)?.file, garbage.path)
        }
        XCTAssertThrowsError(try DepthMap.read(Fixtures.url("npy/f4_fortran_2x3.npy"))) { error in
            XCTAssertEqual((error as? NPYError)?.problem, .fortranOrder)
        }
    }

    func testFittingToTheMask() throws {
        let depth = try DepthMap(width: 6, height: 4, values: (0..<24).map { Float($0) }, file: "d.npy")
        XCTAssertEqual(try depth.fitted(toWidth: 6, height: 4), depth, "same size: unchanged")
        let up = try depth.fitted(toWidth: 12, height: 8)
        XCTAssertEqual(up.width, 12)
        XCTAssertEqual(up.height, 8)
        XCTAssertEqual(up.values, Resize.resizeMap(depth.values, width: 6, height: 4, toWidth: 12, toHeight: 8))
        XCTAssertEqual(up.values[0], 0, "half-pixel centres clamp at the corner")
        // 1.5 vs 12/9 = 1.333: 12.5 % apart.
        XCTAssertThrowsError(try depth.fitted(toWidth: 12, height: 9)) { error in
            XCTAssertEqual(error as? SeverityError,
                           .depthAspect(depthWidth: 6, depthHeight: 4, maskWidth: 12, maskHeight: 9, file: "d.npy"))
            XCTAssertTrue("\(error)".contains("6x4"), "\(error)")
            XCTAssertTrue("\(error)".contains("12x9"), "\(error)")
        }
        // Within 1 %: 200x100 (2.0) onto 201x100 (2.01).
        let wide = try DepthMap(width: 200, height: 100, values: [Float](repeating: 3, count: 20_000))
        XCTAssertEqual(try wide.fitted(toWidth: 201, height: 100).values.count, 20_100)
        XCTAssertThrowsError(try wide.fitted(toWidth: 203, height: 100), "1.5 % apart")
    }

    func testScoreWithAHalfSizeDepthMapUsesTheResampledDepths() throws {
        let mask = TestMask(width: 4, height: 2, indices: [0, 1, 2, 2, 255, 1, 0, 2])
        let depth = try DepthMap(width: 2, height: 1, values: [1, 4])
        let resampled = Resize.resizeMap([1, 4], width: 2, height: 1, toWidth: 4, toHeight: 2)
        let viaMap = try SeverityScore.compute(mask: mask, classCount: 3, depth: depth)
        let direct = try SeverityScore.compute(mask: mask.indices, width: 4, height: 2, classCount: 3, depth: resampled)
        XCTAssertEqual(viaMap, direct)
        var num = 0.0, den = 0.0
        for (c, d) in zip(mask.indices, resampled) where c != 255 {
            num += Double(d * d) * [0, 0.5, 1][Int(c)]
            den += Double(d * d)
        }
        XCTAssertEqual(viaMap.score, num / den, accuracy: 1e-6)
        XCTAssertThrowsError(try SeverityScore.compute(mask: mask, classCount: 3,
                                                       depth: try DepthMap(width: 3, height: 1, values: [1, 2, 3])))
    }
}

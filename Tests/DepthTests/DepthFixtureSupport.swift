import Foundation
import Tensor
import TestSupport
import XCTest

/// Where the Depth Anything fixtures are and how the tests compare with them.
enum DepthFixtures {
    /// The folder `make_segformer_fixtures.py` wrote into (`RUBBLE_DEPTH_FIXTURES=DIR` for another
    /// output of it, e.g. `--full`: Depth Anything V2 Small's real sizes).
    static let root: URL = ProcessInfo.processInfo.environment["RUBBLE_DEPTH_FIXTURES"]
        .map { URL(fileURLWithPath: $0, isDirectory: true) } ?? Fixtures.url("segformer")
    /// The small random model (`save_pretrained` of `DepthAnythingForDepthEstimation`).
    static var model: URL { root.appendingPathComponent("depth") }
    /// The files of `Tests/Fixtures/depth/make_depth_fixtures.py`.
    static func url(_ name: String) -> URL { Fixtures.url("depth/" + name) }
    static func tensor(_ name: String) throws -> Tensor { try NPYFile.read(url(name + ".npy")) }
    static func shared(_ name: String) throws -> Tensor { try NPYFile.read(root.appendingPathComponent(name + ".npy")) }
    /// NCHW -> NHWC.
    static func nhwc(_ x: Tensor) -> Tensor { x.permuted([0, 2, 3, 1]).detached }
}

/// `max |actual - expected| <= tolerance · max |expected|` (and equal shapes).
func assertRelativelyClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Float, _ what: String,
                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-12)
    let difference = actual.maxAbsDifference(expected)
    XCTAssertLessThanOrEqual(difference / scale, tolerance,
                             "\(what): max |difference| \(difference), \(difference / scale) of the largest value \(scale)",
                             file: file, line: line)
}

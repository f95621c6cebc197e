import Foundation
import TestSupport
import XCTest
@testable import Tensor

/// `resizedBicubic` against PyTorch's `interpolate(mode="bicubic")` (`Tests/Fixtures/depth/bicubic_*.npy`,
/// written by `make_depth_fixtures.py`) and against finite differences.
final class BicubicResizeTests: XCTestCase {
    /// `[1, 5, 4, 6]` NCHW in the fixture; NHWC here.
    func source() throws -> Tensor { try Fixtures.tensor("depth/bicubic_input").permuted([0, 2, 3, 1]).detached }

    func testMatchesPyTorch() throws {
        let x = try source()
        for (h, w, corners) in [(3, 5, false), (7, 9, false), (4, 6, false), (1, 1, false), (2, 11, false), (7, 9, true)] {
            let name = "depth/bicubic_\(h)x\(w)" + (corners ? "_corners" : "")
            let expected = try Fixtures.tensor(name).permuted([0, 2, 3, 1]).detached
            let y = x.resizedBicubic(height: h, width: w, alignCorners: corners)
            XCTAssertEqual(y.shape, expected.shape, name)
            // PyTorch sums in another order (vectorised, with FMAs): a few float32 ulps apart.
            XCTAssertLessThan(y.maxAbsDifference(expected), 5e-6, name)
        }
    }

    /// The same size is the identity (the cubic weights at t = 0 are 0, 1, 0, 0), and a constant
    /// map stays constant (the weights sum to 1).
    func testIdentityAndConstants() throws {
        let x = try source()
        XCTAssertEqual(x.resizedBicubic(height: 4, width: 6, alignCorners: false).scalars, x.scalars)
        let constant = Tensor(repeating: 2.5, shape: [1, 3, 3, 2]).resizedBicubic(height: 8, width: 5, alignCorners: false)
        for value in constant.scalars { XCTAssertEqual(value, 2.5, accuracy: 1e-5) }
    }

    func testGradient() {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor.uniform([2, 4, 5, 3], low: -1, high: 1, using: &rng)
        for (h, w, corners) in [(7, 3, false), (2, 8, false), (6, 6, true)] {
            let error = GradientCheck.maxRelativeError(at: x, epsilon: 1e-2) {
                GradientCheck.projected($0.resizedBicubic(height: h, width: w, alignCorners: corners))
            }
            XCTAssertLessThan(error, 1e-2, "bicubic \(h)x\(w) corners \(corners)")
        }
    }
}

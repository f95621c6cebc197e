import Foundation
import Tensor
import TestSupport
import XCTest

/// NumPy broadcasting of `+ - * /`: result shapes, values against an index-by-index
/// reference, and finite-difference gradients for both operands.
final class BroadcastingTests: XCTestCase {
    // MARK: shapes

    func testBroadcastShapes() {
        XCTAssertEqual(Shape.broadcast([2, 3, 4, 5], [2, 1, 1, 5]), [2, 3, 4, 5])
        XCTAssertEqual(Shape.broadcast([2, 1, 1, 5], [2, 3, 4, 5]), [2, 3, 4, 5])
        XCTAssertEqual(Shape.broadcast([1, 3, 1, 5], [2, 1, 4, 1]), [2, 3, 4, 5])
        XCTAssertEqual(Shape.broadcast([5], [2, 3, 4, 5]), [2, 3, 4, 5])
        XCTAssertEqual(Shape.broadcast([2, 3, 4, 5], [4, 1]), [2, 3, 4, 5])
        XCTAssertEqual(Shape.broadcast([], [2, 3]), [2, 3])
        XCTAssertEqual(Shape.broadcast([2, 3], []), [2, 3])
        XCTAssertEqual(Shape.broadcast([1], [2, 3]), [2, 3])
        XCTAssertEqual(Shape.broadcast([], [1]), [1])
        XCTAssertEqual(Shape.broadcast([3], [1, 1]), [1, 3])
        XCTAssertEqual(Shape.broadcast([], []), [])
        XCTAssertEqual(Shape.broadcast([0, 3], [1, 3]), [0, 3])
    }

    func testIncompatibleShapesGiveNil() {
        XCTAssertNil(Shape.broadcast([2, 3], [3, 2]))
        XCTAssertNil(Shape.broadcast([4], [5]))
        XCTAssertNil(Shape.broadcast([2, 3, 4], [3, 5]))
        XCTAssertNil(Shape.broadcast([2, 3, 4, 5], [2, 1, 1, 4]))
        XCTAssertNil(Shape.broadcast([0], [2]))
    }

    // MARK: values

    /// Shape pairs covering every path of the elementwise loop: equal shapes, a single element
    /// on either side, a suffix on either side, and the general strided loop.
    let pairs: [(Shape, Shape)] = [
        ([2, 3, 4, 5], [2, 1, 1, 5]),   // squeeze-and-excitation scale
        ([2, 1, 1, 5], [2, 3, 4, 5]),   // ... on the left
        ([1, 3, 1, 5], [2, 1, 4, 1]),   // both operands broadcast
        ([5], [2, 3, 4, 5]),            // a bias on the left
        ([2, 3, 4, 5], [5]),            // a bias on the right (suffix fast path)
        ([2, 3, 4, 5], [4, 5]),
        ([2, 3, 4, 5], [1, 5]),         // a suffix with a leading 1 (general path)
        ([2, 3, 4, 5], [3, 1, 1]),
        ([2, 3, 4, 1], [2, 3, 4, 5]),   // one value per pixel
        ([], [2, 3]),                   // scalar tensors
        ([2, 3], []),
        ([1], [2, 3, 4, 5]),
        ([2, 3, 4, 5], [1, 1, 1, 1]),
        ([3], [1, 1]),                  // the single element has the higher rank
        ([3, 1], [1, 4]),
        ([2, 3], [2, 3]),
    ]

    func testValuesOfEveryOpForEveryPair() {
        for (k, (sa, sb)) in pairs.enumerated() {
            let a = randomTensor(sa, seed: UInt64(100 + k))
            let b = randomTensor(sb, low: 0.5, high: 2, seed: UInt64(200 + k))
            let ops: [(String, (Tensor, Tensor) -> Tensor, (Float, Float) -> Float)] = [
                ("+", (+), (+)), ("-", (-), (-)), ("*", (*), (*)), ("/", (/), (/)),
            ]
            for (name, op, reference) in ops {
                let (shape, expected) = naiveBroadcast(a, b, reference)
                let y = op(a, b)
                XCTAssertEqual(y.shape, shape, "\(sa) \(name) \(sb): shape")
                assertValues(y, expected, tolerance: 1e-6, "\(sa) \(name) \(sb)")
            }
        }
    }

    func testSqueezeAndExcitationValuesByHand() {
        // [1, 2, 2, 3] * [1, 1, 1, 3]: every pixel scaled channel by channel.
        let x = Tensor((0..<12).map(Float.init), shape: [1, 2, 2, 3])
        let s = Tensor([1, 10, 100], shape: [1, 1, 1, 3])
        assertValues(x * s, [0, 10, 200, 3, 40, 500, 6, 70, 800, 9, 100, 1100], "x * s")
        assertValues(s * x, [0, 10, 200, 3, 40, 500, 6, 70, 800, 9, 100, 1100], "s * x")
        // [1, 3, 1] + [1, 4]: an outer sum.
        let column = Tensor([0, 10, 20], shape: [1, 3, 1]), row = Tensor([1, 2, 3, 4], shape: [1, 4])
        let sum = column + row
        XCTAssertEqual(sum.shape, [1, 3, 4])
        assertValues(sum, [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24], "outer sum")
    }

    func testLargeGeneralBroadcastUsesEveryThreadCorrectly() {
        // Big enough to be split over threads (rows of 64 channels, many per task).
        let x = randomTensor([4, 32, 32, 64], seed: 300), s = randomTensor([4, 1, 1, 64], seed: 301)
        let (_, expected) = naiveBroadcast(x, s, *)
        assertValues(x * s, expected, tolerance: 0, "large x * s")
        let (_, expectedLeft) = naiveBroadcast(s, x, -)
        assertValues(s - x, expectedLeft, tolerance: 0, "large s - x")
    }

    // MARK: gradients

    func testGradientsOfBothOperandsForEveryPair() {
        for (k, (sa, sb)) in pairs.enumerated() {
            let a = randomTensor(sa, seed: UInt64(400 + k))
            let b = randomTensor(sb, low: 0.5, high: 2, seed: UInt64(500 + k))
            let ops: [(String, (Tensor, Tensor) -> Tensor)] = [("+", (+)), ("-", (-)), ("*", (*)), ("/", (/))]
            for (name, op) in ops {
                let errors = GradientCheck.errors(at: [a, b], epsilon: 1e-2) { v in
                    GradientCheck.projected(op(v[0], v[1]))
                }
                assertGradientError(errors[0], "\(sa) \(name) \(sb) d/dlhs")
                assertGradientError(errors[1], "\(sa) \(name) \(sb) d/drhs")
            }
        }
    }

    func testBroadcastGradientIsTheSumOverRepeatedAxes() {
        // d sum(p * (x * s)) / d s[b, 0, 0, c] = sum over h, w of p * x.
        let x = randomTensor([2, 3, 4, 5], seed: 600), s = randomTensor([2, 1, 1, 5], seed: 601)
        let xs = x.requiringGradient(), ss = s.requiringGradient()
        let p = GradientCheck.projection([2, 3, 4, 5])
        ((xs * ss) * p).sum().backward()
        let pv = p.scalars, xv = x.scalars, sv = s.scalars
        var expected = [Float](repeating: 0, count: 10)
        for i in 0..<120 { expected[(i / 60) * 5 + i % 5] += pv[i] * xv[i] }
        XCTAssertEqual(ss.gradient?.shape, [2, 1, 1, 5])
        assertValues(ss.gradient, expected, tolerance: 1e-5, "d/ds")
        assertValues(xs.gradient, (0..<120).map { pv[$0] * sv[($0 / 60) * 5 + $0 % 5] }, "d/dx")
    }

    func testBroadcastToAndItsGradient() {
        let s = randomTensor([2, 1, 1, 5], seed: 602)
        let y = s.broadcast(to: [2, 3, 4, 5])
        XCTAssertEqual(y.shape, [2, 3, 4, 5])
        let sv = s.scalars
        assertValues(y, (0..<120).map { sv[($0 / 60) * 5 + $0 % 5] }, tolerance: 0, "broadcast(to:)")
        let bias = randomTensor([5], seed: 603)
        XCTAssertEqual(bias.broadcast(to: [3, 1, 5]).shape, [3, 1, 5])
        assertGradientError(GradientCheck.maxRelativeError(at: s) {
            GradientCheck.projected($0.broadcast(to: [2, 3, 4, 5]))
        }, "broadcast(to:)")
        assertGradientError(GradientCheck.maxRelativeError(at: bias) {
            GradientCheck.projected($0.broadcast(to: [3, 2, 5]).squared())
        }, "bias broadcast(to:)")
    }

    func testChainOfBroadcastsGradient() {
        // A squeeze-and-excitation block in miniature: x * sigmoid(mean over h, w) + bias.
        let x = randomTensor([2, 3, 3, 4], seed: 604), bias = randomTensor([4], seed: 605)
        let error = GradientCheck.maxRelativeError(at: [x, bias]) { v in
            let scale = v[0].mean(alongAxes: [1, 2], keepingDimensions: true).sigmoid()
            return GradientCheck.projected(v[0] * scale + v[1])
        }
        assertGradientError(error, "squeeze-and-excitation")
    }
}

/// `f` over the NumPy broadcast of `a` and `b`, one output index at a time.
func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> (Shape, [Float]) {
    let rank = max(a.rank, b.rank)
    let da = [Int](repeating: 1, count: rank - a.rank) + a.shape.dims
    let db = [Int](repeating: 1, count: rank - b.rank) + b.shape.dims
    let dims = (0..<rank).map { max(da[$0], db[$0]) }
    let count = dims.reduce(1, *)
    let av = a.scalars, bv = b.scalars
    var out: [Float] = []
    for flat in 0..<count {
        var rest = flat, ia = 0, ib = 0, sa = 1, sb = 1
        for k in stride(from: rank - 1, through: 0, by: -1) {
            let i = rest % dims[k]
            rest /= dims[k]
            if da[k] != 1 { ia += i * sa }
            if db[k] != 1 { ib += i * sb }
            sa *= da[k]
            sb *= db[k]
        }
        out.append(f(av[ia], bv[ib]))
    }
    return (Shape(dims), out)
}

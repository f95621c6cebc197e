import Foundation
import Tensor
import TestSupport
import XCTest

/// `sum`, `mean`, `variance` and `moments` along axes: shapes, values against a naive loop in
/// `Double`, accuracy over many elements, and finite-difference gradients.
final class AxisReductionTests: XCTestCase {
    let axisSets: [[Int]] = [[0], [1], [2], [3], [-1], [0, 1, 2], [1, 2], [0, 2], [1, 3], [0, 3],
                             [0, 1, 2, 3], [], [-4, -2]]

    func testShapesWithAndWithoutKeptDimensions() {
        let x = randomTensor([2, 3, 4, 5], seed: 1)
        XCTAssertEqual(x.sum(alongAxes: [1, 2]).shape, [2, 5])
        XCTAssertEqual(x.sum(alongAxes: [1, 2], keepingDimensions: true).shape, [2, 1, 1, 5])
        XCTAssertEqual(x.mean(alongAxes: [0, 1, 2]).shape, [5])
        XCTAssertEqual(x.variance(alongAxes: [-1], keepingDimensions: true).shape, [2, 3, 4, 1])
        XCTAssertEqual(x.sum(alongAxes: [0, 1, 2, 3]).shape, [])
        XCTAssertEqual(x.sum(alongAxes: []).shape, [2, 3, 4, 5])
        XCTAssertEqual(x.mean(alongAxes: [3, 0], keepingDimensions: true).shape, [1, 3, 4, 1])
    }

    func testValuesAgainstNaiveLoop() {
        let x = randomTensor([2, 3, 4, 5], low: -2, high: 3, seed: 2)
        for axes in axisSets {
            let reference = naiveMoments(x, axes)
            assertValues(x.sum(alongAxes: axes), reference.sum, tolerance: 1e-5, "sum \(axes)")
            assertValues(x.mean(alongAxes: axes), reference.mean, tolerance: 1e-6, "mean \(axes)")
            assertValues(x.variance(alongAxes: axes), reference.variance, tolerance: 1e-6, "variance \(axes)")
            let (m, v) = x.moments(alongAxes: axes, keepingDimensions: true)
            assertValues(m, reference.mean, tolerance: 1e-6, "moments mean \(axes)")
            assertValues(v, reference.variance, tolerance: 1e-6, "moments variance \(axes)")
        }
    }

    func testAxesOfExtentOneAndSmallShapes() {
        let x = randomTensor([3, 1, 4], seed: 3)
        for axes in [[0], [1], [2], [0, 1], [1, 2], [0, 2]] {
            let reference = naiveMoments(x, axes)
            assertValues(x.sum(alongAxes: axes), reference.sum, tolerance: 1e-5, "[3,1,4] sum \(axes)")
            assertValues(x.variance(alongAxes: axes), reference.variance, tolerance: 1e-6, "[3,1,4] var \(axes)")
        }
        let scalar = Tensor([2.5], shape: [])
        XCTAssertEqual(scalar.sum(alongAxes: []).scalar, 2.5)
        let v = Tensor([1, 2, 3, 4], shape: [4])
        XCTAssertEqual(v.mean(alongAxes: [0]).scalar, 2.5, accuracy: 1e-7)
        XCTAssertEqual(v.variance(alongAxes: [0]).scalar, 1.25, accuracy: 1e-7)  // divides by N
        XCTAssertEqual(v.sumOverLeadingAxes().scalars, [1, 2, 3, 4])
    }

    func testLargeReductionsMatchNaiveLoop() {
        // Big enough to be chunked and split over threads, for each kind of split.
        let x = randomTensor([8, 32, 32, 16], low: -1, high: 2, seed: 4)
        for axes in [[0, 1, 2], [1, 2], [3], [0], [0, 2], [0, 1, 2, 3]] {
            let reference = naiveMoments(x, axes)
            let scale = Float(reference.sum.map(abs).max() ?? 1)
            assertValues(x.sum(alongAxes: axes), reference.sum, tolerance: 1e-6 * max(scale, 1), "sum \(axes)")
            assertValues(x.mean(alongAxes: axes), reference.mean, tolerance: 1e-6, "mean \(axes)")
            assertValues(x.variance(alongAxes: axes), reference.variance, tolerance: 1e-6, "variance \(axes)")
        }
    }

    func testMeanOverManyPixelsIsAccurate() {
        // Batch-norm statistics of [32, 112, 112, 2]: 401 408 values per channel, with an
        // offset that makes naive float32 accumulation lose about three digits.
        let x = randomTensor([32, 112, 112, 2], low: 999.5, high: 1000.5, seed: 5)
        let values = x.scalars
        var sums = [Double](repeating: 0, count: 2)
        for i in values.indices { sums[i % 2] += Double(values[i]) }
        let means = sums.map { $0 / Double(values.count / 2) }
        var squares = [Double](repeating: 0, count: 2)
        for i in values.indices { let d = Double(values[i]) - means[i % 2]; squares[i % 2] += d * d }
        let variances = squares.map { $0 / Double(values.count / 2) }
        let (mean, variance) = x.moments(alongAxes: [0, 1, 2])
        for c in 0..<2 {
            XCTAssertEqual(Double(mean[flat: c]), means[c], accuracy: 1e-6 * means[c], "mean \(c)")
            XCTAssertEqual(Double(variance[flat: c]), variances[c], accuracy: 1e-5 * variances[c], "variance \(c)")
        }
        XCTAssertEqual(Double(x.sum().scalar), sums[0] + sums[1], accuracy: 1e-6 * (sums[0] + sums[1]))
        XCTAssertEqual(Double(x.mean().scalar), (sums[0] + sums[1]) / Double(values.count),
                       accuracy: 1e-6 * 1000)
    }

    func testGradients() {
        let x = randomTensor([2, 3, 4, 3], seed: 6)
        for axes in [[0, 1, 2], [1, 2], [-1], [0, 2], [0, 1, 2, 3], [1]] {
            for keep in [false, true] {
                assertGradientError(GradientCheck.maxRelativeError(at: x) {
                    GradientCheck.projected($0.sum(alongAxes: axes, keepingDimensions: keep))
                }, "sum \(axes) keep \(keep)")
                assertGradientError(GradientCheck.maxRelativeError(at: x) {
                    GradientCheck.projected($0.mean(alongAxes: axes, keepingDimensions: keep).squared())
                }, "mean \(axes) keep \(keep)")
                assertGradientError(GradientCheck.maxRelativeError(at: x) {
                    GradientCheck.projected($0.variance(alongAxes: axes, keepingDimensions: keep))
                }, "variance \(axes) keep \(keep)")
            }
        }
        // Both results of `moments` feeding one loss (batch normalisation's forward pass).
        assertGradientError(GradientCheck.maxRelativeError(at: x) { v in
            let (m, s) = v.moments(alongAxes: [0, 1, 2], keepingDimensions: true)
            return GradientCheck.projected((v - m) * (s + 1e-3).rsqrt())
        }, "batch normalisation")
    }

    func testVarianceGradientByHand() {
        // d var / dx_i = 2 (x_i - mean) / N, with mean 4 and N 4.
        let x = Tensor([1, 2, 4, 9], shape: [4]).requiringGradient()
        x.variance(alongAxes: [0]).backward()
        assertValues(x.gradient, [-1.5, -1, 0, 2.5], tolerance: 1e-6, "d var")
        let y = Tensor([1, 2, 3, 5], shape: [2, 2]).requiringGradient()
        y.mean(alongAxes: [1]).sum().backward()
        assertValues(y.gradient, [0.5, 0.5, 0.5, 0.5], tolerance: 0, "d mean")
    }
}

/// Sums, means and population variances over `axes` by visiting every element, in `Double`.
func naiveMoments(_ x: Tensor, _ axes: [Int]) -> (sum: [Float], mean: [Float], variance: [Float]) {
    let dims = x.shape.dims, rank = dims.count
    let reduced = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    let keptDims = (0..<rank).filter { !reduced.contains($0) }
    let outCount = keptDims.map { dims[$0] }.reduce(1, *)
    let n = Double(x.count / max(outCount, 1))
    func outputIndex(_ flat: Int) -> Int {
        var rest = flat, index = [Int](repeating: 0, count: rank)
        for k in stride(from: rank - 1, through: 0, by: -1) { index[k] = rest % dims[k]; rest /= dims[k] }
        var o = 0
        for k in keptDims { o = o * dims[k] + index[k] }
        return o
    }
    let values = x.scalars
    var sums = [Double](repeating: 0, count: outCount)
    for i in values.indices { sums[outputIndex(i)] += Double(values[i]) }
    let means = sums.map { $0 / n }
    var squares = [Double](repeating: 0, count: outCount)
    for i in values.indices { let d = Double(values[i]) - means[outputIndex(i)]; squares[outputIndex(i)] += d * d }
    return (sums.map { Float($0) }, means.map { Float($0) }, squares.map { Float($0 / n) })
}

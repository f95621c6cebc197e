import Foundation
import Tensor
import TestSupport
import XCTest

/// `sqrt`, `rsqrt`, `sigmoid`, `swish`, `relu6`, `hardSigmoid`: values against closed forms
/// (including the saturated ends), exact gradient masks at the kinks, finite differences.
final class UnaryOpTests: XCTestCase {
    let points: [Float] = [-1000, -100, -20, -6, -3, -1, -0.5, 0, 0.5, 1, 3, 6, 20, 100, 1000]

    func testSqrtAndRsqrtValues() {
        let x = Tensor([0.25, 1, 2, 4, 9, 100], shape: [2, 3])
        assertValues(x.sqrt(), [0.5, 1, Float(2.0.squareRoot()), 2, 3, 10], tolerance: 1e-6, "sqrt")
        assertValues(x.rsqrt(), [2, 1, Float(1 / 2.0.squareRoot()), 0.5, 1.0 / 3, 0.1], tolerance: 1e-6, "rsqrt")
        XCTAssertEqual(x.sqrt().shape, [2, 3])
        XCTAssertEqual(Tensor([0], shape: [1]).rsqrt().scalar, .infinity)
    }

    func testSigmoidValuesAndLimits() {
        let x = Tensor(points, shape: [15])
        let y = x.sigmoid()
        XCTAssertTrue(y.isFinite)
        for (i, p) in points.enumerated() {
            let exact = 1 / (1 + Foundation.exp(-Double(p)))
            XCTAssertEqual(Double(y[flat: i]), exact, accuracy: 1e-7 + 1e-6 * exact, "sigmoid(\(p))")
        }
        XCTAssertEqual(y[flat: 0], 0, "sigmoid(-1000) is exactly 0")
        XCTAssertEqual(y[flat: 14], 1, "sigmoid(1000) is exactly 1")
        XCTAssertEqual(y[flat: 13], 1, "sigmoid(100) is exactly 1")
        XCTAssertEqual(y[flat: 7], 0.5)
        XCTAssertGreaterThan(y[flat: 1], 0, "sigmoid(-100) is tiny but positive")
        // The gradient at the saturated ends is 0, not NaN.
        let leaf = x.requiringGradient()
        leaf.sigmoid().sum().backward()
        XCTAssertTrue(leaf.gradient?.isFinite ?? false)
        XCTAssertEqual(leaf.gradient?[flat: 0], 0)
        XCTAssertEqual(leaf.gradient?[flat: 14], 0)
        XCTAssertEqual(leaf.gradient?[flat: 7] ?? 0, 0.25, accuracy: 1e-7)
    }

    func testSwishValuesAndLimits() {
        let x = Tensor(points, shape: [15])
        let y = x.swish()
        XCTAssertTrue(y.isFinite)
        for (i, p) in points.enumerated() {
            let exact = Double(p) / (1 + Foundation.exp(-Double(p)))
            XCTAssertEqual(Double(y[flat: i]), exact, accuracy: 1e-7 + 1e-6 * abs(exact), "swish(\(p))")
        }
        XCTAssertEqual(y[flat: 0], 0, "swish(-1000) is exactly 0")
        XCTAssertEqual(y[flat: 14], 1000, "swish(1000) is exactly 1000")
        // Keras' documented example: swish([-20, -1, 0, 1, 20]).
        assertValues(Tensor([-20, -1, 0, 1, 20], shape: [5]).swish(),
                     [-4.1223075e-08, -2.6894143e-01, 0, 7.3105860e-01, 20], tolerance: 1e-7, "keras swish")
        // Gradient s (1 + x (1 - s)): 0 and 1 at the ends, 1/2 at 0, finite everywhere.
        let leaf = x.requiringGradient()
        leaf.swish().sum().backward()
        let grad = leaf.gradient
        XCTAssertTrue(grad?.isFinite ?? false)
        XCTAssertEqual(grad?[flat: 0], 0)
        XCTAssertEqual(grad?[flat: 14], 1)
        XCTAssertEqual(grad?[flat: 7] ?? 0, 0.5, accuracy: 1e-7)
        for (i, p) in points.enumerated() {
            let s = 1 / (1 + Foundation.exp(-Double(p)))
            XCTAssertEqual(Double(grad?[flat: i] ?? .nan), s * (1 + Double(p) * (1 - s)), accuracy: 1e-6, "swish'(\(p))")
        }
    }

    func testReLU6ValuesAndGradientMask() {
        let x = Tensor([-2, 0, 0.5, 3, 5.9, 6, 6.1, 100], shape: [8])
        assertValues(x.relu6(), [0, 0, 0.5, 3, 5.9, 6, 6, 6], tolerance: 0, "relu6")
        let leaf = x.requiringGradient()
        leaf.relu6().sum().backward()
        // 1 strictly inside (0, 6); 0 at 0 and 6 exactly, as TensorFlow's Relu6Grad.
        assertValues(leaf.gradient, [0, 0, 1, 1, 1, 0, 0, 0], tolerance: 0, "relu6 mask")
        XCTAssertTrue(Tensor([.nan], shape: [1]).relu6().scalar.isNaN, "NaN passes through")
    }

    func testHardSigmoidValuesAndGradientMask() {
        // relu6(x + 3) / 6 (Keras 3, MobileNetV3), not tf_keras' 0.2 x + 0.5.
        let x = Tensor([-10, -3, -1.5, -1, 0, 1, 1.5, 3, 10], shape: [9])
        assertValues(x.hardSigmoid(), [0, 0, 0.25, 1.0 / 3, 0.5, 2.0 / 3, 0.75, 1, 1], tolerance: 1e-7, "hardSigmoid")
        let leaf = x.requiringGradient()
        leaf.hardSigmoid().sum().backward()
        let sixth: Float = 1.0 / 6
        assertValues(leaf.gradient, [0, 0, sixth, sixth, sixth, sixth, sixth, 0, 0], tolerance: 1e-7, "hardSigmoid mask")
    }

    func testFiniteDifferenceGradients() {
        let x = randomTensor([2, 3, 4], low: -4, high: 4, seed: 31)
        let positive = randomTensor([2, 3, 4], low: 0.5, high: 3, seed: 32)
        assertGradientError(GradientCheck.maxRelativeError(at: positive) { GradientCheck.projected($0.sqrt()) }, "sqrt")
        assertGradientError(GradientCheck.maxRelativeError(at: positive) { GradientCheck.projected($0.rsqrt()) }, "rsqrt")
        assertGradientError(GradientCheck.maxRelativeError(at: x) { GradientCheck.projected($0.sigmoid()) }, "sigmoid")
        assertGradientError(GradientCheck.maxRelativeError(at: x) { GradientCheck.projected($0.swish()) }, "swish")
        // Kinks of relu6 at 0 and 6, of hardSigmoid at ±3: keep the inputs away from them.
        let aroundSix = awayFrom([0, 6], randomTensor([2, 3, 4], low: -2, high: 8, seed: 33))
        let aroundThree = awayFrom([-3, 3], randomTensor([2, 3, 4], low: -5, high: 5, seed: 34))
        assertGradientError(GradientCheck.maxRelativeError(at: aroundSix) { GradientCheck.projected($0.relu6()) }, "relu6")
        assertGradientError(GradientCheck.maxRelativeError(at: aroundThree) {
            GradientCheck.projected($0.hardSigmoid())
        }, "hardSigmoid")
        // Composites: hard swish and a broadcast product with a sigmoid gate.
        assertGradientError(GradientCheck.maxRelativeError(at: aroundThree) {
            GradientCheck.projected($0 * $0.hardSigmoid())
        }, "hard swish")
    }

    func testOpsKeepShapeAndRunInParallelOnLargeTensors() {
        let x = randomTensor([4, 64, 64, 8], low: -8, high: 8, seed: 35)
        let xv = x.scalars
        let s = x.sigmoid(), w = x.swish(), r = x.relu6(), h = x.hardSigmoid()
        XCTAssertEqual(s.shape, x.shape)
        for i in stride(from: 0, to: xv.count, by: 997) {
            let v = Double(xv[i]), sig = 1 / (1 + Foundation.exp(-v))
            XCTAssertEqual(Double(s[flat: i]), sig, accuracy: 1e-6)
            XCTAssertEqual(Double(w[flat: i]), v * sig, accuracy: 1e-5)
            XCTAssertEqual(r[flat: i], min(max(xv[i], 0), 6))
            XCTAssertEqual(Double(h[flat: i]), min(max(v + 3, 0), 6) / 6, accuracy: 1e-6)
        }
    }
}

/// `x` with every element at least 0.1 from each of `kinks`.
func awayFrom(_ kinks: [Float], _ x: Tensor, margin: Float = 0.1) -> Tensor {
    var t = x
    t.withUnsafeMutableBufferPointer { b in
        for i in b.indices {
            for k in kinks where abs(b[i] - k) < margin { b[i] = b[i] < k ? k - margin : k + margin }
        }
    }
    return t
}

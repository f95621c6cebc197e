import Foundation
import Layers
import Tensor
import TestSupport
import XCTest

/// BatchNormalization against closed forms and a naive Double reference: inference and
/// training values, the moving-average update (Bessel's correction for 4-D input as Keras'
/// fused kernel applies it, none for 2-D), frozen layers, state that never trains, gradients.
final class BatchNormalizationTests: XCTestCase {
    /// A layer with gamma, beta and moving statistics away from their initial values.
    func makeBN(channels: Int, momentum: Float = 0.9, epsilon: Float = 1e-3, seed: UInt64) throws -> BatchNormalization {
        let bn = try BatchNormalization(name: "bn", channels: channels, momentum: momentum, epsilon: epsilon)
        bn.gamma.value = randomTensor([channels], low: 0.5, high: 1.5, seed: seed)
        bn.beta.value = randomTensor([channels], low: -0.5, high: 0.5, seed: seed + 1)
        bn.movingMean.value = randomTensor([channels], low: -0.3, high: 0.3, seed: seed + 2)
        bn.movingVariance.value = randomTensor([channels], low: 0.5, high: 2, seed: seed + 3)
        return bn
    }

    /// Per-channel mean and biased variance of `x` in Double, the naive two-pass way.
    func naiveMoments(_ x: Tensor, channels c: Int) -> (mean: [Double], variance: [Double]) {
        let v = x.scalars, rows = x.count / c
        var mean = [Double](repeating: 0, count: c), variance = mean
        for r in 0..<rows { for k in 0..<c { mean[k] += Double(v[r * c + k]) } }
        for k in 0..<c { mean[k] /= Double(rows) }
        for r in 0..<rows {
            for k in 0..<c {
                let d = Double(v[r * c + k]) - mean[k]
                variance[k] += d * d
            }
        }
        for k in 0..<c { variance[k] /= Double(rows) }
        return (mean, variance)
    }

    /// `gamma * (x - mean) / sqrt(variance + epsilon) + beta` in Double.
    func naiveNormalize(_ x: Tensor, mean: [Double], variance: [Double], gamma: [Float], beta: [Float],
                        epsilon: Float) -> Tensor {
        let c = mean.count, v = x.scalars
        return Tensor((0..<x.count).map { i in
            let k = i % c
            return Float(Double(gamma[k]) * (Double(v[i]) - mean[k]) / (variance[k] + Double(epsilon)).squareRoot()
                + Double(beta[k]))
        }, shape: x.shape)
    }

    func testDescribesItselfLikeKeras() throws {
        let bn = try BatchNormalization(name: "conv1_bn", channels: 4)
        XCTAssertEqual(bn.parameters.map(\.name), ["gamma", "beta", "moving_mean", "moving_variance"])
        XCTAssertEqual(bn.parameters.map(\.role), [.weight, .weight, .state, .state])
        XCTAssertEqual(bn.weights.map(\.name), ["gamma", "beta"])
        XCTAssertEqual(bn.state.map(\.name), ["moving_mean", "moving_variance"])
        XCTAssertEqual(bn.kerasClassName, "BatchNormalization")
        XCTAssertTrue(bn.isDeterministic)
        XCTAssertEqual(bn.momentum, 0.99, "Keras' default momentum")
        XCTAssertEqual(bn.epsilon, 1e-3, "Keras' default epsilon")
        assertValues(bn.gamma.value, [1, 1, 1, 1], tolerance: 0, "gamma starts at 1")
        assertValues(bn.beta.value, [0, 0, 0, 0], tolerance: 0, "beta starts at 0")
        assertValues(bn.movingMean.value, [0, 0, 0, 0], tolerance: 0, "moving mean starts at 0")
        assertValues(bn.movingVariance.value, [1, 1, 1, 1], tolerance: 0, "moving variance starts at 1")
        XCTAssertEqual(try bn.outputShape(for: [2, 5, 5, 4]), [2, 5, 5, 4])
        XCTAssertEqual(try bn.outputShape(for: [3, 4]), [3, 4])
        XCTAssertThrowsError(try bn.outputShape(for: [2, 5, 5, 3]))
        assertShapeMismatch(layer: "conv1_bn", got: [2, 3]) { try bn(Tensor(zeros: [2, 3])) }
        assertShapeMismatch(layer: "conv1_bn", got: [4]) { try bn(Tensor(zeros: [4])) }
    }

    func testInferenceMatchesTheClosedForm() throws {
        let bn = try makeBN(channels: 3, epsilon: 1e-3, seed: 1)
        let x = randomTensor([2, 3, 4, 3], low: -2, high: 2, seed: 5)
        let g = bn.gamma.value.scalars, b = bn.beta.value.scalars
        let m = bn.movingMean.value.scalars, v = bn.movingVariance.value.scalars
        let expected = x.scalars.enumerated().map { i, value -> Float in
            let k = i % 3
            return Float((Double(value) - Double(m[k])) * Double(g[k]) / (Double(v[k]) + 1e-3).squareRoot() + Double(b[k]))
        }
        let statsBefore = bn.state.map(\.value.scalars)
        assertValues(try bn(x), expected, tolerance: 2e-6, "inference output")
        assertValues(try bn(x, training: false), expected, tolerance: 2e-6, "training: false")
        XCTAssertEqual(bn.state.map(\.value.scalars), statsBefore, "inference leaves the moving statistics alone")

        // The folded form is the same map.
        let (scale, shift) = bn.foldedScaleAndShift()
        for k in 0..<3 {
            let s = Double(g[k]) / (Double(v[k]) + 1e-3).squareRoot()
            XCTAssertEqual(Double(scale[k]), s, accuracy: 1e-6 * abs(s))
            XCTAssertEqual(Double(shift[k]), Double(b[k]) - Double(m[k]) * s, accuracy: 1e-6)
        }
        let folded = x.scalars.enumerated().map { i, value in value * scale[i % 3] + shift[i % 3] }
        assertValues(try bn(x), folded, tolerance: 2e-6, "x * scale + shift")

        // 2-D input ([batch, features]) too.
        let features = randomTensor([5, 3], low: -2, high: 2, seed: 6)
        assertValues(try bn(features), features.scalars.enumerated().map { i, value in value * scale[i % 3] + shift[i % 3] },
                     tolerance: 2e-6, "[batch, features]")
    }

    func testTrainingOutputMatchesADoubleReference() throws {
        // Small and large (split over threads) NHWC batches, and [batch, features]; channel
        // means far from zero so that a careless one-pass variance would lose digits.
        let cases: [(Shape, UInt64)] = [([3, 4, 5, 6], 10), ([8, 16, 16, 32], 20), ([7, 5], 30), ([1, 1, 1, 3], 40)]
        for (shape, seed) in cases {
            let c = shape[shape.rank - 1]
            let bn = try makeBN(channels: c, seed: seed)
            let offsets = randomTensor([c], low: -20, high: 20, seed: seed + 4).scalars
            let raw = randomTensor(shape, low: -1.5, high: 1.5, seed: seed + 5)
            let x = Tensor(raw.scalars.enumerated().map { i, v in v + offsets[i % c] }, shape: shape)
            let (mean, variance) = naiveMoments(x, channels: c)
            let expected = naiveNormalize(x, mean: mean, variance: variance, gamma: bn.gamma.value.scalars,
                                          beta: bn.beta.value.scalars, epsilon: bn.epsilon)
            let y = try bn(x, training: true)
            assertClose(y, expected, tolerance: 2e-5, "training output \(shape)")
            // The output is normalised: per-channel mean beta, std gamma (up to epsilon).
            let (outMean, _) = naiveMoments(y, channels: c)
            for k in 0..<c { XCTAssertEqual(outMean[k], Double(bn.beta.value[flat: k]), accuracy: 1e-4, "\(shape) mean") }
        }
    }

    func testMovingAverageUpdateAfterOneTrainingCall() throws {
        // 4-D input: Keras' fused kernel averages the unbiased variance var * N / (N - 1),
        // N = batch * h * w; 2-D input: the non-fused path averages the biased variance.
        let cases: [(Shape, Bool)] = [([2, 3, 4, 5], true), ([6, 5], false), ([1, 1, 1, 5], true)]
        for (shape, unbiased) in cases {
            let bn = try makeBN(channels: 5, momentum: 0.9, seed: 50)
            let x = randomTensor(shape, low: -1, high: 3, seed: 51)
            let n = x.count / 5
            let (mean, variance) = naiveMoments(x, channels: 5)
            let oldMean = bn.movingMean.value.scalars, oldVariance = bn.movingVariance.value.scalars
            _ = try bn(x, training: true)
            let correction = unbiased && n > 1 ? Double(n) / Double(n - 1) : 1
            XCTAssertEqual(BatchNormalization.movingVarianceCorrection(rank: shape.rank, count: n), correction)
            for k in 0..<5 {
                let m = Double(oldMean[k]) * 0.9 + mean[k] * 0.1
                let v = Double(oldVariance[k]) * 0.9 + variance[k] * correction * 0.1
                XCTAssertEqual(Double(bn.movingMean.value[flat: k]), m, accuracy: 1e-6, "\(shape) moving mean \(k)")
                XCTAssertEqual(Double(bn.movingVariance.value[flat: k]), v, accuracy: 1e-6 * max(1, v),
                               "\(shape) moving variance \(k)")
            }
        }
        // Worked by hand: one channel, x = [1, 2, 3, 6] as [1, 2, 2, 1]; mean 3, biased variance
        // 3.5, unbiased 14/3. momentum 0.99 from (0, 1): mean 0.03, variance 0.99 + 0.01 * 14/3.
        let bn = try BatchNormalization(channels: 1)
        _ = try bn(Tensor([1, 2, 3, 6], shape: [1, 2, 2, 1]), training: true)
        XCTAssertEqual(bn.movingMean.value.scalar, 0.03, accuracy: 1e-7)
        XCTAssertEqual(bn.movingVariance.value.scalar, 0.99 + 0.01 * 14 / 3, accuracy: 1e-6)
        // The same values as [4, 1]: the biased 3.5.
        let flat = try BatchNormalization(channels: 1)
        _ = try flat(Tensor([1, 2, 3, 6], shape: [4, 1]), training: true)
        XCTAssertEqual(flat.movingVariance.value.scalar, 0.99 + 0.01 * 3.5, accuracy: 1e-6)
        // momentum 1 keeps the statistics; 0 replaces them by the batch's.
        let keep = try BatchNormalization(channels: 1, momentum: 1)
        _ = try keep(Tensor([1, 2, 3, 6], shape: [1, 2, 2, 1]), training: true)
        XCTAssertEqual(keep.movingMean.value.scalar, 0)
        XCTAssertEqual(keep.movingVariance.value.scalar, 1)
        let replace = try BatchNormalization(channels: 1, momentum: 0)
        _ = try replace(Tensor([1, 2, 3, 6], shape: [1, 2, 2, 1]), training: true)
        XCTAssertEqual(replace.movingMean.value.scalar, 3, accuracy: 1e-6)
        XCTAssertEqual(replace.movingVariance.value.scalar, 14.0 / 3, accuracy: 1e-5)
    }

    func testFrozenLayerRunsInInferenceModeWhenTraining() throws {
        let bn = try makeBN(channels: 4, seed: 60)
        let x = randomTensor([3, 2, 2, 4], low: -1, high: 3, seed: 61)
        let inference = try bn(x)
        bn.setTrainable(false)
        XCTAssertFalse(bn.isTrainable)
        XCTAssertFalse(bn.usesBatchStatistics(training: true))
        let statsBefore = bn.state.map(\.value.scalars)
        let input = x.requiringGradient()
        let y = try bn(input, training: true)
        XCTAssertEqual(bn.state.map(\.value.scalars), statsBefore, "a frozen layer does not update its moving statistics")
        assertClose(y, inference, tolerance: 1e-6, "frozen + training = moving statistics")
        // Its gradient is the affine map's: dy * gamma / sqrt(moving_variance + eps).
        let seed = GradientCheck.projection(y.shape)
        y.backward(seed: seed)
        let (scale, _) = bn.foldedScaleAndShift()
        assertValues(input.gradient, seed.scalars.enumerated().map { i, v in v * scale[i % 4] }, tolerance: 1e-6,
                     "frozen dX")
        XCTAssertNil(bn.gamma.gradient, "frozen gamma gets no gradient")
        XCTAssertNil(bn.beta.gradient, "frozen beta gets no gradient")
        // Unfrozen again, training uses the batch.
        bn.setTrainable(true)
        let trained = try bn(x, training: true)
        XCTAssertGreaterThan(trained.maxAbsDifference(inference), 0.1, "batch statistics differ from the moving ones")
        XCTAssertNotEqual(bn.state.map(\.value.scalars), statsBefore)
    }

    func testStateNeverBecomesTrainable() throws {
        let bn = try makeBN(channels: 3, seed: 70)
        bn.setTrainable(false)
        bn.setTrainable(true)
        XCTAssertTrue(bn.gamma.isTrainable && bn.beta.isTrainable)
        XCTAssertFalse(bn.movingMean.isTrainable || bn.movingVariance.isTrainable)
        bn.movingMean.isTrainable = true
        bn.movingVariance.isTrainable = true
        XCTAssertFalse(bn.movingMean.isTrainable || bn.movingVariance.isTrainable, "setting it directly does nothing")
        // A training step gives gamma and beta gradients and the statistics none.
        let y = try bn(randomTensor([4, 3], seed: 71), training: true)
        GradientCheck.projected(y).backward()
        XCTAssertNotNil(bn.gamma.gradient)
        XCTAssertNotNil(bn.beta.gradient)
        XCTAssertNil(bn.movingMean.gradient)
        XCTAssertNil(bn.movingVariance.gradient)
    }

    func testGradientsInTrainingMode() throws {
        let cases: [(Shape, UInt64)] = [([2, 3, 3, 4], 80), ([6, 3], 90)]
        for (shape, seed) in cases {
            let bn = try makeBN(channels: shape[shape.rank - 1], seed: seed)
            let x = randomTensor(shape, low: -1, high: 2, seed: seed + 5)
            let before = bn.state.map(\.value.scalars)
            let errors = try GradientCheck.layerErrors(bn, inputs: [x], training: true)
            XCTAssertEqual(Set(errors.keys), ["input0", "gamma", "beta"])
            for (name, error) in errors { assertGradientError(error, below: 5e-3, "training \(shape) \(name)") }
            XCTAssertEqual(bn.state.map(\.value.scalars), before, "the checker restores the statistics")
        }
        // Analytic identities of the training backward: dbeta = sum dy, dgamma = sum dy * xhat,
        // and dX sums to zero per channel (the batch mean absorbs any shift).
        let bn = try makeBN(channels: 4, seed: 100)
        let x = randomTensor([4, 3, 3, 4], low: -1, high: 2, seed: 101)
        let input = x.requiringGradient()
        let y = try bn(input, training: true)
        let dy = GradientCheck.projection(y.shape)
        y.backward(seed: dy)
        let (mean, variance) = naiveMoments(x, channels: 4)
        let dx = try XCTUnwrap(input.gradient).scalars, d = dy.scalars, xv = x.scalars
        for k in 0..<4 {
            var sumDx = 0.0, sumDy = 0.0, sumDyHat = 0.0
            for i in stride(from: k, to: x.count, by: 4) {
                sumDx += Double(dx[i])
                sumDy += Double(d[i])
                sumDyHat += Double(d[i]) * (Double(xv[i]) - mean[k]) / (variance[k] + Double(bn.epsilon)).squareRoot()
            }
            XCTAssertEqual(sumDx, 0, accuracy: 1e-4, "sum of dX, channel \(k)")
            XCTAssertEqual(Double(bn.beta.gradient![flat: k]), sumDy, accuracy: 1e-4, "dbeta \(k)")
            XCTAssertEqual(Double(bn.gamma.gradient![flat: k]), sumDyHat, accuracy: 1e-4, "dgamma \(k)")
        }
    }

    func testGradientsInInferenceMode() throws {
        let bn = try makeBN(channels: 4, seed: 110)
        let errors = try GradientCheck.layerErrors(bn, inputs: [randomTensor([2, 3, 3, 4], seed: 111)], training: false)
        XCTAssertEqual(Set(errors.keys), ["input0", "gamma", "beta"])
        for (name, error) in errors { assertGradientError(error, below: 5e-3, "inference \(name)") }
        // Frozen and called in training mode: inference gradients for the input, nothing else.
        bn.setTrainable(false)
        let frozen = try GradientCheck.layerErrors(bn, inputs: [randomTensor([5, 4], seed: 112)], training: true)
        XCTAssertEqual(Set(frozen.keys), ["input0"])
        assertGradientError(frozen["input0"]!, below: 5e-3, "frozen input")
    }

    func testInvalidSettingsThrow() throws {
        for momentum: Float in [-0.1, 1.01, .nan, .infinity] {
            XCTAssertThrowsError(try BatchNormalization(name: "bn", channels: 3, momentum: momentum)) {
                XCTAssertEqual("\($0)", "layer 'bn': momentum \(momentum) must be in [0, 1]")
            }
        }
        for epsilon: Float in [0, -1e-3, .nan, .infinity] {
            XCTAssertThrowsError(try BatchNormalization(name: "bn", channels: 3, epsilon: epsilon)) {
                XCTAssertEqual("\($0)", "layer 'bn': epsilon \(epsilon) must be > 0 and finite")
            }
        }
        for channels in [0, -2] {
            XCTAssertThrowsError(try BatchNormalization(name: "bn", channels: channels)) {
                XCTAssertEqual($0 as? LayerError,
                               .invalidConfiguration(layer: "bn", setting: "channels \(channels)", requirement: "must be >= 1"))
            }
        }
        XCTAssertNoThrow(try BatchNormalization(channels: 1, momentum: 0, epsilon: 1e-10))
        XCTAssertNoThrow(try BatchNormalization(channels: 1, momentum: 1, epsilon: 1.001e-5))
    }
}

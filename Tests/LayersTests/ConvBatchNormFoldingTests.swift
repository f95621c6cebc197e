@testable import Layers
import Tensor
import TestSupport
import XCTest

/// Conv2D without a bias (Keras' `use_bias=False`) on every convolution algorithm, and a conv +
/// BatchNormalization pair folded into one convolution for inference.
final class ConvBatchNormFoldingTests: XCTestCase {
    func makeConv(_ inputs: Int, _ filters: Int, kernel: (Int, Int) = (3, 3), stride: (Int, Int) = (1, 1),
                  padding: Padding = .same, activation: Activation = .linear, useBias: Bool, seed: UInt64) throws -> Conv2D {
        var rng = SeededGenerator(seed: seed)
        return try Conv2D(name: "conv", inputChannels: inputs, filters: filters, kernelSize: kernel, stride: stride,
                          padding: padding, activation: activation, useBias: useBias, rng: &rng)
    }

    func testConvWithoutBiasHasOnlyItsKernel() throws {
        let conv = try makeConv(3, 4, useBias: false, seed: 1)
        XCTAssertFalse(conv.useBias)
        XCTAssertNil(conv.bias as Parameter?)
        XCTAssertEqual(conv.parameters.map(\.name), ["kernel"], "Keras' variable list")
        XCTAssertEqual(conv.kernel.shape, [3, 3, 3, 4])
        let withBias = try makeConv(3, 4, useBias: true, seed: 1)
        XCTAssertTrue(withBias.useBias)
        XCTAssertEqual(withBias.parameters.map(\.name), ["kernel", "bias"])
        var rng = SeededGenerator(seed: 1)
        XCTAssertEqual(try Conv2D(name: "c", inputChannels: 3, filters: 4, rng: &rng).parameters.count, 2,
                       "a bias by default")
    }

    func testConvWithoutBiasEqualsZeroBiasOnEveryAlgorithm() throws {
        // 3x3 stride 1 with 64 channels, where Winograd is available, and a strided 1x1 and 5x5.
        let cases: [(Int, Int, (Int, Int), (Int, Int), Activation, Shape)] = [
            (64, 16, (3, 3), (1, 1), .relu, [1, 9, 10, 64]),
            (5, 7, (1, 1), (1, 1), .linear, [2, 6, 5, 5]),
            (3, 6, (5, 5), (2, 2), .relu, [2, 9, 8, 3]),
        ]
        for (k, (inputs, filters, size, stride, activation, shape)) in cases.enumerated() {
            let plain = try makeConv(inputs, filters, kernel: size, stride: stride, activation: activation, useBias: false,
                                     seed: 10 + UInt64(k))
            let zero = try makeConv(inputs, filters, kernel: size, stride: stride, activation: activation, useBias: true,
                                    seed: 10 + UInt64(k))
            XCTAssertEqual(plain.kernel.value.scalars, zero.kernel.value.scalars)
            let x = randomTensor(shape, seed: 20 + UInt64(k))
            let reference = ConvReference.directConv(x, plain.kernel.value, Tensor(zeros: [filters]), stride: stride,
                                                     padding: .same, relu: activation == .relu)
            var algorithms: [ConvolutionAlgorithm] = [.automatic, .im2col]
            if size == (3, 3) && stride == (1, 1) { algorithms += [.winograd2, .winograd3, .winograd4] }
            for algorithm in algorithms {
                let (a, b) = try withConvolutionAlgorithm(algorithm) { (try plain(x), try zero(x)) }
                assertClose(a, b, tolerance: 0, "case \(k) \(algorithm): no bias = zero bias")
                assertClose(a, reference, tolerance: algorithm == .winograd4 ? 2e-4 : 2e-5,
                            "case \(k) \(algorithm) vs direct")
            }
        }
    }

    func testConvWithoutBiasGradients() throws {
        let conv = try makeConv(3, 4, stride: (2, 2), useBias: false, seed: 30)
        let errors = try GradientCheck.layerErrors(conv, inputs: [randomTensor([2, 5, 6, 3], seed: 31)])
        XCTAssertEqual(Set(errors.keys), ["input0", "kernel"])
        for (name, error) in errors { assertGradientError(error, "no-bias conv \(name)") }
        // Frozen kernel, input gradient only (the bias-less path records nothing else).
        conv.setTrainable(false)
        let frozen = try GradientCheck.layerErrors(conv, inputs: [randomTensor([1, 4, 4, 3], seed: 32)])
        XCTAssertEqual(Array(frozen.keys), ["input0"])
        assertGradientError(frozen["input0"]!, "frozen no-bias conv")
        XCTAssertFalse(try conv(randomTensor([1, 4, 4, 3], seed: 33)).requiresGradient, "nothing to record")
    }

    /// max |a - b| / max |b|.
    func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        a.maxAbsDifference(b) / max(b.scalars.map(abs).max() ?? 0, .leastNormalMagnitude)
    }

    func testFoldedConvEqualsConvThenBatchNorm() throws {
        for (useBias, seed) in [(false, UInt64(40)), (true, 50)] {
            let conv = try makeConv(6, 8, stride: (1, 1), useBias: useBias, seed: seed)
            if useBias { conv.bias!.value = randomTensor([8], low: -0.5, high: 0.5, seed: seed + 1) }
            let bn = try BatchNormalization(name: "bn", channels: 8, epsilon: 1.001e-5)
            bn.gamma.value = randomTensor([8], low: 0.2, high: 1.5, seed: seed + 2)
            bn.beta.value = randomTensor([8], low: -0.5, high: 0.5, seed: seed + 3)
            bn.movingMean.value = randomTensor([8], low: -0.5, high: 0.5, seed: seed + 4)
            bn.movingVariance.value = randomTensor([8], low: 0.05, high: 3, seed: seed + 5)
            let folded = try conv.foldingBatchNorm(bn)
            XCTAssertEqual(folded.name, conv.name)
            XCTAssertEqual(folded.parameters.map(\.name), ["kernel", "bias"])
            XCTAssertEqual(folded.kernel.shape, conv.kernel.shape)
            XCTAssertTrue(folded !== conv)
            let x = randomTensor([2, 7, 9, 6], seed: seed + 6)
            let expected = try bn(try conv(x), training: false)
            let y = try folded(x)
            XCTAssertLessThanOrEqual(relativeError(y, expected), 1e-5, "folded (bias \(useBias))")
            // Frozen pair in a training call: BN still in inference mode, same result.
            bn.setTrainable(false)
            conv.setTrainable(false)
            XCTAssertLessThanOrEqual(relativeError(try folded(x), try bn(try conv(x), training: true)), 1e-5)
            XCTAssertFalse(try conv.foldingBatchNorm(bn).kernel.isTrainable, "folding a frozen conv gives a frozen one")
            // The folded weights themselves: kernel * scale per output channel, bias * scale + shift.
            let (scale, shift) = bn.foldedScaleAndShift()
            let w = conv.kernel.value.scalars, fw = folded.kernel.value.scalars
            for i in stride(from: 0, to: w.count, by: 7) {
                XCTAssertEqual(fw[i], w[i] * scale[i % 8], accuracy: 1e-6 * abs(w[i] * scale[i % 8]) + 1e-12)
            }
            let b = useBias ? conv.bias!.value.scalars : [Float](repeating: 0, count: 8)
            assertValues(folded.bias!.value, (0..<8).map { b[$0] * scale[$0] + shift[$0] }, tolerance: 1e-6, "folded bias")
        }
    }

    func testFoldingRefusesMismatchedOrActivatedPairs() throws {
        let conv = try makeConv(3, 4, useBias: false, seed: 60)
        XCTAssertThrowsError(try conv.foldingBatchNorm(try BatchNormalization(name: "bn", channels: 5))) {
            XCTAssertEqual("\($0)", "layer 'conv': folding 'bn' of 5 channels needs one channel per filter (4)")
        }
        let relu = try makeConv(3, 4, activation: .relu, useBias: true, seed: 61)
        XCTAssertThrowsError(try relu.foldingBatchNorm(try BatchNormalization(name: "bn", channels: 4))) {
            XCTAssertEqual($0 as? LayerError, .invalidConfiguration(
                layer: "conv", setting: "folding 'bn' after activation relu",
                requirement: "needs a linear convolution (the BatchNormalization must come before the activation)"))
        }
    }
}

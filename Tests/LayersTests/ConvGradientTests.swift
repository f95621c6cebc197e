import Layers
import Tensor
import TestSupport
import XCTest

/// One convolution configuration under test.
struct ConvCase: CustomStringConvertible {
    var input: Shape
    var filters: Int
    var kernel: (Int, Int)
    var stride: (Int, Int)
    var padding: Padding
    var activation: Activation

    var description: String {
        "conv \(kernel.0)x\(kernel.1) s\(stride.0)x\(stride.1) \(padding) \(activation) on \(input) -> \(filters)"
    }

    /// A layer with gridded kernel and bias (see `gridTensor`): every pre-activation is an odd
    /// multiple of 1/32 for gridded input, so ReLU's kink is never within 1/32.
    func makeLayer(seed: UInt64) throws -> Conv2D {
        var rng = SeededGenerator(seed: seed)
        let conv = try Conv2D(name: "conv", inputChannels: input[3], filters: filters, kernelSize: kernel,
                          stride: stride, padding: padding, activation: activation, rng: &rng)
        conv.kernel.value = gridTensor(conv.kernel.shape, step: 0.25, limit: 0.5, seed: seed + 1)
        let b = gridTensor([filters], step: 0.0625, limit: 0.25, seed: seed + 2)
        conv.bias!.value = b + 1.0 / 32
        return conv
    }

    func makeInput(seed: UInt64) -> Tensor { gridTensor(input, step: 0.25, limit: 1, seed: seed) }
}

/// Finite-difference checks of Conv2D with respect to input, kernel and bias.
final class ConvGradientTests: XCTestCase {
    static let cases: [ConvCase] = [
        ConvCase(input: [2, 5, 6, 3], filters: 4, kernel: (3, 3), stride: (1, 1), padding: .same, activation: .relu),
        ConvCase(input: [2, 5, 6, 3], filters: 4, kernel: (3, 3), stride: (1, 1), padding: .same, activation: .linear),
        ConvCase(input: [2, 7, 8, 3], filters: 4, kernel: (3, 3), stride: (2, 2), padding: .valid, activation: .linear),
        ConvCase(input: [1, 8, 7, 2], filters: 3, kernel: (3, 3), stride: (2, 2), padding: .valid, activation: .relu),
        // stride 2 "same" with even sizes pads only at the bottom/right, odd sizes on both sides
        ConvCase(input: [1, 6, 8, 2], filters: 3, kernel: (3, 3), stride: (2, 2), padding: .same, activation: .relu),
        ConvCase(input: [2, 7, 5, 2], filters: 3, kernel: (3, 3), stride: (2, 2), padding: .same, activation: .linear),
        ConvCase(input: [1, 6, 7, 2], filters: 2, kernel: (3, 3), stride: (2, 2), padding: .same, activation: .relu),
        // 1x1 (the pointwise path with no im2col) and 1x1 stride 2 (im2col again)
        ConvCase(input: [2, 4, 5, 3], filters: 4, kernel: (1, 1), stride: (1, 1), padding: .same, activation: .linear),
        ConvCase(input: [2, 4, 5, 3], filters: 4, kernel: (1, 1), stride: (1, 1), padding: .valid, activation: .relu),
        ConvCase(input: [1, 5, 6, 3], filters: 2, kernel: (1, 1), stride: (2, 2), padding: .same, activation: .relu),
        // larger and non-square kernels
        ConvCase(input: [1, 6, 7, 2], filters: 3, kernel: (5, 5), stride: (1, 1), padding: .same, activation: .relu),
        ConvCase(input: [1, 3, 4, 2], filters: 2, kernel: (5, 5), stride: (1, 1), padding: .same, activation: .linear),
        ConvCase(input: [1, 9, 11, 2], filters: 2, kernel: (5, 5), stride: (2, 2), padding: .valid, activation: .relu),
        ConvCase(input: [1, 5, 6, 2], filters: 3, kernel: (2, 3), stride: (1, 1), padding: .same, activation: .relu),
        ConvCase(input: [1, 7, 4, 3], filters: 2, kernel: (3, 1), stride: (2, 1), padding: .valid, activation: .linear),
        ConvCase(input: [2, 4, 7, 2], filters: 2, kernel: (1, 3), stride: (1, 2), padding: .same, activation: .relu),
    ]

    func checkGradients(_ c: ConvCase, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let conv = try c.makeLayer(seed: seed)
        let x = c.makeInput(seed: seed + 3)
        let loss = { (input: Tensor) throws -> Tensor in GradientCheck.projected(try conv(input)) }

        if c.activation == .relu {
            // The test only means something if the ReLU clips some outputs and passes others.
            let y = try withoutGradients { try conv(x) }.scalars
            XCTAssertTrue(y.contains(0) && y.contains { $0 > 0 }, "\(c): ReLU should clip some outputs",
                          file: file, line: line)
        }
        let inputError = try GradientCheck.maxRelativeError(at: x, epsilon: 1e-2, loss)
        let kernelError = try GradientCheck.maxRelativeError(of: conv.kernel, epsilon: 1e-2) { try loss(x) }
        let biasError = try GradientCheck.maxRelativeError(of: conv.bias!, epsilon: 1e-2) { try loss(x) }
        assertGradientError(inputError, "\(c) dX", file: file, line: line)
        assertGradientError(kernelError, "\(c) dKernel", file: file, line: line)
        assertGradientError(biasError, "\(c) dBias", file: file, line: line)
    }

    func testConvGradientsForAllConfigurations() throws {
        for (i, c) in Self.cases.enumerated() {
            try checkGradients(c, seed: UInt64(100 + 10 * i))
        }
    }

    func testConvGradientsWithRandomNonGridValues() throws {
        // Linear convs are linear in each argument, so any values work (no kinks).
        var rng = SeededGenerator(seed: 5)
        let conv = try Conv2D(name: "conv", inputChannels: 3, filters: 5, stride: (2, 2), padding: .same,
                          activation: .linear, rng: &rng)
        conv.bias!.value = randomTensor([5], seed: 6)
        let x = randomTensor([2, 6, 5, 3], seed: 7)
        let loss = { (input: Tensor) throws -> Tensor in GradientCheck.projected(try conv(input)) }
        assertGradientError(try GradientCheck.maxRelativeError(at: x, epsilon: 1e-2, loss), "dX")
        assertGradientError(try GradientCheck.maxRelativeError(of: conv.kernel) { try loss(x) }, "dKernel")
        assertGradientError(try GradientCheck.maxRelativeError(of: conv.bias!) { try loss(x) }, "dBias")
    }

    func testFusedReLUMatchesLinearConvFollowedByReLU() throws {
        let c = ConvCase(input: [2, 6, 6, 3], filters: 4, kernel: (3, 3), stride: (1, 1), padding: .same,
                         activation: .relu)
        let fused = try c.makeLayer(seed: 7)
        var rng = SeededGenerator(seed: 0)
        let linear = try Conv2D(name: "linear", inputChannels: 3, filters: 4, activation: .linear, rng: &rng)
        linear.kernel.value = fused.kernel.value
        linear.bias!.value = fused.bias!.value
        let x = c.makeInput(seed: 8)
        let p = GradientCheck.projection([2, 6, 6, 4])

        let xa = x.requiringGradient()
        let ya = try fused(xa)
        (ya * p).sum().backward()
        let xb = x.requiringGradient()
        let yb = try linear(xb).relu()
        (yb * p).sum().backward()
        assertClose(ya, yb, tolerance: 0, "forward")
        assertClose(xa.gradient, xb.gradient, tolerance: 1e-6, "dX")
        assertClose(fused.kernel.gradient, linear.kernel.gradient, tolerance: 1e-6, "dKernel")
        assertClose(fused.bias!.gradient, linear.bias!.gradient, tolerance: 1e-6, "dBias")
    }
}

@testable import Layers
import Tensor
import TestSupport
import XCTest

/// Runs `body` with every convolution pass forced to `algorithm`.
func withConvolutionAlgorithm<R>(_ algorithm: ConvolutionAlgorithm, _ body: () throws -> R) rethrows -> R {
    try ConvolutionKernels.$algorithm.withValue(algorithm) { try body() }
}

/// Winograd F(2x2), F(3x3) and F(4x4) against a direct convolution (in Double) and the im2col path:
/// odd sizes with partial edge tiles, "same" and "valid", channel counts that are not
/// multiples of the 16-lane vectors, every chunk plan; gradients through `Conv2D` by finite
/// differences; TensorFlow's conv fixture with Winograd forced.
final class WinogradConvolutionTests: XCTestCase {
    static let variants: [ConvolutionAlgorithm] = [.winograd2, .winograd3, .winograd4]

    struct Case: CustomStringConvertible {
        var input: Shape, filters: Int, padding: Padding
        var description: String { "\(input) -> \(filters) \(padding)" }
        var geometry: WindowGeometry { WindowGeometry(input: input, window: (3, 3), stride: (1, 1), padding: padding)! }
    }

    static let cases = [
        Case(input: [1, 5, 5, 3], filters: 2, padding: .same),     // one partial F4 tile per axis and a half
        Case(input: [2, 7, 9, 17], filters: 19, padding: .valid),  // odd sizes, 16 + 1 channels
        Case(input: [1, 9, 9, 16], filters: 16, padding: .same),   // VGG19 block5's 9x9
        Case(input: [3, 6, 11, 5], filters: 7, padding: .same),
        Case(input: [1, 3, 3, 1], filters: 1, padding: .valid),    // a 1x1 output
        Case(input: [2, 10, 8, 33], filters: 20, padding: .same),
    ]

    /// Max |difference| / max(1, max |reference|) allowed: float32 with transforms of small
    /// integers (F2) or of ±2, ±4, ±8 and fractions (F4) on values of order 1.
    static func tolerance(_ algorithm: ConvolutionAlgorithm) -> Float { algorithm == .winograd2 ? 1e-5 : 2e-5 }

    func testForwardMatchesDirectConvolution() {
        for (i, c) in Self.cases.enumerated() {
            let g = c.geometry
            let x = randomTensor(c.input, seed: UInt64(2000 + i))
            let kernel = randomTensor([3, 3, c.input[3], c.filters], low: -0.3, high: 0.3, seed: UInt64(2100 + i))
            let bias = randomTensor([c.filters], seed: UInt64(2200 + i))
            for relu in [false, true] {
                let direct = ConvReference.directConv(x, kernel, bias, stride: (1, 1), padding: c.padding, relu: relu)
                for a in Self.variants {
                    let y = withConvolutionAlgorithm(a) {
                        ConvolutionKernels.forward(g, input: x, kernel: kernel, bias: bias, relu: relu)
                    }
                    assertClose(y, direct, tolerance: Self.tolerance(a), "\(c) relu \(relu) \(a): forward vs direct")
                }
            }
        }
    }

    func testBackwardDataMatchesDirectConvolution() {
        for (i, c) in Self.cases.enumerated() {
            let g = c.geometry
            let kernel = randomTensor([3, 3, c.input[3], c.filters], seed: UInt64(2300 + i))
            let dy = randomTensor([g.batch, g.outputHeight, g.outputWidth, c.filters], seed: UInt64(2400 + i))
            let direct = ConvPathEquivalenceTests.directInputGradient(g, dy, kernel)
            for a in Self.variants {
                let dx = withConvolutionAlgorithm(a) {
                    ConvolutionKernels.inputGradient(g, outputGradient: dy, kernel: kernel)
                }
                assertClose(dx, direct, tolerance: Self.tolerance(a), "\(c) \(a): dX vs direct")
            }
        }
    }

    func testBackwardWeightsMatchesIm2col() {
        for (i, c) in Self.cases.enumerated() {
            let g = c.geometry
            let x = randomTensor(c.input, seed: UInt64(2500 + i))
            let dy = randomTensor([g.batch, g.outputHeight, g.outputWidth, c.filters], seed: UInt64(2600 + i))
            let reference = withConvolutionAlgorithm(.im2col) {
                ConvolutionKernels.kernelGradient(g, input: x, outputGradient: dy)
            }
            for a in Self.variants {
                let dw = withConvolutionAlgorithm(a) {
                    ConvolutionKernels.kernelGradient(g, input: x, outputGradient: dy)
                }
                assertClose(dw, reference, tolerance: Self.tolerance(a), "\(c) \(a): dW vs im2col")
                let again = withConvolutionAlgorithm(a) {
                    ConvolutionKernels.kernelGradient(g, input: x, outputGradient: dy)
                }
                XCTAssertEqual(dw.scalars, again.scalars, "\(c) \(a): dW repeats bit for bit")
            }
        }
    }

    /// Per-thread plans of one and of several chunks per thread, shared plans with chunks of a
    /// few tiles (and of one), against each other and a direct convolution.
    func testChunkPlansAgree() {
        let c = Case(input: [4, 19, 21, 32], filters: 18, padding: .same)  // whole vectors in, a tail out
        let g = c.geometry
        let x = randomTensor(c.input, seed: 2700)
        let kernel = randomTensor([3, 3, 32, 18], low: -0.3, high: 0.3, seed: 2701)
        let bias = randomTensor([18], seed: 2702)
        let dy = randomTensor([4, 19, 21, 18], seed: 2703)
        for a in Self.variants {
            let m = ConvolutionKernels.outputTile(a), positions = (m + 2) * (m + 2)
            let tiles = 4 * ((19 + m - 1) / m) * ((21 + m - 1) / m), rowFloats = positions * (32 + 18)
            let smallChunk = Winograd.minimumChunkTiles * rowFloats * 4
            let settings: [(name: String, cap: Int, chunk: Int)] = [
                ("default", Workspace.capBytes, Winograd.chunkBytes),
                ("per-thread chunks of 48 tiles", Workspace.capBytes, smallChunk),
                ("64 KB cap", 64 << 10, Winograd.chunkBytes),
                ("1-tile chunks", 1, 1),
            ]
            if Parallel.threadCount > 1 {
                let plans = settings.map { s in
                    Workspace.$capBytes.withValue(s.cap) {
                        Winograd.$chunkBytes.withValue(s.chunk) {
                            WinogradPlan.make(tiles: tiles, rowFloats: rowFloats)
                        }
                    }
                }
                XCTAssertTrue(plans[0].perThread && plans[1].perThread, "\(a): per-thread plans")
                XCTAssertGreaterThan(plans[1].chunks, plans[1].threads, "\(a): several chunks per thread")
                XCTAssertFalse(plans[2].perThread || plans[3].perThread, "\(a): shared plans")
                XCTAssertGreaterThan(plans[2].chunks, 1, "\(a): several shared chunks")
                XCTAssertEqual(plans[3].rows, 1)
            }
            var results: [[Tensor]] = []
            for s in settings {
                let r = Workspace.$capBytes.withValue(s.cap) {
                    Winograd.$chunkBytes.withValue(s.chunk) {
                        withConvolutionAlgorithm(a) {
                            [ConvolutionKernels.forward(g, input: x, kernel: kernel, bias: bias, relu: true),
                             ConvolutionKernels.inputGradient(g, outputGradient: dy, kernel: kernel),
                             ConvolutionKernels.kernelGradient(g, input: x, outputGradient: dy)]
                        }
                    }
                }
                results.append(r)
            }
            let direct = ConvReference.directConv(x, kernel, bias, stride: (1, 1), padding: .same, relu: true)
            assertClose(results[0][0], direct, tolerance: Self.tolerance(a), "\(a) default: forward vs direct")
            let again = Winograd.$chunkBytes.withValue(settings[1].chunk) {
                withConvolutionAlgorithm(a) { ConvolutionKernels.kernelGradient(g, input: x, outputGradient: dy) }
            }
            XCTAssertEqual(again.scalars, results[1][2].scalars, "\(a): per-thread dW repeats bit for bit")
            for (s, r) in zip(settings, results).dropFirst() {
                for k in 0..<3 {
                    assertClose(r[k], results[0][k], tolerance: Self.tolerance(a), "\(a) \(s.name) pass \(k)")
                }
            }
        }
    }

    func testGradientsThroughConv2DWithWinogradForced() throws {
        let cases = [
            ConvCase(input: [2, 6, 7, 3], filters: 4, kernel: (3, 3), stride: (1, 1), padding: .same,
                     activation: .relu),
            ConvCase(input: [1, 7, 6, 2], filters: 3, kernel: (3, 3), stride: (1, 1), padding: .valid,
                     activation: .linear),
        ]
        for a in Self.variants {
            try withConvolutionAlgorithm(a) {
                for (i, c) in cases.enumerated() {
                    let conv = try c.makeLayer(seed: UInt64(2800 + 10 * i))
                    let x = c.makeInput(seed: UInt64(2801 + 10 * i))
                    let loss = { (t: Tensor) throws -> Tensor in GradientCheck.projected(try conv(t)) }
                    // The loss is piecewise linear and every pre-activation stays >= 1/32 from
                    // ReLU's kink for steps up to 1/32 (|kernel| <= 0.5, |x| <= 1): a large step
                    // keeps F(4x4)'s float32 rounding (~1e-6 of the loss) out of the differences.
                    let e: Float = 0.025
                    assertGradientError(try GradientCheck.maxRelativeError(at: x, epsilon: e, loss), "\(a) \(c): dX")
                    assertGradientError(try GradientCheck.maxRelativeError(of: conv.kernel, epsilon: e, samples: 40) {
                        try loss(x)
                    }, "\(a) \(c): dKernel")
                    assertGradientError(try GradientCheck.maxRelativeError(of: conv.bias!, epsilon: e) { try loss(x) },
                                        "\(a) \(c): dBias")
                }
            }
        }
    }

    /// TensorFlow's 3x3 "same" stride-1 conv (y, dx, dkernel, dbias) with Winograd forced.
    func testKerasConvFixtureWithWinogradForced() throws {
        let prefix = "layer_conv_same_s1"
        let x = try Fixtures.tensor("\(prefix)_x"), kernel = try Fixtures.tensor("\(prefix)_kernel")
        XCTAssertEqual(Array(kernel.shape.dims.prefix(2)), [3, 3])
        for a in Self.variants {
            var rng = SeededGenerator(seed: 1)
            let conv = try Conv2D(name: prefix, inputChannels: kernel.shape[2], filters: kernel.shape[3],
                              padding: .same, activation: .linear, rng: &rng)
            conv.kernel.value = kernel
            conv.bias!.value = try Fixtures.tensor("\(prefix)_bias")
            let input = x.requiringGradient()
            try withConvolutionAlgorithm(a) {
                XCTAssertEqual(ConvolutionKernels.algorithm(for: .forward, try conv.geometry(for: x.shape),
                                                            filters: conv.filters), a)
                let y = try conv(input)
                assertRelative(y, try Fixtures.tensor("\(prefix)_y"), "\(a) y")
                y.backward(seed: try Fixtures.tensor("\(prefix)_dy"))
            }
            assertRelative(input.gradient, try Fixtures.tensor("\(prefix)_dx"), "\(a) dx")
            assertRelative(conv.kernel.gradient, try Fixtures.tensor("\(prefix)_dkernel"), "\(a) dkernel")
            assertRelative(conv.bias!.gradient, try Fixtures.tensor("\(prefix)_dbias"), "\(a) dbias")
        }
    }

    /// As `KerasLayerFixtureTests`: relative to the reference's largest magnitude.
    func assertRelative(_ actual: Tensor?, _ expected: Tensor, tolerance: Float = 1e-5, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(what): no value", file: file, line: line) }
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-3)
        let error = actual.maxAbsDifference(expected) / scale
        XCTAssertLessThanOrEqual(error, tolerance, "\(what): relative error \(error)", file: file, line: line)
    }
}

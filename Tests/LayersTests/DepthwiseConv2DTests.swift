import Layers
import Tensor
import TestSupport
import XCTest

/// DepthwiseConv2D: forward and gradients against a naive float64 loop, finite differences,
/// shapes and configuration errors.
final class DepthwiseConv2DTests: XCTestCase {
    /// One case: input `[batch, h, w, channels]` and the layer's settings.
    struct Case: CustomStringConvertible {
        var batch, height, width, channels: Int
        var kernel: (Int, Int) = (3, 3)
        var stride = 1
        var padding = Padding.same
        var multiplier = 1
        var useBias = true
        var description: String {
            "[\(batch), \(height), \(width), \(channels)] k\(kernel.0)x\(kernel.1) s\(stride) \(padding) "
                + "x\(multiplier) \(useBias ? "bias" : "no bias")"
        }
    }

    func makeLayer(_ c: Case, seed: UInt64) throws -> DepthwiseConv2D {
        var rng = SeededGenerator(seed: seed)
        let layer = try DepthwiseConv2D(name: "dw", inputChannels: c.channels, kernelSize: c.kernel,
                                        stride: (c.stride, c.stride), padding: c.padding,
                                        depthMultiplier: c.multiplier, useBias: c.useBias, rng: &rng)
        layer.depthwiseKernel.value = randomTensor(layer.depthwiseKernel.shape, seed: seed + 1)
        layer.bias?.value = randomTensor([c.channels * c.multiplier], low: -0.5, high: 0.5, seed: seed + 2)
        return layer
    }

    /// Output size and padding before, by TensorFlow's rule, written out independently of `Padding`.
    static func axis(_ input: Int, _ window: Int, _ stride: Int, _ padding: Padding) -> (output: Int, before: Int) {
        switch padding {
        case .valid: return ((input - window) / stride + 1, 0)
        case .same:
            let output = (input + stride - 1) / stride
            return (output, max((output - 1) * stride + window - input, 0) / 2)
        }
    }

    /// Calls `body(n, oh, ow, ih, iw, i, j)` for every tap of every output pixel that lands
    /// inside the input.
    static func forEachTap(_ xShape: Shape, _ kernel: (Int, Int), _ stride: Int, _ padding: Padding,
                           _ body: (Int, Int, Int, Int, Int, Int, Int) -> Void) -> (Int, Int) {
        let rows = axis(xShape[1], kernel.0, stride, padding), cols = axis(xShape[2], kernel.1, stride, padding)
        for n in 0..<xShape[0] {
            for oh in 0..<rows.output {
                for ow in 0..<cols.output {
                    for i in 0..<kernel.0 {
                        let ih = oh * stride - rows.before + i
                        guard ih >= 0, ih < xShape[1] else { continue }
                        for j in 0..<kernel.1 {
                            let iw = ow * stride - cols.before + j
                            guard iw >= 0, iw < xShape[2] else { continue }
                            body(n, oh, ow, ih, iw, i, j)
                        }
                    }
                }
            }
        }
        return (rows.output, cols.output)
    }

    /// The naive loop, accumulated in float64: `y[n, oh, ow, c*M + m] = b + sum x * k`.
    static func reference(_ x: Tensor, _ k: Tensor, _ bias: Tensor?, stride: Int, padding: Padding) -> Tensor {
        let (H, W, C) = (x.shape[1], x.shape[2], x.shape[3])
        let (KH, KW, M) = (k.shape[0], k.shape[1], k.shape[3])
        let rows = axis(H, KH, stride, padding), cols = axis(W, KW, stride, padding)
        var y = [Double](repeating: 0, count: x.shape[0] * rows.output * cols.output * C * M)
        let xv = x.scalars, kv = k.scalars
        _ = forEachTap(x.shape, (KH, KW), stride, padding) { n, oh, ow, ih, iw, i, j in
            for c in 0..<C {
                for m in 0..<M {
                    y[((n * rows.output + oh) * cols.output + ow) * C * M + c * M + m] +=
                        Double(xv[((n * H + ih) * W + iw) * C + c]) * Double(kv[((i * KW + j) * C + c) * M + m])
                }
            }
        }
        if let bias {
            let b = bias.scalars
            for p in y.indices { y[p] += Double(b[p % (C * M)]) }
        }
        return Tensor(y.map { Float($0) }, shape: [x.shape[0], rows.output, cols.output, C * M])
    }

    /// The naive gradients for output gradient `dy`, accumulated in float64.
    static func referenceGradients(_ x: Tensor, _ k: Tensor, _ dy: Tensor, stride: Int,
                                   padding: Padding) -> (dx: Tensor, dk: Tensor) {
        let (H, W, C) = (x.shape[1], x.shape[2], x.shape[3])
        let (KH, KW, M) = (k.shape[0], k.shape[1], k.shape[3])
        let OH = axis(H, KH, stride, padding).output, OW = axis(W, KW, stride, padding).output
        var dx = [Double](repeating: 0, count: x.count), dk = [Double](repeating: 0, count: k.count)
        let xv = x.scalars, kv = k.scalars, g = dy.scalars
        _ = forEachTap(x.shape, (KH, KW), stride, padding) { n, oh, ow, ih, iw, i, j in
            for c in 0..<C {
                for m in 0..<M {
                    let d = Double(g[((n * OH + oh) * OW + ow) * C * M + c * M + m])
                    let xi = ((n * H + ih) * W + iw) * C + c, ki = ((i * KW + j) * C + c) * M + m
                    dx[xi] += d * Double(kv[ki])
                    dk[ki] += d * Double(xv[xi])
                }
            }
        }
        return (Tensor(dx.map { Float($0) }, shape: x.shape), Tensor(dk.map { Float($0) }, shape: k.shape))
    }

    /// Forward, outputShape(for:) and the analytic gradients against the naive loop.
    func check(_ c: Case, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let layer = try makeLayer(c, seed: seed)
        let x = randomTensor([c.batch, c.height, c.width, c.channels], seed: seed + 3)
        let input = x.requiringGradient()
        let y = try layer(input, training: true)
        let expected = Self.reference(x, layer.depthwiseKernel.value, layer.bias?.value, stride: c.stride,
                                      padding: c.padding)
        assertClose(y, expected, tolerance: 1e-5, "\(c) forward", file: file, line: line)
        XCTAssertEqual(try layer.outputShape(for: [x.shape]), y.shape, "\(c) outputShape", file: file, line: line)
        XCTAssertEqual(try withoutGradients { try layer(x) }.scalars, y.scalars, "\(c) inference = training",
                       file: file, line: line)

        let dy = randomTensor(y.shape, seed: seed + 4)
        layer.depthwiseKernel.zeroGradient()
        layer.bias?.zeroGradient()
        y.backward(seed: dy)
        let (dx, dk) = Self.referenceGradients(x, layer.depthwiseKernel.value, dy, stride: c.stride, padding: c.padding)
        assertClose(input.gradient, dx, tolerance: 1e-5, "\(c) dx", file: file, line: line)
        assertClose(layer.depthwiseKernel.gradient, dk, tolerance: 1e-5, "\(c) dkernel", file: file, line: line)
        if let bias = layer.bias {
            var db = [Double](repeating: 0, count: c.channels * c.multiplier)
            for (p, v) in dy.scalars.enumerated() { db[p % db.count] += Double(v) }
            assertClose(bias.gradient, Tensor(db.map { Float($0) }, shape: [db.count]), tolerance: 1e-5,
                        "\(c) dbias", file: file, line: line)
        }
    }

    func testMatchesNaiveLoopAcrossSettings() throws {
        var seed: UInt64 = 100
        for stride in [1, 2] {
            for padding in Padding.allCases {
                for multiplier in [1, 2] {
                    for (height, width) in [(7, 9), (8, 6)] {
                        for batch in [1, 3] {
                            for useBias in [true, false] {
                                // 19 channels: one 16-wide SIMD block and a scalar tail.
                                let c = Case(batch: batch, height: height, width: width,
                                             channels: multiplier == 1 ? 19 : 5, stride: stride,
                                             padding: padding, multiplier: multiplier, useBias: useBias)
                                try check(c, seed: seed)
                                seed += 10
                            }
                        }
                    }
                }
            }
        }
    }

    func testOtherKernelSizesAndChannelCounts() throws {
        let cases = [
            Case(batch: 2, height: 9, width: 8, channels: 16, kernel: (5, 5), stride: 2, padding: .same),
            Case(batch: 1, height: 6, width: 7, channels: 3, kernel: (2, 3), stride: 1, padding: .same),
            Case(batch: 2, height: 6, width: 7, channels: 32, kernel: (2, 3), stride: 2, padding: .valid),
            Case(batch: 1, height: 5, width: 5, channels: 4, kernel: (5, 5), padding: .valid, multiplier: 3),
            Case(batch: 2, height: 4, width: 5, channels: 8, kernel: (1, 1), stride: 3, padding: .same),
            // Input smaller than the window under "same": every window is clipped.
            Case(batch: 1, height: 2, width: 1, channels: 17, kernel: (5, 5), stride: 2, padding: .same),
            Case(batch: 1, height: 5, width: 6, channels: 2, kernel: (3, 3), stride: 3, padding: .same, multiplier: 4),
        ]
        for (k, c) in cases.enumerated() { try check(c, seed: 1000 + UInt64(k) * 10) }
    }

    /// The C forward kernel on every variant this CPU runs (70 channels: four vectors of 16, a
    /// single one and a partial one), alone and with ReLU or GELU fused into its output pass.
    func testEveryKernelVariantAndTheFusedActivations() throws {
        for (k, stride) in [1, 2].enumerated() {
            let c = Case(batch: 2, height: 7, width: 9, channels: 70, stride: stride, padding: .same)
            let layer = try makeLayer(c, seed: 3000 + UInt64(k) * 10)
            let x = randomTensor([c.batch, c.height, c.width, c.channels], seed: 3005 + UInt64(k) * 10)
            let expected = Self.reference(x, layer.depthwiseKernel.value, layer.bias?.value, stride: c.stride,
                                          padding: c.padding)
            for variant in Kernels.supported {
                try Kernels.with(variant) {
                    assertClose(try withoutGradients { try layer(x, training: false) }, expected, tolerance: 1e-5,
                                "\(c) \(variant)")
                    for activation in [Activation.relu, .gelu, .swish] {
                        let fused = try withoutGradients { try layer(x, training: false, then: activation) }
                        assertClose(fused, activation.apply(expected), tolerance: 1e-5, "\(c) \(variant) then \(activation)")
                    }
                }
            }
            // With gradients recorded the activation follows as its own op, and gradients flow through it.
            let input = x.requiringGradient()
            let y = try layer(input, training: true, then: .gelu)
            assertClose(y.detached, Activation.gelu.apply(expected), tolerance: 1e-5, "\(c) recorded then gelu")
            y.sum().backward()
            XCTAssertEqual(input.gradient?.shape, x.shape)
            XCTAssertTrue(input.gradient?.isFinite ?? false)
        }
    }

    func testLargeShapesThatRunInParallel() throws {
        // Enough work per pass that forward, dX and dKernel (several chunks) split over the cores.
        try check(Case(batch: 2, height: 20, width: 20, channels: 35, stride: 1, padding: .same), seed: 2000)
        try check(Case(batch: 1, height: 33, width: 32, channels: 48, stride: 2, padding: .same, useBias: false),
                  seed: 2010)
        try check(Case(batch: 3, height: 16, width: 15, channels: 12, stride: 2, padding: .valid, multiplier: 2),
                  seed: 2020)
    }

    func testFiniteDifferences() throws {
        let cases = [
            Case(batch: 2, height: 6, width: 5, channels: 3, stride: 1, padding: .same),
            Case(batch: 1, height: 6, width: 6, channels: 18, stride: 2, padding: .same, useBias: false),
            Case(batch: 2, height: 7, width: 6, channels: 2, stride: 2, padding: .valid, multiplier: 2),
        ]
        for (k, c) in cases.enumerated() {
            let layer = try makeLayer(c, seed: 3000 + UInt64(k) * 10)
            let x = randomTensor([c.batch, c.height, c.width, c.channels], seed: 3005 + UInt64(k) * 10)
            let errors = try GradientCheck.layerErrors(layer, inputs: [x], epsilon: 1e-2)
            XCTAssertEqual(Set(errors.keys), Set(["input0", "depthwise_kernel"] + (c.useBias ? ["bias"] : [])), "\(c)")
            for (what, error) in errors { assertGradientError(error, "\(c) \(what)") }
        }
    }

    func testFrozenKernelGetsNoGradientButInputDoes() throws {
        let layer = try makeLayer(Case(batch: 1, height: 5, width: 5, channels: 4), seed: 4000)
        layer.setTrainable(false)
        let x = randomTensor([1, 5, 5, 4], seed: 4001).requiringGradient()
        try layer(x, training: true).sum().backward()
        XCTAssertNil(layer.depthwiseKernel.gradient)
        XCTAssertNil(layer.bias?.gradient)
        XCTAssertEqual(x.gradient?.shape, [1, 5, 5, 4])
        XCTAssertFalse(try layer(randomTensor([1, 5, 5, 4], seed: 4002)).requiresGradient)
    }

    func testParametersNamesAndInitialisation() throws {
        var rng = SeededGenerator(seed: 5)
        let layer = try DepthwiseConv2D(name: "block_1_depthwise", inputChannels: 96, stride: (2, 2),
                                        depthMultiplier: 2, useBias: false, rng: &rng)
        XCTAssertEqual(layer.kerasClassName, "DepthwiseConv2D")
        XCTAssertEqual(layer.parameters.map(\.name), ["depthwise_kernel"])
        XCTAssertEqual(layer.depthwiseKernel.shape, [3, 3, 96, 2])
        XCTAssertEqual(layer.outputChannels, 192)
        XCTAssertEqual(layer.padding, .valid, "Keras' default")
        // glorot_uniform on the 4-D shape: fan_in = 96 * 9, fan_out = 2 * 9.
        let limit = (6 / Float(96 * 9 + 2 * 9)).squareRoot()
        let values = layer.depthwiseKernel.value.scalars
        XCTAssertLessThanOrEqual(values.map(abs).max() ?? 0, limit)
        XCTAssertGreaterThan(values.map(abs).max() ?? 0, 0.9 * limit)
        let withBias = try DepthwiseConv2D(name: "dw", inputChannels: 4, rng: &rng)
        XCTAssertEqual(withBias.parameters.map(\.name), ["depthwise_kernel", "bias"])
        XCTAssertEqual(withBias.bias?.value.scalars, [0, 0, 0, 0])
    }

    func testConfigurationAndShapeErrors() throws {
        var rng = SeededGenerator(seed: 6)
        XCTAssertThrowsError(try DepthwiseConv2D(name: "dw", inputChannels: 3, depthMultiplier: 0, rng: &rng)) {
            XCTAssertEqual("\($0)", "layer 'dw': depth multiplier 0 must be >= 1")
        }
        XCTAssertThrowsError(try DepthwiseConv2D(name: "dw", inputChannels: 3, stride: (1, 0), rng: &rng)) {
            XCTAssertEqual($0 as? LayerError, .invalidConfiguration(layer: "dw", setting: "stride width 0",
                                                                    requirement: "must be >= 1"))
        }
        XCTAssertThrowsError(try DepthwiseConv2D(name: "dw", inputChannels: 0, rng: &rng))
        XCTAssertThrowsError(try DepthwiseConv2D(name: "dw", inputChannels: 3, kernelSize: (0, 3), rng: &rng))

        let layer = try DepthwiseConv2D(name: "dw", inputChannels: 3, padding: .valid, rng: &rng)
        assertShapeMismatch(layer: "dw", got: [1, 5, 5, 4]) { try layer(Tensor(zeros: [1, 5, 5, 4])) }
        assertShapeMismatch(layer: "dw", got: [5, 5, 3]) { try layer(Tensor(zeros: [5, 5, 3])) }
        assertShapeMismatch(layer: "dw", got: [1, 2, 5, 3]) { try layer(Tensor(zeros: [1, 2, 5, 3])) }
        XCTAssertThrowsError(try layer.outputShape(for: [[1, 2, 5, 3]]))
        XCTAssertThrowsError(try layer.outputShape(for: [[1, 5, 5, 3], [1, 5, 5, 3]]))
        XCTAssertEqual(try layer.outputShape(for: [[0, 5, 5, 3]]), [0, 3, 3, 3])
        XCTAssertEqual(try layer(Tensor(zeros: [0, 5, 5, 3])).shape, [0, 3, 3, 3], "an empty batch")
    }
}

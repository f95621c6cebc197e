import Layers
@testable import Tensor
import TestSupport
import XCTest

/// Reference computations for convolution tests.
enum ConvReference {
    /// TensorFlow's padding for one axis: SAME has `out = ceil(in / s)`,
    /// `pad_total = max((out - 1) * s + k - in, 0)`, `pad_top = pad_total / 2`.
    static func tfAxis(_ input: Int, _ k: Int, _ s: Int, _ padding: Padding) -> (out: Int, before: Int) {
        switch padding {
        case .valid:
            return ((input - k) / s + 1, 0)
        case .same:
            let out = (input + s - 1) / s
            return (out, max((out - 1) * s + k - input, 0) / 2)
        }
    }

    /// Direct NHWC x HWIO convolution in Double, bias and optional ReLU.
    static func directConv(_ x: Tensor, _ kernel: Tensor, _ bias: Tensor, stride: (Int, Int), padding: Padding,
                           relu: Bool) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw, f) = (kernel.shape[0], kernel.shape[1], kernel.shape[3])
        let rows = tfAxis(h, kh, stride.0, padding), cols = tfAxis(w, kw, stride.1, padding)
        let xv = x.scalars, kv = kernel.scalars, bv = bias.scalars
        var out = [Float](repeating: 0, count: n * rows.out * cols.out * f)
        for b in 0..<n {
            for oh in 0..<rows.out {
                for ow in 0..<cols.out {
                    for o in 0..<f {
                        var total = Double(bv[o])
                        for i in 0..<kh {
                            let ih = oh * stride.0 - rows.before + i
                            guard ih >= 0, ih < h else { continue }
                            for j in 0..<kw {
                                let iw = ow * stride.1 - cols.before + j
                                guard iw >= 0, iw < w else { continue }
                                for ch in 0..<c {
                                    total += Double(xv[((b * h + ih) * w + iw) * c + ch])
                                        * Double(kv[((i * kw + j) * c + ch) * f + o])
                                }
                            }
                        }
                        out[((b * rows.out + oh) * cols.out + ow) * f + o] = Float(relu ? max(total, 0) : total)
                    }
                }
            }
        }
        return Tensor(out, shape: [n, rows.out, cols.out, f])
    }

    static func randomConv(_ c: ConvCase, seed: UInt64) throws -> Conv2D {
        var rng = SeededGenerator(seed: seed)
        let conv = try Conv2D(name: "conv", inputChannels: c.input[3], filters: c.filters, kernelSize: c.kernel,
                          stride: c.stride, padding: c.padding, activation: c.activation, rng: &rng)
        conv.bias!.value = randomTensor([c.filters], low: -0.5, high: 0.5, seed: seed + 1)
        return conv
    }

    /// Forward and every gradient of `conv` on `x` (projected loss).
    static func forwardAndGradients(_ conv: Conv2D, _ x: Tensor) throws -> [Tensor?] {
        conv.kernel.zeroGradient()
        conv.bias!.zeroGradient()
        let input = x.requiringGradient()
        let y = try conv(input)
        GradientCheck.projected(y).backward()
        return [y, input.gradient, conv.kernel.gradient, conv.bias!.gradient]
    }
}

/// Conv2D against a direct convolution written here, chunking invariance, TensorFlow "same"
/// geometry, and what a conv computes when its input or kernel needs no gradient.
final class ConvReferenceTests: XCTestCase {
    func testTensorFlowSameGeometry() {
        // (input, kernel, stride) -> (output, pad before); TF pads the odd pixel after.
        let expected: [(Int, Int, Int, Int, Int)] = [
            (6, 3, 2, 3, 0),    // total 1: 0 top, 1 bottom
            (7, 3, 2, 4, 1),    // total 2: 1 and 1
            (8, 3, 1, 8, 1),
            (150, 3, 2, 75, 0),
            (5, 2, 1, 5, 0),    // even kernel: total 1, all at the bottom
            (3, 5, 1, 3, 2),    // window wider than the input
            (5, 1, 2, 3, 0),
            (6, 4, 2, 3, 1),    // total 2
        ]
        for (input, k, s, out, before) in expected {
            let g = Padding.same.geometry(input: input, window: k, stride: s)
            XCTAssertEqual(g?.output, out, "same in=\(input) k=\(k) s=\(s)")
            XCTAssertEqual(g?.padBefore, before, "same in=\(input) k=\(k) s=\(s) pad before")
        }
        XCTAssertEqual(Padding.valid.geometry(input: 7, window: 3, stride: 2)?.output, 3)
        XCTAssertEqual(Padding.valid.geometry(input: 37, window: 2, stride: 2)?.output, 18)
        XCTAssertNil(Padding.valid.geometry(input: 2, window: 3, stride: 1))
    }

    func testConvMatchesDirectConvolution() throws {
        for (i, c) in ConvGradientTests.cases.enumerated() {
            let conv = try ConvReference.randomConv(c, seed: UInt64(300 + i))
            let x = randomTensor(c.input, seed: UInt64(400 + i))
            let y = try conv(x)
            let reference = ConvReference.directConv(x, conv.kernel.value, conv.bias!.value, stride: c.stride, padding: c.padding,
                                       relu: c.activation == .relu)
            assertClose(y, reference, tolerance: 1e-5, "\(c)")
        }
    }

    func testSmallHandComputedConvolution() throws {
        // 3x3 all-ones kernel, "same": each output is the sum of its (zero-padded) neighbourhood.
        var rng = SeededGenerator(seed: 1)
        let conv = try Conv2D(name: "ones", inputChannels: 1, filters: 1, activation: .linear, rng: &rng)
        conv.kernel.value = Tensor(repeating: 1, shape: [3, 3, 1, 1])
        conv.bias!.value = Tensor([0.5], shape: [1])
        let x = Tensor((1...9).map(Float.init), shape: [1, 3, 3, 1])
        assertValues(try conv(x), [12, 21, 16, 27, 45, 33, 24, 39, 28].map { $0 + 0.5 }, "3x3 ones")
    }

    func testChunkedConvMatchesUnchunked() throws {
        let cases = [
            ConvCase(input: [3, 7, 9, 5], filters: 6, kernel: (3, 3), stride: (1, 1), padding: .same, activation: .relu),
            ConvCase(input: [2, 9, 8, 4], filters: 3, kernel: (3, 3), stride: (2, 2), padding: .same, activation: .linear),
            ConvCase(input: [2, 9, 10, 3], filters: 4, kernel: (3, 3), stride: (2, 2), padding: .valid, activation: .relu),
            ConvCase(input: [2, 6, 5, 3], filters: 4, kernel: (5, 5), stride: (1, 1), padding: .same, activation: .linear),
            ConvCase(input: [2, 5, 5, 7], filters: 3, kernel: (1, 1), stride: (1, 1), padding: .same, activation: .relu),
            ConvCase(input: [2, 7, 6, 2], filters: 3, kernel: (2, 3), stride: (2, 1), padding: .same, activation: .linear),
        ]
        let names = ["y", "dX", "dKernel", "dBias"]
        for (i, c) in cases.enumerated() {
            let conv = try ConvReference.randomConv(c, seed: UInt64(500 + i))
            let x = randomTensor(c.input, seed: UInt64(600 + i))
            let patchBytes = c.kernel.0 * c.kernel.1 * c.input[3] * 4
            let reference = try ConvReference.forwardAndGradients(conv, x)
            // 1 row per chunk, 3 rows (chunks straddle output rows and images), and a few KB.
            for cap in [1, 3 * patchBytes, 4096] {
                let chunked = try Workspace.$capBytes.withValue(cap) { try ConvReference.forwardAndGradients(conv, x) }
                for k in 0..<4 {
                    assertClose(chunked[k], reference[k], tolerance: 1e-5, "\(c) cap \(cap) \(names[k])")
                }
            }
        }
    }

    func testConvOnConstantInputComputesNoInputGradient() throws {
        let c = ConvCase(input: [2, 6, 6, 3], filters: 4, kernel: (3, 3), stride: (1, 1), padding: .same,
                         activation: .relu)
        let conv = try c.makeLayer(seed: 11)
        let x = c.makeInput(seed: 12)  // a constant: like the output of a frozen, no-grad prefix
        let y = try conv(x)
        XCTAssertTrue(y.requiresGradient, "kernel and bias still learn")
        // The recorded node has edges to the kernel and the bias only: no dX pullback exists.
        XCTAssertEqual(y.node?.edges.count, 2, "no edge (and so no dX work) for an input needing no gradient")
        GradientCheck.projected(y).backward()
        XCTAssertNotNil(conv.kernel.gradient)
        XCTAssertNotNil(conv.bias!.gradient)

        // Same gradients as when the input does need one.
        let reference = try ConvReference.forwardAndGradients(conv, x)
        conv.kernel.zeroGradient(); conv.bias!.zeroGradient()
        GradientCheck.projected(try conv(x)).backward()
        assertClose(conv.kernel.gradient, reference[2], tolerance: 1e-6, "dKernel without dX")
        assertClose(conv.bias!.gradient, reference[3], tolerance: 1e-6, "dBias without dX")
    }

    func testFrozenKernelGetsNoGradientWhileBiasAndInputDo() throws {
        let c = ConvCase(input: [1, 5, 6, 2], filters: 3, kernel: (3, 3), stride: (2, 2), padding: .same,
                         activation: .relu)
        let conv = try c.makeLayer(seed: 21)
        conv.kernel.isTrainable = false
        let x = c.makeInput(seed: 22)
        let input = x.requiringGradient()
        let y = try conv(input)
        XCTAssertEqual(y.node?.edges.count, 2, "edges to input and bias, none to the frozen kernel")
        GradientCheck.projected(y).backward()
        XCTAssertNil(conv.kernel.gradient, "frozen kernel")
        XCTAssertNotNil(conv.bias!.gradient)
        XCTAssertNotNil(input.gradient)
        let loss = { (t: Tensor) throws -> Tensor in GradientCheck.projected(try conv(t)) }
        assertGradientError(try GradientCheck.maxRelativeError(at: x, loss), "dX with frozen kernel")
        assertGradientError(try GradientCheck.maxRelativeError(of: conv.bias!) { try loss(x) }, "dBias with frozen kernel")
        XCTAssertNil(conv.kernel.gradient)

        // Frozen layer on a constant input: nothing is recorded at all.
        conv.setTrainable(false)
        XCTAssertFalse(try conv(x).requiresGradient)
        XCTAssertFalse(conv.isTrainable)
    }

    func testNoGradScopeRecordsNothingThroughConv() throws {
        let c = ConvCase(input: [1, 4, 4, 2], filters: 2, kernel: (3, 3), stride: (1, 1), padding: .same,
                         activation: .relu)
        let conv = try c.makeLayer(seed: 31)
        let input = c.makeInput(seed: 32).requiringGradient()
        let y = try withoutGradients { try conv(input) }
        XCTAssertFalse(y.requiresGradient)
        y.sum().backward()
        XCTAssertNil(conv.kernel.gradient)
        XCTAssertNil(input.gradient)
    }
}

/// Shapes big enough that im2col, col2im, the bias epilogue and pooling split over threads.
final class ParallelLayerTests: XCTestCase {
    func testLargerConvMatchesReferenceAndGradients() throws {
        let c = ConvCase(input: [2, 32, 30, 8], filters: 8, kernel: (3, 3), stride: (1, 1), padding: .same,
                         activation: .relu)
        let conv = try ConvReference.randomConv(c, seed: 700)
        let x = randomTensor(c.input, seed: 701)
        assertClose(try conv(x), ConvReference.directConv(x, conv.kernel.value, conv.bias!.value, stride: (1, 1),
                                                      padding: .same, relu: true), tolerance: 1e-5, "forward")
        // Gradients: chunked (many small GEMMs, chunks straddling images) against one chunk.
        let whole = try ConvReference.forwardAndGradients(conv, x)
        let chunked = try Workspace.$capBytes.withValue(4096) { try ConvReference.forwardAndGradients(conv, x) }
        for k in 0..<4 { assertClose(chunked[k], whole[k], tolerance: 1e-5, "chunked vs whole \(k)") }

        // Sampled finite differences on the gridded version (kink-free ReLU).
        let grid = try c.makeLayer(seed: 702)
        let gx = c.makeInput(seed: 703)
        let loss = { (t: Tensor) throws -> Tensor in GradientCheck.projected(try grid(t)) }
        assertGradientError(try GradientCheck.maxRelativeError(at: gx, samples: 40, loss), "dX")
        assertGradientError(try GradientCheck.maxRelativeError(of: grid.kernel, samples: 40) { try loss(gx) }, "dKernel")
        assertGradientError(try GradientCheck.maxRelativeError(of: grid.bias!) { try loss(gx) }, "dBias")
    }

    func testLargerStride2ConvInputGradientMatchesDirectTranspose() throws {
        // dX of a linear conv is the transposed convolution of dY: compute it directly.
        let c = ConvCase(input: [3, 17, 20, 6], filters: 5, kernel: (3, 3), stride: (2, 2), padding: .same,
                         activation: .linear)
        let conv = try ConvReference.randomConv(c, seed: 710)
        let input = randomTensor(c.input, seed: 711).requiringGradient()
        let y = try conv(input)
        XCTAssertEqual(y.shape, [3, 9, 10, 5])
        let dy = randomTensor(y.shape, seed: 712)
        y.backward(seed: dy)
        let (oh, ow, pt, pl) = (9, 10, 1, 0)  // 17 -> 9: total 2 -> top 1; 20 -> 10: total 1 -> left 0
        let k = conv.kernel.value.scalars, g = dy.scalars
        var expected = [Float](repeating: 0, count: c.input.count)
        for n in 0..<3 {
            for r in 0..<oh {
                for q in 0..<ow {
                    for i in 0..<3 {
                        let ih = r * 2 - pt + i
                        guard ih >= 0, ih < 17 else { continue }
                        for j in 0..<3 {
                            let iw = q * 2 - pl + j
                            guard iw >= 0, iw < 20 else { continue }
                            for ch in 0..<6 {
                                var total: Float = 0
                                for f in 0..<5 {
                                    total += g[((n * oh + r) * ow + q) * 5 + f] * k[((i * 3 + j) * 6 + ch) * 5 + f]
                                }
                                expected[((n * 17 + ih) * 20 + iw) * 6 + ch] += total
                            }
                        }
                    }
                }
            }
        }
        assertClose(input.gradient, Tensor(expected, shape: c.input), tolerance: 1e-5, "dX")
    }

    func testLargerMaxPoolMatchesNaive() throws {
        let x = randomTensor([4, 33, 64, 16], seed: 720)
        let input = x.requiringGradient()
        let y = try MaxPool2D(name: "pool")(input)
        XCTAssertEqual(y.shape, [4, 16, 32, 16])
        let xv = x.scalars
        var expected = [Float](repeating: 0, count: y.count)
        var expectedGrad = [Float](repeating: 0, count: x.count)
        let dy = randomTensor(y.shape, seed: 721)
        let dyv = dy.scalars
        for n in 0..<4 {
            for r in 0..<16 {
                for q in 0..<32 {
                    for ch in 0..<16 {
                        var best = -Float.infinity, at = 0
                        for i in 0..<2 {
                            for j in 0..<2 {
                                let ih: Int = 2 * r + i, iw: Int = 2 * q + j
                                let index: Int = ((n * 33 + ih) * 64 + iw) * 16 + ch
                                if xv[index] > best { best = xv[index]; at = index }
                            }
                        }
                        let o: Int = ((n * 16 + r) * 32 + q) * 16 + ch
                        expected[o] = best
                        expectedGrad[at] += dyv[o]
                    }
                }
            }
        }
        assertValues(y, expected, tolerance: 0, "pool values")
        y.backward(seed: dy)
        assertValues(input.gradient, expectedGrad, tolerance: 0, "pool gradient")
    }
}

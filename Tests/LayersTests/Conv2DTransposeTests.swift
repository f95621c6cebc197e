import Foundation
import Layers
import Tensor
import TestSupport
import XCTest

/// `Conv2DTranspose` against PyTorch's `nn.ConvTranspose2d` (`Tests/Fixtures/depth/convt_*.npy`:
/// outputs and the gradients of `sum(y * dy)`), against the definition written out as loops, and
/// against finite differences (the generic per-layer checker).
final class Conv2DTransposeTests: XCTestCase {
    /// (in, out, kernel, stride, padding) of each fixture case.
    let cases: [(name: String, input: Int, output: Int, kernel: Int, stride: Int, padding: Int)] = [
        ("k4s4", 3, 5, 4, 4, 0), ("k3s2p1", 4, 3, 3, 2, 1), ("k2s2", 2, 2, 2, 2, 0),
    ]

    func nhwc(_ x: Tensor) -> Tensor { x.permuted([0, 2, 3, 1]).detached }

    func testMatchesPyTorch() throws {
        for c in cases {
            func fixture(_ part: String) throws -> Tensor { try Fixtures.tensor("depth/convt_\(c.name)_\(part)") }
            var rng = SeededGenerator(seed: 1)
            let layer = try Conv2DTranspose(name: "resize", inputChannels: c.input, filters: c.output,
                                            kernelSize: (c.kernel, c.kernel), stride: (c.stride, c.stride),
                                            padding: (c.padding, c.padding), rng: &rng)
            // PyTorch's weight [in, out, kh, kw] -> [kh, kw, out, in].
            layer.kernel.value = try fixture("weight").permuted([2, 3, 1, 0]).detached
            layer.bias?.value = try fixture("bias")
            let x = nhwc(try fixture("x")).requiringGradient()
            let y = try layer(x, training: true)
            assertClose(y.permuted([0, 3, 1, 2]), try fixture("y"), tolerance: 1e-5, "\(c.name) y")
            XCTAssertEqual(try layer.outputShape(for: [x.shape]), y.shape)
            (y * nhwc(try fixture("dy"))).sum().backward()
            assertClose(x.gradient.map { $0.permuted([0, 3, 1, 2]) }, try fixture("dx"), tolerance: 1e-5, "\(c.name) dx")
            assertClose(layer.kernel.gradient, try fixture("dweight").permuted([2, 3, 1, 0]), tolerance: 1e-5, "\(c.name) dweight")
            assertClose(layer.bias?.gradient, try fixture("dbias"), tolerance: 1e-5, "\(c.name) dbias")
        }
    }

    /// `y[n, i·sh - ph + a, j·sw - pw + b, o] += x[n, i, j, c] · W[a, b, o, c]`, written out.
    func reference(_ x: Tensor, kernel w: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int)) -> Tensor {
        let (n, h, wd, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw, cout) = (w.shape[0], w.shape[1], w.shape[2])
        let oh = (h - 1) * stride.0 - 2 * padding.0 + kh, ow = (wd - 1) * stride.1 - 2 * padding.1 + kw
        var y = [Float](repeating: 0, count: n * oh * ow * cout)
        for b in 0..<n {
            for i in 0..<h {
                for j in 0..<wd {
                    for a in 0..<kh {
                        for bb in 0..<kw {
                            let (r, s) = (i * stride.0 - padding.0 + a, j * stride.1 - padding.1 + bb)
                            guard (0..<oh).contains(r), (0..<ow).contains(s) else { continue }
                            for o in 0..<cout {
                                var sum: Float = 0
                                for c in 0..<cin { sum += x[flat: ((b * h + i) * wd + j) * cin + c] * w[flat: ((a * kw + bb) * cout + o) * cin + c] }
                                y[((b * oh + r) * ow + s) * cout + o] += sum
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for p in 0..<(n * oh * ow) { for o in 0..<cout { y[p * cout + o] += bias[flat: o] } }
        }
        return Tensor(y, shape: [n, oh, ow, cout])
    }

    /// Geometries the fixtures do not cover, rectangular kernels and strides, every algorithm
    /// (the 3x3 stride-1 case with 64 channels runs Winograd in the automatic rule).
    func testMatchesTheDefinition() throws {
        let shapes: [(Shape, Int, (Int, Int), (Int, Int), (Int, Int))] = [
            ([2, 3, 4, 5], 6, (3, 2), (2, 3), (1, 0)),
            ([1, 5, 5, 3], 2, (1, 1), (1, 1), (0, 0)),
            ([1, 6, 7, 64], 64, (3, 3), (1, 1), (1, 1)),
            ([1, 4, 3, 8], 4, (5, 5), (3, 2), (2, 2)),
        ]
        for (index, (shape, filters, kernel, stride, padding)) in shapes.enumerated() {
            var rng = SeededGenerator(seed: 10 + UInt64(index))
            let layer = try Conv2DTranspose(name: "up", inputChannels: shape[3], filters: filters, kernelSize: kernel,
                                            stride: stride, padding: padding, rng: &rng)
            layer.bias?.value = randomTensor([filters], seed: 20 + UInt64(index))
            let x = randomTensor(shape, seed: 30 + UInt64(index))
            for algorithm in ConvolutionAlgorithm.allCases {
                let y = try ConvolutionKernels.$algorithm.withValue(algorithm) { try withoutGradients { try layer(x) } }
                let expected = reference(x, kernel: layer.kernel.value, bias: layer.bias?.value, stride: stride, padding: padding)
                assertClose(y, expected, tolerance: 1e-4, "case \(index) \(algorithm)")
            }
        }
    }

    func testFiniteDifferences() throws {
        let configurations: [(Shape, Int, Int, Int, Int, Activation, Bool)] = [
            ([2, 3, 2, 3], 4, 4, 4, 0, .linear, true),   // Depth Anything's upsampling: kernel = stride, no overlap
            ([1, 4, 5, 2], 3, 3, 2, 1, .linear, true),   // overlapping windows, trimmed by the padding
            ([1, 3, 3, 3], 2, 3, 1, 1, .relu, false),    // stride 1 with ReLU, no bias
        ]
        for (index, (shape, filters, kernel, stride, padding, activation, useBias)) in configurations.enumerated() {
            var rng = SeededGenerator(seed: 40 + UInt64(index))
            let layer = try Conv2DTranspose(name: "up", inputChannels: shape[3], filters: filters, kernelSize: (kernel, kernel),
                                            stride: (stride, stride), padding: (padding, padding), activation: activation,
                                            useBias: useBias, rng: &rng)
            // A bias of a quarter keeps the ReLU case's pre-activations away from its kink on average.
            layer.bias?.value = Tensor(repeating: 0.25, shape: [filters])
            let x = randomTensor(shape, seed: 50 + UInt64(index))
            let errors = try GradientCheck.layerErrors(layer, inputs: [x], epsilon: 1e-2)
            XCTAssertEqual(Set(errors.keys), Set(["input0", "kernel"] + (useBias ? ["bias"] : [])), "case \(index)")
            for (what, error) in errors { assertGradientError(error, "case \(index) \(what)") }
        }
    }

    func testFrozenKernelGetsNoGradient() throws {
        var rng = SeededGenerator(seed: 60)
        let layer = try Conv2DTranspose(name: "up", inputChannels: 2, filters: 3, kernelSize: (2, 2), stride: (2, 2), rng: &rng)
        layer.setTrainable(false)
        let x = randomTensor([1, 3, 3, 2], seed: 61).requiringGradient()
        try layer(x, training: true).sum().backward()
        XCTAssertNil(layer.kernel.gradient)
        XCTAssertEqual(x.gradient?.shape, [1, 3, 3, 2])
        XCTAssertFalse(try layer(randomTensor([1, 3, 3, 2], seed: 62)).requiresGradient)
    }

    func testRefusals() throws {
        var rng = SeededGenerator(seed: 70)
        XCTAssertThrowsError(try Conv2DTranspose(name: "up", inputChannels: 2, filters: 2, kernelSize: (2, 2), stride: (2, 2),
                                                 padding: (2, 0), rng: &rng))
        XCTAssertThrowsError(try Conv2DTranspose(name: "up", inputChannels: 2, filters: 2, kernelSize: (2, 2), stride: (0, 2), rng: &rng))
        XCTAssertThrowsError(try Conv2DTranspose(name: "up", inputChannels: 2, filters: 2, kernelSize: (2, 2), stride: (2, 2),
                                                 activation: .softmax, rng: &rng))
        let layer = try Conv2DTranspose(name: "up", inputChannels: 2, filters: 2, kernelSize: (3, 3), stride: (1, 1),
                                        padding: (2, 2), rng: &rng)
        XCTAssertThrowsError(try layer(Tensor(zeros: [1, 3, 3, 5]))) { error in
            XCTAssertTrue("\(error)".contains("up"), "\(error)")
        }
        // (1 - 1)·1 - 4 + 3 < 1: no output pixel.
        XCTAssertThrowsError(try layer(Tensor(zeros: [1, 1, 1, 2])))
    }
}

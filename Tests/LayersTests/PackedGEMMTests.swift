import CKernels
@testable import Layers
import Tensor
import TestSupport
import XCTest

/// The packed-operand GEMM (`rubble_gemm_packed` behind `PackedGEMM`) on every kernel variant
/// this CPU runs, against a float64 loop, and the convolutions that use it against OpenBLAS.
final class PackedGEMMTests: XCTestCase {
    /// `epilogue((a · b + bias) + residual)` in Double.
    static func reference(m: Int, n: Int, k: Int, a: [Float], b: [Float], bias: [Float]?, residual: [Float]?,
                          epilogue: KernelEpilogue) -> Tensor {
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for t in 0..<k { sum += Double(a[i * k + t]) * Double(b[t * n + j]) }
                out[i * n + j] = Float(sum)
            }
        }
        var y = Tensor(out, shape: [m, n])
        if let bias { y = y + Tensor(bias, shape: [n]) }
        if let residual { y = y + Tensor(residual, shape: [m, n]) }
        switch epilogue {
        case .none: return y
        case .relu: return y.relu()
        case .relu6: return y.relu6()
        case .swish: return y.swish()
        case .gelu: return y.gelu()
        }
    }

    /// Row counts around the AVX-512 tile (12) and block (120), column counts around the 32-wide
    /// panel and the vectors inside it, depths of 0, 1 and over the 256-deep block.
    func testEveryShapeAndEpilogueOnEveryVariant() throws {
        let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (5, 7, 3), (12, 32, 16), (13, 33, 9), (25, 70, 300),
                                                  (130, 40, 257), (121, 16, 64), (37, 96, 513)]
        let epilogues: [KernelEpilogue] = [.none, .relu, .relu6, .swish]
        for variant in Kernels.supported {
            try Kernels.with(variant) {
                for (s, shape) in shapes.enumerated() {
                    let seed = UInt64(100 + 10 * s)
                    let a = randomTensor([shape.m, shape.k], seed: seed).scalars
                    let b = randomTensor([shape.k, shape.n], seed: seed + 1).scalars
                    let bias = randomTensor([shape.n], seed: seed + 2).scalars
                    let residual = randomTensor([shape.m, shape.n], seed: seed + 3).scalars
                    let packed = PackedGEMM.pack(Tensor(b, shape: [shape.k, shape.n]))
                    XCTAssertEqual(packed.count, (shape.n + 31) / 32 * 32 * shape.k)
                    for (e, epilogue) in epilogues.enumerated() {
                        let withExtras = e % 2 == 1
                        let expected = Self.reference(m: shape.m, n: shape.n, k: shape.k, a: a, b: b,
                                                      bias: withExtras ? bias : nil,
                                                      residual: withExtras ? residual : nil, epilogue: epilogue)
                        for parallel in [false, true] {
                            var c = Tensor(repeating: .nan, shape: [shape.m, shape.n])
                            c.withUnsafeMutableBufferPointer { cp in
                                a.withUnsafeBufferPointer { ap in
                                    packed.withUnsafeBufferPointer { pp in
                                        bias.withUnsafeBufferPointer { bp in
                                            residual.withUnsafeBufferPointer { rp in
                                                PackedGEMM.multiply(
                                                    m: shape.m, n: shape.n, k: shape.k, a: ap.baseAddress!,
                                                    packed: pp.baseAddress!, c: cp.baseAddress!, epilogue: epilogue,
                                                    bias: withExtras ? bp.baseAddress! : nil,
                                                    residual: withExtras ? rp.baseAddress! : nil, parallel: parallel)
                                            }
                                        }
                                    }
                                }
                            }
                            assertClose(c, expected, tolerance: 1e-5,
                                        "\(variant) \(shape) \(epilogue) extras \(withExtras) parallel \(parallel)")
                        }
                    }
                }
            }
        }
    }

    /// An empty sum (k = 0) gives the epilogue of bias and residual alone.
    func testAnEmptySumIsTheEpilogueOfBiasAndResidual() {
        let bias: [Float] = [1, -2, 3], residual: [Float] = [0.5, 0.5, -9, 1, 1, 1]
        var c = [Float](repeating: .nan, count: 6)
        let dummy: [Float] = [0]
        rubble_gemm_packed(0, 2, 0, 1, 3, 0, dummy, 0, dummy, &c, 3, bias, residual, 3, KernelEpilogue.relu.rawValue)
        XCTAssertEqual(c, [1.5, 0, 0, 2, 0, 4])
    }

    /// Disjoint row and panel ranges write only their own part of c.
    func testRangesWriteOnlyTheirPart() throws {
        let (m, n, k) = (30, 70, 20)
        let a = randomTensor([m, k], seed: 1), b = randomTensor([k, n], seed: 2)
        let packed = PackedGEMM.pack(b)
        let full = Self.reference(m: m, n: n, k: k, a: a.scalars, b: b.scalars, bias: nil, residual: nil,
                                  epilogue: .none).scalars
        var c = [Float](repeating: -7, count: m * n)
        a.withUnsafeBufferPointer { ap in
            packed.withUnsafeBufferPointer { pp in
                rubble_gemm_packed(10, 22, 1, 2, n, k, ap.baseAddress!, k, pp.baseAddress!, &c, n, nil, nil, n, 0)
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                let inside = (10..<22).contains(i) && (32..<64).contains(j)
                let value = c[i * n + j]
                if inside {
                    XCTAssertEqual(value, full[i * n + j], accuracy: 1e-5, "(\(i), \(j))")
                } else {
                    XCTAssertEqual(value, -7, "(\(i), \(j)) is outside the ranges")
                }
            }
        }
    }

    /// A frozen convolution (kernel cached) on the packed kernel equals the one through OpenBLAS,
    /// pointwise and im2col, chunked per thread and in one piece, with every fused epilogue.
    func testConvolutionsOnThePackedKernelEqualOpenBLAS() throws {
        let cases: [(kernel: (Int, Int), stride: (Int, Int), channels: Int, filters: Int, input: Shape)] = [
            ((1, 1), (1, 1), 24, 40, [2, 30, 31, 24]),   // pointwise, per-thread chunks
            ((1, 1), (1, 1), 64, 96, [1, 7, 7, 64]),     // pointwise, one piece
            ((3, 3), (2, 2), 5, 33, [3, 41, 40, 5]),     // im2col, per-thread chunks
            ((5, 5), (1, 1), 16, 20, [1, 6, 6, 16]),     // im2col, one piece
        ]
        for (i, c) in cases.enumerated() {
            var rng = SeededGenerator(seed: 50 + UInt64(i))
            let conv = try Conv2D(name: "conv", inputChannels: c.channels, filters: c.filters, kernelSize: c.kernel,
                                  stride: c.stride, activation: .linear, rng: &rng)
            conv.kernel.isTrainable = false
            conv.bias?.isTrainable = false
            let x = randomTensor(c.input, seed: 60 + UInt64(i))
            let g = try conv.geometry(for: x.shape)
            let output = try conv.outputShape(for: [x.shape])
            let residual = randomTensor(output, seed: 70 + UInt64(i))
            let cache = WinogradKernelCache()
            for epilogue in [KernelEpilogue.none, .relu, .relu6, .swish] {
                func run(packed: Bool) -> Tensor {
                    ConvolutionKernels.$usesPackedKernels.withValue(packed) {
                        ConvolutionKernels.$algorithm.withValue(.im2col) {
                            ConvolutionKernels.forward(g, input: x, kernel: conv.kernel.value, bias: conv.bias?.value,
                                                       epilogue: epilogue, residual: residual, kernelCache: cache)
                        }
                    }
                }
                assertClose(run(packed: true), run(packed: false), tolerance: 1e-5, "case \(i) \(epilogue)")
            }
            XCTAssertFalse(cache.isEmpty, "case \(i): the packed kernel is kept")
        }
    }
    /// Winograd's α² GEMMs on the packed transformed kernel equal OpenBLAS' on the plain one,
    /// per-thread chunks (batch 4) and one chunk split by positions (batch 1), every variant.
    func testWinogradOnThePackedTransformedKernelEqualsOpenBLAS() throws {
        var rng = SeededGenerator(seed: 80)
        let kernel = Tensor.glorotUniform([3, 3, 64, 70], using: &rng)
        let bias = randomTensor([70], seed: 81)
        for (b, shape) in ([[4, 20, 21, 64], [1, 9, 9, 64]] as [Shape]).enumerated() {
            let x = randomTensor(shape, seed: 82 + UInt64(b))
            let g = try XCTUnwrap(WindowGeometry(input: shape, window: (3, 3), stride: (1, 1), padding: .same))
            for algorithm in [ConvolutionAlgorithm.winograd2, .winograd3, .winograd4] {
                let cache = WinogradKernelCache()
                func run(packed: Bool) -> Tensor {
                    ConvolutionKernels.$usesPackedKernels.withValue(packed) {
                        ConvolutionKernels.$algorithm.withValue(algorithm) {
                            ConvolutionKernels.forward(g, input: x, kernel: kernel, bias: bias, relu: true,
                                                       kernelCache: cache)
                        }
                    }
                }
                let reference = run(packed: false)
                assertClose(run(packed: true), reference, tolerance: 1e-5, "\(shape) \(algorithm) packed")
                assertClose(run(packed: true), reference, tolerance: 1e-5, "\(shape) \(algorithm) packed, cached")
            }
        }
    }
}

@testable import Layers
import Tensor
import TestSupport
import XCTest

/// The rule that picks a convolution's algorithm (`ConvolutionKernels.algorithm(for:...)`),
/// its override, and the per-layer cache of the transformed kernel.
final class WinogradDispatchTests: XCTestCase {
    /// VGG19's distinct conv shapes at a 150x150 input: (name, side, in, out).
    static let vgg19: [(String, Int, Int, Int)] = [
        ("block1_conv1", 150, 3, 64), ("block1_conv2", 150, 64, 64), ("block2_conv1", 75, 64, 128),
        ("block2_conv2", 75, 128, 128), ("block3_conv1", 37, 128, 256), ("block3_conv2", 37, 256, 256),
        ("block4_conv1", 18, 256, 512), ("block4_conv2", 18, 512, 512), ("block5_conv1", 9, 512, 512),
    ]

    func choices(batch: Int, pass: ConvolutionPass, cachedKernel: Bool = false) -> [String: ConvolutionAlgorithm] {
        var result: [String: ConvolutionAlgorithm] = [:]
        for (name, side, cin, cout) in Self.vgg19 {
            let g = WindowGeometry(input: [batch, side, side, cin], window: (3, 3), stride: (1, 1), padding: .same)!
            result[name] = ConvolutionKernels.algorithm(for: pass, g, filters: cout, cachedKernel: cachedKernel)
        }
        return result
    }

    func testRulePicksWhatItDocuments() {
        // Batch 32: im2col for block1_conv1 (3 input channels), F(4x4) in blocks 1-4, F(3x3)
        // at 9x9 (exactly 3x3 tiles), every pass, with or without a cached kernel.
        for pass in ConvolutionPass.allCases {
            for cached in [false, true] {
                let chosen = choices(batch: 32, pass: pass, cachedKernel: cached)
                for (name, _, _, _) in Self.vgg19 {
                    let expected: ConvolutionAlgorithm = name == "block1_conv1" ? .im2col
                        : name == "block5_conv1" ? .winograd3 : .winograd4
                    XCTAssertEqual(chosen[name], expected, "batch 32 \(pass) \(name)")
                }
            }
        }
        // Batch 1: F(4x4) in blocks 1-3 (block 3: 100 tiles); block 4 F(3x3) (36 tiles) with a
        // cached kernel, else F(2x2) (81 tiles); block 5 F(2x2) (25 tiles) with a cached kernel,
        // else im2col.
        for pass in ConvolutionPass.allCases {
            for cached in [false, true] {
                let chosen = choices(batch: 1, pass: pass, cachedKernel: cached)
                let expected: [String: ConvolutionAlgorithm] = [
                    "block1_conv1": .im2col, "block1_conv2": .winograd4, "block2_conv1": .winograd4,
                    "block2_conv2": .winograd4, "block3_conv1": .winograd4, "block3_conv2": .winograd4,
                    "block4_conv1": cached ? .winograd3 : .winograd2, "block4_conv2": cached ? .winograd3 : .winograd2,
                    "block5_conv1": cached ? .winograd2 : .im2col,
                ]
                XCTAssertEqual(chosen, expected, "batch 1 \(pass) cached kernel \(cached)")
            }
        }
        // 10x10: F(4x4) gains 4 * 100/144 = 2.78, F(3x3) 3.24 * 100/144 = 2.25 and F(2x2) 2.25
        // (every tile pixel used): F(4x4) once it has 96 tiles (batch 11); below, the tie of
        // F(3x3) and F(2x2) goes to the larger tile.
        func pick(_ batch: Int, _ side: Int) -> ConvolutionAlgorithm {
            let g = WindowGeometry(input: [batch, side, side, 64], window: (3, 3), stride: (1, 1), padding: .same)!
            return ConvolutionKernels.algorithm(for: .forward, g, filters: 64)
        }
        XCTAssertEqual(pick(11, 10), .winograd4)
        XCTAssertEqual(pick(10, 10), .winograd3)
        XCTAssertEqual(pick(2, 10), .im2col, "50 tiles of 2x2, 32 of 3x3, 18 of 4x4: too few")
        // Fewer than 64 channels in or out: im2col.
        for (cin, cout) in [(16, 64), (32, 32), (64, 63), (63, 128)] {
            let thin = WindowGeometry(input: [32, 64, 64, cin], window: (3, 3), stride: (1, 1), padding: .same)!
            XCTAssertEqual(ConvolutionKernels.algorithm(for: .forward, thin, filters: cout), .im2col, "\(cin)->\(cout)")
        }
    }

    func testOverrideAppliesOnlyWhereWinogradDoes() {
        let same3 = WindowGeometry(input: [1, 8, 8, 4], window: (3, 3), stride: (1, 1), padding: .same)!
        let valid3 = WindowGeometry(input: [1, 8, 8, 4], window: (3, 3), stride: (1, 1), padding: .valid)!
        let stride2 = WindowGeometry(input: [1, 8, 8, 4], window: (3, 3), stride: (2, 2), padding: .same)!
        let five = WindowGeometry(input: [1, 8, 8, 4], window: (5, 5), stride: (1, 1), padding: .same)!
        let one = WindowGeometry(input: [1, 8, 8, 4], window: (1, 1), stride: (1, 1), padding: .same)!
        for forced in ConvolutionAlgorithm.allCases where forced != .automatic {
            withConvolutionAlgorithm(forced) {
                for pass in ConvolutionPass.allCases {
                    for g in [same3, valid3] {
                        XCTAssertEqual(ConvolutionKernels.algorithm(for: pass, g, filters: 4), forced, "\(forced)")
                    }
                    for g in [stride2, five, one] {
                        XCTAssertEqual(ConvolutionKernels.algorithm(for: pass, g, filters: 4), .im2col,
                                       "\(forced) \(g)")
                    }
                }
            }
        }
        XCTAssertEqual(ConvolutionKernels.algorithm, .automatic, "the override is scoped")
    }

    func testForcedWinogradOnStride2StillComputesTheConvolution() throws {
        let c = ConvCase(input: [2, 9, 8, 3], filters: 4, kernel: (3, 3), stride: (2, 2), padding: .same,
                         activation: .relu)
        let conv = try ConvReference.randomConv(c, seed: 3100)
        let x = randomTensor(c.input, seed: 3101)
        let y = try withConvolutionAlgorithm(.winograd4) { try conv(x) }
        assertClose(y, ConvReference.directConv(x, conv.kernel.value, conv.bias!.value, stride: (2, 2), padding: .same,
                                                relu: true), "stride 2 falls back to im2col")
    }

    /// Inference keeps the transformed kernel; changing the kernel (in place or by assignment)
    /// is seen; training drops the cache.
    func testKernelCacheFollowsTheKernel() throws {
        var rng = SeededGenerator(seed: 3200)
        let conv = try Conv2D(name: "c", inputChannels: 8, filters: 6, activation: .relu, rng: &rng)
        conv.bias!.value = randomTensor([6], seed: 3201)
        let x = randomTensor([2, 7, 9, 8], seed: 3202)
        func reference() -> Tensor {
            ConvReference.directConv(x, conv.kernel.value, conv.bias!.value, stride: (1, 1), padding: .same, relu: true)
        }
        try withConvolutionAlgorithm(.winograd4) {
            XCTAssertTrue(conv.forwardKernelCache.isEmpty)
            let first = try withoutGradients { try conv(x) }
            assertClose(first, reference(), "first call")
            XCTAssertFalse(conv.forwardKernelCache.isEmpty, "inference caches the transformed kernel")
            let u1 = conv.forwardKernelCache.transformed(WinogradF4.self, kernel: conv.kernel.value, rotated: false)
            let u2 = conv.forwardKernelCache.transformed(WinogradF4.self, kernel: conv.kernel.value, rotated: false)
            XCTAssertEqual(u1.withUnsafeBufferPointer { $0.baseAddress }, u2.withUnsafeBufferPointer { $0.baseAddress },
                           "a hit returns the kept transform")

            conv.kernel.value[flat: 5] += 0.75  // in place: copy-on-write gives the kernel new storage
            assertClose(try withoutGradients { try conv(x) }, reference(), "after an in-place change")
            conv.kernel.value = randomTensor([3, 3, 8, 6], seed: 3203)
            assertClose(try withoutGradients { try conv(x) }, reference(), "after assigning a new kernel")

            // A training call (kernel recording a gradient) drops the cache and still computes.
            let y = try conv(x)
            XCTAssertTrue(conv.forwardKernelCache.isEmpty, "training drops the cache")
            assertClose(y, reference(), "training forward")
            // A frozen kernel is cached even while recording (its layer may still pass dX back).
            conv.kernel.isTrainable = false
            let input = x.requiringGradient()
            _ = try conv(input)
            XCTAssertFalse(conv.forwardKernelCache.isEmpty, "a frozen kernel is cached")
        }
    }

    /// `Conv2D.preferredAlgorithm` overrides the rule and the task's `$algorithm` for that layer
    /// alone: a 32-channel layer (im2col by the rule) runs F(4x4) and still agrees with im2col.
    func testPreferredAlgorithmOverridesTheRuleForOneLayer() throws {
        var rng = SeededGenerator(seed: 80)
        let layer = try Conv2D(name: "thin", inputChannels: 32, filters: 32, activation: .relu, rng: &rng)
        layer.bias?.value = Tensor.uniform([32], low: -0.1, high: 0.1, using: &rng)
        let x = Tensor.uniform([1, 20, 20, 32], low: -1, high: 1, using: &rng)
        let g = WindowGeometry(input: x.shape, window: (3, 3), stride: (1, 1), padding: .same)!
        XCTAssertEqual(ConvolutionKernels.algorithm(for: .forward, g, filters: 32), .im2col)
        let reference = try ConvolutionKernels.$algorithm.withValue(.im2col) { try withoutGradients { try layer(x) } }
        layer.preferredAlgorithm = .winograd4
        let preferred = try ConvolutionKernels.$algorithm.withValue(.im2col) { try withoutGradients { try layer(x) } }
        XCTAssertFalse(layer.forwardKernelCache.isEmpty, "F(4x4) ran and cached its transformed kernel")
        XCTAssertLessThan(preferred.maxAbsDifference(reference), 1e-4)
        XCTAssertGreaterThan(preferred.maxAbsDifference(reference), 0, "another algorithm, other rounding")
    }
}

import CKernels
import Foundation
import TestSupport
import XCTest
@testable import Tensor

/// The ops SegFormer and Depth Anything need: GELU, LayerNorm, permute, batched matmul,
/// multi-head attention and bilinear resizing, each against values worked out independently
/// and against finite differences.
final class TransformerOpsTests: XCTestCase {
    private func random(_ shape: Shape, seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor.uniform(shape, low: -scale, high: scale, using: &rng)
    }

    func testGELUIsTheErfForm() {
        let x = Tensor([-3, -1, -0.5, 0, 0.5, 1, 3], shape: [7])
        // PyTorch: torch.nn.functional.gelu(x) (approximate="none").
        let expected: [Float] = [-0.0040496, -0.15865526, -0.15426877, 0, 0.34573123, 0.8413447, 2.9959502]
        for (value, reference) in zip(x.gelu().scalars, expected) { XCTAssertEqual(value, reference, accuracy: 2e-6) }
        assertGradientError(GradientCheck.maxRelativeError(at: random([3, 5], seed: 1, scale: 3), epsilon: 1e-3) {
            GradientCheck.projected($0.gelu())
        }, "gelu")
    }

    func testLayerNormMatchesTheFormula() {
        let x = Tensor([1, 2, 3, 4, -1, 0, 0, 1], shape: [2, 4])
        let gamma = Tensor([1, 2, 0.5, -1], shape: [4]), beta = Tensor([0, 0.1, 0.2, 0.3], shape: [4])
        let y = x.layerNormalized(gamma: gamma, beta: beta, epsilon: 1e-5).scalars
        for row in 0..<2 {
            let values = Array(x.scalars[(row * 4)..<(row * 4 + 4)]).map(Double.init)
            let mean = values.reduce(0, +) / 4
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            for j in 0..<4 {
                let expected = (values[j] - mean) / (variance + 1e-5).squareRoot() * Double(gamma.scalars[j]) + Double(beta.scalars[j])
                XCTAssertEqual(Double(y[row * 4 + j]), expected, accuracy: 1e-6)
            }
        }
    }

    func testLayerNormGradients() {
        let x = random([2, 3, 6], seed: 2, scale: 2), gamma = random([6], seed: 3), beta = random([6], seed: 4)
        let errors = GradientCheck.errors(at: [x, gamma, beta], epsilon: 1e-2) { v in
            GradientCheck.projected(v[0].layerNormalized(gamma: v[1], beta: v[2], epsilon: 1e-5))
        }
        for (error, what) in zip(errors, ["x", "gamma", "beta"]) { assertGradientError(error, "layer norm d\(what)") }
    }

    func testPermuteMovesEveryElementAndInverts() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let y = x.permuted([2, 0, 1])
        XCTAssertEqual(y.shape, [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            XCTAssertEqual(y.scalars[k * 6 + i * 3 + j], x.scalars[i * 12 + j * 4 + k])
        } } }
        XCTAssertEqual(y.permuted([1, 2, 0]).scalars, x.scalars)
        assertGradientError(GradientCheck.maxRelativeError(at: random([2, 3, 4, 2], seed: 5)) {
            GradientCheck.projected($0.permuted([0, 2, 1, 3]))
        }, "permute")
    }

    func testBatchedMatmulEqualsPerMatrixProducts() {
        let a = random([2, 3, 4, 5], seed: 6), b = random([2, 3, 5, 2], seed: 7)
        let c = Tensor.batchedMatmul(a, b)
        XCTAssertEqual(c.shape, [2, 3, 4, 2])
        for item in 0..<6 {
            for i in 0..<4 { for j in 0..<2 {
                var sum: Float = 0
                for k in 0..<5 { sum += a.scalars[item * 20 + i * 5 + k] * b.scalars[item * 10 + k * 2 + j] }
                XCTAssertEqual(c.scalars[item * 8 + i * 2 + j], sum, accuracy: 1e-5)
            } }
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let left = ta ? random([2, 5, 4], seed: 8) : random([2, 4, 5], seed: 8)
            let right = tb ? random([2, 3, 5], seed: 9) : random([2, 5, 3], seed: 9)
            assertGradientError(GradientCheck.maxRelativeError(at: [left, right]) {
                GradientCheck.projected(Tensor.batchedMatmul($0[0], $0[1], transposeA: ta, transposeB: tb))
            }, "batched matmul transposeA \(ta) transposeB \(tb)")
        }
    }

    func testLinearEqualsMatmulPlusBias() {
        let x = random([5, 4], seed: 30), w = random([4, 3], seed: 31), b = random([3], seed: 32)
        XCTAssertLessThan(Tensor.linear(x, weight: w, bias: b).maxAbsDifference(Tensor.matmul(x, w) + b), 1e-6)
        let errors = GradientCheck.errors(at: [x, w, b]) { v in GradientCheck.projected(Tensor.linear(v[0], weight: v[1], bias: v[2])) }
        for (error, what) in zip(errors, ["x", "weight", "bias"]) { assertGradientError(error, "linear d\(what)") }
        // 1100 rows of 40 outputs: blocks of 819 rows, the second one partial, split over the cores.
        XCTAssertEqual(Tensor.linearBlockRows(outputs: 40), 819)
        let tall = random([1100, 24], seed: 33), wide = random([24, 40], seed: 34), offsets = random([40], seed: 35)
        XCTAssertLessThan(Tensor.linear(tall, weight: wide, bias: offsets).maxAbsDifference(Tensor.matmul(tall, wide) + offsets), 1e-5)
    }

    /// Attention through reshapes, permutes, batched matmuls and softmax, the way PyTorch writes it.
    private func referenceAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int) -> Tensor {
        let (b, n, c) = (q.shape[0], q.shape[1], q.shape[2]), m = k.shape[1], d = c / heads
        let split = { (t: Tensor, length: Int) in t.reshaped([b, length, heads, d]).permuted([0, 2, 1, 3]) }
        let scores = Tensor.batchedMatmul(split(q, n), split(k, m), transposeB: true) * (1 / Float(d).squareRoot())
        let context = Tensor.batchedMatmul(scores.softmax(), split(v, m))
        return context.permuted([0, 2, 1, 3]).reshaped([b, n, c])
    }

    func testMultiHeadAttentionEqualsTheUnfusedComposition() {
        let q = random([2, 7, 6], seed: 10, scale: 2), k = random([2, 5, 6], seed: 11, scale: 2), v = random([2, 5, 6], seed: 12)
        let fused = Tensor.multiHeadAttention(query: q, key: k, value: v, heads: 3)
        XCTAssertLessThan(fused.maxAbsDifference(referenceAttention(q, k, v, heads: 3)), 1e-6)
        let errors = GradientCheck.errors(at: [q, k, v], epsilon: 1e-2) { x in
            GradientCheck.projected(Tensor.multiHeadAttention(query: x[0], key: x[1], value: x[2], heads: 3))
        }
        for (error, what) in zip(errors, ["query", "key", "value"]) { assertGradientError(error, "attention d\(what)") }
    }

    func testBlockedInferenceAttentionEqualsTheRecordedPath() {
        // 3000 keys: blocks of 87 query rows (1 MB of scores), so 130 queries make a full block and a partial one.
        let q = random([2, 130, 8], seed: 14, scale: 2), k = random([2, 3000, 8], seed: 15, scale: 2), v = random([2, 3000, 8], seed: 16)
        let geometry = AttentionGeometry(batch: 2, queries: 130, keys: 3000, channels: 8, heads: 2)
        XCTAssertEqual(geometry.blockRows, 87)
        // Up to 256 keys (SegFormer's reduced keys) 128 KB blocks; more keys get 1 MB, in at most 256 rows.
        XCTAssertEqual(AttentionGeometry(batch: 1, queries: 16384, keys: 256, channels: 32, heads: 1).blockRows, 128)
        XCTAssertEqual(AttentionGeometry(batch: 1, queries: 16384, keys: 64, channels: 32, heads: 1).blockRows, 512)
        XCTAssertEqual(AttentionGeometry(batch: 1, queries: 1370, keys: 1370, channels: 384, heads: 6).blockRows, 191)
        XCTAssertEqual(AttentionGeometry(batch: 1, queries: 1370, keys: 600, channels: 384, heads: 6).blockRows, 256)
        XCTAssertEqual(AttentionGeometry(batch: 1, queries: 100, keys: 600, channels: 384, heads: 6).blockRows, 100)
        let blocked = withoutGradients { Tensor.multiHeadAttention(query: q, key: k, value: v, heads: 2) }
        let recorded = Tensor.multiHeadAttention(query: q.requiringGradient(), key: k, value: v, heads: 2)
        XCTAssertLessThan(blocked.maxAbsDifference(recorded.detached), 1e-6)
        XCTAssertLessThan(blocked.maxAbsDifference(referenceAttention(q, k, v, heads: 2)), 1e-6)
    }

    /// Query, key and value packed side by side per token (one GEMM's output) give the same
    /// attention as the three tensors apart; 700 tokens make blocks of 256 rows and a partial one.
    func testPackedAttentionEqualsTheSeparateTensors() {
        let (batch, tokens, channels) = (2, 700, 12)
        let packed = random([batch, tokens, 3 * channels], seed: 18, scale: 2)
        func part(_ index: Int) -> Tensor {
            Tensor(shape: [batch, tokens, channels]) { out in
                for row in 0..<(batch * tokens) {
                    for c in 0..<channels { out[row * channels + c] = packed[flat: row * 3 * channels + index * channels + c] }
                }
            }
        }
        let separate = withoutGradients { Tensor.multiHeadAttention(query: part(0), key: part(1), value: part(2), heads: 3) }
        let fused = withoutGradients { Tensor.multiHeadAttention(packed: packed, heads: 3) }
        XCTAssertEqual(fused.shape, [batch, tokens, channels])
        XCTAssertLessThan(fused.maxAbsDifference(separate), 1e-6)
        XCTAssertLessThan(fused.maxAbsDifference(referenceAttention(part(0), part(1), part(2), heads: 3)), 1e-5)
    }

    func testItemByItemStacksTheItemsResults() throws {
        let x = random([5, 3, 4], seed: 17)
        let y = try withoutGradients {
            try Tensor.itemByItem(x) { item in
                XCTAssertEqual(item.shape, [1, 3, 4])
                XCTAssertFalse(Autograd.isRecording, "the workers see the caller's recording state")
                return item.sum(alongAxes: [2]) * 2
            }
        }
        XCTAssertEqual(y.shape, [5, 3])
        XCTAssertLessThan(y.maxAbsDifference(x.sum(alongAxes: [2]) * 2), 1e-6)
        struct Refused: Error {}
        XCTAssertThrowsError(try Tensor.itemByItem(x) { item -> Tensor in
            if item.scalars[0] == x.scalars[12] { throw Refused() }
            return item
        }) { XCTAssertTrue($0 is Refused) }
    }

    func testAddingResizedMapsEqualsTheSumOfResizedMaps() {
        // 19 channels: partial vectors on every kernel variant.
        let base = random([2, 6, 5, 19], seed: 20), a = random([2, 3, 2, 19], seed: 21), b = random([2, 6, 5, 19], seed: 22)
        let c = random([2, 1, 4, 19], seed: 23), constant = random([19], seed: 24)
        for variant in Kernels.supported {
            Kernels.with(variant) {
                for alignCorners in [false, true] {
                    let resized = { (map: Tensor) in map.resizedBilinear(height: 6, width: 5, alignCorners: alignCorners) }
                    let fused = withoutGradients { base.addingResizedBilinear([a, b], alignCorners: alignCorners) }
                    XCTAssertLessThan(fused.maxAbsDifference(base + resized(a) + resized(b)), 1e-6, "\(variant)")
                    let activated = withoutGradients {
                        base.addingResizedBilinear([a, b, c], alignCorners: alignCorners, constant: constant, relu: true)
                    }
                    let reference = (base + constant + resized(a) + resized(b) + resized(c)).relu()
                    XCTAssertLessThan(activated.maxAbsDifference(reference), 1e-6, "\(variant)")
                    XCTAssertEqual(withoutGradients { base.addingResizedBilinear([], alignCorners: alignCorners) }.scalars,
                                   base.scalars)
                }
            }
        }
        let errors = GradientCheck.errors(at: [base, a, constant]) {
            GradientCheck.projected($0[0].addingResizedBilinear([$0[1]], alignCorners: false, constant: $0[2]))
        }
        for (error, what) in zip(errors, ["base", "map", "constant"]) { assertGradientError(error, "adding resized maps d\(what)") }
    }

    func testProjectedResizedSumEqualsItsComposition() {
        let x = random([2, 6, 5, 7], seed: 25), baseWeight = random([7, 19], seed: 26)
        let a = random([2, 3, 2, 19], seed: 27), b = random([2, 1, 4, 19], seed: 28), constant = random([19], seed: 29)
        let outputWeight = random([19, 3], seed: 30), outputBias = random([3], seed: 31)
        let base = Tensor.matmul(x.reshaped([60, 7]), baseWeight).reshaped([2, 6, 5, 19])
        let summed = base.addingResizedBilinear([a, b], alignCorners: false, constant: constant, relu: true)
        let reference = Tensor.linear(summed.reshaped([60, 19]), weight: outputWeight, bias: outputBias).reshaped([2, 6, 5, 3])
        for variant in Kernels.supported {
            let fused = Kernels.with(variant) {
                Tensor.projectedResizedSum(x, baseWeight: baseWeight, maps: [a, b], alignCorners: false, constant: constant,
                                           outputWeight: outputWeight, outputBias: outputBias)
            }
            XCTAssertEqual(fused.shape, [2, 6, 5, 3])
            XCTAssertLessThan(fused.maxAbsDifference(reference), 1e-5, "\(variant)")
        }
    }

    func testBilinearResizeFollowsPyTorch() {
        // torch.nn.functional.interpolate(arange(4.).view(1,1,1,4), size=(1,6), mode="bilinear", align_corners=False)
        let row = Tensor([0, 1, 2, 3], shape: [1, 1, 4, 1])
        let up = row.resizedBilinear(height: 1, width: 6, alignCorners: false).scalars
        for (value, expected) in zip(up, [0, 0.5, 1.1666666, 1.8333333, 2.5, 3] as [Float]) {
            XCTAssertEqual(value, expected, accuracy: 1e-6)
        }
        // align_corners=True: exact endpoints, evenly spaced.
        let aligned = row.resizedBilinear(height: 1, width: 7, alignCorners: true).scalars
        for (value, expected) in zip(aligned, [0, 0.5, 1, 1.5, 2, 2.5, 3] as [Float]) { XCTAssertEqual(value, expected, accuracy: 1e-6) }
        // Shrinking 4 -> 2 without antialiasing samples between pixels 0,1 and 2,3.
        let down = row.resizedBilinear(height: 1, width: 2, alignCorners: false).scalars
        XCTAssertEqual(down, [0.5, 2.5])
        for alignCorners in [false, true] {
            for (h, w) in [(7, 5), (2, 3)] {
                assertGradientError(GradientCheck.maxRelativeError(at: random([2, 3, 4, 3], seed: 13)) {
                    GradientCheck.projected($0.resizedBilinear(height: h, width: w, alignCorners: alignCorners))
                }, "bilinear \(h)x\(w) alignCorners \(alignCorners)")
            }
        }
    }
}

/// The C kernels (`Sources/CKernels`) on every variant this CPU runs, the portable one included:
/// `exp` and `erf` against the C library across their range, the others against closed forms in
/// double precision, with lengths that leave partial vectors.
final class KernelTests: XCTestCase {
    private func onEveryVariant(_ body: (KernelVariant) throws -> Void) rethrows {
        XCTAssertEqual(Kernels.supported.first, .portable)
        for variant in Kernels.supported {
            try Kernels.with(variant) {
                XCTAssertEqual(Kernels.variant, variant)
                try body(variant)
            }
        }
        XCTAssertEqual(Kernels.variant, Kernels.best)
    }

    private func apply(_ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { kernel(xp.baseAddress, $0.baseAddress, x.count) } }
        return y
    }

    func testExpAndErfAgreeWithTheCLibrary() {
        let x = stride(from: Float(-90), to: 89, by: 0.0137).map { $0 }
        onEveryVariant { variant in
            let e = apply(rubble_exp, x), r = apply(rubble_erf, x.map { $0 * 0.05 })
            var worstExp: Float = 0, worstErf: Float = 0
            for (j, v) in x.enumerated() {
                let reference = Foundation.exp(v)
                if reference > 1e-37, reference.isFinite { worstExp = max(worstExp, abs(e[j] - reference) / reference) }
                worstErf = max(worstErf, abs(r[j] - Foundation.erf(v * 0.05)))
            }
            XCTAssertLessThan(worstExp, 3e-7, "relative error of exp, \(variant)")
            XCTAssertLessThan(worstErf, 5e-7, "absolute error of erf, \(variant)")
            let edges = apply(rubble_exp, [-200, -88, -87.4, 89, 1000, .nan, 0, -.infinity, .infinity])
            XCTAssertEqual(Array(edges[0..<3]), [0, 0, 0], "\(variant)")
            XCTAssertEqual(edges[3], .infinity); XCTAssertEqual(edges[4], .infinity); XCTAssertTrue(edges[5].isNaN)
            XCTAssertEqual(edges[6], 1); XCTAssertEqual(edges[7], 0); XCTAssertEqual(edges[8], .infinity)
            let erfEdges = apply(rubble_erf, [-10, 10, 0, .nan, -0.5, 0.5, 3, -3])
            XCTAssertEqual(erfEdges[0], -1); XCTAssertEqual(erfEdges[1], 1); XCTAssertEqual(erfEdges[2], 0, accuracy: 1e-7)
            XCTAssertTrue(erfEdges[3].isNaN); XCTAssertEqual(erfEdges[4], -erfEdges[5]); XCTAssertEqual(erfEdges[6], -erfEdges[7])
        }
    }

    func testActivationsAgreeWithClosedForms() {
        let x = stride(from: Float(-12), to: 12, by: 0.0173).map { $0 } + [-1000, -100, 100, 1000]
        onEveryVariant { variant in
            let gelu = Tensor(x, shape: [x.count]).gelu().scalars
            let slope = apply({ rubble_gelu_backward($0, Array(repeating: 1, count: x.count), $1, $2) }, x)
            let sigmoid = Tensor(x, shape: [x.count]).sigmoid().scalars, swish = Tensor(x, shape: [x.count]).swish().scalars
            for (j, v) in x.enumerated() {
                let t = Double(v), cdf = 0.5 * (1 + Foundation.erf(t / 2.0.squareRoot()))
                let s = 1 / (1 + Foundation.exp(-t))
                XCTAssertEqual(Double(gelu[j]), t * cdf, accuracy: 1e-6 + 1e-6 * abs(t), "gelu(\(v)), \(variant)")
                XCTAssertEqual(Double(slope[j]), cdf + t * Foundation.exp(-t * t / 2) / (2 * Double.pi).squareRoot(),
                               accuracy: 1e-6, "gelu'(\(v)), \(variant)")
                XCTAssertEqual(Double(sigmoid[j]), s, accuracy: 1e-7 + 1e-6 * s, "sigmoid(\(v)), \(variant)")
                XCTAssertEqual(Double(swish[j]), t * s, accuracy: 1e-7 + 1e-6 * abs(t * s), "swish(\(v)), \(variant)")
            }
            let ends = Tensor([-1000, -100, 0, 100, 1000, .nan], shape: [6]).sigmoid().scalars
            XCTAssertEqual(ends[0], 0); XCTAssertGreaterThan(ends[1], 0); XCTAssertEqual(ends[2], 0.5)
            XCTAssertEqual(ends[3], 1); XCTAssertEqual(ends[4], 1); XCTAssertTrue(ends[5].isNaN)
            XCTAssertTrue(Tensor([.nan], shape: [1]).gelu().scalars[0].isNaN)
        }
    }

    func testSoftmaxRowsAndPullback() {
        let (rows, width) = (5, 37)
        let x = (0..<(rows * width)).map { Float(sin(Double($0) * 1.3) * 6) }
        let g = (0..<(rows * width)).map { Float(cos(Double($0) * 0.7)) }
        onEveryVariant { variant in
            var p = x, d = g
            p.withUnsafeMutableBufferPointer { rubble_softmax_rows($0.baseAddress, rows, width) }
            p.withUnsafeBufferPointer { pp in d.withUnsafeMutableBufferPointer { rubble_softmax_pullback_rows(pp.baseAddress, $0.baseAddress, rows, width) } }
            for r in 0..<rows {
                let row = x[(r * width)..<((r + 1) * width)].map(Double.init), top = row.max()!
                let total = row.map { Foundation.exp($0 - top) }.reduce(0, +)
                let reference = row.map { Foundation.exp($0 - top) / total }
                let dot = zip(reference, g[(r * width)...]).map { $0 * Double($1) }.reduce(0, +)
                for j in 0..<width {
                    XCTAssertEqual(Double(p[r * width + j]), reference[j], accuracy: 1e-7, "softmax, \(variant)")
                    XCTAssertEqual(Double(d[r * width + j]), reference[j] * (Double(g[r * width + j]) - dot), accuracy: 1e-7,
                                   "softmax pullback, \(variant)")
                }
            }
        }
    }

    func testLayerNormRows() {
        let (rows, width) = (4, 45)
        // Row 3 sits far from zero with a small spread: the statistics must not lose it.
        let x: [Float] = (0..<(rows * width)).map { (i: Int) -> Float in
            let t = Double(i)
            return Float(i / width == 3 ? 100 + 0.01 * cos(t) : 3 * sin(t * 0.37))
        }
        let gamma: [Float] = (0..<width).map { 1 + 0.01 * Float($0) }
        let beta: [Float] = (0..<width).map { 0.1 * Float($0) - 2 }
        onEveryVariant { variant in
            let y = Tensor(x, shape: [rows, width]).layerNormalized(gamma: Tensor(gamma, shape: [width]),
                                                                   beta: Tensor(beta, shape: [width]), epsilon: 1e-5).scalars
            for r in 0..<rows {
                let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
                let mean = row.reduce(0, +) / Double(width)
                let inverse = 1 / (row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width) + 1e-5).squareRoot()
                for j in 0..<width {
                    XCTAssertEqual(Double(y[r * width + j]), (row[j] - mean) * inverse * Double(gamma[j]) + Double(beta[j]),
                                   accuracy: 2e-6, "layer norm row \(r), \(variant)")
                }
            }
            // The residual add fused in: the sum exactly, the normalisation as on its own.
            let b = (0..<(rows * width)).map { Float($0 % 7) - 3 }
            var sum = [Float](repeating: 0, count: x.count), fused = sum, alone = sum
            rubble_add_layer_norm_rows(x, b, &sum, &fused, gamma, beta, rows, width, 1e-5)
            rubble_layer_norm_rows(sum, &alone, nil, nil, gamma, beta, rows, width, 1e-5)
            XCTAssertEqual(sum, zip(x, b).map { $0 + $1 }, "\(variant)")
            XCTAssertEqual(fused, alone, "\(variant)")
        }
    }
}

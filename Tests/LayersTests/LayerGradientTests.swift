import Foundation
import Layers
import Tensor
import TestSupport
import XCTest

/// MaxPool2D, Dense, Flatten, Dropout, ReLU and Softmax layers: values and gradients.
final class LayerGradientTests: XCTestCase {
    // MARK: MaxPool2D

    func testMaxPoolValues() throws {
        let x = Tensor((0..<16).map(Float.init), shape: [1, 4, 4, 1])
        assertValues(try MaxPool2D(name: "pool")(x), [5, 7, 13, 15], "2x2 s2")
        // Odd sizes floor: 5x5 -> 2x2, the last row and column are dropped.
        let odd = Tensor((0..<25).map { Float(($0 * 7) % 25) }, shape: [1, 5, 5, 1])
        let y = try MaxPool2D(name: "pool")(odd)
        XCTAssertEqual(y.shape, [1, 2, 2, 1])
        let v = odd.scalars
        func window(_ r: Int, _ c: Int) -> Float { [v[r * 5 + c], v[r * 5 + c + 1], v[r * 5 + c + 5], v[r * 5 + c + 6]].max()! }
        assertValues(y, [window(0, 0), window(0, 2), window(2, 0), window(2, 2)], "floored")
        // Channels pool independently (NHWC).
        let twoChannels = Tensor([1, -1, 2, -2, 3, -3, 4, -4], shape: [1, 2, 2, 2])
        assertValues(try MaxPool2D(name: "pool")(twoChannels), [4, -1], "per channel")
        // "same" pooling of an odd size covers the last pixel with a partial window.
        let same = try MaxPool2D(name: "pool", padding: .same)(Tensor((0..<25).map(Float.init), shape: [1, 5, 5, 1]))
        XCTAssertEqual(same.shape, [1, 3, 3, 1])
        assertValues(same, [6, 8, 9, 16, 18, 19, 21, 23, 24], "same")
    }

    func testMaxPool2x2Stride2GradientWithOddSizes() throws {
        let pool = MaxPool2D(name: "pool")
        let x = distinctTensor([2, 5, 7, 3], seed: 1)
        XCTAssertEqual(try pool(x).shape, [2, 2, 3, 3])
        let error = try GradientCheck.maxRelativeError(at: x, epsilon: 1e-2) { GradientCheck.projected(try pool($0)) }
        assertGradientError(error, "maxpool 2x2 s2 odd")

        // Exactly one element per window gets the window's gradient; the floored row/column none.
        let input = x.requiringGradient()
        try pool(input).sum().backward()
        let g = try XCTUnwrap(input.gradient)
        XCTAssertEqual(g.scalars.reduce(0, +), Float(2 * 2 * 3 * 3))
        XCTAssertEqual(Set(g.scalars), [0, 1])
        for n in 0..<2 {
            for ch in 0..<3 {
                for w in 0..<7 { XCTAssertEqual(g[flat: ((n * 5 + 4) * 7 + w) * 3 + ch], 0, "row 4 is floored") }
                for h in 0..<5 { XCTAssertEqual(g[flat: ((n * 5 + h) * 7 + 6) * 3 + ch], 0, "column 6 is floored") }
            }
        }
    }

    func testMaxPool3x3Stride2OverlappingGradient() throws {
        let pool = MaxPool2D(name: "pool", poolSize: (3, 3), stride: (2, 2))
        let x = distinctTensor([2, 7, 7, 2], seed: 2)
        XCTAssertEqual(try pool(x).shape, [2, 3, 3, 2])
        let error = try GradientCheck.maxRelativeError(at: x, epsilon: 1e-2) { GradientCheck.projected(try pool($0)) }
        assertGradientError(error, "maxpool 3x3 s2")

        // A peak shared by four overlapping windows collects all four gradients.
        var peak = distinctTensor([1, 5, 5, 1], spacing: 0.01, offset: 0, seed: 3)
        peak[flat: 2 * 5 + 2] = 10
        let input = peak.requiringGradient()
        let y = try pool(input)
        XCTAssertEqual(y.shape, [1, 2, 2, 1])
        assertValues(y, [10, 10, 10, 10], "peak everywhere")
        y.backward(seed: Tensor([1, 2, 3, 4], shape: [1, 2, 2, 1]))
        XCTAssertEqual(input.gradient?[flat: 12], 10, "1 + 2 + 3 + 4")
        XCTAssertEqual(input.gradient?.scalars.reduce(0, +), 10)
    }

    func testMaxPoolSamePaddingGradient() throws {
        let pool = MaxPool2D(name: "pool", padding: .same)
        let x = distinctTensor([1, 5, 7, 2], seed: 4)
        let error = try GradientCheck.maxRelativeError(at: x, epsilon: 1e-2) { GradientCheck.projected(try pool($0)) }
        assertGradientError(error, "maxpool same")
    }

    func testMaxPoolOnConstantInputRecordsNothing() throws {
        XCTAssertFalse(try MaxPool2D(name: "pool")(distinctTensor([1, 4, 4, 1], seed: 5)).requiresGradient)
    }

    // MARK: Dense

    func makeDense(_ inputSize: Int, _ outputSize: Int, _ activation: Activation, seed: UInt64) throws -> Dense {
        var rng = SeededGenerator(seed: seed)
        let dense = try Dense(name: "dense", inputSize: inputSize, outputSize: outputSize, activation: activation, rng: &rng)
        dense.bias.value = randomTensor([outputSize], low: -0.5, high: 0.5, seed: seed + 1)
        return dense
    }

    func testDenseGradients() throws {
        for activation in [Activation.linear, .softmax] {
            let dense = try makeDense(6, 4, activation, seed: 10)
            let x = randomTensor([3, 6], seed: 12)
            let loss = { (input: Tensor) throws -> Tensor in GradientCheck.projected(try dense(input)) }
            assertGradientError(try GradientCheck.maxRelativeError(at: x, loss), "\(activation) dX")
            assertGradientError(try GradientCheck.maxRelativeError(of: dense.kernel) { try loss(x) }, "\(activation) dKernel")
            assertGradientError(try GradientCheck.maxRelativeError(of: dense.bias) { try loss(x) }, "\(activation) dBias")
        }
    }

    func testDenseReLUGradientOnGrid() throws {
        // Gridded input/kernel and a bias of an odd multiple of 1/32 keep ReLU off its kink.
        var rng = SeededGenerator(seed: 13)
        let dense = try Dense(name: "dense", inputSize: 5, outputSize: 6, activation: .relu, rng: &rng)
        dense.kernel.value = gridTensor([5, 6], step: 0.25, limit: 0.5, seed: 14)
        dense.bias.value = gridTensor([6], step: 0.0625, limit: 0.25, seed: 15) + 1.0 / 32
        let x = gridTensor([4, 5], step: 0.25, limit: 1, seed: 16)
        let y = try dense(x).scalars
        XCTAssertTrue(y.contains(0) && y.contains { $0 > 0 })
        let loss = { (input: Tensor) throws -> Tensor in GradientCheck.projected(try dense(input)) }
        assertGradientError(try GradientCheck.maxRelativeError(at: x, loss), "relu dX")
        assertGradientError(try GradientCheck.maxRelativeError(of: dense.kernel) { try loss(x) }, "relu dKernel")
        assertGradientError(try GradientCheck.maxRelativeError(of: dense.bias) { try loss(x) }, "relu dBias")
    }

    func testDenseValues() throws {
        var rng = SeededGenerator(seed: 0)
        let dense = try Dense(name: "dense", inputSize: 2, outputSize: 3, rng: &rng)
        dense.kernel.value = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        dense.bias.value = Tensor([0.5, -0.5, 1], shape: [3])
        assertValues(try dense(Tensor([1, 1, 2, -1], shape: [2, 2])), [5.5, 6.5, 10, -1.5, -1.5, 1], "x·W + b")
        let softmax = try Dense(name: "out", inputSize: 2, outputSize: 3, activation: .softmax, rng: &rng)
        softmax.kernel.value = dense.kernel.value
        softmax.bias.value = dense.bias.value
        let x = Tensor([1, 1, 2, -1], shape: [2, 2])
        assertClose(try softmax(x), try softmax.preActivation(x).softmax(), tolerance: 1e-7, "softmax activation")
        assertClose(try softmax.preActivation(x), try dense(x), tolerance: 1e-7, "preActivation is the logits")
    }

    // MARK: Flatten

    func testFlattenKeepsNHWCOrder() throws {
        // value = 100·h + 10·w + c
        var values: [Float] = []
        for h in 0..<2 { for w in 0..<2 { for c in 0..<3 { values.append(Float(100 * h + 10 * w + c)) } } }
        let x = Tensor(values, shape: [1, 2, 2, 3])
        let y = try Flatten()(x)
        XCTAssertEqual(y.shape, [1, 12])
        XCTAssertEqual(y.scalars, [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112], "(h, w, c) order")

        let batch = randomTensor([3, 2, 4, 5], seed: 20)
        let flat = try Flatten()(batch)
        XCTAssertEqual(flat.shape, [3, 40])
        XCTAssertEqual(flat[flat: 40 + (1 * 4 + 2) * 5 + 3], batch[flat: ((1 * 2 + 1) * 4 + 2) * 5 + 3], "n=1 h=1 w=2 c=3")
        assertGradientError(try GradientCheck.maxRelativeError(at: batch) { GradientCheck.projected(try Flatten()($0)) },
                            "flatten")
        let input = batch.requiringGradient()
        try Flatten()(input).backward(seed: GradientCheck.projection([3, 40]))
        XCTAssertEqual(input.gradient?.shape, [3, 2, 4, 5])
        XCTAssertEqual(input.gradient?.scalars, GradientCheck.projection([3, 40]).scalars)
    }

    func testFlattenOfAnEmptyBatchKeepsTheFeatureWidth() throws {
        // `predict`/`evaluate` on zero images: [0, h, w, c] must flatten to [0, h*w*c] so the
        // Dense after it accepts it (Keras gives (0, 48) here).
        let empty = Tensor(zeros: [0, 4, 4, 3])
        XCTAssertEqual(try Flatten()(empty).shape, [0, 48])
    }

    // MARK: Dropout

    func testDropoutIsIdentityAtInference() throws {
        let dropout = try Dropout(rate: 0.5, seed: 1)
        let x = randomTensor([4, 10], seed: 30).requiringGradient()
        let y = try dropout(x)  // training: false
        XCTAssertEqual(y.scalars, x.scalars)
        y.sum().backward()
        assertValues(x.gradient, [Float](repeating: 1, count: 40), "gradient 1")
        // rate 0 in training is also the identity
        XCTAssertEqual(try Dropout(rate: 0)(x, training: true).scalars, x.scalars)
    }

    func testDropoutInTrainingDropsAboutRateAndRescales() throws {
        for rate: Float in [0.25, 0.5] {
            let dropout = try Dropout(rate: rate, seed: 2)
            let n = 100_000
            let y = try dropout(Tensor(repeating: 1, shape: [n]), training: true).scalars
            let zeros = y.filter { $0 == 0 }.count
            XCTAssertEqual(Double(zeros) / Double(n), Double(rate), accuracy: 0.01, "fraction dropped at \(rate)")
            let kept = Set(y.filter { $0 != 0 })
            XCTAssertEqual(kept.count, 1)
            XCTAssertEqual(kept.first ?? 0, 1 / (1 - rate), accuracy: 1e-6, "kept values scaled by 1/(1-rate)")
            XCTAssertEqual(y.reduce(0, +) / Float(n), 1, accuracy: 0.02, "expectation preserved")
        }
    }

    func testDropoutGradientUsesTheSameMask() throws {
        let dropout = try Dropout(rate: 0.4, seed: 3)
        let xv = randomTensor([6, 50], low: 0.5, high: 1.5, seed: 31)
        let x = xv.requiringGradient()
        let y = try dropout(x, training: true)
        let p = GradientCheck.projection(y.shape)
        (y * p).sum().backward()
        let g = try XCTUnwrap(x.gradient)
        let keep: Float = 0.6
        var valueError: Float = 0, gradientError: Float = 0, dropped = 0
        for i in 0..<x.count {
            let kept = y[flat: i] != 0
            if !kept { dropped += 1 }
            valueError = max(valueError, abs(y[flat: i] - (kept ? xv[flat: i] / keep : 0)))
            gradientError = max(gradientError, abs(g[flat: i] - (kept ? p[flat: i] / keep : 0)))
        }
        XCTAssertLessThanOrEqual(valueError, 1e-6, "kept values are x / keep")
        XCTAssertLessThanOrEqual(gradientError, 1e-6, "gradient is p / keep where kept, 0 where dropped")
        XCTAssertTrue((60...180).contains(dropped), "about 40% of 300 dropped, got \(dropped)")
    }

    func testDropoutIsSeededAndAdvances() throws {
        let a = try Dropout(rate: 0.5, seed: 9), b = try Dropout(rate: 0.5, seed: 9)
        let x = Tensor(repeating: 1, shape: [200])
        let first = try a(x, training: true).scalars
        XCTAssertEqual(first, try b(x, training: true).scalars, "same seed, same mask")
        XCTAssertNotEqual(first, try a(x, training: true).scalars, "the next batch gets a new mask")
        // Restoring the generator replays the mask.
        let c = try Dropout(rate: 0.5, seed: 9)
        let saved = c.generator
        let m1 = try c(x, training: true).scalars
        c.generator = saved
        XCTAssertEqual(try c(x, training: true).scalars, m1)
    }

    // MARK: ReLU and Softmax layers

    func testReLUAndSoftmaxLayers() throws {
        var x = randomTensor([3, 5], seed: 40)
        x.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] += b[i] < 0 ? -0.1 : 0.1 } }
        let relu = ReLU(), softmax = Softmax()
        assertValues(try relu(x), x.scalars.map { max($0, 0) }, "relu")
        assertGradientError(try GradientCheck.maxRelativeError(at: x) { GradientCheck.projected(try relu($0)) }, "relu")
        let y = try softmax(x)
        for row in 0..<3 {
            let z = (0..<5).map { Foundation.exp(Double(x[flat: row * 5 + $0])) }
            let total = z.reduce(0, +)
            for j in 0..<5 { XCTAssertEqual(Double(y[flat: row * 5 + j]), z[j] / total, accuracy: 1e-6) }
        }
        assertGradientError(try GradientCheck.maxRelativeError(at: x) { GradientCheck.projected(try softmax($0)) },
                            "softmax layer")
        XCTAssertTrue(relu.parameters.isEmpty && softmax.parameters.isEmpty)
    }
}

import Layers
import Tensor
import TestSupport
import XCTest

/// ZeroPadding2D, GlobalAveragePooling2D and Reshape: values, shapes, gradients and errors.
final class ShapeLayerTests: XCTestCase {
    // MARK: ZeroPadding2D

    func testZeroPaddingAsymmetricValues() throws {
        // value = 10·h + w + 1 on one channel, then a second channel of its negatives.
        var values: [Float] = []
        for h in 0..<2 { for w in 0..<3 { values += [Float(10 * h + w + 1), -Float(10 * h + w + 1)] } }
        let x = Tensor(values, shape: [1, 2, 3, 2])
        let pad = try ZeroPadding2D(name: "block_1_pad", padding: ((0, 1), (0, 1)))  // MobileNetV2's correct_pad
        let y = try pad(x)
        XCTAssertEqual(y.shape, [1, 3, 4, 2])
        XCTAssertEqual(y.scalars, [1, -1, 2, -2, 3, -3, 0, 0,
                                   11, -11, 12, -12, 13, -13, 0, 0,
                                   0, 0, 0, 0, 0, 0, 0, 0])
        let other = try ZeroPadding2D(padding: ((2, 0), (1, 3)))
        let z = try other(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 1, 3, 1]))
        XCTAssertEqual(z.shape, [2, 3, 7, 1])
        let zero7 = [Float](repeating: 0, count: 7)
        XCTAssertEqual(z.scalars, zero7 + zero7 + [0, 1, 2, 3, 0, 0, 0] + zero7 + zero7 + [0, 4, 5, 6, 0, 0, 0])
        XCTAssertEqual(pad.kerasClassName, "ZeroPadding2D")
        XCTAssertEqual(try ZeroPadding2D().outputShape(for: [[4, 5, 6, 7]]), [4, 7, 8, 7], "Keras' default 1")
        XCTAssertEqual(try ZeroPadding2D(padding: (rows: 3, columns: 0)).outputShape(for: [[1, 2, 2, 1]]), [1, 8, 2, 1])
    }

    func testZeroPaddingGradientIsTheCrop() throws {
        let pad = try ZeroPadding2D(padding: ((1, 2), (3, 0)))
        let x = randomTensor([2, 4, 3, 5], seed: 1)
        let input = x.requiringGradient()
        let y = try pad(input)
        XCTAssertEqual(try pad.outputShape(for: [x.shape]), y.shape)
        let dy = randomTensor(y.shape, seed: 2)
        y.backward(seed: dy)
        let g = try XCTUnwrap(input.gradient)
        for n in 0..<2 { for h in 0..<4 { for w in 0..<3 { for c in 0..<5 {
            XCTAssertEqual(g[flat: ((n * 4 + h) * 3 + w) * 5 + c], dy[flat: ((n * 7 + h + 1) * 6 + w + 3) * 5 + c])
        } } } }
        let errors = try GradientCheck.layerErrors(pad, inputs: [x], epsilon: 1e-2)
        XCTAssertEqual(Array(errors.keys), ["input0"])
        for (what, error) in errors { assertGradientError(error, "zero padding \(what)") }
    }

    func testZeroPaddingErrors() {
        XCTAssertThrowsError(try ZeroPadding2D(name: "pad", padding: ((0, -1), (0, 0)))) {
            XCTAssertEqual("\($0)", "layer 'pad': bottom padding -1 must be >= 0")
        }
        let pad = try? ZeroPadding2D(name: "pad")
        assertShapeMismatch(layer: "pad", got: [2, 3]) { try pad!(Tensor(zeros: [2, 3])) }
        XCTAssertThrowsError(try pad!.outputShape(for: [[2, 3, 4]]))
    }

    // MARK: GlobalAveragePooling2D

    func testGlobalAveragePoolingValues() throws {
        // Two images, 2x3 pixels, 2 channels: channel 0 = 1..6 (mean 3.5), channel 1 = 10·that.
        var values: [Float] = []
        for n in 0..<2 { for p in 0..<6 { values += [Float(p + 1 + 10 * n), Float(10 * (p + 1))] } }
        let x = Tensor(values, shape: [2, 2, 3, 2])
        let gap = GlobalAveragePooling2D()
        XCTAssertEqual(gap.name, "global_average_pooling2d")
        XCTAssertEqual(gap.kerasClassName, "GlobalAveragePooling2D")
        let y = try gap(x)
        XCTAssertEqual(y.shape, [2, 2])
        assertValues(y, [3.5, 35, 13.5, 35], "means")
        let kept = try GlobalAveragePooling2D(keepDims: true)(x)
        XCTAssertEqual(kept.shape, [2, 1, 1, 2])
        XCTAssertEqual(kept.scalars, y.scalars)
    }

    func testGlobalAveragePoolingAgainstLoopAndGradient() throws {
        // 150 channels: several 64-channel blocks and a partial one; batch 1 and 3.
        for (batch, keepDims) in [(1, false), (3, true)] {
            let gap = GlobalAveragePooling2D(keepDims: keepDims)
            let x = randomTensor([batch, 7, 5, 150], seed: 10 + UInt64(batch))
            let y = try gap(x)
            XCTAssertEqual(try gap.outputShape(for: [x.shape]), y.shape)
            var expected = [Double](repeating: 0, count: batch * 150)
            for (i, v) in x.scalars.enumerated() { expected[(i / (35 * 150)) * 150 + i % 150] += Double(v) / 35 }
            assertValues(y, expected.map { Float($0) }, tolerance: 1e-6, "batch \(batch)")
        }
        let gap = GlobalAveragePooling2D()
        let x = randomTensor([2, 3, 4, 70], seed: 20)
        let input = x.requiringGradient()
        let dy = randomTensor([2, 70], seed: 21)
        try gap(input).backward(seed: dy)
        let g = try XCTUnwrap(input.gradient)
        for i in 0..<x.count { XCTAssertEqual(g[flat: i], dy[flat: (i / (12 * 70)) * 70 + i % 70] / 12, accuracy: 1e-7) }
        for layer in [GlobalAveragePooling2D(), GlobalAveragePooling2D(keepDims: true)] {
            let errors = try GradientCheck.layerErrors(layer, inputs: [randomTensor([2, 3, 2, 5], seed: 22)])
            XCTAssertEqual(Array(errors.keys), ["input0"])
            for (what, error) in errors { assertGradientError(error, "GAP keepDims \(layer.keepDims) \(what)") }
        }
    }

    func testGlobalAveragePoolingShapeErrors() {
        let gap = GlobalAveragePooling2D(name: "gap")
        assertShapeMismatch(layer: "gap", got: [2, 3]) { try gap(Tensor(zeros: [2, 3])) }
        assertShapeMismatch(layer: "gap", got: [1, 0, 3, 2]) { try gap(Tensor(zeros: [1, 0, 3, 2])) }
        XCTAssertEqual(try gap.outputShape(for: [[0, 3, 3, 8]]), [0, 8])
        XCTAssertEqual(try gap(Tensor(zeros: [0, 3, 3, 8])).shape, [0, 8], "an empty batch")
    }

    // MARK: Reshape

    func testReshapeWithInferredDimension() throws {
        let x = randomTensor([3, 2, 2, 6], seed: 30)
        let reshape = try Reshape(targetShape: [-1, 4])
        XCTAssertEqual(reshape.kerasClassName, "Reshape")
        let y = try reshape(x)
        XCTAssertEqual(y.shape, [3, 6, 4])
        XCTAssertEqual(y.scalars, x.scalars, "row-major: no data moves")
        XCTAssertEqual(try reshape.outputShape(for: [x.shape]), y.shape)
        // EfficientNet's squeeze-excite: [b, c] -> [b, 1, 1, c].
        let se = try Reshape(name: "block1a_se_reshape", targetShape: [1, 1, 32])
        XCTAssertEqual(try se(Tensor(zeros: [2, 32])).shape, [2, 1, 1, 32])
        XCTAssertEqual(try se.outputShape(for: [[2, 32]]), [2, 1, 1, 32])
        XCTAssertEqual(try Reshape(targetShape: [2, -1]).outputShape(for: [[0, 3, 4]]), [0, 2, 6], "an empty batch")

        let errors = try GradientCheck.layerErrors(reshape, inputs: [x])
        XCTAssertEqual(Array(errors.keys), ["input0"])
        for (what, error) in errors { assertGradientError(error, "reshape \(what)") }
        let input = x.requiringGradient()
        try reshape(input).backward(seed: GradientCheck.projection([3, 6, 4]))
        XCTAssertEqual(input.gradient?.shape, x.shape)
        XCTAssertEqual(input.gradient?.scalars, GradientCheck.projection([3, 6, 4]).scalars)
    }

    func testReshapeRefusesCountsThatDoNotFit() throws {
        let reshape = try Reshape(name: "r", targetShape: [5, -1])
        assertShapeMismatch(layer: "r", got: [2, 3, 4]) { try reshape(Tensor(zeros: [2, 3, 4])) }
        let fixed = try Reshape(name: "r", targetShape: [4, 4])
        assertShapeMismatch(layer: "r", got: [1, 15]) { try fixed(Tensor(zeros: [1, 15])) }
        XCTAssertThrowsError(try fixed.outputShape(for: [[1, 17]]))
        XCTAssertThrowsError(try Reshape(name: "r", targetShape: [-1, -1])) {
            XCTAssertEqual("\($0)", "layer 'r': target shape [-1, -1] may have at most one -1")
        }
        XCTAssertThrowsError(try Reshape(name: "r", targetShape: [0, 3])) {
            XCTAssertEqual("\($0)", "layer 'r': target dimension 0 must be >= 1 or -1")
        }
    }
}

import CKernels
@testable import Layers
import Tensor
import TestSupport
import XCTest

/// The inference plan (`ExecutionPlan.fusedForInference()`): which runs it fuses, that its
/// output is the plan's, that it follows weights changed after it was built, and that training
/// calls never take it.
final class InferenceFusionTests: XCTestCase {
    /// A BatchNormalization with random gamma, beta and moving statistics.
    func randomBatchNorm(_ name: String, channels: Int, seed: UInt64) throws -> BatchNormalization {
        let bn = try BatchNormalization(name: name, channels: channels, epsilon: 1e-3)
        bn.gamma.value = randomTensor([channels], low: 0.5, high: 1.5, seed: seed)
        bn.beta.value = randomTensor([channels], low: -0.5, high: 0.5, seed: seed + 1)
        bn.movingMean.value = randomTensor([channels], low: -0.3, high: 0.3, seed: seed + 2)
        bn.movingVariance.value = randomTensor([channels], low: 0.2, high: 2, seed: seed + 3)
        return bn
    }

    /// A small graph with every pattern the fusion knows: a padded strided conv + BN + ReLU6,
    /// a padded depthwise + BN + swish, a projection block (conv + BN on both branches, an
    /// `Add`, a ReLU) whose shortcut comes first, an identity block, a dropout and a 3x3
    /// stride-2 max pool, then a dense softmax head.
    func makeModel() throws -> Graph {
        var rng = SeededGenerator(seed: 7)
        var b = GraphBuilder()
        var x = b(try ZeroPadding2D(name: "pad1", padding: ((0, 1), (0, 1))), b.input)
        x = b(try Conv2D(name: "conv1", inputChannels: 3, filters: 24, stride: (2, 2), padding: .valid,
                         activation: .linear, useBias: false, rng: &rng), x)
        x = b(try randomBatchNorm("bn1", channels: 24, seed: 100), x)
        x = b(ReLU(name: "relu1", maxValue: 6), x)
        x = b(try ZeroPadding2D(name: "pad2", padding: 1), x)
        x = b(try DepthwiseConv2D(name: "dw", inputChannels: 24, stride: (2, 2), padding: .valid, useBias: false,
                                  rng: &rng), x)
        x = b(try randomBatchNorm("dw_bn", channels: 24, seed: 110), x)
        x = b(ActivationLayer(name: "dw_swish", .swish), x)
        // Projection block: the shortcut's conv comes first in the graph.
        let shortcut = b(try randomBatchNorm("sc_bn", channels: 32, seed: 120),
                         b(try Conv2D(name: "sc_conv", inputChannels: 24, filters: 32, kernelSize: (1, 1),
                                      activation: .linear, rng: &rng), x))
        var y = b(try Conv2D(name: "a_conv", inputChannels: 24, filters: 16, kernelSize: (1, 1), activation: .linear,
                             rng: &rng), x)
        y = b(try randomBatchNorm("a_bn", channels: 16, seed: 130), y)
        y = b(ActivationLayer(name: "a_relu", .relu), y)
        y = b(try Conv2D(name: "b_conv", inputChannels: 16, filters: 32, activation: .linear, useBias: false,
                         rng: &rng), y)
        y = b(try randomBatchNorm("b_bn", channels: 32, seed: 140), y)
        x = b(ActivationLayer(name: "block1_out", .relu), b(Add(name: "block1_add"), shortcut, y))
        // Identity block: the residual is the block's input.
        y = b(try Conv2D(name: "c_conv", inputChannels: 32, filters: 32, kernelSize: (1, 1), activation: .linear,
                         rng: &rng), x)
        y = b(try randomBatchNorm("c_bn", channels: 32, seed: 150), y)
        y = b(try Dropout(name: "drop", rate: 0.5), y)
        x = b(ActivationLayer(name: "block2_out", .relu), b(Add(name: "block2_add"), x, y))
        x = b(MaxPool2D(name: "pool", poolSize: (3, 3), stride: (2, 2), padding: .same), x)
        x = b(GlobalAveragePooling2D(name: "gap"), x)
        x = b(try Dense(name: "dense", inputSize: 32, outputSize: 3, activation: .softmax, rng: &rng), x)
        return try b.build(name: "net", output: x)
    }

    func testFusedPlanHasTheExpectedSteps() throws {
        let plan = try ExecutionPlan(makeModel())
        let fused = plan.fusedForInference()
        XCTAssertEqual(fused.steps.map(\.layer.name),
                       ["relu1", "dw_swish", "a_relu", "b_bn", "block1_out", "block2_out", "pool", "gap", "dense"])
        XCTAssertEqual(fused.steps.map(\.layer.kerasClassName), [
            "ZeroPadding2D+Conv2D+BatchNormalization+ReLU",
            "ZeroPadding2D+DepthwiseConv2D+BatchNormalization+Activation",
            "Conv2D+BatchNormalization+Activation",
            "Conv2D+BatchNormalization",
            // The shortcut's conv absorbs the Add: the other branch is its residual.
            "Conv2D+BatchNormalization+Add+Activation",
            "Conv2D+BatchNormalization+Add+Activation",
            "MaxPooling2D", "GlobalAveragePooling2D", "Dense",
        ])
        let block1 = try XCTUnwrap(fused.steps[4].layer as? FusedConvolution)
        XCTAssertTrue(block1.residualComesFirst == false, "the shortcut was the Add's first operand, the conv's own")
        XCTAssertEqual(fused.steps[4].inputs, [1, 3], "the block input, then the other branch")
        XCTAssertEqual(fused.steps[5].inputs, [4, 4], "identity block: the conv and its residual read the same value")
        XCTAssertEqual(try fused.value(named: "block2_out"), 5)
        XCTAssertThrowsError(try fused.value(named: "c_bn"), "an absorbed value is gone")
        XCTAssertEqual(fused.output, fused.steps.count - 1)
    }

    func testFusedOutputEqualsThePlansAtEveryBatchSize() throws {
        let model = try makeModel()
        let plan = try ExecutionPlan(model)
        for batch in [1, 3] {
            let x = randomTensor([batch, 33, 30, 3], seed: UInt64(batch))
            let (reference, viaModel, fused) = try withoutGradients {
                (try plan.forward(x, training: false), try model(x, training: false),
                 try plan.fusedForInference().forward(x, training: false))
            }
            assertClose(fused, reference, tolerance: 1e-5, "batch \(batch): fused plan")
            assertClose(viaModel, reference, tolerance: 1e-5, "batch \(batch): model(x) runs the fused plan")
            let logits = try withoutGradients {
                (try plan.logits(x, training: false), try plan.fusedForInference().logits(x, training: false))
            }
            assertClose(logits.1, logits.0, tolerance: 1e-5, "batch \(batch): logits")
        }
    }

    func testFusedStepsFollowWeightsChangedAfterTheFirstCall() throws {
        let model = try makeModel()
        let x = randomTensor([2, 17, 16, 3], seed: 9)
        _ = try withoutGradients { try model(x, training: false) }  // folds and caches
        let bn = try XCTUnwrap(model.layers.first { $0.name == "c_bn" } as? BatchNormalization)
        bn.movingMean.value = randomTensor([32], seed: 77)  // a new tensor
        let conv = try XCTUnwrap(model.layers.first { $0.name == "conv1" } as? Conv2D)
        conv.kernel.value.withUnsafeMutableBufferPointer { k in  // the same tensor, changed in place
            for i in k.indices { k[i] *= -0.5 }
        }
        let (after, reference) = try withoutGradients {
            (try model(x, training: false), try ExecutionPlan(model).forward(x, training: false))
        }
        assertClose(after, reference, tolerance: 1e-5, "folded again after the weights changed")
    }

    func testTrainingAndRecordingCallsRunTheLayersThemselves() throws {
        let model = try makeModel()
        let x = randomTensor([4, 17, 16, 3], seed: 11)
        // Training: batch statistics (and dropout): the fused plan must not be taken.
        let trainingOutput = try model(x, training: true)
        let reference = try makeModel()
        let expected = try ExecutionPlan(reference).forward(x, training: true)
        assertClose(trainingOutput, expected, tolerance: 1e-5, "training call")
        // Recording with training false: gradients reach the kernels.
        let loss = try model(x, training: false).sum()
        loss.backward()
        let conv = try XCTUnwrap(model.layers.first { $0.name == "b_conv" } as? Conv2D)
        XCTAssertNotNil(conv.kernel.gradient, "a recorded inference call keeps its gradients")
        // A fused step called while recording runs its layers one by one.
        let fused = try XCTUnwrap(ExecutionPlan(model).fusedForInference().steps.first?.layer as? FusedConvolution)
        let first = try fused(x, training: false)
        let layered = try withoutGradients { try fused(x, training: false) }
        assertClose(first, layered, tolerance: 1e-5, "recording and not recording agree")
    }

    func testABroadcastResidualRunsTheAddItself() throws {
        var rng = SeededGenerator(seed: 3)
        var b = GraphBuilder()
        let gate = b(GlobalAveragePooling2D(name: "gate", keepDims: true), b.input)
        var y = b(try Conv2D(name: "conv", inputChannels: 4, filters: 4, kernelSize: (1, 1), activation: .linear,
                             rng: &rng), b.input)
        y = b(try randomBatchNorm("bn", channels: 4, seed: 5), y)
        y = b(ReLU(name: "relu"), b(Add(name: "add"), gate, y))
        let model = try b.build(name: "net", output: y)
        let plan = try ExecutionPlan(model)
        XCTAssertEqual(plan.fusedForInference().steps.map(\.layer.kerasClassName),
                       ["GlobalAveragePooling2D", "Conv2D+BatchNormalization+Add+ReLU"])
        let x = randomTensor([2, 5, 6, 4], seed: 6)
        let (fused, reference) = try withoutGradients {
            (try plan.fusedForInference().forward(x, training: false), try plan.forward(x, training: false))
        }
        assertClose(fused, reference, tolerance: 1e-6, "a [n, 1, 1, c] residual broadcasts as the Add does")
    }

    func testAValueReadTwiceIsNotFused() throws {
        var rng = SeededGenerator(seed: 4)
        var b = GraphBuilder()
        let conv = b(try Conv2D(name: "conv", inputChannels: 3, filters: 5, activation: .linear, rng: &rng), b.input)
        let bn = b(try randomBatchNorm("bn", channels: 5, seed: 8), conv)
        let sum = b(Add(name: "add"), conv, bn)
        let model = try b.build(name: "net", output: sum)
        let fused = try ExecutionPlan(model).fusedForInference()
        XCTAssertEqual(fused.steps.map(\.layer.kerasClassName), ["Conv2D", "BatchNormalization", "Add"],
                       "the conv's output is read by the BN and the Add: nothing to fold")
    }

    func testEpilogueKernelsEqualTheTensorActivations() throws {
        var values = randomTensor([3, 37], low: -9, high: 9, seed: 12).scalars
        values[5] = .nan; values[6] = -0.0; values[7] = 6; values[8] = 0
        let x = Tensor(values, shape: [3, 37])
        let bias = randomTensor([37], seed: 13), residual = randomTensor([3, 37], seed: 14)
        let cases: [(KernelEpilogue, (Tensor) -> Tensor)] = [
            (.none, { $0 }), (.relu, { $0.relu() }), (.relu6, { $0.relu6() }), (.swish, { $0.swish() }),
            (.gelu, { $0.gelu() }),
        ]
        for (epilogue, reference) in cases {
            let expected = reference(x + bias + residual).scalars
            var out = x
            out.withUnsafeMutableBufferPointer { c in
                bias.withUnsafeBufferPointer { b in
                    residual.withUnsafeBufferPointer { r in
                        epilogue.apply(to: c.baseAddress!, rows: 3, width: 37, bias: b.baseAddress!,
                                       residual: r.baseAddress!)
                    }
                }
            }
            for (i, (a, e)) in zip(out.scalars, expected).enumerated() {
                XCTAssertTrue(a == e || (a.isNaN && e.isNaN), "\(epilogue) element \(i): \(a) vs \(e)")
            }
        }
    }

    func testVectorisedMaxPoolEqualsTheIndexedLoop() throws {
        for (shape, window, stride, padding) in [([2, 13, 11, 19], (3, 3), (2, 2), Padding.same),
                                                 ([1, 9, 9, 32], (3, 3), (1, 1), .same),
                                                 ([1, 8, 10, 5], (2, 3), (2, 1), .valid)] as [(Shape, (Int, Int), (Int, Int), Padding)] {
            let x = distinctTensor(shape, seed: 21)
            let g = try XCTUnwrap(WindowGeometry(input: shape, window: window, stride: stride, padding: padding))
            let count = g.batch * g.outputHeight * g.outputWidth * g.channels
            var indexed = [Float](repeating: 0, count: count), vectorised = indexed
            var indices = [Int32](repeating: 0, count: count)
            x.withUnsafeBufferPointer { xp in
                indexed.withUnsafeMutableBufferPointer { y in
                    indices.withUnsafeMutableBufferPointer { MaxPool2D.pool(g, xp.baseAddress!, y.baseAddress!, $0.baseAddress) }
                }
                vectorised.withUnsafeMutableBufferPointer { MaxPool2D.pool(g, xp.baseAddress!, $0.baseAddress!, nil) }
            }
            XCTAssertEqual(vectorised, indexed, "\(shape) window \(window) stride \(stride) \(padding)")
        }
    }
}

import Tensor

/// A run of layers an inference plan executes as one convolution pass
/// (``ExecutionPlan/fusedForInference()``): an optional `ZeroPadding2D` in front (read as the
/// convolution's own padding, never materialised), a linear `Conv2D` or `DepthwiseConv2D`, an
/// optional `BatchNormalization` folded into its kernel and bias, for a `Conv2D` an optional
/// two-input `Add` of a residual of the output's shape, and an optional activation layer
/// (ReLU, ReLU6, swish) applied in the pass that stores the output.
///
/// Named after the last layer it stands for, whose value it produces. Inputs: the input of
/// the first layer, then (with an `Add`) the other operand of the `Add`.
///
/// Weights are folded in Double (``BatchNormFolding``) and kept while the source tensors are
/// the same storage, so a weight changed by training or loading is folded again on the next
/// call. A call that records gradients, or in which the BatchNormalization would use batch
/// statistics, runs the original layers one by one: the result is always that of the layers.
public final class FusedConvolution: Layer {
    public enum Base {
        case convolution(Conv2D)
        case depthwise(DepthwiseConv2D)
    }

    public let name: String
    public let padding: ZeroPadding2D?
    public let base: Base
    public let batchNorm: BatchNormalization?
    /// The `Add` whose other operand this pass adds (only after a `Conv2D`).
    public let residualAdd: Add?
    /// Whether the residual is the `Add`'s first operand (the order a broadcasting `Add` needs).
    public let residualComesFirst: Bool
    /// The activation layer applied last, and its fused form.
    public let activationLayer: (any Layer)?
    public let epilogue: KernelEpilogue
    private let folded = FoldedWeights()
    private let winogradCache = WinogradKernelCache()

    /// Throws `LayerError.invalidConfiguration` for a combination no single pass computes: a
    /// convolution with an activation of its own, a residual after a depthwise convolution,
    /// a BatchNormalization of another channel count or an activation layer that cannot be fused.
    public init(padding: ZeroPadding2D?, base: Base, batchNorm: BatchNormalization?, residualAdd: Add?,
                residualComesFirst: Bool = false, activationLayer: (any Layer)?) throws {
        let baseLayer: any Layer
        let outputs: Int
        switch base {
        case let .convolution(conv):
            guard conv.activation == .linear else {
                throw LayerError.invalidConfiguration(layer: conv.name, setting: "activation \(conv.activation.rawValue)",
                                                      requirement: "must be linear to fuse what follows")
            }
            baseLayer = conv; outputs = conv.filters
        case let .depthwise(depthwise):
            guard residualAdd == nil else {
                throw LayerError.invalidConfiguration(layer: depthwise.name, setting: "a fused residual",
                                                      requirement: "is only fused after a Conv2D")
            }
            baseLayer = depthwise; outputs = depthwise.outputChannels
        }
        if let batchNorm, batchNorm.channels != outputs {
            throw LayerError.invalidConfiguration(
                layer: baseLayer.name, setting: "folding '\(batchNorm.name)' of \(batchNorm.channels) channels",
                requirement: "needs one channel per output channel (\(outputs))")
        }
        let epilogue: KernelEpilogue
        if let activationLayer {
            guard let fused = KernelEpilogue(layer: activationLayer) else {
                throw LayerError.invalidConfiguration(layer: activationLayer.name, setting: "fusing it",
                                                      requirement: "needs ReLU, ReLU6, GELU or swish")
            }
            epilogue = fused
        } else {
            epilogue = .none
        }
        let layers: [(any Layer)?] = [padding, baseLayer, batchNorm, residualAdd, activationLayer]
        name = layers.compactMap { $0 }.last!.name
        self.padding = padding
        self.base = base
        self.batchNorm = batchNorm
        self.residualAdd = residualAdd
        self.residualComesFirst = residualComesFirst
        self.activationLayer = activationLayer
        self.epilogue = epilogue
    }

    /// The layers this pass stands for, in order.
    public var fusedLayers: [any Layer] {
        let baseLayer: any Layer
        switch base {
        case let .convolution(conv): baseLayer = conv
        case let .depthwise(depthwise): baseLayer = depthwise
        }
        return [padding, baseLayer, batchNorm, residualAdd, activationLayer].compactMap { $0 }
    }

    public var parameters: [Parameter] { fusedLayers.flatMap(\.parameters) }
    public var kerasClassName: String { fusedLayers.map(\.kerasClassName).joined(separator: "+") }
    public var inputArity: Int? { residualAdd == nil ? 1 : 2 }

    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try forward([input], training: training)
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == (residualAdd == nil ? 1 : 2) else {
            throw LayerError.wrongInputCount(layer: name, expected: residualAdd == nil ? "1" : "2", got: inputs.count)
        }
        var shape = inputs[0]
        for layer in fusedLayers {
            shape = try layer.outputShape(for: layer is Add ? [shape, inputs[1]] : [shape])
        }
        return shape
    }

    public func forward(_ inputs: [Tensor], training: Bool) throws -> Tensor {
        let arity = residualAdd == nil ? 1 : 2
        guard inputs.count == arity else {
            throw LayerError.wrongInputCount(layer: name, expected: "\(arity)", got: inputs.count)
        }
        if Autograd.isRecording || batchNorm?.usesBatchStatistics(training: training) == true {
            return try unfused(inputs, training: training)
        }
        let x = inputs[0]
        var shape = x.shape
        if let padding {
            guard shape.rank == 4 else { return try unfused(inputs, training: training) }
            shape = [shape[0], shape[1] + padding.rows.top + padding.rows.bottom,
                     shape[2] + padding.columns.left + padding.columns.right, shape[3]]
        }
        switch base {
        case let .convolution(conv):
            var g = try conv.geometry(for: shape)
            unpad(&g, input: x.shape)
            let output: Shape = [g.batch, g.outputHeight, g.outputWidth, conv.filters]
            let residual = residualAdd == nil ? nil : inputs[1]
            if let residual, residual.shape != output { return try unfused(inputs, training: training) }
            let weights = folded.weights(kernel: conv.kernel.value, bias: conv.bias?.value, outputs: conv.filters,
                                         batchNorm: batchNorm)
            // Padding read from a ZeroPadding2D runs im2col, whose gather clips any window;
            // otherwise the layer's own algorithm choice holds.
            let algorithm = padding != nil ? .im2col : conv.preferredAlgorithm
            let run = {
                ConvolutionKernels.forward(g, input: x, kernel: weights.kernel, bias: weights.bias,
                                           epilogue: self.epilogue, residual: residual,
                                           kernelCache: self.winogradCache)
            }
            return algorithm == .automatic ? run() : ConvolutionKernels.$algorithm.withValue(algorithm, operation: run)
        case let .depthwise(depthwise):
            var g = try depthwise.geometry(for: shape)
            unpad(&g, input: x.shape)
            let weights = folded.weights(kernel: depthwise.depthwiseKernel.value, bias: depthwise.bias?.value,
                                         outputs: depthwise.outputChannels, batchNorm: batchNorm)
            let multiplier = depthwise.depthMultiplier, epilogue = self.epilogue
            return Tensor(unsafeUninitializedShape: [g.batch, g.outputHeight, g.outputWidth,
                                                     depthwise.outputChannels]) { y in
                x.withUnsafeBufferPointer { xp in
                    weights.kernel.withUnsafeBufferPointer { kp in
                        ConvolutionKernels.withBias(weights.bias) { bp in
                            DepthwiseKernels.forward(g, multiplier: multiplier, xp.baseAddress!, kp.baseAddress!, bp,
                                                     y.baseAddress!, epilogue: epilogue)
                        }
                    }
                }
            }
        }
    }

    /// The geometry on the padded shape, read from the unpadded input: the padding moves
    /// into the window's offsets (bottom and right follow from the output size).
    private func unpad(_ g: inout WindowGeometry, input: Shape) {
        guard let padding else { return }
        g.inputHeight = input[1]
        g.inputWidth = input[2]
        g.padTop += padding.rows.top
        g.padLeft += padding.columns.left
    }

    /// The original layers, one after the other.
    private func unfused(_ inputs: [Tensor], training: Bool) throws -> Tensor {
        var value = inputs[0]
        for layer in fusedLayers {
            if layer is Add {
                value = try layer.forward(residualComesFirst ? [inputs[1], value] : [value, inputs[1]], training: training)
            } else {
                value = try layer.forward([value], training: training)
            }
        }
        return value
    }
}

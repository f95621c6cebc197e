import Tensor

/// 2-D convolution over NHWC input with an HWIO kernel `[kh, kw, in, out]` (Keras' layout),
/// computed as chunked im2col + sgemm or, for 3x3 stride-1 layers where it pays, Winograd
/// (`ConvolutionKernels`), with bias and activation fused into the output pass.
///
/// `useBias: false` (Keras' `use_bias=False`, as the convolutions before a BatchNormalization
/// in ResNet, MobileNetV2 and EfficientNet have it) leaves the layer with its kernel only.
public final class Conv2D: Layer {
    public let name: String
    public let kernel: Parameter
    /// The bias, `nil` for a layer made with `useBias: false` (whose parameters are then
    /// `[kernel]`, Keras' variable list).
    public let bias: Parameter?
    public let stride: (height: Int, width: Int)
    public let padding: Padding
    /// `.linear`, `.relu` (fused into the output pass), `.sigmoid` or `.swish` (applied after it,
    /// as EfficientNet's squeeze-and-excitation convolutions take them).
    public let activation: Activation
    /// The algorithm of this layer's passes: `.automatic` (the default) follows
    /// `ConvolutionKernels.algorithm(for:_:filters:cachedKernel:)`'s rule and the task's
    /// `ConvolutionKernels.$algorithm`; anything else is used for this layer whatever those say
    /// (a Winograd choice falls back to im2col where it does not apply). For models whose thin
    /// 3x3 layers are measured to gain from Winograd below the rule's 64 channels.
    public var preferredAlgorithm = ConvolutionAlgorithm.automatic
    /// The Winograd-transformed kernel of the forward pass and of backward data (rotated),
    /// kept while the kernel is not being trained (inference, frozen layers, Grad-CAM).
    let forwardKernelCache = WinogradKernelCache()
    let backwardKernelCache = WinogradKernelCache()

    public init(name: String, inputChannels: Int, filters: Int, kernelSize: (Int, Int) = (3, 3),
                stride: (Int, Int) = (1, 1), padding: Padding = .same, activation: Activation = .relu,
                useBias: Bool = true, rng: inout SeededGenerator) throws {
        guard activation != .softmax else {
            throw LayerError.invalidConfiguration(layer: name, setting: "activation softmax",
                                                  requirement: "is not supported by Conv2D (use linear, relu, sigmoid or swish)")
        }
        for (setting, value) in [("kernel height", kernelSize.0), ("kernel width", kernelSize.1),
                                 ("stride height", stride.0), ("stride width", stride.1),
                                 ("input channels", inputChannels), ("filters", filters)] where value < 1 {
            throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(value)", requirement: "must be >= 1")
        }
        self.name = name
        kernel = Parameter(name: "kernel", value: .glorotUniform(
            [kernelSize.0, kernelSize.1, inputChannels, filters], using: &rng))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
        self.stride = (stride.0, stride.1)
        self.padding = padding
        self.activation = activation
    }

    /// A layer with these weights (a bias `nil`: none), trainable as `trainable` says.
    init(name: String, kernel: Tensor, bias: Tensor?, stride: (height: Int, width: Int), padding: Padding,
         activation: Activation, trainable: Bool) {
        self.name = name
        self.kernel = Parameter(name: "kernel", value: kernel, isTrainable: trainable)
        self.bias = bias.map { Parameter(name: "bias", value: $0, isTrainable: trainable) }
        self.stride = stride
        self.padding = padding
        self.activation = activation
    }

    /// Whether the layer has a bias.
    public var useBias: Bool { bias != nil }
    public var parameters: [Parameter] { bias.map { [kernel, $0] } ?? [kernel] }
    public var filters: Int { kernel.shape[3] }
    public var inputChannels: Int { kernel.shape[2] }

    /// The geometry for an input shape, or a `shapeMismatch` naming this layer.
    public func geometry(for input: Shape) throws -> WindowGeometry {
        guard input.rank == 4, input[3] == inputChannels,
              let g = WindowGeometry(input: input, window: (kernel.shape[0], kernel.shape[1]),
                                     stride: stride, padding: padding)
        else {
            throw LayerError.shapeMismatch(
                layer: name,
                expected: "[batch, h >= \(kernel.shape[0]), w >= \(kernel.shape[1]), \(inputChannels)]",
                got: input)
        }
        return g
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        let g = try geometry(for: inputs.first ?? [])
        return [g.batch, g.outputHeight, g.outputWidth, filters]
    }

    /// `[batch, h, w, in]` -> `[batch, oh, ow, filters]`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let output = preferredAlgorithm == .automatic ? try convolve(input)
            : try ConvolutionKernels.$algorithm.withValue(preferredAlgorithm) { try convolve(input) }
        switch activation {
        case .linear, .relu: return output  // ReLU is fused into the output pass
        default: return activation.apply(output)  // sigmoid, swish: a tensor op after the convolution
        }
    }

    /// The convolution with bias, and with the ReLU fused when `activation` is `.relu`.
    private func convolve(_ input: Tensor) throws -> Tensor {
        let g = try geometry(for: input.shape)
        let w = kernel.tracked, b = bias?.tracked
        // A kernel being trained changes every step: caching its transform would only make the
        // optimizer copy the kernel (the cache shares its storage), so drop the caches then.
        let fixedKernel = !w.requiresGradient
        if !fixedKernel {
            forwardKernelCache.clear()
            backwardKernelCache.clear()
        }
        let output = ConvolutionKernels.forward(g, input: input, kernel: w, bias: b, relu: activation == .relu,
                                                kernelCache: fixedKernel ? forwardKernelCache : nil)
        guard Autograd.isRecording, input.requiresGradient || w.requiresGradient || b?.requiresGradient == true else {
            return output
        }
        let y = output.detached, x = input.detached, kernelValue = w.detached
        let relu = activation == .relu
        let preActivation = PreActivationGradient(output: y, relu: relu)
        let backwardCache = fixedKernel ? backwardKernelCache : nil
        var pullbacks: [(Tensor, Pullback)] = [
            (input, { dy in
                ConvolutionKernels.inputGradient(g, outputGradient: preActivation(dy), kernel: kernelValue,
                                                 kernelCache: backwardCache)
            }),
            (w, { dy in ConvolutionKernels.kernelGradient(g, input: x, outputGradient: preActivation(dy)) }),
        ]
        if let b { pullbacks.append((b, { dy in preActivation(dy).sumOverLeadingAxes() })) }
        return output.recordingGradient(from: pullbacks)
    }

    /// This convolution followed by `bn` in inference mode, as one convolution: a new layer
    /// of the same name, geometry and weights layout whose kernel is `kernel * scale` per output
    /// channel and whose bias is `bias * scale + shift` (`bias` 0 without one), with `(scale,
    /// shift)` = `bn.foldedScaleAndShift()` (computed in Double). It has a bias either way, and
    /// its weights are trainable when this layer's kernel is.
    ///
    /// For a frozen conv + BN pair (or any BN run in inference mode): the result equals
    /// `bn(conv(x), training: false)` up to rounding. Throws `LayerError.invalidConfiguration`
    /// when `bn` does not have one channel per filter, or when this layer applies ReLU (the
    /// normalisation would have to come before the activation).
    public func foldingBatchNorm(_ bn: BatchNormalization) throws -> Conv2D {
        guard bn.channels == filters else {
            throw LayerError.invalidConfiguration(
                layer: name, setting: "folding '\(bn.name)' of \(bn.channels) channels",
                requirement: "needs one channel per filter (\(filters))")
        }
        guard activation == .linear else {
            throw LayerError.invalidConfiguration(
                layer: name, setting: "folding '\(bn.name)' after activation \(activation.rawValue)",
                requirement: "needs a linear convolution (the BatchNormalization must come before the activation)")
        }
        let (folded, newBias) = BatchNormFolding.fold(kernel: kernel.value, bias: bias?.value, outputs: filters, into: bn)
        return Conv2D(name: name, kernel: folded, bias: newBias,
                      stride: stride, padding: padding, activation: activation, trainable: kernel.isTrainable)
    }
}

/// dL/d(pre-activation) from dL/d(output), computed once and shared by the pullbacks.
final class PreActivationGradient: @unchecked Sendable {
    private let output: Tensor
    private let relu: Bool
    private var cached: Tensor?

    init(output: Tensor, relu: Bool) {
        self.output = output
        self.relu = relu
    }

    func callAsFunction(_ outputGradient: Tensor) -> Tensor {
        guard relu else { return outputGradient }
        if let cached { return cached }
        let masked = Tensor(unsafeUninitializedShape: outputGradient.shape) { dst in
            output.withUnsafeBufferPointer { y in
                outputGradient.withUnsafeBufferPointer { dy in
                    let d = UncheckedSendable(dst), yp = UncheckedSendable(y), g = UncheckedSendable(dy)
                    Parallel.forEachRange(dst.count, grain: 1 << 15) { range in
                        for i in range { d.value[i] = yp.value[i] > 0 ? g.value[i] : 0 }
                    }
                }
            }
        }
        cached = masked
        return masked
    }
}

import Tensor

/// 2-D transposed convolution over NHWC input: Keras' `Conv2DTranspose` and PyTorch's
/// `nn.ConvTranspose2d` (no groups, dilation 1, no output padding). Each input pixel spreads
/// `x · kernel` over a `kh x kw` window of the output, windows `stride` apart; PyTorch's
/// `padding` then trims `padding` rows and columns from every side:
///
///     out = (in - 1) · stride - 2 · padding + kernel
///
/// The kernel is `[kh, kw, filters, in]` (Keras' layout; PyTorch's weight is `[in, filters, kh,
/// kw]`, the same `TorchLayout.convolution` permutation as a convolution's). That is exactly the
/// HWIO kernel of the convolution this layer transposes — the one mapping the output's shape back
/// to the input's — so every pass is one of `ConvolutionKernels`' (ARCHITECTURE.md §2):
/// forward is that convolution's input gradient (`dCols = x · Wᵀ`, then col2im), dX its forward
/// pass and dW its kernel gradient with the roles of input and output gradient swapped.
public final class Conv2DTranspose: Layer {
    public let name: String
    /// `[kh, kw, filters, inputChannels]`.
    public let kernel: Parameter
    /// `[filters]`, `nil` without a bias.
    public let bias: Parameter?
    public let stride: (height: Int, width: Int)
    /// PyTorch's `padding`: rows (columns) trimmed from the top and bottom (left and right).
    public let padding: (height: Int, width: Int)
    /// `.linear` or `.relu` (fused into the output pass).
    public let activation: Activation
    /// Winograd transforms of the fixed kernel (3x3 stride-1 layers): forward and dX.
    let forwardKernelCache = WinogradKernelCache()
    let backwardKernelCache = WinogradKernelCache()

    /// - Parameter padding: PyTorch's `padding`, each in `0..<kernel side`.
    public init(name: String, inputChannels: Int, filters: Int, kernelSize: (Int, Int), stride: (Int, Int),
                padding: (Int, Int) = (0, 0), activation: Activation = .linear, useBias: Bool = true,
                rng: inout SeededGenerator) throws {
        guard activation == .linear || activation == .relu else {
            throw LayerError.invalidConfiguration(layer: name, setting: "activation \(activation.rawValue)",
                                                  requirement: "must be linear or relu for Conv2DTranspose")
        }
        for (setting, value) in [("kernel height", kernelSize.0), ("kernel width", kernelSize.1),
                                 ("stride height", stride.0), ("stride width", stride.1),
                                 ("input channels", inputChannels), ("filters", filters)] where value < 1 {
            throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(value)", requirement: "must be >= 1")
        }
        for (setting, value, side) in [("padding height", padding.0, kernelSize.0), ("padding width", padding.1, kernelSize.1)]
            where !(0..<side).contains(value) {
            throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(value)",
                                                  requirement: "must be in 0...\(side - 1) (below the kernel side)")
        }
        self.name = name
        kernel = Parameter(name: "kernel", value: .glorotUniform([kernelSize.0, kernelSize.1, filters, inputChannels], using: &rng))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
        self.stride = (stride.0, stride.1)
        self.padding = (padding.0, padding.1)
        self.activation = activation
    }

    public var parameters: [Parameter] { bias.map { [kernel, $0] } ?? [kernel] }
    public var filters: Int { kernel.shape[2] }
    public var inputChannels: Int { kernel.shape[3] }

    /// `(in - 1) · stride - 2 · padding + kernel` along one axis, `nil` when it is not positive
    /// or overflows.
    static func outputSide(_ input: Int, kernel: Int, stride: Int, padding: Int) -> Int? {
        let (scaled, overflow) = (input - 1).multipliedReportingOverflow(by: stride)
        guard input >= 1, !overflow, scaled <= Int.max / 2 - kernel else { return nil }
        let side = scaled - 2 * padding + kernel
        return side >= 1 ? side : nil
    }

    /// The geometry of the convolution this layer transposes: its input is this layer's output
    /// (`[batch, outH, outW, filters]`), its output this layer's input.
    public func geometry(for input: Shape) throws -> WindowGeometry {
        let (kh, kw) = (kernel.shape[0], kernel.shape[1])
        guard input.rank == 4, input[3] == inputChannels, input[1] >= 1, input[2] >= 1,
              let height = Self.outputSide(input[1], kernel: kh, stride: stride.height, padding: padding.height),
              let width = Self.outputSide(input[2], kernel: kw, stride: stride.width, padding: padding.width),
              var g = WindowGeometry(input: [input[0], max(height, kh), max(width, kw), filters], window: (kh, kw),
                                     stride: stride, padding: .valid)
        else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, h >= 1, w >= 1, \(inputChannels)]", got: input)
        }
        g.inputHeight = height; g.inputWidth = width
        g.outputHeight = input[1]; g.outputWidth = input[2]
        g.padTop = padding.height; g.padLeft = padding.width
        return g
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        let g = try geometry(for: inputs.first ?? [])
        return [g.batch, g.inputHeight, g.inputWidth, filters]
    }

    /// `[batch, h, w, in]` -> `[batch, (h - 1)·sh - 2·ph + kh, (w - 1)·sw - 2·pw + kw, filters]`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        let g = try geometry(for: input.shape)
        let w = kernel.tracked, b = bias?.tracked
        let fixedKernel = !w.requiresGradient
        if !fixedKernel {
            forwardKernelCache.clear()
            backwardKernelCache.clear()
        }
        var output = ConvolutionKernels.inputGradient(g, outputGradient: input, kernel: w,
                                                      kernelCache: fixedKernel ? forwardKernelCache : nil)
        let relu = activation == .relu
        if b != nil || relu {
            let pixels = g.batch * g.inputHeight * g.inputWidth, width = filters
            ConvolutionKernels.withBias(b) { biasPointer in
                output.withUnsafeMutableBufferPointer { out in
                    ConvolutionKernels.epilogue(biasPointer, relu: relu, to: out.baseAddress!, rows: pixels, width: width,
                                                parallel: true)
                }
            }
        }
        guard Autograd.isRecording, input.requiresGradient || w.requiresGradient || b?.requiresGradient == true else {
            return output
        }
        let x = input.detached, kernelValue = w.detached
        let preActivation = PreActivationGradient(output: output.detached, relu: relu)
        let backwardCache = fixedKernel ? backwardKernelCache : nil
        var pullbacks: [(Tensor, Pullback)] = [
            (input, { dy in
                ConvolutionKernels.forward(g, input: preActivation(dy), kernel: kernelValue, bias: nil, relu: false,
                                           kernelCache: backwardCache)
            }),
            (w, { dy in ConvolutionKernels.kernelGradient(g, input: preActivation(dy), outputGradient: x) }),
        ]
        if let b { pullbacks.append((b, { dy in preActivation(dy).sumOverLeadingAxes() })) }
        return output.recordingGradient(from: pullbacks)
    }
}

import Layers
import Tensor

/// How a PyTorch tensor's layout maps onto a Rubble parameter's.
public enum TorchLayout: Sendable, Equatable {
    /// The same shape and order (biases, norms).
    case same
    /// `nn.Linear.weight [out, in]` <-> Dense kernel `[in, out]`.
    case linear
    /// `nn.Conv2d.weight [out, in, kh, kw]` <-> Conv2D kernel `[kh, kw, in, out]` (and
    /// `nn.ConvTranspose2d.weight [in, out, kh, kw]` <-> Conv2DTranspose kernel `[kh, kw, out, in]`).
    case convolution
    /// Depthwise `nn.Conv2d(groups=c).weight [c·m, 1, kh, kw]` <-> DepthwiseConv2D kernel `[kh, kw, c, m]`
    /// (multiplier 1 only: channel `c` of the input feeds output `c`).
    case depthwise

    /// The PyTorch shape of a Rubble parameter of `shape`.
    public func torchShape(of shape: Shape) -> [Int] {
        let d = shape.dims
        switch self {
        case .same: return d
        case .linear: return [d[1], d[0]]
        case .convolution: return [d[3], d[2], d[0], d[1]]
        case .depthwise: return [d[2] * d[3], 1, d[0], d[1]]
        }
    }

    /// A PyTorch tensor in Rubble's layout.
    public func fromTorch(_ tensor: Tensor) -> Tensor {
        switch self {
        case .same: return tensor
        case .linear: return tensor.permuted([1, 0])
        case .convolution: return tensor.permuted([2, 3, 1, 0])
        case .depthwise: return tensor.permuted([2, 3, 0, 1])
        }
    }

    /// A Rubble parameter value in PyTorch's layout.
    public func toTorch(_ tensor: Tensor) -> Tensor {
        switch self {
        case .same: return tensor
        case .linear: return tensor.permuted([1, 0])
        case .convolution: return tensor.permuted([3, 2, 0, 1])
        case .depthwise: return tensor.permuted([2, 3, 0, 1])
        }
    }
}

/// One tensor of a PyTorch state dict and the parameter that holds it.
public struct TorchTensor {
    /// The state-dict key, e.g. `segformer.encoder.block.0.0.attention.self.query.weight`.
    public let name: String
    public let parameter: Parameter
    public let layout: TorchLayout

    public init(name: String, parameter: Parameter, layout: TorchLayout) {
        self.name = name
        self.parameter = parameter
        self.layout = layout
    }
}

/// A layer that names its parameters as the PyTorch module of the same path does
/// (`<layer name>.weight`, `.bias`, BatchNorm's `.running_mean`, `.running_var`).
public protocol TorchModule: Layer {
    var torchTensors: [TorchTensor] { get }
}

extension Dense: TorchModule {
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).weight", parameter: kernel, layout: .linear),
         TorchTensor(name: "\(name).bias", parameter: bias, layout: .same)]
    }
}

extension Conv2D: TorchModule {
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).weight", parameter: kernel, layout: .convolution)]
            + (bias.map { [TorchTensor(name: "\(name).bias", parameter: $0, layout: .same)] } ?? [])
    }
}

/// `nn.ConvTranspose2d.weight [in, out, kh, kw]` <-> Conv2DTranspose kernel `[kh, kw, out, in]`:
/// the same permutation as a convolution's (``TorchLayout/convolution``).
extension Conv2DTranspose: TorchModule {
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).weight", parameter: kernel, layout: .convolution)]
            + (bias.map { [TorchTensor(name: "\(name).bias", parameter: $0, layout: .same)] } ?? [])
    }
}

extension DepthwiseConv2D: TorchModule {
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).weight", parameter: depthwiseKernel, layout: .depthwise)]
            + (bias.map { [TorchTensor(name: "\(name).bias", parameter: $0, layout: .same)] } ?? [])
    }
}

extension LayerNormalization: TorchModule {
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).weight", parameter: gamma, layout: .same),
         TorchTensor(name: "\(name).bias", parameter: beta, layout: .same)]
    }
}

extension BatchNormalization: TorchModule {
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).weight", parameter: gamma, layout: .same),
         TorchTensor(name: "\(name).bias", parameter: beta, layout: .same),
         TorchTensor(name: "\(name).running_mean", parameter: movingMean, layout: .same),
         TorchTensor(name: "\(name).running_var", parameter: movingVariance, layout: .same)]
    }
}

extension Layer {
    /// Every PyTorch tensor of this layer and the layers inside it, in `flattenedLayers` order.
    public var torchStateDict: [TorchTensor] {
        flattenedLayers.flatMap { ($0 as? any TorchModule)?.torchTensors ?? [] }
    }
}

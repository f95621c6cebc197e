import Layers
import Segmentation
import Tensor

/// DINOv2's LayerScale (`Dinov2LayerScale`): each channel of a residual branch multiplied by a
/// learnt factor, `lambda1` in PyTorch's state dict.
public final class LayerScale: ShapePreservingLayer, TorchModule {
    public let name: String
    /// `[channels]`.
    public let lambda: Parameter

    /// `name` is the module path, e.g. `backbone.encoder.layer.0.layer_scale1`; every factor
    /// starts at `value` (`layerscale_value`).
    init(name: String, features: Int, value: Float) {
        self.name = name
        lambda = Parameter(name: "lambda1", value: Tensor(repeating: value, shape: [features]))
    }

    public var parameters: [Parameter] { [lambda] }
    public var torchTensors: [TorchTensor] { [TorchTensor(name: "\(name).lambda1", parameter: lambda, layout: .same)] }

    /// `[..., channels]` -> the same shape.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank >= 1, input.shape.dims.last == lambda.shape[0] else {
            throw LayerError.shapeMismatch(layer: name, expected: "[..., \(lambda.shape[0])]", got: input.shape)
        }
        return input * lambda.tracked
    }
}

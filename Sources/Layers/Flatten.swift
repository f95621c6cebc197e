import Tensor

/// `[batch, h, w, c]` -> `[batch, h*w*c]`, in (h, w, c) order as Keras' Dense weights expect.
public final class Flatten: Layer {
    public let name: String
    public init(name: String = "flatten") { self.name = name }
    public var parameters: [Parameter] { [] }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1, inputs[0].rank >= 2 else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, ...]", got: inputs.first ?? [])
        }
        return [inputs[0][0], inputs[0].dims.dropFirst().reduce(1, *)]
    }

    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank >= 2 else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, ...]", got: input.shape)
        }
        return input.reshaped([input.shape[0], input.shape.dims.dropFirst().reduce(1, *)])
    }
}

import Tensor

/// A fully connected layer: `activation(x · kernel + bias)`, kernel `[in, out]` as in Keras.
public final class Dense: SoftmaxOutputLayer {
    public let name: String
    public let kernel: Parameter
    public let bias: Parameter
    public let activation: Activation

    public init(name: String, inputSize: Int, outputSize: Int, activation: Activation = .linear,
                rng: inout SeededGenerator) throws {
        for (setting, value) in [("input size", inputSize), ("units", outputSize)] where value < 1 {
            throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(value)", requirement: "must be >= 1")
        }
        self.name = name
        kernel = Parameter(name: "kernel", value: .glorotUniform([inputSize, outputSize], using: &rng))
        bias = Parameter(name: "bias", value: Tensor(zeros: [outputSize]))
        self.activation = activation
    }

    public var inputSize: Int { kernel.shape[0] }
    public var outputSize: Int { kernel.shape[1] }
    public var parameters: [Parameter] { [kernel, bias] }

    /// `[batch, in]` -> `[batch, out]`; any leading axes are kept (`[batch, tokens, in]` ->
    /// `[batch, tokens, out]`, as Keras' and PyTorch's dense layers apply to the last axis).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        activation.apply(try preActivation(input))
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1, inputs[0].rank >= 2, inputs[0].dims.last == inputSize else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, ..., \(inputSize)]", got: inputs.first ?? [])
        }
        return Shape(inputs[0].dims.dropLast() + [outputSize])
    }

    /// The pre-activation for a softmax layer, else the output itself.
    public func logits(_ input: Tensor, training: Bool) throws -> Tensor {
        activation == .softmax ? try preActivation(input) : try self(input, training: training)
    }

    /// `x · kernel + bias`, before the activation (the logits of a softmax layer).
    public func preActivation(_ input: Tensor) throws -> Tensor {
        guard input.rank >= 2, input.shape.dims.last == inputSize else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, ..., \(inputSize)]", got: input.shape)
        }
        guard input.rank > 2 else { return Tensor.linear(input, weight: kernel.tracked, bias: bias.tracked) }
        let rows = input.count / inputSize
        let product = Tensor.linear(input.reshaped([rows, inputSize]), weight: kernel.tracked, bias: bias.tracked)
        return product.reshaped(Shape(input.shape.dims.dropLast() + [outputSize]))
    }
}

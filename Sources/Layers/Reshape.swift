import Tensor

/// Reshapes each sample, keeping the batch axis (Keras `Reshape(target_shape)`).
///
/// `[batch, d1, ..., dk]` -> `[batch] + targetShape`, in row-major order (no data moves). One
/// entry of `targetShape` may be `-1`: it takes whatever size makes the element counts agree.
/// An input whose per-sample element count does not fit is a `shapeMismatch`. The gradient is
/// reshaped back.
public final class Reshape: Layer {
    public let name: String
    /// The per-sample shape, batch excluded; at most one `-1`.
    public let targetShape: [Int]

    public init(name: String = "reshape", targetShape: [Int]) throws {
        for value in targetShape where value < 1 && value != -1 {
            throw LayerError.invalidConfiguration(layer: name, setting: "target dimension \(value)",
                                                  requirement: "must be >= 1 or -1")
        }
        guard targetShape.filter({ $0 == -1 }).count <= 1 else {
            throw LayerError.invalidConfiguration(layer: name, setting: "target shape \(targetShape)",
                                                  requirement: "may have at most one -1")
        }
        self.name = name
        self.targetShape = targetShape
    }

    public var parameters: [Parameter] { [] }
    public var kerasClassName: String { "Reshape" }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard inputs.count == 1 else {
            throw LayerError.wrongInputCount(layer: name, expected: "1", got: inputs.count)
        }
        let input = inputs[0]
        let mismatch = LayerError.shapeMismatch(
            layer: name, expected: "[batch, ...] with a per-sample count that fits \(targetShape)", got: input)
        guard input.rank >= 1 else { throw mismatch }
        let perSample = input.dims.dropFirst().reduce(1, *)
        let known = targetShape.filter { $0 != -1 }.reduce(1, *)
        var dims = targetShape
        if let unknown = dims.firstIndex(of: -1) {
            guard known > 0, perSample % known == 0 else { throw mismatch }
            dims[unknown] = perSample / known
        } else {
            guard known == perSample else { throw mismatch }
        }
        return Shape([input[0]] + dims)
    }

    /// `[batch, ...]` -> `[batch] + targetShape`
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        input.reshaped(try outputShape(for: [input.shape]))
    }
}

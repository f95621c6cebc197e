import Layers
import Tensor

/// DINOv2's feed-forward block (`Dinov2MLP`): `fc1`, GELU (exact, erf), `fc2`.
public final class Dinov2MLP: CompositeLayer {
    public let name: String
    public let expand: Dense
    public let project: Dense

    /// `name` is the module path, e.g. `backbone.encoder.layer.0.mlp`.
    init(name: String, hiddenSize: Int, expandedSize: Int, rng: inout SeededGenerator) throws {
        self.name = name
        expand = try Dense(name: "\(name).fc1", inputSize: hiddenSize, outputSize: expandedSize, rng: &rng)
        project = try Dense(name: "\(name).fc2", inputSize: expandedSize, outputSize: hiddenSize, rng: &rng)
    }

    public var layers: [any Layer] { [expand, project] }

    /// `[batch, tokens, hidden]` -> the same shape (GELU in place without gradients).
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        if !training && !Autograd.isRecording {
            var hidden = try expand(input, training: false)
            hidden.applyGELU()
            return try project(hidden, training: false)
        }
        return try project(expand(input, training: training).gelu(), training: training)
    }
}

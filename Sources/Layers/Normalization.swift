import Tensor

/// Keras' `Normalization` preprocessing layer over the last axis (`axis=-1`), as EfficientNet's
/// input uses it: `y = (x - mean) / max(sqrt(variance), 1e-7)` per channel.
///
/// That is tf_keras 2.21's `Normalization.call` (`tf_keras/layers/preprocessing/
/// normalization.py`): `(inputs - self.mean) / tf.maximum(tf.sqrt(self.variance),
/// backend.epsilon())`, with `backend.epsilon()` Keras' fuzz factor 1e-7 (the epsilon is a
/// floor on the standard deviation, not added to the variance). Its weights, in Keras' order:
/// `mean` and `variance` (shape `[channels]`, initialised to 0 and 1) and `count` (a scalar, the
/// number of samples `adapt` saw; int64 in Keras, kept as a float here). All three are state:
/// set by `adapt` or a weights file, never trained. Gradients flow to the input only.
public final class Normalization: ChannelwiseLayer {
    public let name: String
    public let mean: Parameter
    public let variance: Parameter
    public let count: Parameter
    /// Keras' `backend.epsilon()`, the floor on `sqrt(variance)`.
    public static let epsilon: Float = 1e-7

    /// `mean` and `variance` default to Keras' initial 0 and 1 per channel. Throws
    /// `LayerError.invalidConfiguration` for channels < 1, arrays of another length, or a
    /// negative or non-finite variance (or non-finite mean).
    public init(name: String = "normalization", channels: Int, mean: [Float]? = nil, variance: [Float]? = nil,
                count: Float = 0) throws {
        guard channels >= 1 else {
            throw LayerError.invalidConfiguration(layer: name, setting: "channels \(channels)", requirement: "must be >= 1")
        }
        for (setting, values) in [("mean", mean), ("variance", variance)] {
            guard let values else { continue }
            guard values.count == channels else {
                throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) of \(values.count) values",
                                                      requirement: "must have one per channel (\(channels))")
            }
            guard values.allSatisfy({ $0.isFinite && (setting == "mean" || $0 >= 0) }) else {
                throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(values)",
                                                      requirement: setting == "mean" ? "must be finite" : "must be finite and >= 0")
            }
        }
        self.name = name
        self.mean = Parameter(name: "mean", value: Tensor(mean ?? [Float](repeating: 0, count: channels), shape: [channels]),
                              role: .state)
        self.variance = Parameter(name: "variance",
                                  value: Tensor(variance ?? [Float](repeating: 1, count: channels), shape: [channels]),
                                  role: .state)
        self.count = Parameter(name: "count", value: Tensor([count], shape: []), role: .state)
    }

    public var channels: Int { mean.shape[0] }
    public var parameters: [Parameter] { [mean, variance, count] }
    public var requiredChannels: Int? { channels }
    public var kerasClassName: String { "Normalization" }



    /// `1 / max(sqrt(variance), 1e-7)` per channel, from the current state.
    public var inverseStandardDeviation: [Float] {
        variance.value.scalars.map { 1 / max($0.squareRoot(), Self.epsilon) }
    }

    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try checkChannels(input.shape)
        let c = channels, scale = inverseStandardDeviation
        let output = ChannelKernels.affine(input, channels: c, center: mean.value.scalars, scale: scale, shift: nil)
        return output.recordingGradient(from: input) { dy in
            ChannelKernels.affine(dy, channels: c, center: nil, scale: scale, shift: nil)
        }
    }
}

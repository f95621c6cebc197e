import Tensor

/// Keras' `Rescaling`: `y = x * scale + offset`, no weights. `scale` and `offset` are one value
/// each or one per channel (last axis), as Keras broadcasts them (EfficientNet's `rescaling` is
/// `1/255`; with ImageNet weights it adds a per-channel `Rescaling(1 / sqrt(stddev))`).
public final class Rescaling: ChannelwiseLayer {
    public let name: String
    /// One value, or one per channel.
    public let scale: [Float]
    /// One value, or one per channel.
    public let offset: [Float]

    /// Throws `LayerError.invalidConfiguration` for an empty `scale` or `offset`, for
    /// per-channel arrays of two different lengths, or for values that are not finite.
    public init(name: String = "rescaling", scale: [Float], offset: [Float] = [0]) throws {
        for (setting, values) in [("scale", scale), ("offset", offset)] {
            guard !values.isEmpty else {
                throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) []", requirement: "must have at least one value")
            }
            guard values.allSatisfy(\.isFinite) else {
                throw LayerError.invalidConfiguration(layer: name, setting: "\(setting) \(values)", requirement: "must be finite")
            }
        }
        guard scale.count == 1 || offset.count == 1 || scale.count == offset.count else {
            throw LayerError.invalidConfiguration(
                layer: name, setting: "scale of \(scale.count) values and offset of \(offset.count)",
                requirement: "must have one value or the same number (one per channel)")
        }
        self.name = name
        self.scale = scale
        self.offset = offset
    }

    /// `x * scale + offset` with one scale and offset for every channel.
    public convenience init(name: String = "rescaling", scale: Float, offset: Float = 0) throws {
        try self.init(name: name, scale: [scale], offset: [offset])
    }

    public var parameters: [Parameter] { [] }
    public var kerasClassName: String { "Rescaling" }

    /// The channel count the per-channel values need (`nil`: any).
    public var requiredChannels: Int? { max(scale.count, offset.count) > 1 ? max(scale.count, offset.count) : nil }



    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try checkChannels(input.shape)
        // Scalars are applied as one channel over every element.
        let channels = requiredChannels ?? 1
        func perChannel(_ values: [Float]) -> [Float] {
            values.count == channels ? values : [Float](repeating: values[0], count: channels)
        }
        let scales = perChannel(scale)
        let output = ChannelKernels.affine(input, channels: channels, center: nil, scale: scales,
                                           shift: offset.allSatisfy { $0 == 0 } ? nil : perChannel(offset))
        return output.recordingGradient(from: input) { dy in
            ChannelKernels.affine(dy, channels: channels, center: nil, scale: scales, shift: nil)
        }
    }
}

import Tensor

/// Inverted dropout: in training, zeroes each element with probability `rate` and scales the
/// rest by `1 / (1 - rate)`; identity at inference. Seeded, so runs repeat.
public final class Dropout: ShapePreservingLayer {
    /// Which elements share one random draw (Keras' `noise_shape`).
    public enum NoiseShape: Sendable, Equatable {
        /// Every element its own draw (`noise_shape=None`).
        case elementwise
        /// One draw per example (`noise_shape=(None, 1, 1, 1)`, EfficientNet's drop-connect):
        /// a whole residual branch is kept or dropped.
        case perSample
    }

    public let name: String
    public let rate: Float
    public let noiseShape: NoiseShape
    private var rng: SeededGenerator

    /// Throws `LayerError.invalidConfiguration` unless `rate` is in [0, 1) (a rate of 1 would
    /// drop everything and train nothing).
    public init(name: String = "dropout", rate: Float, seed: UInt64 = 0, noiseShape: NoiseShape = .elementwise) throws {
        guard (0..<1).contains(rate) else {
            throw LayerError.invalidConfiguration(layer: name, setting: "rate \(rate)", requirement: "must be in [0, 1)")
        }
        self.name = name
        self.rate = rate
        self.noiseShape = noiseShape
        rng = SeededGenerator(seed: seed)
    }

    public var parameters: [Parameter] { [] }
    public var isDeterministic: Bool { false }

    /// The generator's state, for checkpoints that resume exactly.
    public var generator: SeededGenerator {
        get { rng }
        set { rng = newValue }
    }

    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard training, rate > 0 else { return input }
        let keep = 1 - rate
        switch noiseShape {
        case .elementwise:
            let mask = Tensor(shape: input.shape) { buffer in
                for i in buffer.indices { buffer[i] = rng.nextUnit() < keep ? 1 / keep : 0 }
            }
            return input * mask
        case .perSample:
            let batch = input.shape.rank > 0 ? input.shape[0] : 1
            let maskShape = Shape([batch] + [Int](repeating: 1, count: max(input.rank - 1, 0)))
            let mask = Tensor(shape: maskShape) { buffer in
                for i in buffer.indices { buffer[i] = rng.nextUnit() < keep ? 1 / keep : 0 }
            }
            return input * mask
        }
    }
}

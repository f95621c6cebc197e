import Layers
import Tensor

/// The paper's small CNN trained from scratch: four 3x3 ReLU convolutions (32, 32, 64, 64
/// filters), each followed by a 2x2 max-pool, then Flatten -> Dense(64, ReLU) [-> Dropout]
/// -> Dense(classes, softmax), named as Keras names fresh layers (`conv2d`, `conv2d_1`, ...,
/// `max_pooling2d`, ..., `flatten`, `dense`, `dropout`, `dense_1`).
public struct BaselineCNNConfiguration: Sendable, Equatable {
    public var inputHeight: Int
    public var inputWidth: Int
    public var inputChannels: Int
    public var filters: [Int]
    /// Keras' Conv2D default is `.valid`.
    public var padding: Padding
    public var denseUnits: Int
    public var dropoutRate: Float?
    public var classes: Int

    public init(inputSize: Int = 150, filters: [Int] = [32, 32, 64, 64], padding: Padding = .valid,
                denseUnits: Int = 64, dropoutRate: Float? = nil, classes: Int = 2) {
        inputHeight = inputSize
        inputWidth = inputSize
        inputChannels = 3
        self.filters = filters
        self.padding = padding
        self.denseUnits = denseUnits
        self.dropoutRate = dropoutRate
        self.classes = classes
    }

    public var inputShape: [Int] { [inputHeight, inputWidth, inputChannels] }

    /// The smallest input side that leaves at least one pixel after the last pooling.
    public var minimumInputSize: Int {
        let shrink = padding == .valid ? 2 : 0
        func survives(_ side: Int) -> Bool {
            var s = side
            for _ in filters { s = (s - shrink) / 2; if s < 1 { return false } }
            return true
        }
        var side = 1
        while !survives(side) { side += 1 }
        return side
    }
}

public enum BaselineCNN {
    public static func make(_ configuration: BaselineCNNConfiguration = BaselineCNNConfiguration(),
                            name: String = "sequential", rng: inout SeededGenerator) throws -> Sequential {
        let c = configuration
        var layers: [any Layer] = []
        var channels = c.inputChannels
        for (i, filters) in c.filters.enumerated() {
            let suffix = i == 0 ? "" : "_\(i)"
            layers.append(try Conv2D(name: "conv2d" + suffix, inputChannels: channels, filters: filters,
                                 kernelSize: (3, 3), stride: (1, 1), padding: c.padding, activation: .relu, rng: &rng))
            layers.append(MaxPool2D(name: "max_pooling2d" + suffix))
            channels = filters
        }
        layers.append(Flatten(name: "flatten"))
        let features = try Sequential(name: name, layers).outputShape(for: Shape([1] + c.inputShape)).count
        layers.append(try Dense(name: "dense", inputSize: features, outputSize: c.denseUnits, activation: .relu, rng: &rng))
        if let rate = c.dropoutRate { layers.append(try Dropout(name: "dropout", rate: rate)) }
        layers.append(try Dense(name: "dense_1", inputSize: c.denseUnits, outputSize: c.classes, activation: .softmax,
                            rng: &rng))
        return try Sequential(name: name, layers)
    }
}

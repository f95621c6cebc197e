import Layers
import Tensor

/// Builds a `keras.applications` backbone as a ``Graph``, node by node, knowing every node's
/// output shape as it goes (MobileNetV2's and EfficientNet's `correct_pad` depends on it).
///
/// Each method adds one Keras layer with the name given, in the order Keras creates them, so
/// that `flattenedLayers` lists the layers as `model.layers` does.
struct BackboneBuilder {
    private(set) var graph: GraphBuilder
    /// `[1, height, width, channels]` of every node so far.
    private var shapes: [String: Shape]
    var rng: SeededGenerator
    /// BatchNormalization settings of this architecture.
    let momentum: Float
    let epsilon: Float

    init(inputSize: Int, momentum: Float, epsilon: Float, seed: UInt64) {
        graph = GraphBuilder(inputName: "input_1")
        shapes = [graph.input.name: [1, inputSize, inputSize, 3]]
        rng = SeededGenerator(seed: seed)
        self.momentum = momentum
        self.epsilon = epsilon
    }

    var input: GraphValue { graph.input }

    /// `[1, h, w, c]` of a node.
    func shape(_ value: GraphValue) -> Shape { shapes[value.name]! }
    func channels(_ value: GraphValue) -> Int { shape(value)[3] }

    /// Adds `layer` reading `inputs`, checking that the shapes fit (a too-small input fails
    /// here, naming the layer).
    mutating func add(_ layer: any Layer, _ inputs: GraphValue...) throws -> GraphValue {
        shapes[layer.name] = try layer.outputShape(for: inputs.map(shape))
        return graph.add(layer, inputs)
    }

    mutating func conv(_ name: String, _ x: GraphValue, filters: Int, kernel: Int, stride: Int = 1,
                       padding: Padding = .same, useBias: Bool = true, activation: Activation = .linear) throws -> GraphValue {
        try add(try Conv2D(name: name, inputChannels: channels(x), filters: filters, kernelSize: (kernel, kernel),
                           stride: (stride, stride), padding: padding, activation: activation, useBias: useBias,
                           rng: &rng), x)
    }

    mutating func depthwise(_ name: String, _ x: GraphValue, kernel: Int, stride: Int, padding: Padding) throws -> GraphValue {
        try add(try DepthwiseConv2D(name: name, inputChannels: channels(x), kernelSize: (kernel, kernel),
                                    stride: (stride, stride), padding: padding, useBias: false, rng: &rng), x)
    }

    mutating func batchNorm(_ name: String, _ x: GraphValue) throws -> GraphValue {
        try add(try BatchNormalization(name: name, channels: channels(x), momentum: momentum, epsilon: epsilon), x)
    }

    mutating func activation(_ name: String, _ x: GraphValue, _ kind: Activation) throws -> GraphValue {
        try add(ActivationLayer(name: name, kind), x)
    }

    mutating func relu6(_ name: String, _ x: GraphValue) throws -> GraphValue {
        try add(ReLU(name: name, maxValue: 6), x)
    }

    mutating func zeroPadding(_ name: String, _ x: GraphValue, _ padding: ((Int, Int), (Int, Int))) throws -> GraphValue {
        try add(try ZeroPadding2D(name: name, padding: padding), x)
    }

    /// Keras' `imagenet_utils.correct_pad`: the padding that makes a stride-2 "valid" window of
    /// `kernel` cover the input as TensorFlow's "same" would, one pixel less before when the
    /// side is even.
    func correctPad(_ x: GraphValue, kernel: Int) -> ((Int, Int), (Int, Int)) {
        let s = shape(x)
        let half = kernel / 2
        let adjust = (1 - s[1] % 2, 1 - s[2] % 2)
        return ((half - adjust.0, half), (half - adjust.1, half))
    }

    func build(name: String, output: GraphValue) throws -> Graph {
        try graph.build(name: name, output: output)
    }
}

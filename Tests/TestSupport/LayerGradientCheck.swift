import Layers
import Tensor

extension GradientCheck {
    /// Caffe-style check of one layer: the scalar loss is `projected(layer.forward(inputs))`;
    /// every input and every trainable parameter of the layer is perturbed in turn (`samples`
    /// coordinates of each, all when `nil`) and central differences are compared with the
    /// gradients autograd gives. Layer state (BatchNorm moving statistics) is restored after
    /// each evaluation, so a training-mode forward pass may update it.
    ///
    /// Returns the worst relative error per checked tensor: `"input0"`, `"input1"`, ... and each
    /// parameter's name (`"kernel"`, `"gamma"`). A parameter or input that received no gradient
    /// reports `.infinity`.
    public static func layerErrors(_ layer: any Layer, inputs: [Tensor], training: Bool = false,
                                   epsilon: Float = 1e-2, samples: Int? = nil, floor: Double = 1e-2,
                                   seed: UInt64 = 7) throws -> [String: Float] {
        let state = layer.state
        let savedState = state.map(\.value)
        func restoreState() { for (parameter, value) in zip(state, savedState) { parameter.value = value } }
        defer { restoreState() }
        func loss(_ xs: [Tensor]) throws -> Tensor {
            defer { restoreState() }
            return projected(try layer.forward(xs, training: training), seed: seed)
        }
        var result: [String: Float] = [:]
        for (k, error) in try errors(at: inputs, epsilon: epsilon, samples: samples, floor: floor, loss).enumerated() {
            result["input\(k)"] = error
        }
        let detachedInputs = inputs.map(\.detached)
        for parameter in layer.parameters where parameter.isTrainable {
            result[parameter.name] = try maxRelativeError(of: parameter, epsilon: epsilon, samples: samples,
                                                          floor: floor) { try loss(detachedInputs) }
        }
        return result
    }
}

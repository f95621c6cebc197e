import Layers
import Tensor

/// A classifier's ``ExecutionPlan`` split after one node: the prefix ends with the target
/// node (whose output is the activation `A`), the suffix maps `A` - and whatever else later
/// steps still read from the prefix, such as a residual branch - to the logits.
///
/// Names are looked up on the plan, so nested `Sequential`s and `Graph`s (a ResNet50 base
/// inside a transfer model) are seen through, and the model is left exactly as it was built.
struct ModelSplit {
    let plan: ExecutionPlan
    /// The value index of the target node.
    let index: Int
    let layerName: String

    /// Splits `model` after the layer called `name`, or after its last `Conv2D` when `nil`.
    init(model: any Layer, layer name: String?) throws {
        do {
            plan = try ExecutionPlan(model)
        } catch LayerError.unsupportedContainer(let container, _) {
            throw GradCAMError.unsupportedContainer(container)
        }
        let layers = plan.steps.map(\.layer)
        if let name {
            guard let found = plan.valueIndex[name], found >= 0 else {
                throw GradCAMError.unknownLayer(name, candidates: Self.spatialLayerNames(layers))
            }
            // Past a Flatten (or a Dense) activations are [batch, features]: refuse before running.
            if layers[...found].contains(where: { $0 is Flatten || $0 is Dense }) {
                throw GradCAMError.notSpatial(layer: name, outputShape: nil)
            }
            index = found
            layerName = name
        } else {
            guard let last = layers.lastIndex(where: { $0 is Conv2D }) else { throw GradCAMError.noConvolutionLayer }
            index = last
            layerName = layers[last].name
        }
    }

    /// Names of the layers before the first Flatten or Dense, for error messages (those with a
    /// 4-D output in an image model).
    static func spatialLayerNames(_ layers: [any Layer]) -> [String] {
        var names: [String] = []
        for layer in layers {
            if layer is Flatten || layer is Dense { break }
            names.append(layer.name)
        }
        return names.count > 12 ? Array(names.suffix(12)) : names
    }

    /// The prefix run on `input` without recording a graph: the target's activation
    /// (`state.value(index)`) and the values the suffix still needs.
    func activation(_ input: Tensor) throws -> PlanState {
        let state = try withoutGradients { try plan.advance(plan.start(input), through: index, training: false) }
        let output = try state.value(index)
        guard output.rank == 4 else { throw GradCAMError.notSpatial(layer: layerName, outputShape: output.shape) }
        return state
    }

    /// The logits with the target's activation replaced by `activation` (e.g. a tapped copy):
    /// the suffix run in inference mode, stopping before a final softmax.
    func logits(from state: PlanState, activation: Tensor) throws -> Tensor {
        var state = state
        state.values[index] = activation
        let x = try plan.advance(state, through: plan.output, training: false, logits: true).value(plan.output)
        guard x.rank == 2, x.shape[0] == activation.shape[0], x.shape[1] > 0 else {
            throw GradCAMError.notAClassifier(layer: layerName, outputShape: x.shape)
        }
        return x
    }

    /// Runs `body` with the suffix's parameters frozen, so a backward pass computes only the
    /// activation gradient: no weight-gradient work, and no gradient left in any `Parameter`
    /// (a training loop's accumulators stay untouched). Trainability is restored afterwards.
    /// Not safe while another thread trains or explains the same model.
    func withFrozenSuffix<R>(_ body: () throws -> R) rethrows -> R {
        let parameters = plan.steps[(index + 1)...].flatMap { $0.layer.parameters }
        let saved = parameters.map(\.isTrainable)
        for parameter in parameters { parameter.isTrainable = false }
        defer { for (parameter, trainable) in zip(parameters, saved) { parameter.isTrainable = trainable } }
        return try body()
    }
}

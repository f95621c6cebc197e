import Layers
import Tensor

/// Grad-CAM (Selvaraju et al.) and Grad-CAM++ at one layer of a classifier (a `Sequential` or a `Graph`).
///
/// For image `n` and target class `c`, with `A` the layer's activation `[h, w, channels]` and
/// `score` the class's logit (or its softmax probability):
/// `alpha_k = mean over (h, w) of d score / d A_k`, `map = ReLU(sum_k alpha_k A_k)`, then the
/// map is divided by its maximum (or min-max scaled). Maps stay at the layer's resolution;
/// ``GradCAMPanel`` upsamples them onto the photo.
///
/// The model is not changed or rebuilt: its ``ExecutionPlan`` is split after the target node
/// (any named node of a `Sequential` or `Graph`, at any depth). The prefix runs once per batch without recording a graph; then, for each
/// requested set of targets, the suffix runs from `A.requiringGradient()` to the logits and one
/// backward pass gives `d score / d A` for every image at once (the score is the sum of each
/// image's own target, and images do not interact). On VGG19 at the last convolution the cost
/// is about one forward pass plus a few small passes through `block5_pool` and the head.
///
/// While it runs, the parameters after the layer are marked frozen (and restored afterwards),
/// so no weight gradients are computed or left behind. Do not run it on a model another thread
/// is training or explaining at the same time.
public struct GradCAM {
    public let model: any Layer
    /// The name of the layer the maps are taken at.
    public var layer: String { split.layerName }
    let split: ModelSplit

    /// Grad-CAM at the layer called `layer`, or at the model's last `Conv2D` when `nil`.
    /// Throws ``GradCAMError/unknownLayer(_:candidates:)`` for a name the model lacks and
    /// ``GradCAMError/notSpatial(layer:outputShape:)`` for a layer after the `Flatten`.
    public init(model: any Layer, layer: String? = nil) throws {
        self.model = model
        split = try ModelSplit(model: model, layer: layer)
    }

    /// Maps for `input` (`[batch, height, width, channels]`, preprocessed as the model expects).
    public func explain(_ input: Tensor, target: GradCAMTarget = .predicted,
                        options: GradCAMOptions = GradCAMOptions()) throws -> GradCAMResult {
        try explain(input, targets: [target], options: options)[0]
    }

    /// One result per class `0..<classes`, in class order: every class's map for every image
    /// (the paper's side-by-side figures). The prefix runs once.
    public func explainEveryClass(_ input: Tensor, options: GradCAMOptions = GradCAMOptions()) throws -> [GradCAMResult] {
        let state = try checkedActivation(input)
        let activation = try state.value(split.index)
        let classes = try split.withFrozenSuffix {
            try withoutGradients { try split.logits(from: state, activation: activation) }
        }.shape[1]
        return try explain(state: state, targets: (0..<classes).map { .class($0) }, options: options)
    }

    /// One result per entry of `targets`, sharing one run of the prefix.
    public func explain(_ input: Tensor, targets: [GradCAMTarget],
                        options: GradCAMOptions = GradCAMOptions()) throws -> [GradCAMResult] {
        try explain(state: try checkedActivation(input), targets: targets, options: options)
    }

    /// The target layer's activation `[batch, h, w, channels]` for `input` (no graph recorded).
    public func activation(_ input: Tensor) throws -> Tensor { try checkedActivation(input).value(split.index) }

    private func checkedActivation(_ input: Tensor) throws -> PlanState {
        guard input.rank == 4, input.shape[0] > 0 else { throw GradCAMError.badInput(input.shape) }
        return try split.activation(input)
    }

    private func explain(state: PlanState, targets: [GradCAMTarget],
                         options: GradCAMOptions) throws -> [GradCAMResult] {
        try split.withFrozenSuffix {
            try targets.map { try explainOne(state: state, target: $0, options: options) }
        }
    }

    /// One suffix pass and one backward pass for a target per image.
    private func explainOne(state: PlanState, target: GradCAMTarget, options: GradCAMOptions) throws -> GradCAMResult {
        let activation = try state.value(split.index).detached
        let batch = activation.shape[0]
        let tapped = activation.requiringGradient()
        let logits = try split.logits(from: state, activation: tapped)
        let classes = logits.shape[1]
        let values = logits.detached
        let targetClasses = try Self.resolve(target, logits: values, batch: batch, classes: classes)
        // d(sum_n score[n, c_n]) / d(scores) is one-hot: seed the backward pass with it.
        let seed = Tensor(shape: [batch, classes]) { buffer in
            for (n, c) in targetClasses.enumerated() { buffer[n * classes + c] = 1 }
        }
        let probabilities = withoutGradients { values.softmax() }
        let scoreSource: Tensor
        switch options.score {
        case .logit:
            logits.backward(seed: seed)
            scoreSource = values
        case .softmax:
            let softmax = logits.softmax()
            softmax.backward(seed: seed)
            scoreSource = probabilities
        }
        let gradients = tapped.gradient ?? Tensor(zeros: activation.shape)
        let weights: Tensor
        switch options.method {
        case .gradCAM: weights = HeatMapMath.meanGradientWeights(gradients: gradients)
        case .gradCAMPlusPlus: weights = HeatMapMath.gradCAMPlusPlusWeights(activations: activation, gradients: gradients)
        }
        let maps = HeatMapMath.normalized(HeatMapMath.weightedMaps(activations: activation, weights: weights),
                                          options.normalization)
        let scores = targetClasses.enumerated().map { n, c in scoreSource[flat: n * classes + c] }
        return GradCAMResult(layer: layer, options: options, targets: targetClasses, maps: maps, weights: weights,
                             logits: values, probabilities: probabilities, scores: scores)
    }

    /// The class of each image for `target`, checked against the model's classes.
    static func resolve(_ target: GradCAMTarget, logits: Tensor, batch: Int, classes: Int) throws -> [Int] {
        let chosen: [Int]
        switch target {
        case .class(let c): chosen = [Int](repeating: c, count: batch)
        case .perImage(let list):
            guard list.count == batch else { throw GradCAMError.targetCountMismatch(targets: list.count, batch: batch) }
            chosen = list
        case .predicted: chosen = logits.argmaxLastAxis()
        }
        if let bad = chosen.first(where: { !(0..<classes).contains($0) }) {
            throw GradCAMError.classOutOfRange(class: bad, classes: classes)
        }
        return chosen
    }
}

import Layers
import Tensor

/// SegFormer's all-MLP decode head (`SegformerDecodeHead`): each stage's features projected to
/// `decoder_hidden_size` (`linear_c.N.proj`), resized bilinearly (`align_corners=False`) to the
/// first stage's resolution, concatenated in reverse stage order, fused by a 1x1 convolution
/// without bias, BatchNorm (PyTorch's: epsilon 1e-5, momentum 0.1), ReLU, dropout and the 1x1
/// classifier. Logits come out at 1/4 of the input size.
public final class SegformerDecodeHead: CompositeLayer {
    public let name = "decode_head"
    public let projections: [Dense]
    public let fuse: Conv2D
    public let norm: BatchNormalization
    public let dropout: Dropout
    public let classifier: Conv2D

    init(stageSizes: [Int], decoderSize: Int, classes: Int, dropoutRate: Float, seed: UInt64,
         rng: inout SeededGenerator) throws {
        projections = try stageSizes.enumerated().map { index, size in
            try Dense(name: "decode_head.linear_c.\(index).proj", inputSize: size, outputSize: decoderSize, rng: &rng)
        }
        fuse = try Conv2D(name: "decode_head.linear_fuse", inputChannels: decoderSize * stageSizes.count,
                          filters: decoderSize, kernelSize: (1, 1), padding: .valid, activation: .linear,
                          useBias: false, rng: &rng)
        // PyTorch's momentum 0.1 weighs the new batch; Keras' momentum weighs the old average.
        norm = try BatchNormalization(name: "decode_head.batch_norm", channels: decoderSize, momentum: 0.9, epsilon: 1e-5)
        dropout = try Dropout(name: "decode_head.dropout", rate: dropoutRate, seed: seed)
        classifier = try Conv2D(name: "decode_head.classifier", inputChannels: decoderSize, filters: classes,
                                kernelSize: (1, 1), padding: .valid, activation: .linear, rng: &rng)
    }

    public var layers: [any Layer] { projections + [fuse, norm, dropout, classifier] }

    /// One input only is not meaningful for the head: use ``logits(hiddenStates:training:)``.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try logits(hiddenStates: [input], training: training)
    }

    /// - Parameter hiddenStates: the encoder's stage outputs, NHWC, first stage first.
    /// - Returns: `[batch, height_0, width_0, classes]`, the first stage's resolution.
    public func logits(hiddenStates: [Tensor], training: Bool) throws -> Tensor {
        guard hiddenStates.count == projections.count, let first = hiddenStates.first, first.rank == 4 else {
            throw LayerError.wrongInputCount(layer: name, expected: "\(projections.count) stage outputs",
                                             got: hiddenStates.count)
        }
        let (height, width) = (first.shape[1], first.shape[2])
        if !training && !Autograd.isRecording { return try inferenceLogits(hiddenStates: hiddenStates) }
        var projected: [Tensor] = []
        for (state, projection) in zip(hiddenStates, projections) {
            let features = try projection(state, training: training)
            projected.append(features.shape[1] == height && features.shape[2] == width
                             ? features : features.resizedBilinear(height: height, width: width, alignCorners: false))
        }
        let fused = try fuse(Concatenate(name: "\(name).concat").forward(projected.reversed(), training: training),
                             training: training)
        let activated = try norm(fused, training: training).relu()
        return try classifier(dropout(activated, training: training), training: training)
    }

    /// The same logits with the linear algebra reordered for inference: projection, the fuse
    /// convolution's slice for that stage and the BatchNorm's scale are one matrix per stage,
    /// applied at the stage's own resolution before resizing (bilinear resizing commutes with
    /// per-pixel affine maps, its weights summing to 1). No 4·D-channel concatenation is built,
    /// and the first stage's term, the resized sum, ReLU and classifier run row by row
    /// (``Tensor/projectedResizedSum(_:baseWeight:maps:alignCorners:constant:outputWeight:outputBias:)``),
    /// so nothing at the full decoder width leaves cache.
    func inferenceLogits(hiddenStates: [Tensor]) throws -> Tensor {
        let stages = projections.count, decoder = fuse.filters
        let (scale, shift) = norm.foldedScaleAndShift()
        let scaleRow = Tensor(scale, shape: [1, decoder])
        // The fuse kernel [1, 1, stages·D, D]; HF concatenates the stages last first.
        let fuseKernel = fuse.kernel.value.reshaped([stages * decoder, decoder])
        var constant = Tensor(shift, shape: [decoder])
        var combined: [Tensor] = [], terms: [Tensor] = []
        for (index, (state, projection)) in zip(hiddenStates, projections).enumerated() {
            let slot = stages - 1 - index
            let slice = Tensor(Array(fuseKernel.scalars[(slot * decoder * decoder)..<((slot + 1) * decoder * decoder)]),
                               shape: [decoder, decoder]) * scaleRow
            combined.append(Tensor.matmul(projection.kernel.value, slice))
            constant = constant + Tensor.matmul(projection.bias.value.reshaped([1, decoder]), slice).reshaped([decoder])
            guard index > 0 else { continue }
            let pixels = state.count / state.shape[3]
            let term = Tensor.matmul(state.reshaped([pixels, state.shape[3]]), combined[index])
            terms.append(term.reshaped([state.shape[0], state.shape[1], state.shape[2], decoder]))
        }
        let classes = classifier.filters
        return Tensor.projectedResizedSum(hiddenStates[0], baseWeight: combined[0], maps: terms, alignCorners: false,
                                          constant: constant,
                                          outputWeight: classifier.kernel.value.reshaped([decoder, classes]),
                                          outputBias: classifier.bias?.value ?? Tensor(zeros: [classes]))
    }
}

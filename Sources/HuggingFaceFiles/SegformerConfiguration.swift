import Foundation

/// `transformers`' `SegformerConfig`: every field it has, with its defaults (SegFormer-B0,
/// `nvidia/mit-b0`), plus the labels. Read from and written to `config.json`
/// (``load(folder:)``, ``save(to:)``); keys this type does not model are kept in ``otherKeys``
/// and written back unchanged.
///
/// Per-stage lists have ``numEncoderBlocks`` entries: stage `i` embeds its input with a
/// `patchSizes[i]` x `patchSizes[i]` convolution of stride `strides[i]` into `hiddenSizes[i]`
/// channels, then runs `depths[i]` blocks of efficient self-attention (`numAttentionHeads[i]`
/// heads, keys and values reduced by `srRatios[i]`) and a Mix-FFN of width
/// `hiddenSizes[i] * mlpRatios[i]`.
public struct SegformerConfiguration: Sendable, Equatable {
    /// Input channels (3: RGB).
    public var numChannels: Int
    /// Stages of the hierarchical encoder.
    public var numEncoderBlocks: Int
    public var depths: [Int]
    public var srRatios: [Int]
    public var hiddenSizes: [Int]
    public var patchSizes: [Int]
    public var strides: [Int]
    public var numAttentionHeads: [Int]
    public var mlpRatios: [Int]
    /// The Mix-FFN activation; only `"gelu"` (exact, erf) is supported.
    public var hiddenAct: String
    public var hiddenDropoutProb: Double
    public var attentionProbsDropoutProb: Double
    public var classifierDropoutProb: Double
    public var initializerRange: Double
    /// Stochastic depth, growing linearly from 0 to this over all blocks.
    public var dropPathRate: Double
    public var layerNormEps: Double
    /// Channels of the all-MLP decode head.
    public var decoderHiddenSize: Int
    /// Label value the loss ignores (255).
    public var semanticLossIgnoreIndex: Int
    public var reshapeLastStage: Bool
    /// Class names in label order: `id2label["0"]`, `id2label["1"]`, ...
    public var classNames: [String]
    /// Keys of the original `config.json` this type does not model (`dtype`,
    /// `transformers_version`, ...), written back as they were.
    public var otherKeys: [String: JSONValue]

    /// The number of classes the decode head predicts.
    public var numLabels: Int { classNames.count }

    /// `model_type` of SegFormer configurations.
    public static let modelType = "segformer"
    /// The `architectures` entry written by ``save(to:)``.
    public static let architecture = "SegformerForSemanticSegmentation"

    /// Bounds on sizes read from a file (hostile input).
    public static let maximumSize = 65536
    public static let maximumDepth = 1024
    public static let maximumEncoderBlocks = 64

    /// `SegformerConfig()`'s defaults; `classNames` defaults as `PretrainedConfig` does
    /// (`num_labels` 2: `LABEL_0`, `LABEL_1`).
    public init(numChannels: Int = 3, numEncoderBlocks: Int = 4, depths: [Int] = [2, 2, 2, 2],
                srRatios: [Int] = [8, 4, 2, 1], hiddenSizes: [Int] = [32, 64, 160, 256],
                patchSizes: [Int] = [7, 3, 3, 3], strides: [Int] = [4, 2, 2, 2],
                numAttentionHeads: [Int] = [1, 2, 5, 8], mlpRatios: [Int] = [4, 4, 4, 4],
                hiddenAct: String = "gelu", hiddenDropoutProb: Double = 0, attentionProbsDropoutProb: Double = 0,
                classifierDropoutProb: Double = 0.1, initializerRange: Double = 0.02, dropPathRate: Double = 0.1,
                layerNormEps: Double = 1e-6, decoderHiddenSize: Int = 256, semanticLossIgnoreIndex: Int = 255,
                reshapeLastStage: Bool = true, classNames: [String] = SegformerConfiguration.defaultClassNames(2),
                otherKeys: [String: JSONValue] = [:]) {
        self.numChannels = numChannels
        self.numEncoderBlocks = numEncoderBlocks
        self.depths = depths
        self.srRatios = srRatios
        self.hiddenSizes = hiddenSizes
        self.patchSizes = patchSizes
        self.strides = strides
        self.numAttentionHeads = numAttentionHeads
        self.mlpRatios = mlpRatios
        self.hiddenAct = hiddenAct
        self.hiddenDropoutProb = hiddenDropoutProb
        self.attentionProbsDropoutProb = attentionProbsDropoutProb
        self.classifierDropoutProb = classifierDropoutProb
        self.initializerRange = initializerRange
        self.dropPathRate = dropPathRate
        self.layerNormEps = layerNormEps
        self.decoderHiddenSize = decoderHiddenSize
        self.semanticLossIgnoreIndex = semanticLossIgnoreIndex
        self.reshapeLastStage = reshapeLastStage
        self.classNames = classNames
        self.otherKeys = otherKeys
    }

    /// `PretrainedConfig`'s names for `count` unnamed labels: `LABEL_0`, `LABEL_1`, ...
    public static func defaultClassNames(_ count: Int) -> [String] { (0..<max(0, count)).map { "LABEL_\($0)" } }

    /// The hidden activations `SegformerConfiguration` accepts.
    public static let supportedActivations: Set<String> = ["gelu"]

    /// Checks every value as ``init(json:file:)`` does (for a configuration built in code before
    /// it is saved): per-stage lists of `numEncoderBlocks` entries, sizes in 1...65536 (depths
    /// 1...1024), hidden sizes divisible by their heads, probabilities in [0, 1], a positive
    /// `layer_norm_eps`, a supported activation, 1...65536 distinct class names.
    public func validate(file: String) throws {
        func fail(_ key: String, _ reason: String) -> HuggingFaceError { .invalidConfig(file: file, key: key, reason: reason) }
        let size = 1...Self.maximumSize
        guard size.contains(numChannels) else { throw fail("num_channels", "\(numChannels) is outside \(size)") }
        guard (1...Self.maximumEncoderBlocks).contains(numEncoderBlocks) else {
            throw fail("num_encoder_blocks", "\(numEncoderBlocks) is outside 1...\(Self.maximumEncoderBlocks)")
        }
        let stages: [(String, [Int], ClosedRange<Int>)] = [
            ("depths", depths, 1...Self.maximumDepth), ("sr_ratios", srRatios, size), ("hidden_sizes", hiddenSizes, size),
            ("patch_sizes", patchSizes, size), ("strides", strides, size),
            ("num_attention_heads", numAttentionHeads, size), ("mlp_ratios", mlpRatios, size),
        ]
        for (key, values, range) in stages {
            guard values.count == numEncoderBlocks else {
                throw fail(key, "has \(values.count) entries, expected \(numEncoderBlocks) (num_encoder_blocks)")
            }
            if let bad = values.firstIndex(where: { !range.contains($0) }) {
                throw fail("\(key)[\(bad)]", "\(values[bad]) is outside \(range)")
            }
        }
        for stage in 0..<numEncoderBlocks where hiddenSizes[stage] % numAttentionHeads[stage] != 0 {
            throw fail("num_attention_heads[\(stage)]", "hidden_sizes[\(stage)] = \(hiddenSizes[stage]) is not divisible by "
                       + "\(numAttentionHeads[stage]) heads")
        }
        guard Self.supportedActivations.contains(hiddenAct) else {
            throw fail("hidden_act", "\(HuggingFaceError.quote(hiddenAct)) is not supported (supported: gelu)")
        }
        let probabilities = [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb),
                             ("classifier_dropout_prob", classifierDropoutProb), ("drop_path_rate", dropPathRate)]
        for (key, value) in probabilities where !(0...1).contains(value) {
            throw fail(key, "\(value) is not a probability in [0, 1]")
        }
        guard initializerRange.isFinite, initializerRange >= 0 else {
            throw fail("initializer_range", "\(initializerRange) is not a finite number >= 0")
        }
        guard layerNormEps.isFinite, layerNormEps > 0, layerNormEps < 1 else {
            throw fail("layer_norm_eps", "\(layerNormEps) is not in (0, 1)")
        }
        guard size.contains(decoderHiddenSize) else { throw fail("decoder_hidden_size", "\(decoderHiddenSize) is outside \(size)") }
        guard size.contains(classNames.count) else {
            throw fail("id2label", "\(classNames.count) labels, expected 1...\(Self.maximumSize)")
        }
        var seen: [String: Int] = [:]
        for (index, name) in classNames.enumerated() {
            if let earlier = seen.updateValue(index, forKey: name) {
                throw fail("id2label[\"\(index)\"]", "the class name \(HuggingFaceError.quote(name)) is also label \(earlier)")
            }
        }
        if let reserved = ["architectures", "model_type", "id2label", "label2id", "num_labels"]
            .first(where: { otherKeys[$0] != nil }) {
            throw fail(reserved, "is modelled by SegformerConfiguration and cannot be one of its otherKeys")
        }
    }

    /// Reads `config.json` in `folder` and checks it is a SegFormer configuration
    /// (``HuggingFaceError/missingFile(file:)``, ``HuggingFaceError/unsupportedModelType(file:found:expected:)``
    /// and the value errors of ``init(json:file:)``).
    public static func load(folder: URL) throws -> SegformerConfiguration {
        let config = try HuggingFaceConfig(folder: folder)
        try config.requireModelType(modelType)
        return try SegformerConfiguration(json: config.values, file: config.path)
    }

    /// Writes `config.json` into `folder` atomically, laid out as `save_pretrained` does it
    /// (pretty-printed, keys sorted; see ``JSONFile/write(_:to:)``), so that
    /// `SegformerConfig.from_pretrained(folder)` (and `AutoConfig`) read it back: ``otherKeys``
    /// as they were, every modelled key, `architectures: ["SegformerForSemanticSegmentation"]`,
    /// `model_type: "segformer"`, and `id2label` / `label2id` from ``classNames``.
    /// Validates first (``validate(file:)``).
    public func save(to folder: URL) throws {
        let url = folder.appendingPathComponent(HuggingFaceConfig.fileName)
        try validate(file: url.path)
        try JSONFile.write(jsonObject(), to: url)
    }
}

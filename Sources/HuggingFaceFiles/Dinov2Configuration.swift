import Foundation

/// `transformers`' `Dinov2Config` as a Depth Anything `backbone_config` holds it: every field the
/// backbone's forward pass reads, with `Dinov2Config`'s defaults for keys the file leaves out
/// (DINOv2-Base's sizes; Depth Anything's files give their own). Keys this type does not model
/// are kept in ``otherKeys``.
///
/// The backbone cuts the image into `patchSize` x `patchSize` patches, embeds each into
/// `hiddenSize` channels, prepends a class token, adds position embeddings learnt for an
/// `imageSize / patchSize` square grid, and runs `numHiddenLayers` pre-norm transformer layers
/// (`numAttentionHeads` heads, an MLP `mlpRatio` times wider, LayerScale on both branches).
/// ``outIndices`` picks the hidden states the neck reads (0 = the embeddings, `i` = after layer
/// `i`), each layer-normalised when ``applyLayernorm``.
public struct Dinov2Configuration: Sendable, Equatable {
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    /// The MLP's width is `Int(hiddenSize * mlpRatio)`.
    public var mlpRatio: Double
    /// Only `"gelu"` (exact, erf) is supported.
    public var hiddenAct: String
    public var hiddenDropoutProb: Double
    public var attentionProbsDropoutProb: Double
    public var layerNormEps: Double
    /// The side of the square image the position embeddings were learnt for.
    public var imageSize: Int
    public var patchSize: Int
    public var numChannels: Int
    /// Only `true` is supported (every released DINOv2 has query, key and value biases).
    public var qkvBias: Bool
    /// LayerScale's initial value (the files hold the learnt `lambda1`).
    public var layerscaleValue: Double
    public var dropPathRate: Double
    /// Only `false` is supported (the SwiGLU MLP is DINOv2-Giant's).
    public var useSwigluFfn: Bool
    /// The hidden states handed to the neck: 0 is the embeddings ("stem"), `i` the output of
    /// layer `i` ("stage`i`").
    public var outIndices: [Int]
    public var applyLayernorm: Bool
    /// Must be `false` for Depth Anything: its neck drops the class token itself.
    public var reshapeHiddenStates: Bool
    /// Whether the weights hold a `mask_token` (used in pre-training only).
    public var useMaskToken: Bool
    public var otherKeys: [String: JSONValue]

    /// `model_type` of DINOv2 configurations.
    public static let modelType = "dinov2"

    /// `Dinov2Config()`'s defaults, except `outIndices` (Depth Anything's default backbone reads
    /// layers 9-12) and `reshapeHiddenStates` (`false`, what Depth Anything needs).
    public init(hiddenSize: Int = 768, numHiddenLayers: Int = 12, numAttentionHeads: Int = 12, mlpRatio: Double = 4,
                hiddenAct: String = "gelu", hiddenDropoutProb: Double = 0, attentionProbsDropoutProb: Double = 0,
                layerNormEps: Double = 1e-6, imageSize: Int = 224, patchSize: Int = 14, numChannels: Int = 3,
                qkvBias: Bool = true, layerscaleValue: Double = 1, dropPathRate: Double = 0, useSwigluFfn: Bool = false,
                outIndices: [Int] = [9, 10, 11, 12], applyLayernorm: Bool = true, reshapeHiddenStates: Bool = false,
                useMaskToken: Bool = true, otherKeys: [String: JSONValue] = [:]) {
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.mlpRatio = mlpRatio
        self.hiddenAct = hiddenAct
        self.hiddenDropoutProb = hiddenDropoutProb
        self.attentionProbsDropoutProb = attentionProbsDropoutProb
        self.layerNormEps = layerNormEps
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.numChannels = numChannels
        self.qkvBias = qkvBias
        self.layerscaleValue = layerscaleValue
        self.dropPathRate = dropPathRate
        self.useSwigluFfn = useSwigluFfn
        self.outIndices = outIndices
        self.applyLayernorm = applyLayernorm
        self.reshapeHiddenStates = reshapeHiddenStates
        self.useMaskToken = useMaskToken
        self.otherKeys = otherKeys
    }

    /// The MLP's hidden width, `Int(hiddenSize * mlpRatio)` as Python's `int()` truncates it.
    public var mlpHiddenSize: Int { Int(Double(hiddenSize) * mlpRatio) }
    /// The side of the patch grid the position embeddings were learnt for.
    public var positionGrid: Int { imageSize / patchSize }

    /// Bounds on sizes read from a file (hostile input).
    public static let maximumSize = 65536
    public static let maximumLayers = 1024

    /// Checks every value (`file` and `prefix` name the key in errors): sizes in 1...65536
    /// (layers 1...1024), heads dividing the hidden size, a patch no larger than the image,
    /// an MLP ratio giving a width in 1...65536, probabilities in [0, 1], a positive
    /// `layer_norm_eps` below 1, increasing out indices in 0...layers, and the supported variants (GELU,
    /// query/key/value biases, no SwiGLU, no reshaped hidden states).
    public func validate(file: String, prefix: String = "backbone_config.") throws {
        func fail(_ key: String, _ reason: String) -> HuggingFaceError { .invalidConfig(file: file, key: prefix + key, reason: reason) }
        let size = 1...Self.maximumSize
        for (key, value) in [("hidden_size", hiddenSize), ("num_attention_heads", numAttentionHeads), ("image_size", imageSize),
                             ("patch_size", patchSize), ("num_channels", numChannels)] where !size.contains(value) {
            throw fail(key, "\(value) is outside \(size)")
        }
        guard (1...Self.maximumLayers).contains(numHiddenLayers) else {
            throw fail("num_hidden_layers", "\(numHiddenLayers) is outside 1...\(Self.maximumLayers)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw fail("num_attention_heads", "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) heads")
        }
        guard patchSize <= imageSize else { throw fail("patch_size", "\(patchSize) is larger than image_size \(imageSize)") }
        guard mlpRatio.isFinite, mlpRatio > 0, Double(hiddenSize) * mlpRatio < Double(Self.maximumSize + 1), mlpHiddenSize >= 1 else {
            throw fail("mlp_ratio", "\(mlpRatio) does not give an MLP width in \(size) for hidden_size \(hiddenSize)")
        }
        guard hiddenAct == "gelu" else { throw fail("hidden_act", "\(HuggingFaceError.quote(hiddenAct)) is not supported (supported: gelu)") }
        for (key, value) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb),
                             ("drop_path_rate", dropPathRate)] where !(0...1).contains(value) {
            throw fail(key, "\(value) is not a probability in [0, 1]")
        }
        guard layerNormEps.isFinite, layerNormEps > 0, layerNormEps < 1 else { throw fail("layer_norm_eps", "\(layerNormEps) is not in (0, 1)") }
        guard layerscaleValue.isFinite else { throw fail("layerscale_value", "\(layerscaleValue) is not finite") }
        guard qkvBias else { throw fail("qkv_bias", "false is not supported (query, key and value have biases)") }
        guard !useSwigluFfn else { throw fail("use_swiglu_ffn", "true is not supported (the SwiGLU MLP of DINOv2-Giant)") }
        guard !reshapeHiddenStates else {
            throw fail("reshape_hidden_states", "true is not supported: Depth Anything's neck drops the class token itself "
                       + "(transformers cannot run such a model either)")
        }
        guard (1...16).contains(outIndices.count) else { throw fail("out_indices", "has \(outIndices.count) entries, expected 1...16") }
        if let bad = outIndices.firstIndex(where: { !(0...numHiddenLayers).contains($0) }) {
            throw fail("out_indices[\(bad)]", "\(outIndices[bad]) is outside 0...\(numHiddenLayers) (num_hidden_layers)")
        }
        if let bad = outIndices.indices.dropFirst().first(where: { outIndices[$0] <= outIndices[$0 - 1] }) {
            throw fail("out_indices[\(bad)]", "\(outIndices[bad]) does not follow \(outIndices[bad - 1]): the stages must "
                       + "be in increasing order, as transformers requires")
        }
    }
}

extension Dinov2Configuration {
    /// The keys this type models.
    public static let modelledKeys: Set<String> = [
        "hidden_size", "num_hidden_layers", "num_attention_heads", "mlp_ratio", "hidden_act", "hidden_dropout_prob",
        "attention_probs_dropout_prob", "layer_norm_eps", "image_size", "patch_size", "num_channels", "qkv_bias",
        "layerscale_value", "drop_path_rate", "use_swiglu_ffn", "out_indices", "out_features", "stage_names",
        "apply_layernorm", "reshape_hidden_states", "use_mask_token", "model_type",
    ]

    /// Parses a `backbone_config` object. Missing keys take `defaults`' values; `model_type`,
    /// when present, must be `"dinov2"`. `out_indices` wins over `out_features` (`"stem"`,
    /// `"stage3"`, ...), which is read when the indices are absent. `image_size` and
    /// `patch_size` may be an integer or a square `[side, side]`. Then ``validate(file:prefix:)``.
    public init(json: [String: JSONValue], file: String, prefix: String = "backbone_config.",
                defaults: Dinov2Configuration) throws {
        // Keys as the file nests them (`backbone_config.hidden_size`), so errors name them so.
        let fields = ConfigFields(object: Dictionary(uniqueKeysWithValues: json.map { (prefix + $0.key, $0.value) }), file: file)
        func fail(_ key: String, _ reason: String) -> HuggingFaceError { .invalidConfig(file: file, key: prefix + key, reason: reason) }
        if let value = json["model_type"] {
            guard case let .string(found) = value else { throw fail("model_type", "\(ConfigFields.show(value)) is not a string") }
            guard found == Self.modelType else {
                throw HuggingFaceError.unsupportedModelType(file: file, found: found, expected: Self.modelType)
            }
        }
        let size = 1...Self.maximumSize
        func side(_ key: String, _ fallback: Int) throws -> Int {
            guard let value = json[key] else { return fallback }
            if let list = value.arrayValue {
                let sides = try list.enumerated().map { try fields.int($0.element, key: "\(prefix)\(key)[\($0.offset)]", in: size) }
                guard sides.count == 2, sides[0] == sides[1] else {
                    throw fail(key, "\(ConfigFields.show(value)) is not one side or a square [side, side]")
                }
                return sides[0]
            }
            return try fields.int(value, key: prefix + key, in: size)
        }
        let layers = try fields.int(prefix + "num_hidden_layers", default: defaults.numHiddenLayers, in: 1...Self.maximumLayers)
        self.init(
            hiddenSize: try fields.int(prefix + "hidden_size", default: defaults.hiddenSize, in: size),
            numHiddenLayers: layers,
            numAttentionHeads: try fields.int(prefix + "num_attention_heads", default: defaults.numAttentionHeads, in: size),
            mlpRatio: try fields.double(prefix + "mlp_ratio", default: defaults.mlpRatio, in: 0...Double(Self.maximumSize), excludingLowerBound: true),
            hiddenAct: try fields.string(prefix + "hidden_act", default: defaults.hiddenAct),
            hiddenDropoutProb: try fields.double(prefix + "hidden_dropout_prob", default: defaults.hiddenDropoutProb, in: 0...1),
            attentionProbsDropoutProb: try fields.double(prefix + "attention_probs_dropout_prob", default: defaults.attentionProbsDropoutProb, in: 0...1),
            layerNormEps: try fields.double(prefix + "layer_norm_eps", default: defaults.layerNormEps, in: 0...1, excludingLowerBound: true),
            imageSize: try side("image_size", defaults.imageSize),
            patchSize: try side("patch_size", defaults.patchSize),
            numChannels: try fields.int(prefix + "num_channels", default: defaults.numChannels, in: size),
            qkvBias: try fields.bool(prefix + "qkv_bias", default: defaults.qkvBias),
            layerscaleValue: try fields.double(prefix + "layerscale_value", default: defaults.layerscaleValue,
                                               in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude),
            dropPathRate: try fields.double(prefix + "drop_path_rate", default: defaults.dropPathRate, in: 0...1),
            useSwigluFfn: try fields.bool(prefix + "use_swiglu_ffn", default: defaults.useSwigluFfn),
            outIndices: try Self.outIndices(fields, prefix: prefix, layers: layers, default: defaults.outIndices),
            applyLayernorm: try fields.bool(prefix + "apply_layernorm", default: defaults.applyLayernorm),
            reshapeHiddenStates: try fields.bool(prefix + "reshape_hidden_states", default: defaults.reshapeHiddenStates),
            useMaskToken: try fields.bool(prefix + "use_mask_token", default: defaults.useMaskToken),
            otherKeys: json.filter { !Self.modelledKeys.contains($0.key) })
        try validate(file: file, prefix: prefix)
    }

    /// `out_indices`, else the indices of `out_features` (`"stem"` = 0, `"stageN"` = N).
    private static func outIndices(_ fields: ConfigFields, prefix: String, layers: Int, default fallback: [Int]) throws -> [Int] {
        let range = 0...layers
        if let value = fields.object[prefix + "out_indices"], value != .null {
            guard case let .array(elements) = value, (1...16).contains(elements.count) else {
                throw fields.error(prefix + "out_indices", "\(ConfigFields.show(value)) is not a list of 1...16 indices")
            }
            return try elements.enumerated().map { try fields.int($0.element, key: "\(prefix)out_indices[\($0.offset)]", in: range) }
        }
        guard let value = fields.object[prefix + "out_features"], value != .null else { return fallback }
        guard case let .array(elements) = value, (1...16).contains(elements.count) else {
            throw fields.error(prefix + "out_features", "\(ConfigFields.show(value)) is not a list of 1...16 stage names")
        }
        return try elements.enumerated().map { offset, element in
            let key = "\(prefix)out_features[\(offset)]"
            guard case let .string(name) = element else { throw fields.error(key, "\(ConfigFields.show(element)) is not a string") }
            if name == "stem" { return 0 }
            guard name.hasPrefix("stage"), let index = Int(name.dropFirst(5)), String(index) == String(name.dropFirst(5)),
                  range.contains(index) else {
                throw fields.error(key, "\(HuggingFaceError.quote(name)) is not \"stem\" or \"stage1\" ... \"stage\(layers)\"")
            }
            return index
        }
    }
}

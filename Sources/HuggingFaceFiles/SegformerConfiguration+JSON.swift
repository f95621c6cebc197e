import Foundation

extension SegformerConfiguration {
    /// The `config.json` keys this type models (everything else goes to ``otherKeys``).
    public static let modelledKeys: Set<String> = [
        "num_channels", "num_encoder_blocks", "depths", "sr_ratios", "hidden_sizes", "patch_sizes", "strides",
        "num_attention_heads", "mlp_ratios", "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob",
        "classifier_dropout_prob", "initializer_range", "drop_path_rate", "layer_norm_eps", "decoder_hidden_size",
        "semantic_loss_ignore_index", "reshape_last_stage", "id2label", "label2id", "num_labels", "architectures",
        "model_type",
    ]

    /// Parses a `config.json` object (`file` names it in errors). Missing keys take
    /// `SegformerConfig`'s defaults; a `model_type` other than `"segformer"` is
    /// ``HuggingFaceError/unsupportedModelType(file:found:expected:)``; values are checked as
    /// ``validate(file:)`` says, and `id2label` must have exactly the keys `"0"` ... `"n-1"`
    /// with string values. Without `id2label`, `num_labels` (default 2) names the classes
    /// `LABEL_0` ... as `transformers` does; with it, `num_labels` and `label2id` are ignored
    /// (`transformers` derives both from `id2label`).
    public init(json: [String: JSONValue], file: String) throws {
        try HuggingFaceConfig.checkModelType(json, expected: Self.modelType, file: file, required: false)
        let fields = ConfigFields(object: json, file: file)
        let defaults = SegformerConfiguration()
        let size = 1...Self.maximumSize
        let blocks = try fields.int("num_encoder_blocks", default: defaults.numEncoderBlocks, in: 1...Self.maximumEncoderBlocks)
        func stage(_ key: String, _ fallback: [Int], _ range: ClosedRange<Int> = 1...SegformerConfiguration.maximumSize) throws -> [Int] {
            let values = try fields.ints(key, default: fallback, count: blocks, in: range)
            guard values.count == blocks else {
                throw fields.error(key, "has \(values.count) entries (the default), expected \(blocks) (num_encoder_blocks)")
            }
            return values
        }
        self.init(
            numChannels: try fields.int("num_channels", default: defaults.numChannels, in: size),
            numEncoderBlocks: blocks,
            depths: try stage("depths", defaults.depths, 1...Self.maximumDepth),
            srRatios: try stage("sr_ratios", defaults.srRatios),
            hiddenSizes: try stage("hidden_sizes", defaults.hiddenSizes),
            patchSizes: try stage("patch_sizes", defaults.patchSizes),
            strides: try stage("strides", defaults.strides),
            numAttentionHeads: try stage("num_attention_heads", defaults.numAttentionHeads),
            mlpRatios: try stage("mlp_ratios", defaults.mlpRatios),
            hiddenAct: try fields.string("hidden_act", default: defaults.hiddenAct),
            hiddenDropoutProb: try fields.double("hidden_dropout_prob", default: defaults.hiddenDropoutProb, in: 0...1),
            attentionProbsDropoutProb: try fields.double("attention_probs_dropout_prob",
                                                         default: defaults.attentionProbsDropoutProb, in: 0...1),
            classifierDropoutProb: try fields.double("classifier_dropout_prob", default: defaults.classifierDropoutProb, in: 0...1),
            initializerRange: try fields.double("initializer_range", default: defaults.initializerRange,
                                                in: 0...Double.greatestFiniteMagnitude),
            dropPathRate: try fields.double("drop_path_rate", default: defaults.dropPathRate, in: 0...1),
            layerNormEps: try fields.double("layer_norm_eps", default: defaults.layerNormEps, in: 0...1, excludingLowerBound: true),
            decoderHiddenSize: try fields.int("decoder_hidden_size", default: defaults.decoderHiddenSize, in: size),
            semanticLossIgnoreIndex: try fields.int("semantic_loss_ignore_index", default: defaults.semanticLossIgnoreIndex,
                                                    in: Int(Int32.min)...Int(Int32.max)),
            reshapeLastStage: try fields.bool("reshape_last_stage", default: defaults.reshapeLastStage),
            classNames: try Self.classNames(fields),
            otherKeys: json.filter { !Self.modelledKeys.contains($0.key) })
        try validate(file: file)
    }

    /// `id2label` as a list in label order, or `num_labels` default names.
    private static func classNames(_ fields: ConfigFields) throws -> [String] {
        guard let value = fields.object["id2label"], value != .null else {
            let count = try fields.int("num_labels", default: 2, in: 1...maximumSize)
            return defaultClassNames(count)
        }
        guard case let .object(labels) = value else {
            throw fields.error("id2label", "\(ConfigFields.show(value)) is not an object")
        }
        guard (1...maximumSize).contains(labels.count) else {
            throw fields.error("id2label", "\(labels.count) labels, expected 1...\(maximumSize)")
        }
        var names: [String] = []
        names.reserveCapacity(labels.count)
        for index in 0..<labels.count {
            guard let label = labels[String(index)] else {
                let unexpected = labels.keys.sorted().first { key in
                    guard let number = Int(key), String(number) == key else { return true }
                    return number < 0 || number >= labels.count
                }
                throw fields.error("id2label", "has no label \"\(index)\" (its \(labels.count) keys must be \"0\" ... "
                                   + "\"\(labels.count - 1)\"; found \(HuggingFaceError.quote(unexpected ?? "?")))")
            }
            guard case let .string(name) = label else {
                throw fields.error("id2label[\"\(index)\"]", "\(ConfigFields.show(label)) is not a string")
            }
            names.append(name)
        }
        return names
    }

    /// The `config.json` object ``save(to:)`` writes.
    public func jsonObject() -> [String: JSONValue] {
        func ints(_ values: [Int]) -> JSONValue { .array(values.map { .integer(Int64($0)) }) }
        var object = otherKeys
        object["architectures"] = .array([.string(Self.architecture)])
        object["model_type"] = .string(Self.modelType)
        object["num_channels"] = .integer(Int64(numChannels))
        object["num_encoder_blocks"] = .integer(Int64(numEncoderBlocks))
        object["depths"] = ints(depths)
        object["sr_ratios"] = ints(srRatios)
        object["hidden_sizes"] = ints(hiddenSizes)
        object["patch_sizes"] = ints(patchSizes)
        object["strides"] = ints(strides)
        object["num_attention_heads"] = ints(numAttentionHeads)
        object["mlp_ratios"] = ints(mlpRatios)
        object["hidden_act"] = .string(hiddenAct)
        object["hidden_dropout_prob"] = .number(hiddenDropoutProb)
        object["attention_probs_dropout_prob"] = .number(attentionProbsDropoutProb)
        object["classifier_dropout_prob"] = .number(classifierDropoutProb)
        object["initializer_range"] = .number(initializerRange)
        object["drop_path_rate"] = .number(dropPathRate)
        object["layer_norm_eps"] = .number(layerNormEps)
        object["decoder_hidden_size"] = .integer(Int64(decoderHiddenSize))
        object["semantic_loss_ignore_index"] = .integer(Int64(semanticLossIgnoreIndex))
        object["reshape_last_stage"] = .bool(reshapeLastStage)
        var id2label: [String: JSONValue] = [:]
        var label2id: [String: JSONValue] = [:]
        for (index, name) in classNames.enumerated() {
            id2label[String(index)] = .string(name)
            label2id[name] = .integer(Int64(index))
        }
        object["id2label"] = .object(id2label)
        object["label2id"] = .object(label2id)
        return object
    }
}

extension SegformerConfiguration: Codable {
    /// Decodes a `config.json` object (validated as ``init(json:file:)``).
    public init(from decoder: any Decoder) throws {
        let object = try [String: JSONValue](from: decoder)
        try self.init(json: object, file: "<decoded SegformerConfiguration>")
    }

    /// Encodes ``jsonObject()``: the `config.json` object.
    public func encode(to encoder: any Encoder) throws {
        try jsonObject().encode(to: encoder)
    }
}

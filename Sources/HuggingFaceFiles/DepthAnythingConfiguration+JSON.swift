import Foundation

extension DepthAnythingConfiguration {
    /// The `config.json` keys this type models (everything else goes to ``otherKeys``).
    public static let modelledKeys: Set<String> = [
        "backbone_config", "backbone", "use_pretrained_backbone", "use_timm_backbone", "patch_size",
        "reassemble_hidden_size", "reassemble_factors", "neck_hidden_sizes", "fusion_hidden_size", "head_in_index",
        "head_hidden_size", "depth_estimation_type", "max_depth", "initializer_range", "model_type", "architectures",
    ]

    /// Parses a `config.json` object (`file` names it in errors). Missing keys take
    /// `DepthAnythingConfig`'s defaults; a missing `backbone_config` is ``defaultBackbone``, a
    /// present one takes `Dinov2Config`'s defaults for the keys it lacks. A `model_type` other
    /// than `"depth_anything"` is ``HuggingFaceError/unsupportedModelType(file:found:expected:)``;
    /// a `backbone` name (a timm or hub backbone instead of `backbone_config`) and
    /// `use_timm_backbone: true` are refused. `patch_size` may be an integer or `[side, side]`;
    /// `max_depth: null` is 1, as the head multiplies by it. Then ``validate(file:)``.
    public init(json: [String: JSONValue], file: String) throws {
        try HuggingFaceConfig.checkModelType(json, expected: Self.modelType, file: file, required: false)
        let fields = ConfigFields(object: json, file: file)
        if let name = json["backbone"], name != .null {
            throw fields.error("backbone", "\(ConfigFields.show(name)) names a backbone to download; only a DINOv2 "
                               + "backbone_config is supported")
        }
        if try fields.bool("use_timm_backbone", default: false) {
            throw fields.error("use_timm_backbone", "true is not supported (a DINOv2 backbone_config is)")
        }
        let defaults = DepthAnythingConfiguration()
        let backbone: Dinov2Configuration
        switch json["backbone_config"] {
        case nil, .null?:
            backbone = Self.defaultBackbone
        case let .object(members)?:
            backbone = try Dinov2Configuration(json: members, file: file, defaults: Dinov2Configuration())
        case let value?:
            throw fields.error("backbone_config", "\(ConfigFields.show(value)) is not an object")
        }
        let size = 1...Self.maximumSize
        var patch = defaults.patchSize
        if let value = json["patch_size"] {
            if let list = value.arrayValue {
                let sides = try list.enumerated().map { try fields.int($0.element, key: "patch_size[\($0.offset)]", in: size) }
                guard sides.count == 2, sides[0] == sides[1] else {
                    throw fields.error("patch_size", "\(ConfigFields.show(value)) is not one side or a square [side, side]")
                }
                patch = sides[0]
            } else {
                patch = try fields.int(value, key: "patch_size", in: size)
            }
        }
        let typeName = try fields.string("depth_estimation_type", default: defaults.depthEstimationType.rawValue)
        guard let type = DepthEstimationType(rawValue: typeName) else {
            throw fields.error("depth_estimation_type", "\(HuggingFaceError.quote(typeName)) is not \"relative\" or \"metric\"")
        }
        var maxDepth = defaults.maxDepth
        if let value = json["max_depth"], value != .null {
            maxDepth = try fields.double(value, key: "max_depth", in: 0...Double.greatestFiniteMagnitude, excludingLowerBound: true)
        }
        self.init(
            backbone: backbone,
            patchSize: patch,
            reassembleHiddenSize: try fields.int("reassemble_hidden_size", default: defaults.reassembleHiddenSize, in: size),
            reassembleFactors: try fields.doubles("reassemble_factors", default: defaults.reassembleFactors, counts: 1...16,
                                                  in: 0...Double(Self.maximumSize), excludingLowerBound: true),
            neckHiddenSizes: try fields.ints("neck_hidden_sizes", default: defaults.neckHiddenSizes, count: nil, in: size),
            fusionHiddenSize: try fields.int("fusion_hidden_size", default: defaults.fusionHiddenSize, in: size),
            headInIndex: try fields.int("head_in_index", default: defaults.headInIndex, in: -16...15),
            headHiddenSize: try fields.int("head_hidden_size", default: defaults.headHiddenSize, in: size),
            depthEstimationType: type,
            maxDepth: maxDepth,
            initializerRange: try fields.double("initializer_range", default: defaults.initializerRange,
                                                in: 0...Double.greatestFiniteMagnitude),
            otherKeys: json.filter { !Self.modelledKeys.contains($0.key) })
        try validate(file: file)
    }
}

import Foundation

extension ImageProcessorConfiguration {
    /// The `preprocessor_config.json` keys this type models (`reduce_labels` is the old
    /// spelling of `do_reduce_labels`, read as `SegformerImageProcessor` reads it).
    public static let modelledKeys: Set<String> = [
        "image_processor_type", "do_resize", "size", "resample", "do_rescale", "rescale_factor", "do_normalize",
        "image_mean", "image_std", "do_reduce_labels", "reduce_labels", "keep_aspect_ratio", "ensure_multiple_of",
        "size_divisor", "do_pad",
    ]
    /// Modelled keys that may be `null` (Python's `None`); a `null` one stays in ``otherKeys``.
    static let optionalKeys: Set<String> = ["do_reduce_labels", "keep_aspect_ratio", "ensure_multiple_of", "size_divisor", "do_pad"]

    /// Parses a `preprocessor_config.json` object (`file` names it in errors); keys the file
    /// lacks take `fallback`'s values. `size` may be `{"height", "width"}`, `{"shortest_edge"}`
    /// (with an optional `"longest_edge"`) or a single integer (a square, as the processors'
    /// `get_size_dict` reads it); `resample` a PIL code 0...5. Then ``validate(file:)``.
    public init(json: [String: JSONValue], file: String, default fallback: ImageProcessorConfiguration = .segformerDefaults) throws {
        let fields = ConfigFields(object: json, file: file)
        let sides = 1...Self.maximumSize
        let resampleCode = try fields.int("resample", default: fallback.resample.rawValue, in: 0...Int.max)
        guard let resample = Resample(rawValue: resampleCode) else {
            throw fields.error("resample", "\(resampleCode) is not a PIL resampling filter (0 nearest ... 5 hamming)")
        }
        var reduceLabels = try fields.optionalBool("do_reduce_labels", default: fallback.doReduceLabels)
        if json["do_reduce_labels"] == nil, json["reduce_labels"] != nil {
            reduceLabels = try fields.optionalBool("reduce_labels", default: nil)
        }
        self.init(
            imageProcessorType: try fields.string("image_processor_type", default: fallback.imageProcessorType),
            doResize: try fields.bool("do_resize", default: fallback.doResize),
            size: try Self.size(fields, default: fallback.size),
            resample: resample,
            doRescale: try fields.bool("do_rescale", default: fallback.doRescale),
            rescaleFactor: try fields.double("rescale_factor", default: fallback.rescaleFactor,
                                             in: 0...Double.greatestFiniteMagnitude, excludingLowerBound: true),
            doNormalize: try fields.bool("do_normalize", default: fallback.doNormalize),
            imageMean: try fields.doubles("image_mean", default: fallback.imageMean, counts: 1...16,
                                          in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude),
            imageStd: try fields.doubles("image_std", default: fallback.imageStd, counts: 1...16,
                                         in: 0...Double.greatestFiniteMagnitude, excludingLowerBound: true),
            doReduceLabels: reduceLabels,
            keepAspectRatio: try fields.optionalBool("keep_aspect_ratio", default: fallback.keepAspectRatio),
            ensureMultipleOf: try fields.optionalInt("ensure_multiple_of", default: fallback.ensureMultipleOf, in: sides),
            sizeDivisor: try fields.optionalInt("size_divisor", default: fallback.sizeDivisor, in: sides),
            doPad: try fields.optionalBool("do_pad", default: fallback.doPad),
            otherKeys: json.filter { key, value in
                !Self.modelledKeys.contains(key) || (Self.optionalKeys.contains(key) && value == .null)
            })
        try validate(file: file)
    }

    private static func size(_ fields: ConfigFields, default fallback: Size) throws -> Size {
        guard let value = fields.object["size"] else { return fallback }
        let sides = 1...maximumSize
        if value.intValue != nil {
            let side = try fields.int(value, key: "size", in: sides)
            return .exact(height: side, width: side)
        }
        guard case let .object(members) = value else {
            throw fields.error("size", "\(ConfigFields.show(value)) is not an object or an integer")
        }
        let keys = Set(members.keys)
        if keys == ["height", "width"], let height = members["height"], let width = members["width"] {
            return .exact(height: try fields.int(height, key: "size.height", in: sides),
                          width: try fields.int(width, key: "size.width", in: sides))
        }
        if keys == ["shortest_edge"] || keys == ["shortest_edge", "longest_edge"], let shortest = members["shortest_edge"] {
            let longest = try members["longest_edge"].map { try fields.int($0, key: "size.longest_edge", in: sides) }
            return .shortestEdge(try fields.int(shortest, key: "size.shortest_edge", in: sides), longestEdge: longest)
        }
        throw fields.error("size", "has the keys \(members.keys.sorted().prefix(8).joined(separator: ", ")); expected "
                           + "height and width, or shortest_edge (and longest_edge)")
    }

    /// The object ``save(to:)`` writes.
    public func jsonObject() -> [String: JSONValue] {
        var object = otherKeys
        object["image_processor_type"] = .string(imageProcessorType)
        object["do_resize"] = .bool(doResize)
        switch size {
        case let .exact(height, width):
            object["size"] = .object(["height": .integer(Int64(height)), "width": .integer(Int64(width))])
        case let .shortestEdge(shortest, longest):
            var members: [String: JSONValue] = ["shortest_edge": .integer(Int64(shortest))]
            if let longest { members["longest_edge"] = .integer(Int64(longest)) }
            object["size"] = .object(members)
        }
        object["resample"] = .integer(Int64(resample.rawValue))
        object["do_rescale"] = .bool(doRescale)
        object["rescale_factor"] = .number(rescaleFactor)
        object["do_normalize"] = .bool(doNormalize)
        object["image_mean"] = .array(imageMean.map { .number($0) })
        object["image_std"] = .array(imageStd.map { .number($0) })
        if let doReduceLabels { object["do_reduce_labels"] = .bool(doReduceLabels) }
        if let keepAspectRatio { object["keep_aspect_ratio"] = .bool(keepAspectRatio) }
        if let ensureMultipleOf { object["ensure_multiple_of"] = .integer(Int64(ensureMultipleOf)) }
        if let sizeDivisor { object["size_divisor"] = .integer(Int64(sizeDivisor)) }
        if let doPad { object["do_pad"] = .bool(doPad) }
        return object
    }
}

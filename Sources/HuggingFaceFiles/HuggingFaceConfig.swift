import Foundation

/// A model folder's `config.json` as a JSON object, before any model-specific parsing: what
/// `transformers`' `AutoConfig` looks at first (`model_type`, `architectures`).
public struct HuggingFaceConfig: Sendable, Equatable {
    /// The name `save_pretrained` gives it.
    public static let fileName = "config.json"

    /// The file's path as given; errors name it.
    public let path: String
    /// Every key of the file.
    public let values: [String: JSONValue]

    /// Reads `url` (JSON whose top level is an object).
    public init(contentsOf url: URL) throws {
        self.init(values: try JSONFile.readObject(at: url), path: url.path)
    }

    /// Reads `config.json` in a model folder; ``HuggingFaceError/missingFile(file:)`` when absent.
    public init(folder: URL) throws {
        try self.init(contentsOf: folder.appendingPathComponent(Self.fileName))
    }

    public init(values: [String: JSONValue], path: String) {
        self.values = values
        self.path = path
    }

    public subscript(key: String) -> JSONValue? { values[key] }

    /// `model_type` (`"segformer"`, `"depth_anything"`), if the file has one that is a string.
    public var modelType: String? { values["model_type"]?.stringValue }

    /// `architectures` (`["SegformerForSemanticSegmentation"]`): the string entries, or `[]`.
    public var architectures: [String] { values["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// Throws ``HuggingFaceError/unsupportedModelType(file:found:expected:)`` naming both values
    /// unless `model_type` is `expected`, and ``HuggingFaceError/invalidConfig(file:key:reason:)``
    /// when the key is missing or not a string.
    public func requireModelType(_ expected: String) throws {
        try Self.checkModelType(values, expected: expected, file: path, required: true)
    }

    static func checkModelType(_ values: [String: JSONValue], expected: String, file: String, required: Bool) throws {
        guard let value = values["model_type"] else {
            guard !required else {
                throw HuggingFaceError.invalidConfig(file: file, key: "model_type", reason: "missing (expected \"\(expected)\")")
            }
            return
        }
        guard case let .string(found) = value else {
            throw HuggingFaceError.invalidConfig(file: file, key: "model_type", reason: "\(ConfigFields.show(value)) "
                                                 + "is not a string (expected \"\(expected)\")")
        }
        guard found == expected else {
            throw HuggingFaceError.unsupportedModelType(file: file, found: found, expected: expected)
        }
    }
}

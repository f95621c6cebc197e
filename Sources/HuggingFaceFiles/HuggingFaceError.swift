import Foundation

/// Why a Hugging Face model folder (`model.safetensors`, `config.json`,
/// `preprocessor_config.json`) could not be read or written. Every case names the file (its path
/// as given) and, where there is one, the tensor, key or value at fault.
public enum HuggingFaceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Nothing at that path (or a folder without the file).
    case missingFile(file: String)
    /// The file exists but cannot be read (a folder, no permission, an I/O error).
    case unreadableFile(file: String, reason: String)
    /// The safetensors framing or header is broken: a length that does not fit the file, JSON
    /// that is not well-formed or not an object, an entry without `dtype` / `shape` /
    /// `data_offsets`, metadata that is not strings.
    case invalidHeader(file: String, reason: String)
    /// A tensor stored in a dtype this reader does not know (`F8_E4M3`, `C64`, a typo).
    case unsupportedDType(name: String, file: String, dtype: String)
    /// A tensor's shape is not a list of non-negative integers, or its element (or byte) count
    /// overflows.
    case invalidShape(name: String, file: String, reason: String)
    /// A tensor's `data_offsets` are not `[begin, end]` with `begin <= end` inside the data
    /// buffer, do not span exactly its element count times the dtype size, or leave a gap.
    case invalidOffsets(name: String, file: String, reason: String)
    /// Two tensors claim the same bytes of the data buffer.
    case overlappingTensors(name: String, other: String, file: String)
    /// The file holds no tensor of that name.
    case missingTensor(name: String, file: String)
    /// The stored (or given) tensor's shape is not the one the model needs.
    case shapeMismatch(name: String, file: String, expected: [Int], got: [Int])
    /// A tensor was asked for as the wrong kind (floats from an `I64` tensor, integers from `F32`).
    case wrongDType(name: String, file: String, expected: String, got: String)
    /// A float tensor holds NaN or an infinity (`index`: the first one, row-major), or an F64
    /// value too large for Float32.
    case nonFiniteValue(name: String, file: String, index: Int, value: String)
    /// A tensor cannot be written: a name given twice, the reserved `__metadata__`, values
    /// that do not match the shape.
    case invalidTensor(name: String, file: String, reason: String)
    /// A JSON file that is not well-formed JSON, or whose top level is not an object.
    case invalidJSON(file: String, reason: String)
    /// A configuration value that is missing, of the wrong type, or out of range (`key` as the
    /// file spells it, `id2label["3"]` for nested values).
    case invalidConfig(file: String, key: String, reason: String)
    /// `config.json` describes another kind of model.
    case unsupportedModelType(file: String, found: String, expected: String)
    /// Writing failed (folder missing, disk full, ...); no half-written file was left behind.
    case writeFailed(file: String, reason: String)

    /// The file the error is about.
    public var file: String {
        switch self {
        case let .missingFile(file), let .unreadableFile(file, _), let .invalidHeader(file, _),
             let .unsupportedDType(_, file, _), let .invalidShape(_, file, _), let .invalidOffsets(_, file, _),
             let .overlappingTensors(_, _, file), let .missingTensor(_, file), let .shapeMismatch(_, file, _, _),
             let .wrongDType(_, file, _, _), let .nonFiniteValue(_, file, _, _), let .invalidTensor(_, file, _),
             let .invalidJSON(file, _), let .invalidConfig(file, _, _), let .unsupportedModelType(file, _, _),
             let .writeFailed(file, _):
            return file
        }
    }

    public var description: String {
        switch self {
        case let .missingFile(file):
            return "\(file): no such file"
        case let .unreadableFile(file, reason):
            return "\(file): cannot be read (\(reason))"
        case let .invalidHeader(file, reason):
            return "\(file): not a valid safetensors file: \(reason)"
        case let .unsupportedDType(name, file, dtype):
            return "\(file): tensor \(Self.quote(name)) has dtype \(Self.quote(dtype)), which is not supported "
                + "(supported: \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .invalidShape(name, file, reason):
            return "\(file): tensor \(Self.quote(name)) has an invalid shape: \(reason)"
        case let .invalidOffsets(name, file, reason):
            return "\(file): tensor \(Self.quote(name)) has invalid data_offsets: \(reason)"
        case let .overlappingTensors(name, other, file):
            return "\(file): tensors \(Self.quote(name)) and \(Self.quote(other)) overlap in the data buffer"
        case let .missingTensor(name, file):
            return "\(file): no tensor named \(Self.quote(name))"
        case let .shapeMismatch(name, file, expected, got):
            return "\(file): tensor \(Self.quote(name)) has shape \(Self.shape(got)), expected \(Self.shape(expected))"
        case let .wrongDType(name, file, expected, got):
            return "\(file): tensor \(Self.quote(name)) is \(got), expected \(expected)"
        case let .nonFiniteValue(name, file, index, value):
            return "\(file): tensor \(Self.quote(name)) holds \(value) at index \(index)"
        case let .invalidTensor(name, file, reason):
            return "\(file): cannot write tensor \(Self.quote(name)): \(reason)"
        case let .invalidJSON(file, reason):
            return "\(file): not a valid JSON object: \(reason)"
        case let .invalidConfig(file, key, reason):
            return "\(file): \(key): \(reason)"
        case let .unsupportedModelType(file, found, expected):
            return "\(file): model_type is \(Self.quote(found)), expected \(Self.quote(expected))"
        case let .writeFailed(file, reason):
            return "\(file): cannot be written (\(reason))"
        }
    }

    /// Throws ``shapeMismatch(name:file:expected:got:)`` unless `shape` is `expected`.
    public static func check(shape: [Int], expected: [Int], name: String, file: String) throws(HuggingFaceError) {
        guard shape == expected else { throw .shapeMismatch(name: name, file: file, expected: expected, got: shape) }
    }

    /// A name as it appears in messages: JSON-quoted, so control characters and trailing
    /// spaces from a hostile file are visible, and at most 200 characters of it.
    static func quote(_ text: String) -> String {
        let shown = text.count > 200 ? String(text.prefix(200)) + "..." : text
        return JSONValue.string(shown).excerpt()
    }

    /// `[16, 16, 8, 8]`; a hostile rank is cut after 16 dimensions.
    static func shape(_ dims: [Int]) -> String {
        let shown = dims.prefix(16).map(String.init).joined(separator: ", ")
        return "[" + shown + (dims.count > 16 ? ", ... (\(dims.count) dimensions)]" : "]")
    }
}

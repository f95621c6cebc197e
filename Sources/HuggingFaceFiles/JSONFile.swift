import AtomicFiles
import Foundation

/// Reading and writing the JSON files of a model folder (`config.json`,
/// `preprocessor_config.json`) through Foundation (``JSONValue/init(parsing:)``,
/// ``JSONValue/jsonData(prettyPrinted:)``), with errors that name the file. Files are written
/// pretty-printed with sorted keys and a final newline, as `save_pretrained` writes them; the
/// text is not Python's byte for byte (`"key" : value`, UTF-8 unescaped, `0.0` as `0`), but
/// Python's `json` reads back the same values.
public enum JSONFile {
    /// Larger files are refused before they are read (the biggest real `config.json` files,
    /// with tens of thousands of labels, are a few MB).
    public static let maximumBytes = 64 << 20

    /// The top-level object of the JSON file at `url`. Throws ``HuggingFaceError/missingFile(file:)``,
    /// ``HuggingFaceError/unreadableFile(file:reason:)`` or ``HuggingFaceError/invalidJSON(file:reason:)``.
    public static func readObject(at url: URL) throws -> [String: JSONValue] {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HuggingFaceError.missingFile(file: path)
        }
        guard !isDirectory.boolValue else { throw HuggingFaceError.unreadableFile(file: path, reason: "it is a folder") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maximumBytes else {
            throw HuggingFaceError.invalidJSON(file: path, reason: "the file has \(size) bytes, more than the limit of "
                                               + "\(maximumBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw HuggingFaceError.unreadableFile(file: path, reason: error.localizedDescription)
        }
        guard data.count <= maximumBytes else {
            throw HuggingFaceError.invalidJSON(file: path, reason: "more than \(maximumBytes) bytes")
        }
        return try object(from: data, file: path)
    }

    /// The top-level object of JSON text (`file` names it in errors).
    public static func object(from data: Data, file: String) throws -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: data)
        } catch {
            throw HuggingFaceError.invalidJSON(file: file, reason: error.reason)
        }
        guard case let .object(members) = value else {
            throw HuggingFaceError.invalidJSON(file: file, reason: "the top level is \(value.kind), not an object")
        }
        return members
    }

    /// Writes `object` to `url` atomically: pretty-printed, keys sorted, and a newline. Throws
    /// ``HuggingFaceError/writeFailed(file:reason:)`` (also for a NaN or infinite number, which
    /// JSON cannot hold) and leaves no file behind.
    public static func write(_ object: [String: JSONValue], to url: URL) throws {
        var data: Data
        do {
            data = try JSONValue.object(object).jsonData(prettyPrinted: true)
        } catch {
            throw HuggingFaceError.writeFailed(file: url.path, reason: HuggingFaceError.encodingReason(error))
        }
        data.append(UInt8(ascii: "\n"))
        do {
            try AtomicFile.write(data, to: url)
        } catch let error as AtomicFileError {
            throw HuggingFaceError.writeFailed(file: url.path, reason: error.reason)
        }
    }
}

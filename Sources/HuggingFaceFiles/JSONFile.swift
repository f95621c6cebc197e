import AtomicFiles
import Foundation

/// Reading and writing the JSON files of a model folder (`config.json`,
/// `preprocessor_config.json`): strict parsing with errors that name the file, and writing in
/// the exact text format of `save_pretrained` (`json.dumps(indent=2, sort_keys=True) + "\n"`).
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
            value = try JSONParser.parse(data)
        } catch {
            throw HuggingFaceError.invalidJSON(file: file, reason: error.description)
        }
        guard case let .object(members) = value else {
            throw HuggingFaceError.invalidJSON(file: file, reason: "the top level is \(value.kind), not an object")
        }
        return members
    }

    /// `object` as `save_pretrained` writes it: Python's `json.dumps(indent=2, sort_keys=True)`
    /// and a newline.
    public static func text(of object: [String: JSONValue]) -> String {
        JSONWriter.python(.object(object)) + "\n"
    }

    /// Writes `object` to `url` atomically, in ``text(of:)``'s format.
    public static func write(_ object: [String: JSONValue], to url: URL) throws {
        do {
            try AtomicFile.write(text(of: object), to: url)
        } catch let error as AtomicFileError {
            throw HuggingFaceError.writeFailed(file: url.path, reason: error.reason)
        }
    }
}

import Foundation
import Markup

/// Reading ``VerifiedLabels`` from CSV.
///
/// Two layouts, told apart by the header row (required; names in any order and case):
/// - `path,predicted,verified_label`: the `verified_labels.csv` that `report.html` exports
///   (`predicted` is ignored; the verdict is `verified_label`);
/// - `path,label`: a list written by hand or by another tool.
/// Anything else (`results.csv`, whose `label` is the model's prediction, included) is
/// ``VerifiedLabelsError/wrongHeader(file:found:)``.
///
/// - **Fields** are RFC 4180 (``CSVFormat/records(_:)``: quoted fields may hold commas,
///   doubled quotes and line breaks); the file must be UTF-8.
/// - **Paths** are written as Rubble shows file names (``FileName``), as screening's
///   `results.csv` and `report.html` do: `\xHH` for a byte that is not UTF-8 (or a control
///   character), `\\` for a backslash; they are unescaped to the exact bytes. A relative path
///   is looked up next to the CSV file, then under `root` (`--labels-root`, e.g. the folder
///   `rubble screen` ran in, since the report's paths are the screened folder as given plus the
///   path inside it); it must name a file in one of them, and the same file if in both.
/// - **Labels** are trimmed of surrounding white space; a row with an empty label (a photo
///   nobody verified) is skipped and counted in ``VerifiedLabels/skippedWithoutLabel``.
///   Whether a label is one of the run's classes is checked by ``VerifiedDataset``.
extension VerifiedLabels {
    /// The two headers, by column name.
    static let reportColumns: Set<String> = ["path", "predicted", "verified_label"]
    static let pairColumns: Set<String> = ["path", "label"]

    /// Reads the CSV file at `url`; relative paths resolve against its folder, then against
    /// `root`. Errors name the file as `url.relativePath` (the path as the user gave it).
    public static func load(csv url: URL, root: URL? = nil) throws -> VerifiedLabels {
        let name = url.relativePath
        let data: Data
        do {
            data = try BytePath.read(Array(url.standardizedFileURL.path.utf8))
        } catch {
            throw VerifiedLabelsError.unreadable(file: name, reason: "\(error)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw VerifiedLabelsError.notUTF8(file: name, line: firstInvalidUTF8Line(data))
        }
        let folder = Array(url.standardizedFileURL.deletingLastPathComponent().path.utf8)
        return try parse(csv: text, file: name, folder: folder, root: root.map { Array($0.standardizedFileURL.path.utf8) })
    }

    /// Reads CSV `text` (the contents of `file`, as errors name it); relative paths resolve
    /// against `folder`, then `root` (absolute byte paths).
    public static func parse(csv text: String, file: String, folder: [UInt8], root: [UInt8]? = nil) throws -> VerifiedLabels {
        let records: [CSVFormat.Record]
        do {
            records = try CSVFormat.records(text)
        } catch let error as CSVFormat.SyntaxError {
            throw VerifiedLabelsError.syntax(file: file, line: error.line, message: error.message)
        }
        guard let header = records.first else { throw VerifiedLabelsError.wrongHeader(file: file, found: []) }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let columns = Set(names)
        guard columns.count == names.count, columns == reportColumns || columns == pairColumns else {
            throw VerifiedLabelsError.wrongHeader(file: file, found: names)
        }
        let pathColumn = names.firstIndex(of: "path")!
        let labelColumn = names.firstIndex(of: columns == reportColumns ? "verified_label" : "label")!

        var entries: [Entry] = []
        var skipped = 0
        for record in records.dropFirst() {
            let source = Source(file: file, line: record.line)
            guard record.fields.count == names.count else {
                throw VerifiedLabelsError.fieldCount(source, found: record.fields.count, expected: names.count)
            }
            let label = record.fields[labelColumn].trimmingCharacters(in: .whitespacesAndNewlines)
            if label.isEmpty {
                skipped += 1
                continue
            }
            let path = try resolve(record.fields[pathColumn], source: source, folder: folder, root: root)
            entries.append(Entry(path: path, label: label, source: source))
        }
        return try VerifiedLabels(origin: file, entries: entries, skippedWithoutLabel: skipped)
    }

    /// The file a path field names (see the type's documentation).
    static func resolve(_ value: String, source: Source, folder: [UInt8], root: [UInt8]?) throws -> [UInt8] {
        guard !value.isEmpty else { throw VerifiedLabelsError.emptyPath(source) }
        guard let bytes = FileName.unescape(value) else { throw VerifiedLabelsError.badEscape(source, value: value) }
        let candidates = bytes.first == 0x2F ? [BytePath.resolve(bytes, against: [])]
            : [BytePath.resolve(bytes, against: folder)] + (root.map { [BytePath.resolve(bytes, against: $0)] } ?? [])
        let present = candidates.compactMap { path in BytePath.kind(path).map { (path, $0) } }
        guard let (chosen, kind) = present.first else {
            throw VerifiedLabelsError.missingFile(source, value: value, tried: candidates.map { FileName.escape($0) })
        }
        guard kind == "a file" else { throw VerifiedLabelsError.notAFile(source, value: value, kind: kind) }
        if present.count > 1, BytePath.realpath(present[0].0) != BytePath.realpath(present[1].0) {
            throw VerifiedLabelsError.ambiguousPath(source, value: value, candidates: present.map { FileName.escape($0.0) })
        }
        return chosen
    }

    /// The line of the first byte of `data` that is not part of valid UTF-8.
    static func firstInvalidUTF8Line(_ data: Data) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = data.makeIterator()
        var line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 0x0A { line += 1 }
            case .emptyInput, .error:
                return line
            }
        }
    }
}

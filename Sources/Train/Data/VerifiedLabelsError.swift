import Foundation

/// Why verified labels could not be read or used. Every case names the file (or store), the
/// line (or record) and the value at fault.
public enum VerifiedLabelsError: Error, CustomStringConvertible, Equatable {
    /// The labels file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not UTF-8 text (first bad byte on `line`).
    case notUTF8(file: String, line: Int)
    /// The file is not well-formed CSV.
    case syntax(file: String, line: Int, message: String)
    /// The first row is not one of the two headers (`found` is what it holds; empty for an empty file).
    case wrongHeader(file: String, found: [String])
    /// A row with another number of fields than the header.
    case fieldCount(VerifiedLabels.Source, found: Int, expected: Int)
    /// A row whose path is empty.
    case emptyPath(VerifiedLabels.Source)
    /// A path with a backslash that is not one of Rubble's two escapes (`\\`, `\xHH`).
    case badEscape(VerifiedLabels.Source, value: String)
    /// No file at the path (`tried`: where it was looked for).
    case missingFile(VerifiedLabels.Source, value: String, tried: [String])
    /// The path leads to something that is not a file (`kind`: "a folder", ...).
    case notAFile(VerifiedLabels.Source, value: String, kind: String)
    /// A relative path that names two different files (next to the CSV file and under the root).
    case ambiguousPath(VerifiedLabels.Source, value: String, candidates: [String])
    /// The same photo listed twice with different labels.
    case conflictingLabels(VerifiedLabels.Source, path: String, label: String, other: VerifiedLabels.Source,
                           otherLabel: String)
    /// No verified photo at all (`skipped` rows had an empty label).
    case empty(origin: String, skipped: Int)
    /// A label that is not one of the run's classes.
    case unknownLabel(VerifiedLabels.Source, value: String, classes: [String])
    /// A verified photo that could not be read (to compare its content with the others').
    case unreadablePhoto(VerifiedLabels.Source, path: String, reason: String)
    /// A verified photo byte-identical to a photo of a training folder's other class.
    case conflictsWithFolder(VerifiedLabels.Source, path: String, label: String, folderFile: String, folderLabel: String)
    /// Two verified photos with the same bytes and different labels.
    case conflictingCopies(VerifiedLabels.Source, path: String, label: String, other: VerifiedLabels.Source,
                           otherPath: String, otherLabel: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read the labels file (\(reason))"
        case .notUTF8(let file, let line):
            return "\(file), line \(line): not UTF-8 text (the labels file must be UTF-8; paths that are not UTF-8 are written with \\xHH escapes)"
        case .syntax(let file, let line, let message):
            return "\(file), line \(line): \(message)"
        case .wrongHeader(let file, let found):
            let expected = "expected the header path,predicted,verified_label (report.html's export) or path,label"
            guard !found.isEmpty else { return "\(file): the file is empty; \(expected)" }
            var text = "\(file), line 1: header '\(found.joined(separator: ","))' is not one Rubble reads; \(expected)"
            if found.contains("digest") && found.contains("label") {
                text += " (this looks like results.csv, whose label is the model's prediction, not a person's verdict)"
            }
            return text
        case .fieldCount(let source, let found, let expected):
            return "\(source): \(found) field\(found == 1 ? "" : "s"), expected \(expected) as in the header "
                + "(quote a field that holds a comma: \"a,b.jpg\")"
        case .emptyPath(let source):
            return "\(source): the path is empty"
        case .badEscape(let source, let value):
            return "\(source): path '\(value)' holds a backslash that is neither \\\\ nor \\xHH "
                + "(Rubble writes a backslash in a file name as \\\\)"
        case .missingFile(let source, let value, let tried):
            let hint = tried.count == 1 && !value.hasPrefix("/")
                ? "; give --labels-root DIR, the folder the paths are relative to (where `rubble screen` ran)" : ""
            return "\(source): no file '\(value)' (looked for \(tried.joined(separator: " and ")))" + hint
        case .notAFile(let source, let value, let kind):
            return "\(source): '\(value)' is \(kind), not a photo file"
        case .ambiguousPath(let source, let value, let candidates):
            return "\(source): '\(value)' names two different files (\(candidates.joined(separator: " and "))); "
                + "write the path absolute, or move the labels file"
        case .conflictingLabels(let source, let path, let label, let other, let otherLabel):
            return "\(source): \(path) is labelled '\(label)', but '\(otherLabel)' at \(other)"
        case .empty(let origin, let skipped):
            return "\(origin): no verified photos"
                + (skipped > 0 ? " (\(skipped) row\(skipped == 1 ? "" : "s") without a verdict)" : "")
        case .unknownLabel(let source, let value, let classes):
            return "\(source): unknown label '\(value)' (the classes are \(classes.joined(separator: ", ")))"
        case .unreadablePhoto(let source, let path, let reason):
            return "\(source): cannot read \(path) (\(reason))"
        case .conflictsWithFolder(let source, let path, let label, let folderFile, let folderLabel):
            return "\(source): \(path) is labelled '\(label)', but the same photo (byte for byte) is \(folderFile) "
                + "in class '\(folderLabel)'; correct one of them"
        case .conflictingCopies(let source, let path, let label, let other, let otherPath, let otherLabel):
            return "\(source): \(path) is labelled '\(label)', but the same photo (byte for byte) is \(otherPath), "
                + "labelled '\(otherLabel)' at \(other); correct one of them"
        }
    }
}

import Foundation
import Markup

/// Photos whose class a person has verified: the retraining loop's input.
///
/// Each ``Entry`` is a photo (its path as bytes: Linux names need not be UTF-8) and the class a
/// person gave it, with its ``Source`` (a CSV file and line, or a store and record) so that
/// every later error can say where the entry came from. They come from
/// ``load(csv:root:)`` (the `verified_labels.csv` that `report.html` exports, or a
/// `path,label` file) or from any other source that builds the entries (a screening store's
/// verdicts) with ``init(origin:entries:skippedWithoutLabel:)``. ``VerifiedDataset`` turns
/// them into training or evaluation data, checked against the run's classes and
/// de-duplicated by content against the training folders.
public struct VerifiedLabels: Sendable, Equatable {
    /// Where an entry came from, as errors name it: `labels.csv, line 4`, or
    /// `sqlite:out/rubble.db (photo 17)`.
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        /// The CSV file as the user named it, or the store's URL.
        public var file: String
        /// The line the CSV record starts on (1-based; the header is line 1).
        public var line: Int?
        /// What names the entry inside a store (e.g. `photo 17`), when it is not a line.
        public var record: String?

        public init(file: String, line: Int? = nil, record: String? = nil) {
            self.file = file
            self.line = line
            self.record = record
        }

        public var description: String {
            var text = file
            if let line { text += ", line \(line)" }
            if let record { text += " (\(record))" }
            return text
        }
    }

    /// One verified photo.
    public struct Entry: Sendable, Equatable {
        /// The file to read, as bytes: absolute, or relative to the working directory.
        public var path: [UInt8]
        /// The class a person gave it (a class name of the run).
        public var label: String
        public var source: Source

        public init(path: [UInt8], label: String, source: Source) {
            self.path = path
            self.label = label
            self.source = source
        }

        /// An entry for a file URL (its path's UTF-8 bytes).
        public init(url: URL, label: String, source: Source) {
            self.init(path: Array(url.standardizedFileURL.path.utf8), label: label, source: source)
        }

        /// The path as Rubble shows file names (``FileName/escape(_:)``: `\xHH` for bytes that
        /// are not UTF-8, `\\` for a backslash).
        public var shownPath: String { FileName.escape(path) }
    }

    /// The CSV file or store the entries came from (as the user named it).
    public let origin: String
    /// One per photo, in the source's order.
    public let entries: [Entry]
    /// Rows of the source that had no verdict (an empty label), left out.
    public let skippedWithoutLabel: Int
    /// Rows that named a photo already listed, with the same label, left out.
    public let repeatedRows: Int

    /// The entries of a source. A photo listed more than once (the same file, however its path
    /// is written) is kept once when every listing gives it the same label.
    ///
    /// - Throws: ``VerifiedLabelsError/conflictingLabels(_:path:label:other:otherLabel:)`` for a
    ///   photo listed with two labels, ``VerifiedLabelsError/empty(origin:skipped:)`` when no
    ///   entry is left.
    public init(origin: String, entries: [Entry], skippedWithoutLabel: Int = 0) throws {
        var kept: [Entry] = []
        var seen: [[UInt8]: Int] = [:]
        var repeated = 0
        for entry in entries {
            let key = BytePath.realpath(entry.path) ?? entry.path
            if let first = seen[key] {
                guard kept[first].label == entry.label else {
                    throw VerifiedLabelsError.conflictingLabels(entry.source, path: entry.shownPath, label: entry.label,
                                                                other: kept[first].source, otherLabel: kept[first].label)
                }
                repeated += 1
                continue
            }
            seen[key] = kept.count
            kept.append(entry)
        }
        guard !kept.isEmpty else { throw VerifiedLabelsError.empty(origin: origin, skipped: skippedWithoutLabel) }
        self.origin = origin
        self.entries = kept
        self.skippedWithoutLabel = skippedWithoutLabel
        self.repeatedRows = repeated
    }

    /// The labels and how many entries have each, in byte order of the names.
    public var labelCounts: [(label: String, count: Int)] {
        var counts: [String: Int] = [:]
        for entry in entries { counts[entry.label, default: 0] += 1 }
        return counts.keys.sorted(by: pythonStringOrder).map { ($0, counts[$0]!) }
    }

    /// The distinct labels in byte order (the classes of a run that has no other source of them).
    public var labels: [String] { labelCounts.map(\.label) }

    /// One line, e.g. `labels.csv: 12 verified photos (damage 5, no_damage 7); 3 rows without a
    /// verdict skipped`.
    public var summary: String {
        var line = "\(origin): \(entries.count) verified photo\(entries.count == 1 ? "" : "s") ("
            + labelCounts.map { "\($0.label) \($0.count)" }.joined(separator: ", ") + ")"
        if skippedWithoutLabel > 0 {
            line += "; \(skippedWithoutLabel) row\(skippedWithoutLabel == 1 ? "" : "s") without a verdict skipped"
        }
        if repeatedRows > 0 {
            line += "; \(repeatedRows) repeated row\(repeatedRows == 1 ? "" : "s") (same photo, same label) left out"
        }
        return line
    }
}

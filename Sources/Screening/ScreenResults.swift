import AtomicFiles
import Foundation
import Markup

/// One row of `results.csv`: what happened to one photo.
public struct ScreenRow: Sendable, Equatable {
    public var path: String
    /// SHA-256 of the file's bytes (empty when the file could not be read).
    public var digest: String = ""
    /// imagehash-compatible pHash, hex (empty when the photo was not decoded).
    public var phash: String = ""
    /// The kept photo this one duplicates (exactly or nearly); empty otherwise.
    public var duplicateOf: String = ""
    /// One per class, in class order; empty for photos that were not classified.
    public var probabilities: [Float] = []
    /// The most probable class's name; empty when not classified.
    public var label: String = ""
    /// Time spent on this photo (see ``ScreenResults``).
    public var milliseconds: Double = 0
    /// Why the photo was not classified: unreadable, corrupt, unsupported, too small, not
    /// read (a refused symbolic link, an unreadable folder), or a non-finite model output.
    public var error: String = ""

    /// Whether the screen flagged it: classified with positive-class probability >= threshold.
    public var flagged = false
    /// The Grad-CAM panel, relative to the output folder (`gradcam/<stem>_gradcam.png`), if written.
    public var panel: String?
    /// Kind of duplicate ("exact" or "near") and the distance in bits to the kept photo's pHash.
    public var duplicateKind: String?
    public var duplicateDistance: Int?
    /// The damage severity in [0, 1] from the run's ``DamageAssessor`` (flagged photos with
    /// structure in view only; nil otherwise).
    public var severity: Double?
    /// The assessor's one-line summary (e.g. `damaged_structure 18% · debris 7%`), for flagged photos it assessed.
    public var severitySummary: String?
    /// The assessor's panel, relative to the output folder (`segment/<stem>_segment.png`), if written.
    public var severityPanel: String?

    public init(path: String) { self.path = path }
}

/// `results.csv`, kept complete on disk as the run goes.
///
/// Columns are fixed, in this order: `path,digest,phash,duplicate_of,p_<class0>,...,
/// p_<classK-1>,label,milliseconds,error`, then `severity` when the run assesses damage
/// severity (a ``DamageAssessor``, `rubble screen --segmenter`), one row per photo in
/// processing order. Other tools read these columns: new ones are only ever appended at the
/// end, and `severity` is there only in runs that assess it, so a run without an assessor
/// writes exactly the columns it always did, and a present-but-empty `severity` always means
/// "assessed, nothing to score" rather than "not assessed":
/// - a classified photo has its probabilities (6 decimals), `label` (most probable class) and
///   an empty `error`;
/// - a duplicate has `duplicate_of` (the kept photo) and empty probabilities and label; an exact
///   copy found by digest alone (never decoded) shows the hash of the photo it copies (the same bytes);
/// - a photo that could not be read or decoded, or that is smaller than the minimum size, has
///   the reason in `error` and empty probabilities and label; so has a photo whose model
///   output was not finite (NaN or infinite: never a label), and an entry that was not read
///   at all (a folder that cannot be listed, a broken symbolic link, a link leading outside
///   the screened folder, a photo-named pipe or device) — those also have an empty `digest`;
/// - `path` (and `duplicate_of`) show file names as ``FileName/escape(_:)`` does: bytes that
///   are not UTF-8 and control characters as `\xHH`, a backslash as `\\`;
/// - `milliseconds` is the time spent on that photo: its own reading, digest, decoding and
///   hashing, plus an equal share of its batch's classification (and of the Grad-CAM work when
///   it was explained, and of the severity assessment when it was assessed);
/// - `severity` (only with an assessor): the score with 6 decimals for flagged photos with
///   structure in view; empty for every other row (not flagged, no structure in view, or the
///   assessment failed, which is a warning).
/// Fields are RFC 4180 quoted when needed. The file is rewritten atomically (temporary file +
/// rename), so a reader or a crash only ever sees a complete file with every row written so
/// far. Rewriting is throttled once the file grows large (at most ~5% of the run's time).
/// A photo screened again in `--follow` mode (it had failed as empty or truncated and then
/// changed) gets its row replaced in place, so there is still one row per photo.
public struct ScreenResults {
    public static let fileName = "results.csv"
    public let url: URL
    public let classNames: [String]
    /// Whether the file has the `severity` column.
    public let severityColumn: Bool
    public private(set) var rows: [ScreenRow] = []
    private var lines: [String] = []
    private var flushedCount = -1
    private var throttle = WriteThrottle()

    /// `severityColumn`: write the `severity` column (a run that assesses severity).
    public init(directory: URL, classNames: [String], severityColumn: Bool = false) {
        url = directory.appendingPathComponent(Self.fileName)
        self.classNames = classNames
        self.severityColumn = severityColumn
    }

    public static func header(classNames: [String], severity: Bool = false) -> [String] {
        ["path", "digest", "phash", "duplicate_of"] + classNames.map { "p_\($0)" } + ["label", "milliseconds", "error"]
            + (severity ? ["severity"] : [])
    }

    /// The CSV line of `row` (empty probability fields when it was not classified); with
    /// `severity`, the severity field last (empty when the row has none).
    public static func line(_ row: ScreenRow, classCount: Int, severity: Bool = false) -> String {
        let p = row.probabilities.isEmpty ? Array(repeating: "", count: classCount)
            : row.probabilities.map { String(format: "%.6f", $0) }
        var fields = [row.path, row.digest, row.phash, row.duplicateOf].map(CSVFormat.field) + p
            + [CSVFormat.field(row.label), String(format: "%.1f", row.milliseconds), CSVFormat.field(row.error)]
        if severity { fields.append(row.severity.map { String(format: "%.6f", $0) } ?? "") }
        return fields.joined(separator: ",")
    }

    public mutating func append(_ row: ScreenRow) {
        precondition(row.probabilities.isEmpty || row.probabilities.count == classNames.count,
                     "\(row.probabilities.count) probabilities for \(classNames.count) classes")
        rows.append(row)
        lines.append(Self.line(row, classCount: classNames.count, severity: severityColumn))
    }

    /// Puts `row` in place of the row at `index` (a photo screened again).
    public mutating func replace(at index: Int, with row: ScreenRow) {
        precondition(rows.indices.contains(index), "no row \(index) of \(rows.count)")
        precondition(row.probabilities.isEmpty || row.probabilities.count == classNames.count,
                     "\(row.probabilities.count) probabilities for \(classNames.count) classes")
        rows[index] = row
        lines[index] = Self.line(row, classCount: classNames.count, severity: severityColumn)
        flushedCount = -1
    }

    /// Rewrites the file if rows were added since the last write and the throttle allows it
    /// (always with `force`).
    public mutating func flush(force: Bool = false) throws {
        guard rows.count != flushedCount else { return }
        guard force || throttle.allowsWrite() else { return }
        let text = ([Self.header(classNames: classNames, severity: severityColumn).map(CSVFormat.field).joined(separator: ",")] + lines)
            .joined(separator: "\n") + "\n"
        let url = self.url
        try throttle.measure { try AtomicFile.write(text, to: url) }
        flushedCount = rows.count
    }
}

/// Limits how often a file that grows with the run is rewritten: a rewrite is allowed when the
/// time since the previous one is at least 20 times what that one took (so rewriting costs at
/// most ~5% of the run), which for the first few thousand rows means after every batch.
struct WriteThrottle {
    private var lastEnd: ContinuousClock.Instant?
    private var lastDuration = 0.0

    func allowsWrite() -> Bool {
        guard let lastEnd else { return true }
        return seconds(since: lastEnd) >= 20 * lastDuration
    }

    mutating func measure(_ write: () throws -> Void) rethrows {
        let start = ContinuousClock.now
        try write()
        lastDuration = seconds(since: start)
        lastEnd = ContinuousClock.now
    }
}

import AtomicFiles
import Foundation
import Vision
#if canImport(Glibc)
import Glibc
#endif
import GradCAM

/// `results.csv`, `report.html`, `gradcam/` and `segment/` written from the store: what
/// `rubble screen` refreshes as it goes (at most every ``interval`` seconds, and at exit) and
/// `rubble export` writes at any time, on any machine that reaches the store.
///
/// `results.csv` has one row per photo path (a photo screened again after its file changed
/// replaces its row), in arrival order, with the columns ``ScreenResults`` describes, then
/// (appended at the end, so tools reading the earlier columns are unaffected) `latitude,
/// longitude,taken_at` from the photo's EXIF (empty when it has none), then `relevance` (the
/// relevancy model's probability of the relevant class) in runs with a relevancy filter.
/// Panels get their file names here, in arrival order (`<stem>`, `<stem>-2`, ... for photos
/// with the same name), so every export of one store names them alike; a panel file already
/// on disk with the stored size is not written again.
public struct ScreenExport {
    public static let gradcamKind = "gradcam"
    public static let segmentKind = "segment"
    /// The severity panels' folder in the output folder.
    public static let severityPanelFolder = "segment"

    public let store: ScreeningStore
    public let modelID: Int
    public let classNames: [String]
    public let output: URL
    public var positive: Int
    public var threshold: Float
    public var modelDescription: String
    /// Shown in the report's title line (the screened folder).
    public var directory = ""
    /// Add the `severity` column (a run with a damage assessor).
    public var severityColumn = false
    /// Add the `relevance` column (a run with a relevancy filter).
    public var relevanceColumn = false
    /// Seconds between refreshes while a run goes on.
    public var interval = 3.0
    /// Only these photos count in ``summary`` (a screen's own); nil: all.
    public var summaryPhotos: Set<Int>?
    /// Counts of the last export.
    public private(set) var summary = ScreenSummary()
    private var lastWrite: ContinuousClock.Instant?
    private var outputPath: [UInt8] = []

    public init(store: ScreeningStore, modelID: Int, classNames: [String], output: URL, positive: Int, threshold: Float,
                modelDescription: String) {
        self.store = store
        self.modelID = modelID
        self.classNames = classNames
        self.output = output
        self.positive = positive
        self.threshold = threshold
        self.modelDescription = modelDescription
    }

    public static func panelFileName(kind: String, stem: String) -> String { "\(stem)_\(kind).png" }

    /// The CSV header.
    public func header() -> [String] {
        ScreenResults.header(classNames: classNames, severity: severityColumn) + ["latitude", "longitude", "taken_at"]
            + (relevanceColumn ? ["relevance"] : [])
    }

    /// Writes everything if `force` or ``interval`` has passed since the last write; returns
    /// whether it wrote. `stageTimes` and `seconds` go into the report's summary.
    @discardableResult
    public mutating func refresh(force: Bool, running: Bool, local: ScreenSummary? = nil) throws -> Bool {
        if !force, let lastWrite, seconds(since: lastWrite) < interval { return false }
        try write(running: running, local: local)
        lastWrite = ContinuousClock.now
        return true
    }

    /// The rows as exported (one per path, the latest arrival's), with the names of their
    /// panels (`gradcam/<stem>_gradcam.png`, `segment/<stem>_segment.png`).
    public func currentRows() throws -> [StoredRow] {
        var rows: [StoredRow] = []
        var position: [[UInt8]: Int] = [:]
        for row in try store.rows(modelID: modelID, classCount: classNames.count) {
            if let at = position[row.pathBytes] {
                rows[at] = row
            } else {
                position[row.pathBytes] = rows.count
                rows.append(row)
            }
        }
        // An exact copy that was not decoded has the hash of the photo it copies (the same
        // bytes): filled in, so the column does not depend on which batch saw the copy first.
        var hashes: [String: String] = [:]
        for row in rows where !row.row.phash.isEmpty && !row.row.digest.isEmpty { hashes[row.row.digest] = hashes[row.row.digest] ?? row.row.phash }
        for i in rows.indices where rows[i].row.phash.isEmpty && rows[i].row.duplicateKind == "exact" {
            rows[i].row.phash = hashes[rows[i].row.digest] ?? ""
        }
        var stems = Set<String>()
        for i in rows.indices where rows[i].row.flagged && !rows[i].panelKinds.isEmpty {
            let stem = uniqueStem(for: rows[i].row.path, taken: &stems)
            for kind in rows[i].panelKinds.keys {
                let name = Self.panelFolder(kind) + "/" + Self.panelFileName(kind: kind, stem: stem)
                if kind == Self.gradcamKind { rows[i].row.panel = name } else { rows[i].row.severityPanel = name }
            }
        }
        return rows
    }

    /// The report's link to an upload (`rubble serve`: its bytes are in the store): a copy in
    /// `uploads/<digest>.jpg|png`, written once.
    private func uploadedCopy(of stored: StoredRow) throws -> String {
        let digest = stored.row.digest
        guard !digest.isEmpty, digest.allSatisfy(\.isHexDigit), let bytes = try store.images(of: [stored.photo])[stored.photo] else { return "#" }
        let name = "uploads/\(digest).\(ImageFormat.detect(bytes.prefix(ImageFormat.sniffLength)) == .png ? "png" : "jpg")"
        let url = output.appendingPathComponent(name)
        if POSIXPath.info(Array(url.path.utf8)) == nil {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try AtomicFile.write(Data(bytes), to: url)
            } catch {
                throw ScreenError.writeFailed(file: url.path, reason: "\(error)")
            }
        }
        return "./" + name
    }

    /// The folder of a panel kind in the output folder.
    static func panelFolder(_ kind: String) -> String { kind == gradcamKind ? gradcamKind : severityPanelFolder }

    private mutating func write(running: Bool, local: ScreenSummary?) throws {
        let folders = [output.appendingPathComponent(Self.gradcamKind, isDirectory: true)]
            + (severityColumn ? [output.appendingPathComponent(Self.severityPanelFolder, isDirectory: true)] : [])
        do {
            for folder in folders { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        } catch {
            throw ScreenError.writeFailed(file: output.path, reason: "\(error)")
        }
        if outputPath.isEmpty {
            let path = Array(output.standardizedFileURL.path.utf8)
            outputPath = POSIXPath.realpath(path) ?? path
        }
        let rows = try currentRows()
        var summary = local ?? ScreenSummary()
        summary.images = 0; summary.classified = 0; summary.flagged = 0; summary.exactDuplicates = 0
        summary.nearDuplicates = 0; summary.tooSmall = 0; summary.unreadable = 0; summary.nonFinite = 0
        summary.irrelevant = 0; summary.explained = 0; summary.assessed = 0; summary.scored = 0
        summary.severityTotal = 0; summary.severityPanels = 0
        summary.assessesSeverity = severityColumn
        summary.filtersRelevance = relevanceColumn
        var report = ScreenReport(directory: directory, classNames: classNames, positive: positive, threshold: threshold,
                                  model: modelDescription)
        report.assessesSeverity = severityColumn
        report.running = running
        for i in rows.indices {
            let stored = rows[i]
            if summaryPhotos?.contains(stored.photo) ?? true { count(stored, in: &summary) }
            guard stored.row.flagged else { continue }
            for (kind, size) in stored.panelKinds {
                guard let name = kind == Self.gradcamKind ? stored.row.panel : stored.row.severityPanel else { continue }
                let url = output.appendingPathComponent(name)
                if let info = POSIXPath.info(Array(url.path.utf8)), Int(info.st_size) == size { continue }  // already on disk
                guard let png = try store.panel(photo: stored.photo, modelID: modelID, kind: kind) else { continue }
                do { try AtomicFile.write(Data(png), to: url) } catch {
                    throw ScreenError.writeFailed(file: url.path, reason: "\(error)")
                }
            }
            let row = rows[i].row
            let original = stored.filePath.isEmpty ? try uploadedCopy(of: stored) : ScreenReport.link(toPath: relativePath(of: stored.filePath))
            report.items.append(ScreenReport.Item(
                path: row.path, probabilities: row.probabilities, label: row.label,
                score: row.probabilities.indices.contains(positive) ? row.probabilities[positive] : 0, panel: row.panel,
                original: original,
                severity: row.severity, severitySummary: row.severitySummary, severityPanel: row.severityPanel))
        }
        var lines = [header().map(CSVFormat.field).joined(separator: ",")]
        lines.reserveCapacity(rows.count + 1)
        for stored in rows {
            var line = ScreenResults.line(stored.row, classCount: classNames.count, severity: severityColumn)
            line += "," + [stored.latitude.map { String(format: "%.6f", $0) } ?? "", stored.longitude.map { String(format: "%.6f", $0) } ?? "",
                           CSVFormat.field(stored.takenAt ?? "")].joined(separator: ",")
            if relevanceColumn { line += "," + (stored.relevance.map { String(format: "%.6f", $0) } ?? "") }
            lines.append(line)
        }
        report.summary = summary
        self.summary = summary
        let csv = output.appendingPathComponent(ScreenResults.fileName), html = output.appendingPathComponent(ScreenReport.fileName)
        do {
            try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: csv)
        } catch {
            throw ScreenError.writeFailed(file: csv.path, reason: "\(error)")
        }
        do {
            try report.write(to: html)
        } catch {
            throw ScreenError.writeFailed(file: html.path, reason: "\(error)")
        }
    }

    private func count(_ stored: StoredRow, in summary: inout ScreenSummary) {
        summary.images += 1
        let row = stored.row
        switch stored.status {
        case .done:
            summary.classified += 1
            if row.flagged {
                summary.flagged += 1
                if stored.panelKinds[Self.gradcamKind] != nil { summary.explained += 1 }
                if stored.panelKinds[Self.segmentKind] != nil { summary.severityPanels += 1 }
                if row.severitySummary != nil { summary.assessed += 1 }
                if let s = row.severity {
                    summary.scored += 1
                    summary.severityTotal += s
                }
            }
        case .duplicate:
            if row.duplicateKind == "near" { summary.nearDuplicates += 1 } else { summary.exactDuplicates += 1 }
        case .irrelevant: summary.irrelevant += 1
        case .error:
            switch stored.errorKind {
            case .tooSmall?: summary.tooSmall += 1
            case .nonFinite?: summary.nonFinite += 1
            default: summary.unreadable += 1
            }
        }
    }

    /// `a`, then `a-2`, `a-3`, ... for photos with the same file name in different folders.
    /// Backslashes (from escaped names) and control characters become "_" in file names.
    func uniqueStem(for path: String, taken stems: inout Set<String>) -> String {
        let stem = GradCAMReport.stem(of: URL(fileURLWithPath: path))
        let base = String(stem.unicodeScalars.map { $0 == "\\" || $0.value < 0x20 ? "_" : Character($0) })
        var unique = base, n = 1
        while stems.contains(unique) {
            n += 1
            unique = "\(base)-\(n)"
        }
        stems.insert(unique)
        return unique
    }

    /// The photo's path relative to the output folder (for links in the report), as bytes;
    /// absolute when the two have only "/" in common.
    func relativePath(of path: [UInt8]) -> [UInt8] {
        let target = path.split(separator: 0x2F).map(Array.init)
        let base = outputPath.split(separator: 0x2F).map(Array.init)
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        if common == 0 { return path }
        let parts = Array(repeating: [UInt8]("..".utf8), count: base.count - common) + target[common...]
        return Array(parts.joined(separator: [0x2F]))
    }
}

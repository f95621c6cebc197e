/// A worker's final answer for one photo, stored with its job marked done in one transaction.
public struct PhotoResult: Sendable {
    public enum Status: String, Sendable {
        /// Classified (flagged or not).
        case done
        case duplicate
        /// The relevancy model said it shows nothing to screen; the damage model did not run.
        case irrelevant
        case error
    }

    public enum ErrorKind: String, Sendable {
        /// Unreadable, corrupt or unsupported, or not read at all (a refused link).
        case unreadable
        case tooSmall = "too_small"
        /// The model's output was NaN or infinite.
        case nonFinite = "non_finite"
    }

    public var job: Int
    public var photo: Int
    public var status: Status
    public var errorKind: ErrorKind?
    /// One per class, in class order; empty unless classified.
    public var probabilities: [Float] = []
    public var label = ""
    public var flagged = false
    /// The relevancy model's probability of the relevant class (with a relevancy stage).
    public var relevance: Float?
    public var severity: Double?
    public var severitySummary: String?
    public var milliseconds = 0.0
    public var error = ""
    /// PNG panels by kind (`gradcam`, `segment`).
    public var panels: [(kind: String, png: [UInt8])] = []

    public init(job: Int, photo: Int, status: Status) {
        self.job = job
        self.photo = photo
        self.status = status
    }
}

/// One photo's row as the exports read it back: the `results.csv` row plus what the store
/// knows besides.
public struct StoredRow: Sendable {
    public var photo: Int
    public var row: ScreenRow
    public var status: PhotoResult.Status
    public var errorKind: PhotoResult.ErrorKind?
    public var relevance: Float?
    /// The file the photo was read from (absolute), for the report's links.
    public var filePath: [UInt8]
    public var pathBytes: [UInt8]
    public var latitude: Double?
    public var longitude: Double?
    public var takenAt: String?
    public var orientation: Int?
    /// Whether a failure may go away once the file changes.
    public var mayChange: Bool
    /// Panel kinds stored for it, with each PNG's size in bytes.
    public var panelKinds: [String: Int]
}

extension ScreeningStore {
    /// Stores `results` of jobs `worker` holds, each with its job marked done, in one
    /// transaction. A job whose lease another worker has taken over meanwhile is skipped (that
    /// worker answers for it), so a photo never gets two results. Returns how many were stored.
    @discardableResult
    public func complete(_ results: [PhotoResult], worker: String, modelID: Int) throws -> Int {
        guard !results.isEmpty else { return 0 }
        let now = StoreClock.timestamp()
        return try write("storing \(results.count) results") { db in
            var stored = 0
            for start in stride(from: 0, to: results.count, by: 200) {
                let chunk = Array(results[start..<min(start + 200, results.count)])
                // The jobs this worker still holds, marked done in one statement.
                let list = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let held = Set(try db.query("""
                    UPDATE jobs SET state = 'done', lease_until = NULL WHERE worker = ? AND state = 'claimed' AND id IN (\(list))
                    RETURNING id
                    """, [.text(worker)] + chunk.map { SQLValue($0.job) }).compactMap { $0.int(0) })
                let answered = chunk.filter { held.contains($0.job) }
                guard !answered.isEmpty else { continue }
                var values: [SQLValue] = []
                values.reserveCapacity(answered.count * 14)
                for r in answered {
                    let probabilities = r.probabilities.isEmpty ? nil : r.probabilities.map { "\($0)" }.joined(separator: " ")
                    values += [SQLValue(r.photo), SQLValue(modelID), .text(r.status.rawValue), SQLValue(r.errorKind?.rawValue),
                               SQLValue(probabilities), .text(r.label), SQLValue(r.flagged), SQLValue(r.relevance.map(Double.init)),
                               SQLValue(r.severity), SQLValue(r.severitySummary), .real(r.milliseconds), .text(r.error), .text(worker),
                               .text(now)]
                }
                try db.execute("""
                    INSERT INTO results (photo_id, model_id, status, error_kind, probabilities, label, flagged, relevance, severity,
                      severity_summary, milliseconds, error, worker, finished_at)
                    VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: answered.count).joined(separator: ", "))
                    """, values)
                for r in answered {
                    for panel in r.panels {
                        try db.execute("INSERT INTO panels (photo_id, model_id, kind, png) VALUES (?, ?, ?, ?)",
                                       [SQLValue(r.photo), SQLValue(modelID), .text(panel.kind), .bytes(panel.png)])
                    }
                }
                stored += answered.count
            }
            return stored
        }
    }

    /// Every photo with a result for `modelID`, in arrival order (photo id); with `after`, only
    /// photos after that id.
    public func rows(modelID: Int, classCount: Int, after: Int = 0) throws -> [StoredRow] {
        try write("reading results") { db in
            let panels = try db.query("SELECT photo_id, kind, length(png) FROM panels WHERE model_id = ? AND photo_id > ?",
                                      [SQLValue(modelID), SQLValue(after)])
            var kinds: [Int: [String: Int]] = [:]
            for p in panels { if let id = p.int(0), let kind = p.text(1) { kinds[id, default: [:]][kind] = p.int(2) ?? 0 } }
            return try db.query("""
                SELECT p.id, p.path, p.digest, pr.phash, rp.path, d.kind, d.distance, r.status, r.error_kind, r.probabilities,
                  r.label, r.flagged, r.relevance, r.severity, r.severity_summary, r.milliseconds, r.error, p.file_path,
                  p.path_bytes, p.latitude, p.longitude, p.taken_at, p.orientation, pr.may_change
                FROM results r JOIN photos p ON p.id = r.photo_id
                  LEFT JOIN preparations pr ON pr.photo_id = p.id
                  LEFT JOIN decisions d ON d.photo_id = p.id
                  LEFT JOIN photos rp ON rp.id = d.representative_id
                WHERE r.model_id = ? AND p.id > ? ORDER BY p.id
                """, [SQLValue(modelID), SQLValue(after)]).map { c in
                guard let id = c.int(0), let status = c.text(7).flatMap(PhotoResult.Status.init(rawValue:)) else {
                    throw StoreError.corruptRow(location: location, table: "results", detail: "unreadable row \(c.values.prefix(8))")
                }
                var row = ScreenRow(path: c.text(1) ?? "")
                row.digest = c.text(2) ?? ""
                row.phash = c.text(3) ?? ""
                if status == .duplicate {
                    row.duplicateOf = c.text(4) ?? ""
                    row.duplicateKind = c.text(5)
                    row.duplicateDistance = c.int(6)
                }
                if let text = c.text(9) { row.probabilities = try storedProbabilities(text, photo: id, classCount: classCount) }
                row.label = c.text(10) ?? ""
                row.flagged = (c.int(11) ?? 0) != 0
                row.severity = c.double(13)
                row.severitySummary = c.text(14)
                row.milliseconds = c.double(15) ?? 0
                row.error = c.text(16) ?? ""
                return StoredRow(photo: id, row: row, status: status, errorKind: c.text(8).flatMap(PhotoResult.ErrorKind.init(rawValue:)),
                                 relevance: c.double(12).map(Float.init), filePath: c.bytes(17) ?? [], pathBytes: c.bytes(18) ?? [],
                                 latitude: c.double(19), longitude: c.double(20), takenAt: c.text(21), orientation: c.int(22),
                                 mayChange: (c.int(23) ?? 0) != 0, panelKinds: kinds[id] ?? [:])
            }
        }
    }

    /// The probabilities of a `results` row (space-separated, in class order), one per class.
    func storedProbabilities(_ text: String, photo: Int, classCount: Int) throws -> [Float] {
        let values = text.split(separator: " ").compactMap { Float(String($0)) }
        guard values.count == classCount else {
            throw StoreError.corruptRow(location: location, table: "results",
                                        detail: "photo \(photo) has \(values.count) probabilities for \(classCount) classes")
        }
        return values
    }

    /// The PNG of a stored panel.
    public func panel(photo: Int, modelID: Int, kind: String) throws -> [UInt8]? {
        try read("reading a panel") { db in
            try db.scalar("SELECT png FROM panels WHERE photo_id = ? AND model_id = ? AND kind = ?",
                          [SQLValue(photo), SQLValue(modelID), .text(kind)])?.bytes
        }
    }

    /// Counts of statements per photo are kept low: the number of rows in each table, for the benchmark.
    public func tableCounts() throws -> [String: Int] {
        try write("counting rows") { db in
            var counts: [String: Int] = [:]
            for table in ["photos", "preparations", "decisions", "jobs", "results", "panels", "verdicts", "runs", "workers"] {
                counts[table] = try db.scalar("SELECT COUNT(*) FROM \(table)")?.int ?? 0
            }
            return counts
        }
    }
}

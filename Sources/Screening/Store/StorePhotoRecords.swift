/// Where a photo is on its way through screening, as `rubble serve`'s API reports it.
public enum PhotoStatus: String, Sendable, CaseIterable {
    /// Waiting for (or being worked on by) a worker.
    case queued
    /// Classified (flagged or not).
    case done
    /// An exact or near copy of an earlier photo (`duplicate_of`).
    case duplicate
    /// The relevancy model said it shows nothing to screen.
    case irrelevant
    case error
}

/// One photo with what the store knows of it for one model: its result (when there is one),
/// duplicate decision, location and verdicts.
public struct PhotoRecord: Sendable, Equatable {
    public var id: Int
    public var status: PhotoStatus
    /// One per class, in class order; empty unless classified.
    public var probabilities: [Float] = []
    public var label: String?
    public var flagged = false
    public var duplicateOf: Int?
    public var severity: Double?
    public var latitude: Double?
    public var longitude: Double?
    public var error: String?
    public var source: String?
    public var takenAt: String?
    public var addedAt: String
    public var hasGradCAM = false
    /// The account that uploaded it (nil for a folder's photo).
    public var uploader: String?
    /// Oldest first.
    public var verdicts: [PhotoVerdict] = []
}

/// One person's verdict on a photo.
public struct PhotoVerdict: Sendable, Equatable {
    public var label: String
    public var verifier: String
    public var createdAt: String
}

/// Which photos a listing wants; every field optional but the cursor and the page size.
public struct PhotoQuery: Sendable, Equatable {
    public var flagged: Bool?
    public var status: PhotoStatus?
    /// Only photos with a larger id (the cursor of the page before).
    public var after = 0
    public var limit = 50
    public var label: String?
    /// With (true) or without (false) a verdict.
    public var verified: Bool?
    public var source: String?
    /// `added_at` bounds, inclusive, in the store's timestamp form.
    public var since: String?
    public var until: String?

    public init() {}
}

extension ScreeningStore {
    /// A page of photos queued for `modelID`, in arrival order, and the cursor of the next
    /// page (nil when this one reaches the end).
    public func photoRecords(modelID: Int, classCount: Int, _ query: PhotoQuery) throws -> (photos: [PhotoRecord], next: Int?) {
        var conditions = ["p.id > ?"]
        var values: [SQLValue] = [SQLValue(modelID), SQLValue(modelID), SQLValue(modelID), SQLValue(query.after)]
        if let flagged = query.flagged { conditions.append(flagged ? "r.flagged = 1" : "COALESCE(r.flagged, 0) = 0") }
        if let status = query.status {
            if status == .queued { conditions.append("r.status IS NULL") } else {
                conditions.append("r.status = ?")
                values.append(.text(status == .done ? PhotoResult.Status.done.rawValue : status.rawValue))
            }
        }
        if let label = query.label { conditions.append("r.label = ?"); values.append(.text(label)) }
        if let verified = query.verified {
            conditions.append((verified ? "" : "NOT ") + "EXISTS (SELECT 1 FROM verdicts v WHERE v.photo_id = p.id)")
        }
        if let source = query.source { conditions.append("p.source = ?"); values.append(.text(source)) }
        if let since = query.since { conditions.append("p.added_at >= ?"); values.append(.text(since)) }
        if let until = query.until { conditions.append("p.added_at <= ?"); values.append(.text(until)) }
        let limit = max(1, query.limit)
        let records = try self.records(where: conditions.joined(separator: " AND "), values + [SQLValue(limit + 1)],
                                       classCount: classCount, limit: true)
        let page = Array(records.prefix(limit))
        return (page, records.count > limit ? page.last?.id : nil)
    }

    /// Photo `id` as queued for `modelID`, or nil when there is no such photo for it.
    public func photoRecord(_ id: Int, modelID: Int, classCount: Int) throws -> PhotoRecord? {
        try records(where: "p.id = ?", [SQLValue(modelID), SQLValue(modelID), SQLValue(modelID), SQLValue(id)],
                    classCount: classCount, limit: false).first
    }

    /// `values`: the model id three times, then those of `condition` (and the limit). Photos
    /// lead the join (SQLite takes `CROSS JOIN` as that order), so a page is a walk of the
    /// photos' key from the cursor, never a sort of every job of the model.
    private func records(where condition: String, _ values: [SQLValue], classCount: Int, limit: Bool) throws -> [PhotoRecord] {
        try read("reading photos") { db in
            var records = try db.query("""
                SELECT p.id, r.status, r.probabilities, r.label, r.flagged, d.representative_id, r.severity, p.latitude,
                  p.longitude, r.error, p.source, p.taken_at, p.added_at,
                  (SELECT COUNT(*) FROM panels x WHERE x.photo_id = p.id AND x.model_id = ? AND x.kind = 'gradcam'), p.uploader
                FROM photos p CROSS JOIN jobs j
                  LEFT JOIN results r ON r.photo_id = p.id AND r.model_id = ?
                  LEFT JOIN decisions d ON d.photo_id = p.id
                WHERE j.photo_id = p.id AND j.model_id = ? AND \(condition) ORDER BY p.id\(limit ? " LIMIT ?" : "")
                """, values).map { c -> PhotoRecord in
                guard let id = c.int(0) else { throw StoreError.corruptRow(location: location, table: "photos", detail: "id is not a number") }
                let status: PhotoStatus
                switch c.text(1) {
                case nil: status = .queued
                case let text?:
                    guard let stored = PhotoResult.Status(rawValue: text) else {
                        throw StoreError.corruptRow(location: location, table: "results", detail: "photo \(id) has status \(text)")
                    }
                    switch stored {
                    case .done: status = .done
                    case .duplicate: status = .duplicate
                    case .irrelevant: status = .irrelevant
                    case .error: status = .error
                    }
                }
                var record = PhotoRecord(id: id, status: status, addedAt: c.text(12) ?? "")
                if let text = c.text(2) { record.probabilities = try storedProbabilities(text, photo: id, classCount: classCount) }
                record.label = c.text(3).flatMap { $0.isEmpty ? nil : $0 }
                record.flagged = (c.int(4) ?? 0) != 0
                record.duplicateOf = status == .duplicate ? c.int(5) : nil
                record.severity = c.double(6)
                record.latitude = c.double(7)
                record.longitude = c.double(8)
                record.error = c.text(9).flatMap { $0.isEmpty ? nil : $0 }
                record.source = c.text(10)
                record.takenAt = c.text(11)
                record.hasGradCAM = (c.int(13) ?? 0) > 0
                record.uploader = c.text(14)
                return record
            }
            guard !records.isEmpty else { return records }
            let list = Array(repeating: "?", count: records.count).joined(separator: ", ")
            var verdicts: [Int: [PhotoVerdict]] = [:]
            for row in try db.query("SELECT photo_id, label, verifier, created_at FROM verdicts WHERE photo_id IN (\(list)) ORDER BY id",
                                    records.map { SQLValue($0.id) }) {
                guard let photo = row.int(0) else { continue }
                verdicts[photo, default: []].append(PhotoVerdict(label: row.text(1) ?? "", verifier: row.text(2) ?? "",
                                                                 createdAt: row.text(3) ?? ""))
            }
            for i in records.indices { records[i].verdicts = verdicts[records[i].id] ?? [] }
            return records
        }
    }

    /// How many photos queued for `modelID` are in each status (for `/metrics`).
    public func photoCounts(modelID: Int) throws -> [PhotoStatus: Int] {
        try read("counting photos") { db in
            var counts = Dictionary(uniqueKeysWithValues: PhotoStatus.allCases.map { ($0, 0) })
            for row in try db.query("""
                SELECT r.status, COUNT(*) FROM jobs j LEFT JOIN results r ON r.photo_id = j.photo_id AND r.model_id = j.model_id
                WHERE j.model_id = ? GROUP BY r.status
                """, [SQLValue(modelID)]) {
                let status = row.text(0).flatMap(PhotoStatus.init(rawValue:)) ?? .queued
                counts[status, default: 0] += row.int(1) ?? 0
            }
            return counts
        }
    }

    /// The stored bytes of photo `id` (an upload), or nil.
    public func image(of id: Int) throws -> [UInt8]? {
        try images(of: [id])[id]
    }

    /// Every verdict on photos queued for `modelID`, oldest first, with the model's label.
    public func verdictLog(modelID: Int) throws -> [(photo: Int, label: String, verifier: String, createdAt: String, predicted: String?)] {
        try read("reading verdicts") { db in
            try db.query("""
                SELECT v.photo_id, v.label, v.verifier, v.created_at, r.label FROM verdicts v
                  JOIN jobs j ON j.photo_id = v.photo_id AND j.model_id = ?
                  LEFT JOIN results r ON r.photo_id = v.photo_id AND r.model_id = ?
                ORDER BY v.id
                """, [SQLValue(modelID), SQLValue(modelID)]).compactMap { row in
                guard let photo = row.int(0), let label = row.text(1) else { return nil }
                return (photo, label, row.text(2) ?? "", row.text(3) ?? "", row.text(4).flatMap { $0.isEmpty ? nil : $0 })
            }
        }
    }
}

extension ScreeningStore {
    /// The shown path and digest of each of `photos`.
    public func pathsAndDigests(of photos: [Int]) throws -> [Int: (path: String, digest: String)] {
        var out: [Int: (path: String, digest: String)] = [:]
        for start in stride(from: 0, to: photos.count, by: 500) {
            let chunk = Array(photos[start..<min(start + 500, photos.count)])
            let list = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            try read("reading photo names") { db in
                for row in try db.query("SELECT id, path, digest FROM photos WHERE id IN (\(list))", chunk.map { SQLValue($0) }) {
                    if let id = row.int(0) { out[id] = (row.text(1) ?? "", row.text(2) ?? "") }
                }
            }
        }
        return out
    }
}

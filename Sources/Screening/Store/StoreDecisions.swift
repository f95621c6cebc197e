import Vision

/// What reading, decoding and hashing found for a photo (one per photo, whichever worker).
public struct PreparationRecord: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Decoded and hashed.
        case ready
        /// Byte-identical to a photo already decided (not decoded, no hash).
        case copy
        case tooSmall = "too_small"
        case failed
    }

    public var photo: Int
    public var outcome: Outcome
    public var hash: PerceptualHash?
    /// The size from the header (too small) or the decode.
    public var width: Int?
    public var height: Int?
    /// Why it failed.
    public var message: String?
    /// Whether the failure may go away once the file changes (a file still being written).
    public var mayChange = false

    public init(photo: Int, outcome: Outcome) {
        self.photo = photo
        self.outcome = outcome
    }
}

/// A photo's duplicate decision.
public struct DuplicateDecision: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case unique, exact, near
        /// Not decoded (too small, unreadable): never a representative, never a duplicate.
        case none
    }

    public var kind: Kind
    /// The kept photo it duplicates (exact, near).
    public var representative: Int?
    public var distance: Int?
}

/// A worker's copy of the store's duplicate decisions: the same ``DuplicateIndex`` every
/// worker rebuilds by replaying the decisions in photo order, so the next decision is the same
/// whichever worker makes it.
public struct DuplicateState: Sendable {
    public private(set) var index: DuplicateIndex
    /// Photo id of each representative, by the index's representative number.
    public private(set) var representatives: [Int] = []
    /// The last photo id whose decision is in `index`.
    public private(set) var decidedThrough = 0
    /// Every decision seen so far, by photo id.
    public private(set) var decisions: [Int: DuplicateDecision] = [:]

    public init(threshold: Int) { index = DuplicateIndex(threshold: threshold) }

    /// Applies the decision for photo `id` with its digest and preparation; returns it.
    mutating func decide(photo id: Int, digest: String, outcome: PreparationRecord.Outcome?, hash: PerceptualHash?) -> DuplicateDecision {
        let decision: DuplicateDecision
        if let digest = SHA256Digest(hex: digest), outcome == .ready || outcome == .copy {
            if let hash, outcome == .ready {
                switch index.add(digest: digest, hash: hash) {
                case .unique(let r):
                    representatives.append(id)
                    precondition(representatives.count == r + 1, "representative \(r) out of order")
                    decision = DuplicateDecision(kind: .unique, representative: nil, distance: nil)
                case .exact(let r, let d): decision = DuplicateDecision(kind: .exact, representative: representatives[r], distance: d)
                case .near(let r, let d): decision = DuplicateDecision(kind: .near, representative: representatives[r], distance: d)
                }
            } else if let (r, d) = index.exactMatch(digest) {
                decision = DuplicateDecision(kind: .exact, representative: representatives[r], distance: d)
            } else {
                decision = DuplicateDecision(kind: .none, representative: nil, distance: nil)
            }
        } else {
            decision = DuplicateDecision(kind: .none, representative: nil, distance: nil)
        }
        decisions[id] = decision
        decidedThrough = max(decidedThrough, id)
        return decision
    }
}

extension ScreeningStore {
    /// Stores what the preparation of each photo found (a photo prepared twice, by a worker
    /// whose lease had expired, keeps the first record: both read the same bytes).
    public func record(_ preparations: [PreparationRecord]) throws {
        guard !preparations.isEmpty else { return }
        try write("recording \(preparations.count) preparations") { db in
            // One multi-row statement per batch (at most 500 rows, 3,500 bound values).
            for start in stride(from: 0, to: preparations.count, by: 500) {
                let chunk = preparations[start..<min(start + 500, preparations.count)]
                var values: [SQLValue] = []
                values.reserveCapacity(chunk.count * 7)
                for p in chunk {
                    values += [SQLValue(p.photo), .text(p.outcome.rawValue), SQLValue(p.hash?.hex), SQLValue(p.width),
                               SQLValue(p.height), SQLValue(p.message), SQLValue(p.mayChange)]
                }
                let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                try db.execute("""
                    INSERT INTO preparations (photo_id, outcome, phash, width, height, message, may_change)
                    VALUES \(rows) ON CONFLICT (photo_id) DO NOTHING
                    """, values)
            }
        }
    }

    /// Brings `state` up to date with the store's decisions, then decides every photo after the
    /// last decided one whose preparation is recorded, in photo order, stopping at the first
    /// that has none (a photo still being prepared elsewhere). One decision point: the whole step
    /// runs under the store's exclusive lock, so workers decide one after another and every
    /// decision is the one a single worker would make for the same arrival order.
    public func decide(_ state: inout DuplicateState) throws {
        state = try write("deciding duplicates", exclusive: true) { db in
            var state = state
            // Replay what other workers decided since this worker last looked.
            let known = try db.query("""
                SELECT d.photo_id, d.kind, d.representative_id, d.distance, p.digest, pr.outcome, pr.phash
                FROM decisions d JOIN photos p ON p.id = d.photo_id LEFT JOIN preparations pr ON pr.photo_id = d.photo_id
                WHERE d.photo_id > ? ORDER BY d.photo_id
                """, [SQLValue(state.decidedThrough)])
            for row in known {
                guard let id = row.int(0), let kind = row.text(1).flatMap(DuplicateDecision.Kind.init(rawValue:)) else {
                    throw StoreError.corruptRow(location: location, table: "decisions", detail: "unreadable decision \(row.values)")
                }
                let replayed = state.decide(photo: id, digest: row.text(4) ?? "", outcome: row.text(5).flatMap(PreparationRecord.Outcome.init),
                                            hash: row.text(6).flatMap(PerceptualHash.init(hex:)))
                guard replayed.kind == kind, replayed.representative == row.int(2), replayed.distance == row.int(3) else {
                    throw StoreError.corruptRow(location: location, table: "decisions",
                                                detail: "photo \(id) is stored as \(kind.rawValue) but replays as \(replayed.kind.rawValue)")
                }
            }
            // Decide the photos whose preparation is recorded, in order, until the first gap.
            while true {
                let pending = try db.query("""
                    SELECT p.id, p.digest, pr.outcome, pr.phash FROM photos p LEFT JOIN preparations pr ON pr.photo_id = p.id
                    WHERE p.id > ? ORDER BY p.id LIMIT 500
                    """, [SQLValue(state.decidedThrough)])
                var progressed = false
                for row in pending {
                    guard let id = row.int(0), let outcomeText = row.text(2) else { return state }
                    guard let outcome = PreparationRecord.Outcome(rawValue: outcomeText) else {
                        throw StoreError.corruptRow(location: location, table: "preparations", detail: "photo \(id): outcome \(outcomeText)")
                    }
                    let decision = state.decide(photo: id, digest: row.text(1) ?? "", outcome: outcome,
                                                hash: row.text(3).flatMap(PerceptualHash.init(hex:)))
                    try db.execute("""
                        INSERT INTO decisions (photo_id, kind, representative_id, representative_index, distance) VALUES (?, ?, ?, ?, ?)
                        """, [SQLValue(id), .text(decision.kind.rawValue), SQLValue(decision.representative),
                              SQLValue(decision.kind == .unique ? state.representatives.count - 1 : nil), SQLValue(decision.distance)])
                    progressed = true
                }
                if !progressed || pending.count < 500 { return state }
            }
        }
    }

    /// The preparation record of each of `photos` that has one.
    public func preparations(of photos: [Int]) throws -> [Int: PreparationRecord] {
        guard !photos.isEmpty else { return [:] }
        let list = Array(repeating: "?", count: photos.count).joined(separator: ", ")
        return try write("reading preparations") { db in
            var out: [Int: PreparationRecord] = [:]
            for row in try db.query("""
                SELECT photo_id, outcome, phash, width, height, message, may_change FROM preparations WHERE photo_id IN (\(list))
                """, photos.map { SQLValue($0) }) {
                guard let id = row.int(0), let outcome = row.text(1).flatMap(PreparationRecord.Outcome.init) else { continue }
                var record = PreparationRecord(photo: id, outcome: outcome)
                record.hash = row.text(2).flatMap(PerceptualHash.init(hex:))
                record.width = row.int(3)
                record.height = row.int(4)
                record.message = row.text(5)
                record.mayChange = (row.int(6) ?? 0) != 0
                out[id] = record
            }
            return out
        }
    }
}

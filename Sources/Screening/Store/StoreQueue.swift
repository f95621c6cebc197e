#if canImport(Glibc)
import Glibc
#endif

/// A photo handed to the store: what the folder walk and one read of its bytes found.
public struct PhotoArrival: Sendable {
    /// As shown in `results.csv` (``FileName/escape(_:)``).
    public var path: String
    /// The name's bytes (with `digest`, what makes a photo "the same" on a rerun).
    public var pathBytes: [UInt8]
    /// What a worker opens: an absolute path.
    public var filePath: [UInt8]
    /// SHA-256 (hex) of the bytes; empty when the entry was not read.
    public var digest: String
    public var size: Int?
    public var source: String?
    public var takenAt: String?
    public var latitude: Double?
    public var longitude: Double?
    public var orientation: Int?
    /// Why the entry was not read (a refused link, an unreadable folder, an unreadable file).
    public var problem: String?
    /// Whether the walk followed a symbolic link to reach it.
    public var followsLinks = false
    /// The photo's bytes, kept in the store by digest (an upload to `rubble serve`: every worker
    /// on any machine reads them from there; ``filePath`` is then empty); nil for a file a worker
    /// opens at ``filePath``.
    public var image: [UInt8]?
    /// The account that uploaded it (`rubble serve`).
    public var uploader: String?

    public init(path: String, pathBytes: [UInt8], filePath: [UInt8], digest: String) {
        self.path = path
        self.pathBytes = pathBytes
        self.filePath = filePath
        self.digest = digest
    }
}

/// A job a worker holds under a lease.
public struct ClaimedJob: Sendable {
    public let job: Int
    public let photo: Int
    public let run: Int
    public let path: String
    public let filePath: [UInt8]
    public let digest: String
    public let problem: String?
    public let followsLinks: Bool
    /// The photo's bytes are in the store (``ScreeningStore/images(of:)``), not in a file.
    public let imageInStore: Bool
}

extension ScreeningStore {
    /// Adds `arrivals` (in arrival order) and queues each for `modelID` unless it already has a
    /// job for it. Returns the photo id of each arrival and whether a new job was queued (false:
    /// the photo was already screened by this model, or is still queued from an earlier run).
    public func enqueue(_ arrivals: [PhotoArrival], modelID: Int, runID: Int) throws -> [(photo: Int, queued: Bool)] {
        guard !arrivals.isEmpty else { return [] }
        let now = StoreClock.timestamp()
        return try write("queueing \(arrivals.count) photos", exclusive: true) { db in
            struct Key: Hashable { let path: [UInt8]; let digest: String }
            var ids: [Key: Int] = [:]
            var queued = Set<Int>()
            // Three multi-row statements per chunk: the photos already known, the new ones, the jobs.
            for start in stride(from: 0, to: arrivals.count, by: 200) {
                let chunk = arrivals[start..<min(start + 200, arrivals.count)]
                let list = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                for row in try db.query("SELECT id, path_bytes, digest FROM photos WHERE path_bytes IN (\(list))",
                                        chunk.map { .bytes($0.pathBytes) }) {
                    if let id = row.int(0), let path = row.bytes(1), let digest = row.text(2) { ids[Key(path: path, digest: digest)] = id }
                }
                var fresh: [PhotoArrival] = []
                var seen = Set<Key>()
                for a in chunk where ids[Key(path: a.pathBytes, digest: a.digest)] == nil && seen.insert(Key(path: a.pathBytes, digest: a.digest)).inserted {
                    fresh.append(a)
                }
                if !fresh.isEmpty {
                    var values: [SQLValue] = []
                    values.reserveCapacity(fresh.count * 14)
                    for a in fresh {
                        values += [.text(a.path), .bytes(a.pathBytes), .bytes(a.filePath), .text(a.digest), SQLValue(a.size),
                                   SQLValue(a.source), SQLValue(a.takenAt), SQLValue(a.latitude), SQLValue(a.longitude),
                                   SQLValue(a.orientation), SQLValue(a.problem), SQLValue(a.followsLinks), .text(now),
                                   SQLValue(a.uploader)]
                    }
                    let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: fresh.count).joined(separator: ", ")
                    for row in try db.query("""
                        INSERT INTO photos (path, path_bytes, file_path, digest, size, source, taken_at, latitude, longitude,
                          orientation, problem, follows_links, added_at, uploader) VALUES \(rows) RETURNING id, path_bytes, digest
                        """, values) {
                        if let id = row.int(0), let path = row.bytes(1), let digest = row.text(2) { ids[Key(path: path, digest: digest)] = id }
                    }
                }
                for a in fresh {
                    guard let bytes = a.image else { continue }
                    try db.execute("INSERT INTO images (digest, bytes) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
                                   [.text(a.digest), .bytes(bytes)])
                }
                var jobValues: [SQLValue] = []
                for a in chunk {
                    guard let id = ids[Key(path: a.pathBytes, digest: a.digest)] else {
                        throw StoreError.corruptRow(location: location, table: "photos", detail: "no id for \(a.path)")
                    }
                    jobValues += [SQLValue(id), SQLValue(modelID), SQLValue(runID)]
                }
                let jobRows = Array(repeating: "(?, ?, ?, 'queued', 0)", count: chunk.count).joined(separator: ", ")
                for row in try db.query("""
                    INSERT INTO jobs (photo_id, model_id, run_id, state, attempts) VALUES \(jobRows)
                    ON CONFLICT (photo_id, model_id) DO NOTHING RETURNING photo_id
                    """, jobValues) {
                    if let id = row.int(0) { queued.insert(id) }
                }
            }
            return try arrivals.map { a in
                guard let id = ids[Key(path: a.pathBytes, digest: a.digest)] else {
                    throw StoreError.corruptRow(location: location, table: "photos", detail: "no id for \(a.path)")
                }
                return (id, queued.contains(id))
            }
        }
    }

    /// Claims up to `limit` jobs of `modelID` in arrival order: queued ones, and claimed ones
    /// whose lease has expired (a dead worker's) or whose worker was a process of this machine
    /// that no longer exists. With `below`, only jobs of photos before that id (a worker
    /// waiting for an earlier photo's preparation takes it over).
    public func claim(modelID: Int, worker: String, limit: Int, leaseSeconds: Double, below: Int? = nil) throws -> [ClaimedJob] {
        let now = StoreClock.now()
        let dead = try deadLocalWorkers()
        return try write("claiming work", exclusive: true) { db in
            var condition = "j.model_id = ? AND (j.state = 'queued' OR (j.state = 'claimed' AND (j.lease_until < ?"
            var values: [SQLValue] = [SQLValue(modelID), .real(now)]
            for name in dead {
                condition += " OR j.worker = ?"
                values.append(.text(name))
            }
            condition += ")))"
            if let below {
                condition += " AND j.photo_id < ?"
                values.append(SQLValue(below))
            }
            let ids = try db.query("SELECT j.id FROM jobs j WHERE \(condition) ORDER BY j.photo_id LIMIT ?\(dialect.skipLocked)",
                                   values + [SQLValue(limit)]).compactMap { $0.int(0) }
            guard !ids.isEmpty else { return [] }
            let list = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            try db.execute("UPDATE jobs SET state = 'claimed', worker = ?, lease_until = ?, attempts = attempts + 1 WHERE id IN (\(list))",
                           [.text(worker), .real(now + leaseSeconds)] + ids.map { SQLValue($0) })
            return try db.query("""
                SELECT j.id, j.photo_id, j.run_id, p.path, p.file_path, p.digest, p.problem, p.follows_links,
                  CASE WHEN length(p.file_path) = 0 THEN 1 ELSE 0 END
                FROM jobs j JOIN photos p ON p.id = j.photo_id WHERE j.id IN (\(list)) ORDER BY j.photo_id
                """, ids.map { SQLValue($0) }).map { row in
                ClaimedJob(job: row.int(0) ?? 0, photo: row.int(1) ?? 0, run: row.int(2) ?? 0, path: row.text(3) ?? "",
                           filePath: row.bytes(4) ?? [], digest: row.text(5) ?? "", problem: row.text(6),
                           followsLinks: (row.int(7) ?? 0) != 0, imageInStore: (row.int(8) ?? 0) != 0)
            }
        }
    }

    /// Queues for `modelID` every photo whose bytes the store keeps (uploads) that has no job
    /// for it yet: a server started with a new model answers the whole stream again (the
    /// verdicts, which are per photo, stay). Returns how many were queued.
    @discardableResult
    public func queueStoredPhotos(modelID: Int, runID: Int) throws -> Int {
        try write("queueing the stored photos for model \(modelID)", exclusive: true) { db in
            try db.query("""
                INSERT INTO jobs (photo_id, model_id, run_id, state, attempts)
                SELECT p.id, ?, ?, 'queued', 0 FROM photos p
                WHERE length(p.file_path) = 0 AND EXISTS (SELECT 1 FROM images i WHERE i.digest = p.digest)
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.photo_id = p.id AND j.model_id = ?)
                ORDER BY p.id RETURNING photo_id
                """, [SQLValue(modelID), SQLValue(runID), SQLValue(modelID)]).count
        }
    }

    /// The stored bytes of those of `photos` kept in the store (uploads), by photo id.
    public func images(of photos: [Int]) throws -> [Int: [UInt8]] {
        guard !photos.isEmpty else { return [:] }
        let list = Array(repeating: "?", count: photos.count).joined(separator: ", ")
        return try read("reading \(photos.count) stored photos") { db in
            var out: [Int: [UInt8]] = [:]
            for row in try db.query("SELECT p.id, i.bytes FROM photos p JOIN images i ON i.digest = p.digest WHERE p.id IN (\(list))",
                                    photos.map { SQLValue($0) }) {
                if let id = row.int(0), let bytes = row.bytes(1) { out[id] = bytes }
            }
            return out
        }
    }

    /// Extends the lease of `jobs` that `worker` still holds.
    public func renew(_ jobs: [Int], worker: String, leaseSeconds: Double) throws {
        guard !jobs.isEmpty else { return }
        let list = Array(repeating: "?", count: jobs.count).joined(separator: ", ")
        try write("renewing leases") { db in
            try db.execute("UPDATE jobs SET lease_until = ? WHERE worker = ? AND state = 'claimed' AND id IN (\(list))",
                           [.real(StoreClock.now() + leaseSeconds), .text(worker)] + jobs.map { SQLValue($0) })
        }
    }

    /// Puts the jobs `worker` still holds back in the queue (a worker stopping early).
    public func release(worker: String) throws {
        try write("releasing jobs") { db in
            try db.execute("UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL WHERE worker = ? AND state = 'claimed'",
                           [.text(worker)])
        }
    }

    /// How many of `photos` have no final result for `modelID` yet.
    public func unfinished(_ photos: Set<Int>, modelID: Int) throws -> Int {
        guard !photos.isEmpty else { return 0 }
        let open = try write("counting open jobs") { db in
            try db.query("SELECT photo_id FROM jobs WHERE model_id = ? AND state <> 'done'", [SQLValue(modelID)]).compactMap { $0.int(0) }
        }
        return open.filter(photos.contains).count
    }

    /// Queued or claimed jobs of `modelID`.
    public func queueDepth(modelID: Int) throws -> Int {
        try read("counting the queue") { db in
            try db.scalar("SELECT COUNT(*) FROM jobs WHERE model_id = ? AND state <> 'done'", [SQLValue(modelID)])?.int ?? 0
        }
    }

    /// Workers registered from this machine whose process is gone.
    func deadLocalWorkers() throws -> [String] {
        let rows = try write("reading the workers") { db in
            try db.query("SELECT name, pid FROM workers WHERE host = ?", [.text(Self.hostName)])
        }
        return rows.compactMap { row -> String? in
            guard let name = row.text(0), let pid = row.int(1), pid > 0, pid != Int(getpid()) else { return nil }
            return kill(pid_t(pid), 0) != 0 && errno == ESRCH ? name : nil
        }
    }

    /// Registers (or refreshes) `worker` and adds to its counts.
    public func heartbeat(worker: String, modelID: Int, photos: Int, busySeconds: Double) throws {
        let now = StoreClock.timestamp()
        try write("recording worker progress") { db in
            let updated = try db.query("""
                UPDATE workers SET last_seen = ?, photos = photos + ?, busy_seconds = busy_seconds + ?, model_id = ?
                WHERE name = ? RETURNING name
                """, [.text(now), SQLValue(photos), .real(busySeconds), SQLValue(modelID), .text(worker)])
            if updated.isEmpty {
                try db.execute("""
                    INSERT INTO workers (name, host, pid, model_id, started_at, last_seen, photos, busy_seconds)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(worker), .text(Self.hostName), SQLValue(Int(getpid())), SQLValue(modelID), .text(now), .text(now),
                          SQLValue(photos), .real(busySeconds)])
            }
        }
    }

    /// Each worker's name, photos done, busy seconds and last heartbeat.
    public func workers() throws -> [(name: String, photos: Int, busySeconds: Double, lastSeen: String)] {
        try write("reading the workers") { db in
            try db.query("SELECT name, photos, busy_seconds, last_seen FROM workers ORDER BY name").map {
                ($0.text(0) ?? "", $0.int(1) ?? 0, $0.double(2) ?? 0, $0.text(3) ?? "")
            }
        }
    }
}

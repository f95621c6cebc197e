/// A person's verdict on a photo, as the store keeps it.
public struct StoredVerdict: Sendable, Equatable {
    public var photo: Int
    /// As shown in `results.csv`.
    public var path: String
    /// The file the photo was read from (absolute).
    public var filePath: [UInt8]
    public var label: String
    public var verifier: String
    public var createdAt: String
    public var digest = ""
    /// The photo's bytes are in the store (an upload: ``filePath`` is empty; ``ScreeningStore/images(of:)``).
    public var imageInStore = false
}

extension ScreeningStore {
    /// Stores verdicts (each photo id with the label a verifier gave it), in one transaction.
    public func addVerdicts(_ verdicts: [(photo: Int, label: String)], verifier: String) throws {
        guard !verdicts.isEmpty else { return }
        let now = StoreClock.timestamp()
        try write("storing \(verdicts.count) verdicts") { db in
            for v in verdicts {
                try db.execute("INSERT INTO verdicts (photo_id, label, verifier, created_at) VALUES (?, ?, ?, ?)",
                               [SQLValue(v.photo), .text(v.label), .text(verifier), .text(now)])
            }
        }
    }

    /// The latest verdict of every photo that has one, in photo order.
    public func verdicts() throws -> [StoredVerdict] {
        try read("reading verdicts") { db in
            try db.query("""
                SELECT v.photo_id, p.path, p.file_path, v.label, v.verifier, v.created_at, p.digest,
                  CASE WHEN length(p.file_path) = 0 THEN 1 ELSE 0 END FROM verdicts v
                JOIN photos p ON p.id = v.photo_id
                WHERE v.id = (SELECT MAX(w.id) FROM verdicts w WHERE w.photo_id = v.photo_id) ORDER BY v.photo_id
                """).map { row in
                guard let photo = row.int(0), let label = row.text(3) else {
                    throw StoreError.corruptRow(location: location, table: "verdicts", detail: "unreadable row \(row.values)")
                }
                return StoredVerdict(photo: photo, path: row.text(1) ?? "", filePath: row.bytes(2) ?? [], label: label,
                                     verifier: row.text(4) ?? "", createdAt: row.text(5) ?? "", digest: row.text(6) ?? "",
                                     imageInStore: (row.int(7) ?? 0) != 0)
            }
        }
    }

    /// The latest photo id of each shown path (`results.csv`'s `path`) that the store knows.
    public func photoIDs(shownPaths: [String]) throws -> [String: Int] {
        let wanted = Set(shownPaths)
        return try write("finding photos") { db in
            var out: [String: Int] = [:]
            for row in try db.query("SELECT id, path FROM photos ORDER BY id") {
                if let id = row.int(0), let path = row.text(1), wanted.contains(path) { out[path] = id }
            }
            return out
        }
    }
}

import Digest
import Foundation
import Vision

/// The outcome of de-duplicating a folder: every photo's fate, the groups and the counts.
///
/// JSON shape (``json()``, keys sorted; what `rubble dedup --json` prints):
/// ```
/// { "directory": "photos", "hash": "phash", "threshold": 10,
///   "counts": { "images": 7, "unique": 4, "exact_duplicates": 1, "near_duplicates": 1, "unreadable": 1 },
///   "groups": [ { "kept": "photos/a.jpg", "hash": "8e09...", "digest": "3a7b...", "count": 3,
///                 "duplicates": [ { "path": "photos/a copy.jpg", "kind": "exact", "distance": 0 },
///                                 { "path": "photos/b.png", "kind": "near", "distance": 4 } ] } ],
///   "images": [ { "path": "photos/a.jpg", "status": "kept", "digest": "...", "hash": "...",
///                 "duplicate_of": null, "distance": null, "error": null }, ... ],
///   "unreadable": [ { "path": "photos/bad.jpg", "error": "photos/bad.jpg: ..." } ] }
/// ```
/// `groups` lists only groups with at least one duplicate, in the order of their kept photo;
/// `count` includes the kept photo. `images` lists every photo in sorted path order with
/// `status` one of kept, exact, near, unreadable. `unique` counts kept photos (groups and
/// singletons). An exact duplicate is usually not decoded, so its `hash` may be null; its
/// `distance` is that of the photo it copies (0 when it copies the kept one).
public struct DedupReport: Sendable {
    public enum Status: String, Sendable { case kept, exact, near, unreadable }

    public struct Image: Sendable {
        public let path: String
        public let status: Status
        public let digest: SHA256Digest?
        public let hash: PerceptualHash?
        /// The kept photo of its group (for exact and near).
        public let duplicateOf: String?
        /// Bits from the kept photo's hash (0 for exact copies).
        public let distance: Int?
        public let error: String?
    }

    public struct Group: Sendable {
        public let kept: Image
        public let duplicates: [Image]
        public var count: Int { duplicates.count + 1 }
    }

    public let directory: String
    public let hashKind: PerceptualHashKind
    public let threshold: Int
    /// Every photo, sorted by path.
    public let images: [Image]

    public var unique: Int { images.filter { $0.status == .kept }.count }
    public var exactDuplicates: Int { images.filter { $0.status == .exact }.count }
    public var nearDuplicates: Int { images.filter { $0.status == .near }.count }
    public var unreadable: [Image] { images.filter { $0.status == .unreadable } }

    /// Groups with duplicates, in the order of their kept photo.
    public var groups: [Group] {
        var members: [String: [Image]] = [:]
        for image in images where image.status == .exact || image.status == .near {
            members[image.duplicateOf!, default: []].append(image)
        }
        return images.filter { $0.status == .kept && members[$0.path] != nil }
            .map { Group(kept: $0, duplicates: members[$0.path]!) }
    }

    /// The JSON document described above.
    public func json() throws -> Data {
        func entry(_ image: Image) -> [String: Any] {
            [
                "path": image.path, "status": image.status.rawValue,
                "digest": image.digest?.hex ?? NSNull(), "hash": image.hash?.hex ?? NSNull(),
                "duplicate_of": image.duplicateOf ?? NSNull(), "distance": image.distance ?? NSNull(),
                "error": image.error ?? NSNull(),
            ]
        }
        let document: [String: Any] = [
            "directory": directory,
            "hash": hashKind.rawValue,
            "threshold": threshold,
            "counts": [
                "images": images.count, "unique": unique, "exact_duplicates": exactDuplicates,
                "near_duplicates": nearDuplicates, "unreadable": unreadable.count,
            ],
            "groups": groups.map { group in
                [
                    "kept": group.kept.path, "hash": group.kept.hash?.hex ?? NSNull(),
                    "digest": group.kept.digest?.hex ?? NSNull(), "count": group.count,
                    "duplicates": group.duplicates.map {
                        ["path": $0.path, "kind": $0.status.rawValue, "distance": $0.distance ?? 0] as [String: Any]
                    },
                ] as [String: Any]
            },
            "images": images.map(entry),
            "unreadable": unreadable.map { ["path": $0.path, "error": $0.error ?? ""] },
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// Human-readable listing: one block per group, then the counts.
    public func text() -> String {
        var lines: [String] = []
        for group in groups {
            lines.append("kept  \(group.kept.path)  (\(group.count) images, \(hashKind.rawValue) \(group.kept.hash?.hex ?? "-"))")
            for d in group.duplicates {
                lines.append(d.status == .exact ? "  exact        \(d.path)" : "  near \(String(format: "%2d", d.distance ?? 0)) bits  \(d.path)")
            }
        }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// `N images: U unique, E exact duplicates, D near duplicates, R unreadable`.
    public var summary: String {
        "\(images.count) images: \(unique) unique, \(exactDuplicates) exact duplicates, "
            + "\(nearDuplicates) near duplicates (\(hashKind.rawValue), distance <= \(threshold)), \(unreadable.count) unreadable"
    }
}

/// Finds exact and near-duplicate photos in a folder (`rubble dedup`).
///
/// Photos are taken in sorted path order, so the kept photo of each group is its first in that
/// order. Exact copies are found by SHA-256 of the file bytes before decoding; the others are
/// decoded at full size (the smallest decode that gives Python imagehash's exact hashes: its
/// thumbnail is resampled from the full-size photo) and compared through a
/// ``DuplicateIndex``. Unreadable files (and entries that are not read: see
/// ``PhotoDirectory``) are listed, never fatal. Memory stays bounded: only hashes are kept,
/// and each photo is decoded, hashed and dropped on one core before that core reads the next
/// one, so at most one full-size decode per core is alive at a time, whatever the batch size.
public struct Deduplicator: Sendable {
    public var hashKind: PerceptualHashKind
    public var threshold: Int
    public var batchSize: Int
    /// Follow symbolic links everywhere (see ``PhotoDirectory``).
    public var followSymlinks = false

    public init(hashKind: PerceptualHashKind = .phash, threshold: Int = 10, batchSize: Int = 64) {
        self.hashKind = hashKind
        self.threshold = threshold
        self.batchSize = max(1, batchSize)
    }

    public func run(_ directory: URL, times: inout StageTimes) throws -> DedupReport {
        let files = try PhotoDirectory.scan(directory, followSymlinks: followSymlinks).map(\.file)
        return run(files, directory: directory.relativePath, times: &times)
    }

    public func run(_ files: [PhotoFile], directory: String, times: inout StageTimes) -> DedupReport {
        var index = DuplicateIndex(threshold: threshold)
        var representatives: [DedupReport.Image] = []
        var images: [DedupReport.Image] = []
        let preparer = PhotoPreparer(hashKind: hashKind)
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let batch = Array(files[start..<min(start + batchSize, files.count)])
            for photo in preparer.prepare(batch, known: index, times: &times) {
                let path = photo.file.path
                switch photo.state {
                case .failed(let message):
                    images.append(.init(path: path, status: .unreadable, digest: photo.digest, hash: nil,
                                        duplicateOf: nil, distance: nil, error: message))
                case .tooSmall:  // dedup sets no minimum size; kept as a row rather than a trap
                    images.append(.init(path: path, status: .unreadable, digest: photo.digest, hash: nil,
                                        duplicateOf: nil, distance: nil, error: "smaller than the minimum size"))
                case .knownCopy(let r, let d):
                    let kept = representatives[r]
                    images.append(.init(path: path, status: .exact, digest: photo.digest, hash: nil,
                                        duplicateOf: kept.path, distance: d, error: nil))
                case .ready(let hash, _):
                    switch index.add(digest: photo.digest!, hash: hash) {
                    case .unique:
                        let image = DedupReport.Image(path: path, status: .kept, digest: photo.digest, hash: hash,
                                                      duplicateOf: nil, distance: nil, error: nil)
                        representatives.append(image)
                        images.append(image)
                    case .exact(let r, let d):
                        images.append(.init(path: path, status: .exact, digest: photo.digest, hash: hash,
                                            duplicateOf: representatives[r].path, distance: d, error: nil))
                    case .near(let r, let d):
                        images.append(.init(path: path, status: .near, digest: photo.digest, hash: hash,
                                            duplicateOf: representatives[r].path, distance: d, error: nil))
                    }
                }
            }
        }
        return DedupReport(directory: directory, hashKind: hashKind, threshold: threshold, images: images)
    }
}

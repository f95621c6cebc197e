import Digest
import Vision

/// What the duplicate index says about a photo.
public enum DuplicateVerdict: Sendable, Equatable {
    /// Not seen before: the photo is kept and becomes representative `representative`.
    case unique(representative: Int)
    /// Byte-identical (same SHA-256) to a photo already seen; `representative` is the kept
    /// photo of that photo's group, `distance` the copied photo's distance to it (0 unless the
    /// copied photo was itself a near-duplicate).
    case exact(representative: Int, distance: Int)
    /// Its perceptual hash is `distance` bits from representative `representative`'s
    /// (`distance <= threshold`).
    case near(representative: Int, distance: Int)

    public var representative: Int {
        switch self {
        case .unique(let r), .exact(let r, _), .near(let r, _): return r
        }
    }

    public var isDuplicate: Bool {
        if case .unique = self { return false }
        return true
    }
}

/// Exact and near-duplicate detection over a stream of photos, in arrival order.
///
/// Grouping is "leader" clustering: the first photo of a group is its kept representative, and
/// a later photo is a near-duplicate when its hash is within `threshold` bits of a
/// representative's (the closest one; the earliest on ties). Duplicates are never compared
/// against, so groups do not chain (A ~ B ~ C with A far from C keeps C) and every member is
/// within `threshold` of its representative. Exact duplicates are found by content digest
/// before any decoding; a copy of a near-duplicate joins that near-duplicate's group.
///
/// Near-duplicate queries go through a ``HammingIndex`` (multi-index hashing), so the cost per
/// photo stays small at 100,000 representatives.
public struct DuplicateIndex: Sendable {
    public let threshold: Int
    private var hashes = HammingIndex()
    /// Digest -> representative of the group the first photo with it joined, and its distance.
    private var digests: [SHA256Digest: (representative: Int, distance: Int)] = [:]
    /// Number of representatives so far.
    public var representativeCount: Int { hashes.count }

    public init(threshold: Int = 10) {
        precondition(threshold >= 0, "negative Hamming threshold \(threshold)")
        self.threshold = threshold
    }

    /// The representative a byte-identical photo already joined (and that photo's distance to
    /// it), if any (no change).
    public func exactMatch(_ digest: SHA256Digest) -> (representative: Int, distance: Int)? { digests[digest] }

    /// The representative whose hash is closest to `hash` within the threshold, if any (no change).
    public func nearMatch(_ hash: PerceptualHash) -> (representative: Int, distance: Int)? {
        hashes.nearest(to: hash.bits, within: threshold).map { ($0.id, $0.distance) }
    }

    /// Decides about a photo and records it: exact copy, near-duplicate, or a new representative.
    public mutating func add(digest: SHA256Digest, hash: PerceptualHash) -> DuplicateVerdict {
        if let (r, d) = digests[digest] { return .exact(representative: r, distance: d) }
        if let (r, d) = nearMatch(hash) {
            digests[digest] = (r, d)
            return .near(representative: r, distance: d)
        }
        let r = hashes.insert(hash.bits)
        digests[digest] = (r, 0)
        return .unique(representative: r)
    }

    /// The hash of representative `id`.
    public func hash(ofRepresentative id: Int) -> PerceptualHash { PerceptualHash(bits: hashes.hashes[id]) }
}

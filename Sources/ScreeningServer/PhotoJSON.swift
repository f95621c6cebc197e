import Foundation
import Screening

/// A photo as the API shows it (`docs/openapi.yaml`'s `Photo`): every field present, null when
/// there is nothing to say. Encoded with `JSONEncoder` (a listing of 500 is
/// a few milliseconds; `JSONSerialization` of `Any` spent them in dynamic casts).
struct PhotoJSON: Encodable {
    let record: PhotoRecord
    let classNames: [String]

    private enum Field: String, CodingKey {
        case id, status, probabilities, label, flagged, duplicate_of, severity, latitude, longitude, error, source, taken_at,
             added_at, has_gradcam, verdict, verdicts
    }

    /// A class name as a key of `probabilities`.
    private struct ClassName: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Verdict: Encodable {
        let label: String
        let verifier: String
        let created_at: String
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Field.self)
        let r = record
        try c.encode(r.id, forKey: .id)
        try c.encode(r.status.rawValue, forKey: .status)
        if r.probabilities.count == classNames.count, !r.probabilities.isEmpty {
            var p = c.nestedContainer(keyedBy: ClassName.self, forKey: .probabilities)
            for (name, value) in zip(classNames, r.probabilities) {
                if value.isFinite { try p.encode(value, forKey: ClassName(stringValue: name)) } else {
                    try p.encodeNil(forKey: ClassName(stringValue: name))
                }
            }
        } else {
            try c.encodeNil(forKey: .probabilities)
        }
        try c.encodeOrNull(r.label, forKey: .label)
        try c.encode(r.flagged, forKey: .flagged)
        try c.encodeOrNull(r.duplicateOf, forKey: .duplicate_of)
        try c.encodeOrNull(r.severity.flatMap { $0.isFinite ? $0 : nil }, forKey: .severity)
        try c.encodeOrNull(r.latitude, forKey: .latitude)
        try c.encodeOrNull(r.longitude, forKey: .longitude)
        try c.encodeOrNull(r.error, forKey: .error)
        try c.encodeOrNull(r.source, forKey: .source)
        try c.encodeOrNull(r.takenAt, forKey: .taken_at)
        try c.encode(r.addedAt, forKey: .added_at)
        try c.encode(r.hasGradCAM, forKey: .has_gradcam)
        try c.encodeOrNull(r.verdicts.last?.label, forKey: .verdict)
        try c.encode(r.verdicts.map { Verdict(label: $0.label, verifier: $0.verifier, created_at: $0.createdAt) }, forKey: .verdicts)
    }
}

/// A page of the listing: `{"photos": [...], "next": cursor or null}`.
struct PhotoPageJSON: Encodable {
    let photos: [PhotoJSON]
    let next: Int?

    private enum Field: String, CodingKey { case photos, next }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Field.self)
        try c.encode(photos, forKey: .photos)
        try c.encodeOrNull(next, forKey: .next)
    }
}

extension KeyedEncodingContainer {
    /// `value`, or an explicit null (the synthesised `encodeIfPresent` would leave the field out).
    mutating func encodeOrNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

import Foundation

/// What a photo's EXIF says about when and where it was taken, and how to turn it for display:
/// the fields the screening store keeps and appends to `results.csv`.
///
/// Every field is `nil` when the photo does not carry it or carries a value that cannot be right
/// (EXIF is hostile input: ``read(jpeg:)-([UInt8])`` never throws and never traps on it).
///
/// - ``takenAt``: the capture time as EXIF stores it, in the camera's local time, normalised to
///   ISO 8601 `YYYY-MM-DDTHH:MM:SS`, with the UTC offset appended as `+HH:MM` / `-HH:MM` when the
///   photo records one. From `DateTimeOriginal` (with `OffsetTimeOriginal`), else
///   `DateTimeDigitized` (with `OffsetTimeDigitized`), else IFD0's `DateTime` (with
///   `OffsetTime`); a tag whose date is invalid (`0000:00:00 00:00:00`, 31 February, garbage)
///   counts as absent. An invalid or blank offset is left out, the time kept.
/// - ``latitude`` / ``longitude``: degrees from `GPSLatitude` / `GPSLongitude` (degrees, minutes
///   and seconds as rationals), negative south of the equator and west of Greenwich
///   (`GPSLatitudeRef` `S`, `GPSLongitudeRef` `W`). A position is both or neither: a zero
///   denominator, a missing or unknown reference, |latitude| > 90, |longitude| > 180 or a
///   non-finite value in either makes both `nil`.
/// - ``orientation``: IFD0's `Orientation`, 1...8 (1: as stored; 6: turn 90° clockwise to
///   display; the TIFF meanings). Decoding never applies it (``ImageDecoder``).
public struct PhotoMetadata: Sendable, Hashable, Codable {
    /// Local capture time, `YYYY-MM-DDTHH:MM:SS` with an optional `±HH:MM` offset.
    public var takenAt: String?
    /// Degrees north (negative: south), within -90...90.
    public var latitude: Double?
    /// Degrees east (negative: west), within -180...180.
    public var longitude: Double?
    /// EXIF orientation, 1...8.
    public var orientation: Int?

    public init(takenAt: String? = nil, latitude: Double? = nil, longitude: Double? = nil, orientation: Int? = nil) {
        self.takenAt = takenAt
        self.latitude = latitude
        self.longitude = longitude
        self.orientation = orientation
    }

    /// No metadata at all (a photo without EXIF, a PNG, malformed EXIF).
    public static let empty = PhotoMetadata()

    /// Whether every field is `nil`.
    public var isEmpty: Bool { self == .empty }

    /// The columns ``csvFields`` fills, in order: appended after the existing `results.csv` columns.
    public static let csvHeader = ["latitude", "longitude", "taken_at"]

    /// `latitude`, `longitude` (6 decimals, about 0.1 m; never `-0.000000`) and `taken_at`, each
    /// empty when `nil`. The values hold only digits, `-`, `+`, `.`, `:` and `T`, so they need no
    /// CSV quoting.
    public var csvFields: [String] {
        [latitude.map(Self.degrees) ?? "", longitude.map(Self.degrees) ?? "", takenAt ?? ""]
    }

    /// Six decimals, with a rounded-away negative zero written as positive.
    static func degrees(_ value: Double) -> String {
        let text = String(format: "%.6f", value)
        return text == "-0.000000" ? "0.000000" : text
    }
}

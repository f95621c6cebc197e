/// The checks and conversions from raw EXIF tag values to ``PhotoMetadata`` fields: dates to
/// ISO 8601, GPS rationals to signed degrees, orientation to 1...8. Pure functions of bytes and
/// numbers; nothing here can trap on any input.
enum EXIFValues {
    /// The first valid date of `candidates` (in priority order: DateTimeOriginal,
    /// DateTimeDigitized, DateTime, each with its offset tag) as `YYYY-MM-DDTHH:MM:SS[±HH:MM]`.
    static func captureTime(_ candidates: [(date: [UInt8], offset: [UInt8])]) -> String? {
        for (date, offset) in candidates {
            if let time = dateTime(date) { return time + (utcOffset(offset) ?? "") }
        }
        return nil
    }

    /// `YYYY:MM:DD HH:MM:SS` (EXIF; `-` in the date and `T` before the time are accepted too,
    /// trailing spaces ignored) as `YYYY-MM-DDTHH:MM:SS`, or nil unless it is a real date and
    /// time: year 1...9999, a day that exists in its month, hours 0...23, minutes and seconds 0...59.
    static func dateTime(_ raw: [UInt8]) -> String? {
        let bytes = trimmed(raw)
        guard bytes.count == 19 else { return nil }
        let colon = UInt8(ascii: ":"), dash = UInt8(ascii: "-")
        guard [4, 7].allSatisfy({ bytes[$0] == colon || bytes[$0] == dash }),
              bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
              bytes[13] == colon, bytes[16] == colon,
              let year = number(bytes, 0, 4), let month = number(bytes, 5, 2), let day = number(bytes, 8, 2),
              let hour = number(bytes, 11, 2), let minute = number(bytes, 14, 2), let second = number(bytes, 17, 2),
              (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        return "\(digits(year, 4))-\(digits(month, 2))-\(digits(day, 2))T\(digits(hour, 2)):\(digits(minute, 2)):\(digits(second, 2))"
    }

    /// `+HH:MM` / `-HH:MM` with hours 0...14 and minutes 0...59 (real offsets run from -12:00 to
    /// +14:00), or nil (absent, blank as EXIF writes an unknown offset, or invalid).
    static func utcOffset(_ raw: [UInt8]) -> String? {
        let bytes = trimmed(raw)
        guard bytes.count == 6, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
              bytes[3] == UInt8(ascii: ":"), let hours = number(bytes, 1, 2), let minutes = number(bytes, 4, 2),
              (0...14).contains(hours), (0...59).contains(minutes)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Both coordinates, or nil when either is missing or invalid.
    static func position(latitudeReference: [UInt8], latitude: [(numerator: UInt32, denominator: UInt32)],
                         longitudeReference: [UInt8], longitude: [(numerator: UInt32, denominator: UInt32)])
        -> (latitude: Double, longitude: Double)? {
        guard let lat = coordinate(latitude, reference: latitudeReference, positive: "N", negative: "S", limit: 90),
              let lon = coordinate(longitude, reference: longitudeReference, positive: "E", negative: "W", limit: 180)
        else { return nil }
        return (lat, lon)
    }

    /// Degrees + minutes / 60 + seconds / 3600 (one to three rationals, the missing ones 0),
    /// negative for the `negative` reference letter; nil for a zero denominator, a reference
    /// that is not one of the two letters (either case), or a magnitude over `limit`.
    static func coordinate(_ parts: [(numerator: UInt32, denominator: UInt32)], reference: [UInt8],
                           positive: Character, negative: Character, limit: Double) -> Double? {
        guard (1...3).contains(parts.count), parts.allSatisfy({ $0.denominator != 0 }) else { return nil }
        let letter = String(decoding: trimmed(reference), as: UTF8.self).uppercased()
        let sign: Double
        switch letter {
        case String(positive): sign = 1
        case String(negative): sign = -1
        default: return nil
        }
        let scales: [Double] = [1, 60, 3600]
        var magnitude = 0.0
        for (part, scale) in zip(parts, scales) {
            magnitude += Double(part.numerator) / Double(part.denominator) / scale
        }
        guard magnitude.isFinite, magnitude <= limit else { return nil }
        return magnitude == 0 ? 0 : sign * magnitude
    }

    /// 1...8, else nil.
    static func orientation(_ raw: Int) -> Int? { (1...8).contains(raw) ? raw : nil }

    // MARK: - Bytes

    /// Without trailing spaces and NULs.
    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        var end = bytes.count
        while end > 0 && (bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == 0) { end -= 1 }
        return Array(bytes[0..<end])
    }

    /// The decimal number of `count` ASCII digits at `start`, or nil if any is not a digit.
    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start >= 0, count > 0, start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<start + count] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// `value` with leading zeros to `width` digits.
    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

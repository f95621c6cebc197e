import Foundation
import Hummingbird
import Screening

/// A request's query parameters, read strictly: a name the endpoint does not know, a repeated
/// name, or a value of the wrong form is a 400 that names it, never ignored.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(_ request: Request, allowed: Set<String>) throws {
        for (name, value) in request.uri.queryParameters {
            let name = String(name).removingPercentEncoding ?? String(name)
            guard allowed.contains(name) else {
                throw APIError.badRequest("unknown query parameter \(name.debugDescription) (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard values[name] == nil else { throw APIError.badRequest("query parameter \(name) given twice") }
            values[name] = String(value).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(value)
        }
    }

    func text(_ name: String, maximumLength: Int = 200) throws -> String? {
        guard let value = values[name] else { return nil }
        guard !value.isEmpty, value.count <= maximumLength,
              value.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw APIError.badRequest("\(name) must be 1 to \(maximumLength) printable characters")
        }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = values[name] else { return nil }
        guard let number = Int(value), range.contains(number) else {
            throw APIError.badRequest("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(value.debugDescription)")
        }
        return number
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let value = values[name] else { return nil }
        guard let number = Double(value), number.isFinite, range.contains(number) else {
            throw APIError.badRequest("\(name) must be a number in \(range.lowerBound)...\(range.upperBound), got \(value.debugDescription)")
        }
        return number
    }

    func boolean(_ name: String) throws -> Bool? {
        guard let value = values[name] else { return nil }
        switch value {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.badRequest("\(name) must be true or false, got \(value.debugDescription)")
        }
    }

    /// An ISO 8601 time (`2023-02-06T04:17:00Z`, with or without fractional seconds or an
    /// offset), as the store writes times (UTC, milliseconds).
    func time(_ name: String) throws -> String? {
        guard let value = values[name] else { return nil }
        guard let date = Self.parseTime(value) else {
            throw APIError.badRequest("\(name) must be an ISO 8601 time such as 2023-02-06T04:17:00Z, got \(value.debugDescription)")
        }
        return StoreClock.timestamp(date)
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

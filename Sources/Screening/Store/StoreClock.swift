import Foundation

/// Times as the store keeps them: ISO 8601 UTC text for people, seconds since the epoch for leases.
enum StoreClock {
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Seconds since 1970 (wall clock: leases are compared across machines).
    static func now() -> Double { Date().timeIntervalSince1970 }
}

import Foundation

/// Times as the store keeps them: ISO 8601 UTC text for people, seconds since the epoch for leases.
public enum StoreClock {
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Seconds since 1970 (wall clock: leases are compared across machines).
    public static func now() -> Double { Date().timeIntervalSince1970 }
}

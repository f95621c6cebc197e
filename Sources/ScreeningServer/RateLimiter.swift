import Foundation

/// A token bucket per account: `perMinute` requests a minute on average, `burst` at once.
/// Beyond it a request is refused with 429 and the seconds to wait.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private var buckets: [Int: (tokens: Double, at: Double)] = [:]
    private let perSecond: Double
    private let burst: Double

    init(perMinute: Int) {
        perSecond = Double(max(1, perMinute)) / 60
        burst = max(10, Double(perMinute) / 10)
    }

    /// nil when `account` may go on, else the seconds until it may.
    func take(_ account: Int, now: Double = ProcessInfo.processInfo.systemUptime) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        var bucket = buckets[account] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
        bucket.at = now
        defer { buckets[account] = bucket }
        guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / perSecond }
        bucket.tokens -= 1
        return nil
    }
}

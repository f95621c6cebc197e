import Foundation
import Screening

/// The store's connections for request handlers: a few threads of their own, each with its own
/// connection, so a handler's blocking SQL (the store's calls are synchronous) never holds one
/// of Swift concurrency's few cooperative threads, and a PostgreSQL connection is never shared
/// by two transactions at once.
final class StorePool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(ScreeningStore) -> Void] = []
    private var stopped = false
    private var threads: [Thread] = []
    let location: String

    /// Opens `connections` stores with `open` (each migrates nothing new after the first).
    init(connections: Int, open: @escaping @Sendable () throws -> ScreeningStore) throws {
        let stores = try (0..<max(1, connections)).map { _ in try open() }
        location = stores[0].location
        for (n, store) in stores.enumerated() {
            let owned = Handoff(store)  // from here on only this thread uses it
            let thread = Thread { [unowned self] in self.serve(owned.value) }
            thread.name = "rubble-store-\(n)"
            threads.append(thread)
            thread.start()
        }
    }

    private func serve(_ store: ScreeningStore) {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                store.database.close()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job(store)
        }
    }

    /// Runs `body` on one of the pool's connections and returns what it returns (or throws).
    func run<T: Sendable>(_ body: @escaping @Sendable (ScreeningStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            guard !stopped else {
                condition.unlock()
                continuation.resume(throwing: StoreError.failed(location: location, operation: "a request", reason: "the server is stopping"))
                return
            }
            jobs.append { store in
                do { continuation.resume(returning: try body(store)) } catch { continuation.resume(throwing: error) }
            }
            condition.signal()
            condition.unlock()
        }
    }

    /// Lets the threads finish the jobs queued and close their connections.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A value handed to the one thread that uses it from then on.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

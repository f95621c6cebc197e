import Foundation

/// Makes items `0..<count` in order on a background thread, at most `depth` ahead of the
/// consumer (a bounded queue): decoding batch `i + 1` overlaps the compute on batch `i`.
///
/// `next()` hands them out in order; an error thrown while making item `i` is rethrown by the
/// `next()` that would have returned it. Call `finish()` when done (also on early exit): it
/// stops the producer and waits for it, so nothing runs in the background afterwards.
public final class Prefetcher<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: Result<Item, any Error>] = [:]
    private var consumed = 0
    private var cancelled = false
    private var producerDone = false
    public let count: Int
    public let depth: Int

    public init(count: Int, depth: Int, produce: @escaping @Sendable (Int) throws -> Item) {
        self.count = count
        self.depth = max(1, depth)
        guard count > 0 else {
            producerDone = true
            return
        }
        let thread = Thread { [self] in self.run(produce) }
        thread.name = "rubble-prefetch"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func run(_ produce: @Sendable (Int) throws -> Item) {
        for i in 0..<count {
            condition.lock()
            while !cancelled && i - consumed >= depth { condition.wait() }
            let stop = cancelled
            condition.unlock()
            if stop { break }
            let result = Result { try produce(i) }
            condition.lock()
            ready[i] = result
            condition.broadcast()
            condition.unlock()
            if case .failure = result { break }
        }
        condition.lock()
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next item in order; throws what making it threw.
    public func next() throws -> Item {
        condition.lock()
        defer { condition.unlock() }
        precondition(consumed < count, "no more items")
        while ready[consumed] == nil {
            precondition(!producerDone, "prefetch producer stopped early")
            condition.wait()
        }
        let result = ready.removeValue(forKey: consumed)!
        consumed += 1
        condition.broadcast()
        return try result.get()
    }

    /// Stops the producer and waits until it has returned.
    public func finish() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !producerDone { condition.wait() }
        ready.removeAll()
        condition.unlock()
    }
}

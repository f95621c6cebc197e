import Foundation

/// The first error of a parallel loop (both synthetic-scene writers record into one).
final class ParallelFirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: (any Error)?
    func record(_ error: any Error) {
        lock.lock()
        if self.error == nil { self.error = error }
        lock.unlock()
    }
}

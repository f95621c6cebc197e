import Foundation
import Tensor

/// A deterministic random order of `0..<count` for one epoch: the same `(count, epoch, seed)`
/// always gives the same permutation (on every platform and Swift version: Fisher-Yates with
/// ``SeededGenerator``'s reproducible draws), different epochs give different ones.
public func epochOrder(count: Int, epoch: Int, seed: UInt64) -> [Int] {
    precondition(count >= 0, "negative count \(count)")
    var rng = SeededGenerator(seed: SeededGenerator.mixing(seed, UInt64(bitPattern: Int64(epoch)) &+ 0x5EED))
    var order = Array(0..<count)
    rng.shuffle(&order)
    return order
}

import Foundation
import Layers
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// A model cut before its first trainable layer, on its ``ExecutionPlan``: `prefix` is every
/// step up to the cut (all frozen), `trainable` the rest.
///
/// The cut is the last step whose output alone determines everything after it (ARCHITECTURE.md
/// §3): with blocks 1-4 of a VGG frozen it is `block4_pool`; in a ResNet50 trained from conv5 it
/// is `conv4_block6_out`, because no later step reads anything before it. That output never
/// changes while training: `FeatureCache` computes it once per image. Training always runs the
/// prefix without recording gradients (it keeps no activations) and the trainable part with
/// autograd; evaluation runs both without.
public struct FrozenPrefix {
    public let plan: ExecutionPlan
    /// The value the prefix ends with (`ExecutionPlan.inputValue` for an empty prefix).
    public let cut: Int

    /// Throws `LayerError.unsupportedContainer` for a model the executor cannot run.
    public init(_ model: any Layer) throws {
        plan = try ExecutionPlan(model)
        // Keep at least the output step in the trainable part, so logits stay the logits.
        cut = min(plan.frozenCut, plan.output - 1)
    }

    /// Leaf layers up to the cut.
    public var prefix: [any Layer] { cut < 0 ? [] : plan.steps[...cut].map(\.layer) }
    /// The leaf layers after the cut.
    public var trainable: [any Layer] { plan.steps[(cut + 1)...].map(\.layer) }

    /// Names of the prefix layers.
    public var prefixNames: [String] { prefix.map(\.name) }

    /// Whether the prefix computes the same output for the same input every time (it has no
    /// dropout), so its output can be cached. An empty prefix is cacheable: its "features" are
    /// the decoded inputs.
    public var isCacheable: Bool { plan.isDeterministic(through: cut) }

    /// The prefix's output for `input`, recording nothing.
    public func features(_ input: Tensor, training: Bool) throws -> Tensor {
        guard cut >= 0 else { return input.detached }
        return try withoutGradients {
            try plan.advance(plan.start(input), through: cut, training: training).value(cut).detached
        }
    }

    /// The logits (the output before the final softmax, see `SoftmaxOutputLayer`) from the
    /// prefix's output, recording gradients when autograd is on.
    public func logits(features: Tensor, training: Bool) throws -> Tensor {
        let state = PlanState(position: cut, values: [cut: features])
        return try plan.advance(state, through: plan.output, training: training, logits: true).value(plan.output)
    }

    /// The prefix's output shape (without the batch axis) for one input of `inputShape`.
    func featureShape(forInput inputShape: [Int]) throws -> [Int] {
        let probe = Tensor(zeros: Shape([1] + inputShape))
        return Array(try features(probe, training: false).shape.dims.dropFirst())
    }
}

/// The frozen prefix's output per example, computed once and kept in memory up to a budget,
/// the rest in a temporary file (created unlinked, so it disappears with the process).
///
/// One store per data set (training, validation); all stores of a cache share its budget.
public final class FeatureCache: @unchecked Sendable {
    /// Bytes of features the cache may keep in memory.
    public let memoryBudget: Int
    /// Where a spill file is created.
    public let spillDirectory: URL
    private var stores: [FeatureStore] = []
    /// What released stores held, so the totals still describe the whole run.
    private var released = (memory: 0, spilled: 0)

    public init(memoryBudget: Int = 2 << 30, spillDirectory: URL = FileManager.default.temporaryDirectory) {
        self.memoryBudget = memoryBudget
        self.spillDirectory = spillDirectory
    }

    /// Bytes of features kept in memory (counting stores released since).
    public var memoryBytes: Int { released.memory + stores.reduce(0) { $0 + $1.memoryBytes } }
    /// Bytes of features written to spill files (counting stores released since).
    public var spilledBytes: Int { released.spilled + stores.reduce(0) { $0 + $1.spilledBytes } }

    /// Frees a store's memory and spill file (once nothing else holds it).
    func release(_ store: FeatureStore) {
        guard let index = stores.firstIndex(where: { $0 === store }) else { return }
        released.memory += store.memoryBytes
        released.spilled += store.spilledBytes
        stores.remove(at: index)
    }

    /// A new store for `count` examples of `featureShape`, with what is left of the budget.
    func makeStore(count: Int, featureShape: [Int]) throws -> FeatureStore {
        let left = max(0, memoryBudget - stores.reduce(0) { $0 + $1.reservedBytes })
        let store = try FeatureStore(count: count, featureShape: featureShape, memoryBytes: left,
                                     spillDirectory: spillDirectory)
        stores.append(store)
        return store
    }
}

/// Features of `count` examples: the first `memorySlots` in one allocation, the others in a
/// spill file read with `pread`. Written once per example (on the training thread), then
/// read from any thread.
final class FeatureStore: @unchecked Sendable {
    let count: Int
    let featureShape: [Int]
    let floatsPerExample: Int
    /// Examples kept in memory (indices below this); the rest spill.
    let memorySlots: Int
    private let memory: UnsafeMutablePointer<Float>?
    private let spillDirectory: URL
    private var file: Int32 = -1
    private var filled: [Bool]
    private(set) var filledCount = 0

    init(count: Int, featureShape: [Int], memoryBytes: Int, spillDirectory: URL) throws {
        self.count = count
        self.featureShape = featureShape
        floatsPerExample = featureShape.reduce(1, *)
        let bytesPerExample = max(1, floatsPerExample * 4)
        memorySlots = min(count, memoryBytes / bytesPerExample)
        // Untouched pages of a large allocation are not committed until features land in them.
        memory = memorySlots > 0 ? UnsafeMutablePointer<Float>.allocate(capacity: memorySlots * floatsPerExample) : nil
        self.spillDirectory = spillDirectory
        filled = [Bool](repeating: false, count: count)
    }

    deinit {
        memory?.deallocate()
        if file >= 0 { close(file) }
    }

    var reservedBytes: Int { memorySlots * floatsPerExample * 4 }
    var memoryBytes: Int { min(filledCount, memorySlots) * floatsPerExample * 4 }
    var spilledBytes: Int { max(0, filledCount - memorySlots) * floatsPerExample * 4 }
    var isComplete: Bool { filledCount == count }

    /// Stores row `r` of `features` (`[indices.count, featureShape...]`) as example `indices[r]`.
    func store(_ features: Tensor, for indices: [Int]) throws {
        precondition(features.shape.dims == [indices.count] + featureShape,
                     "features \(features.shape) for \(indices.count) examples of \(featureShape)")
        let n = floatsPerExample
        try features.withUnsafeBufferPointer { source in
            for (row, index) in indices.enumerated() {
                let from = source.baseAddress! + row * n
                if index < memorySlots {
                    (memory! + index * n).update(from: from, count: n)
                } else {
                    try openSpillFile()
                    try Self.writeAll(file, from, bytes: n * 4, offset: (index - memorySlots) * n * 4)
                }
                if !filled[index] {
                    filled[index] = true
                    filledCount += 1
                }
            }
        }
    }

    /// `[indices.count, featureShape...]`: the stored features of `indices`, in that order.
    func gather(_ indices: [Int]) throws -> Tensor {
        let n = floatsPerExample
        return try Tensor(unsafeUninitializedShape: Shape([indices.count] + featureShape)) { out in
            for (row, index) in indices.enumerated() {
                let to = out.baseAddress! + row * n
                if index < memorySlots {
                    to.update(from: memory! + index * n, count: n)
                } else {
                    try Self.readAll(file, to, bytes: n * 4, offset: (index - memorySlots) * n * 4)
                }
            }
        }
    }

    private func openSpillFile() throws {
        guard file < 0 else { return }
        var template = Array(spillDirectory.appendingPathComponent(".rubble-features-XXXXXX").path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CacheError("cannot create a feature spill file in \(spillDirectory.path): \(String(cString: strerror(errno)))")
        }
        // Unlinked at once: the space is freed when the store closes it, or the process ends.
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        file = fd
    }

    private static func writeAll(_ fd: Int32, _ pointer: UnsafePointer<Float>, bytes: Int, offset: Int) throws {
        var done = 0
        let raw = UnsafeRawPointer(pointer)
        while done < bytes {
            let n = pwrite(fd, raw + done, bytes - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CacheError("writing the feature spill file failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    private static func readAll(_ fd: Int32, _ pointer: UnsafeMutablePointer<Float>, bytes: Int, offset: Int) throws {
        var done = 0
        let raw = UnsafeMutableRawPointer(pointer)
        while done < bytes {
            let n = pread(fd, raw + done, bytes - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CacheError("reading the feature spill file failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}

/// A feature spill file could not be written or read.
public struct CacheError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

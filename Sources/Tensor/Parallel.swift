import Dispatch
import Foundation

/// Splits loops over both cores (or `RUBBLE_THREADS`).
public enum Parallel {
    /// Worker count: `RUBBLE_THREADS` if set, else the active processor count.
    public static let threadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["RUBBLE_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` on disjoint subranges covering `0..<count`, in parallel when there is at
    /// least `grain` work items per thread. `body` must only write to its own range. Called from
    /// inside parallel work (a `body` of this function, an item of ``Tensor/itemByItem(_:_:)``)
    /// it runs `body` on the calling thread: the cores are busy already.
    public static func forEachRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = isNested ? 1 : min(threadCount, max(1, count / max(grain, 1)))
        if parts == 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let start = count * part / parts
                let end = count * (part + 1) / parts
                if start < end { nested { task.value(start..<end) } }
            }
        }
    }

    /// Whether the calling thread is inside parallel work (see ``forEachRange(_:grain:_:)``).
    public static var isNested: Bool { pthread_getspecific(nestingKey) != nil }

    /// `body` with ``isNested`` true on this thread.
    static func nested<R>(_ body: () throws -> R) rethrows -> R {
        let before = pthread_getspecific(nestingKey)
        pthread_setspecific(nestingKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(nestingKey, before) }
        return try body()
    }

    private static let nestingKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()
}

/// Hands a value to concurrent workers that only touch disjoint parts of what it points to.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

extension Tensor {
    /// `body` on each item of `input` (axis 0) as a batch of one, the results stacked along axis
    /// 0 again: inference of a model whose batch items do not interact, one image at a time so
    /// that its activations stay in cache. With several cores and items, the cores take whole
    /// items side by side (everything inside one item single-threaded, OpenBLAS included); items
    /// left over after an even split run one by one on all cores. Every result must have the
    /// same shape; the first error thrown (in item order) is rethrown. Not for recorded
    /// gradients (the results are copied out). The workers see the caller's
    /// ``Autograd/isRecording``, but no other task-local value: settings such as a forced
    /// convolution algorithm apply to the items run on the calling thread only.
    public static func itemByItem(_ input: Tensor, _ body: (Tensor) throws -> Tensor) throws -> Tensor {
        precondition(input.rank >= 1, "item by item needs a batch axis, got \(input.shape)")
        let batch = input.shape[0], itemShape = Shape([1] + input.shape.dims.dropFirst())
        let item = { (index: Int) -> Tensor in
            let one = Tensor.uninitialized(itemShape)
            one.storage.base.update(from: input.storage.base + index * itemShape.count, count: itemShape.count)
            return one
        }
        var results = [Result<Tensor, any Error>?](repeating: nil, count: batch)
        let workers = Parallel.isNested ? 1 : Swift.min(Parallel.threadCount, batch)
        let shared = batch - batch % workers
        if workers > 1 {
            results.withUnsafeMutableBufferPointer { slots in
                let task = UncheckedSendable((slots.baseAddress!, item))
                withoutActuallyEscaping(body) { body in
                    let work = UncheckedSendable(body)
                    let recording = Autograd.isRecording
                    BLAS.withOneThread {
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            let (slots, item) = task.value
                            Autograd.$isRecording.withValue(recording) { Parallel.nested {
                                for index in stride(from: worker, to: shared, by: workers) {
                                    slots[index] = Result { try work.value(item(index)) }
                                }
                            } }
                        }
                    }
                }
            }
        }
        for index in (workers > 1 ? shared : 0)..<batch { results[index] = Result { try body(item(index)) } }
        let outputs = try results.map { try $0!.get() }
        guard let first = outputs.first else { return Tensor.uninitialized(Shape([0] + input.shape.dims.dropFirst())) }
        precondition(first.rank >= 1 && first.shape[0] == 1 && outputs.allSatisfy { $0.shape == first.shape },
                     "item by item: results \(outputs.map(\.shape)) are not batches of one of one shape")
        let out = Tensor.uninitialized(Shape([batch] + first.shape.dims.dropFirst()))
        for (index, output) in outputs.enumerated() {
            (out.storage.base + index * first.count).update(from: output.storage.base, count: first.count)
        }
        return out
    }
}

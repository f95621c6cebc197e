import Synchronization

/// Scratch buffers (im2col columns and the like) reused across calls, so hot loops do not
/// allocate or page-fault fresh memory each time.
public final class Workspace: Sendable {
    /// Upper bound on one column buffer, in bytes (ARCHITECTURE.md §4: 32 MB). It is a maximum:
    /// the kernels pick smaller chunks where that is faster (see `ConvolutionKernels`). Tests
    /// lower it with `Workspace.$capBytes.withValue(...)` to force many chunks.
    @TaskLocal public static var capBytes = 32 << 20

    /// Preferred size of one thread's column buffer when each thread runs its own chunks:
    /// small enough to stay in the core's cache between im2col and the GEMM that reads it.
    /// Chunks still have at least a few hundred rows (see `ConvolutionKernels.plan`).
    @TaskLocal public static var chunkBytes = 1 << 20

    public static let shared = Workspace()

    /// Idle buffers kept for reuse, at most.
    static let maxIdleBuffers = 8

    private struct State {
        var idle: [Buffer] = []
        var lentBytes = 0
        var peakLentBytes = 0
        var heldBytes = 0
    }

    private let state = Mutex(State())

    final class Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: capacity)
        }
        deinit { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    /// Lends a buffer of at least `floats` elements (contents undefined) for the duration of
    /// `body`: the smallest idle buffer that fits, else a new one (an idle buffer too small
    /// for this request is then released, so the pool does not grow without bound).
    public func withBuffer<R>(floats: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let floats = max(floats, 1)
        let buffer = state.withLock { s -> Buffer in
            let taken: Buffer
            var best: Int?
            for (i, b) in s.idle.enumerated() where b.capacity >= floats {
                if best == nil || b.capacity < s.idle[best!].capacity { best = i }
            }
            if let best {
                taken = s.idle.remove(at: best)
            } else {
                var largestSmaller: Int?
                for (i, b) in s.idle.enumerated()
                where largestSmaller == nil || b.capacity > s.idle[largestSmaller!].capacity { largestSmaller = i }
                if let largestSmaller { s.heldBytes -= s.idle.remove(at: largestSmaller).capacity * 4 }
                taken = Buffer(capacity: floats)
                s.heldBytes += floats * 4
            }
            s.lentBytes += floats * 4
            s.peakLentBytes = max(s.peakLentBytes, s.lentBytes)
            return taken
        }
        defer {
            state.withLock { s in
                s.lentBytes -= floats * 4
                s.idle.append(buffer)
                if s.idle.count > Self.maxIdleBuffers { s.heldBytes -= s.idle.removeFirst().capacity * 4 }
            }
        }
        return try body(buffer.pointer)
    }

    /// Bytes of all buffers this workspace holds, lent or idle.
    public var heldBytes: Int { state.withLock { $0.heldBytes } }

    /// The most bytes asked for and lent out at once since the last `resetPeak()`: the
    /// scratch memory an operation needed beyond its inputs and outputs (a lent buffer may be
    /// larger than asked for; `heldBytes` counts what is allocated).
    public var peakLentBytes: Int { state.withLock { $0.peakLentBytes } }

    /// Starts a new `peakLentBytes` measurement.
    public func resetPeak() { state.withLock { $0.peakLentBytes = $0.lentBytes } }

    /// Frees the idle buffers (lent ones are freed when they come back only if over the limit).
    public func releaseIdle() {
        state.withLock { s in
            for b in s.idle { s.heldBytes -= b.capacity * 4 }
            s.idle.removeAll()
        }
    }
}

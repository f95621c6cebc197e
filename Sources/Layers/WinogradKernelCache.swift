import CKernels
import Synchronization
import Tensor

/// A layer's Winograd-transformed kernel `U = G g Gᵀ`, kept between calls while the kernel
/// does not change (inference, frozen layers): at batch 1 transforming VGG's kernels would
/// cost more than the convolutions of its deep layers.
///
/// The entry holds the kernel tensor it was computed from. Tensors are copy-on-write, so as
/// long as the entry shares the kernel's storage nobody can change those values in place (a
/// writer copies first, and the copy has another address): the same storage address means
/// the same values. `Conv2D` drops the entry while its kernel is being trained, so an
/// optimizer's in-place update never has to copy the kernel.
public final class WinogradKernelCache: Sendable {
    private struct Entry: @unchecked Sendable {
        var kernel: Tensor
        var address: UnsafePointer<Float>?
        var outputTile: Int
        var rotated: Bool
        var packed: Bool
        var transformed: Tensor
    }

    private let entry = Mutex<Entry?>(nil)
    /// The kernel packed for `PackedGEMM` (the im2col and pointwise paths), kept the same way.
    private struct PackedEntry: @unchecked Sendable {
        var kernel: Tensor
        var address: UnsafePointer<Float>?
        var packed: Tensor
    }
    private let packedEntry = Mutex<PackedEntry?>(nil)

    public init() {}

    /// Whether an entry is held.
    public var isEmpty: Bool { entry.withLock { $0 == nil } && packedEntry.withLock { $0 == nil } }

    /// Drops the entries (and with them the references to the kernel's storage).
    public func clear() {
        entry.withLock { $0 = nil }
        packedEntry.withLock { $0 = nil }
    }

    /// `kernel` (`[kh, kw, in, out]`, the GEMM's `[kh * kw * in, out]` operand) packed in
    /// panels (`PackedGEMM.pack`), from the entry when it was made from this very storage.
    func packed(_ kernel: Tensor) -> Tensor {
        let address = kernel.withUnsafeBufferPointer { $0.baseAddress }
        if let hit = packedEntry.withLock({ e -> Tensor? in
            guard let e, e.address == address, e.kernel.shape == kernel.shape else { return nil }
            return e.packed
        }) {
            return hit
        }
        let packed = PackedGEMM.pack(kernel)
        let kept = kernel.detached
        packedEntry.withLock { $0 = PackedEntry(kernel: kept, address: address, packed: packed) }
        return packed
    }

    /// `U` of `kernel` (`[3, 3, inputs, outputs]`) for variant `W` as `[α², inputs, outputs]`,
    /// or with `packed` each position's `[inputs, outputs]` packed for `PackedGEMM` (positions
    /// `rubble_gemm_packed_count(inputs, outputs)` floats apart), from the entry when it was
    /// made from this very storage, else computed and kept.
    func transformed<W: WinogradVariant>(_: W.Type, kernel: Tensor, rotated: Bool, packed: Bool = false) -> Tensor {
        let address = kernel.withUnsafeBufferPointer { $0.baseAddress }
        if let hit = entry.withLock({ e -> Tensor? in
            guard let e, e.address == address, e.kernel.shape == kernel.shape, e.outputTile == W.outputTile,
                  e.rotated == rotated, e.packed == packed else { return nil }
            return e.transformed
        }) {
            return hit
        }
        let inputs = kernel.shape[2], outputs = kernel.shape[3]
        let plain = Tensor(unsafeUninitializedShape: [W.positions, inputs, outputs]) { u in
            kernel.withUnsafeBufferPointer { w in
                Winograd.transformKernel(W.self, w.baseAddress!, inputs: inputs, outputs: outputs, rotated: rotated,
                                         into: u.baseAddress!)
            }
        }
        let result = packed ? Self.packPositions(plain, positions: W.positions, inputs: inputs, outputs: outputs) : plain
        let kept = kernel.detached
        entry.withLock {
            $0 = Entry(kernel: kept, address: address, outputTile: W.outputTile, rotated: rotated, packed: packed,
                       transformed: result)
        }
        return result
    }

    /// Each position's `[inputs, outputs]` of `u` packed by `rubble_gemm_pack`, one after another.
    static func packPositions(_ u: Tensor, positions: Int, inputs: Int, outputs: Int) -> Tensor {
        let stride = rubble_gemm_packed_count(inputs, outputs)
        return Tensor(unsafeUninitializedShape: [positions * stride]) { out in
            u.withUnsafeBufferPointer { plain in
                for p in 0..<positions {
                    rubble_gemm_pack(plain.baseAddress! + p * inputs * outputs, inputs, outputs, outputs,
                                     out.baseAddress! + p * stride)
                }
            }
        }
    }
}

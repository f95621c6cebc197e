import Synchronization
import Tensor

/// A kernel and bias with an inference-mode BatchNormalization folded in.
enum BatchNormFolding {
    /// `kernel * scale` per output channel and `bias * scale + shift` (`bias` 0 without one),
    /// `(scale, shift)` = `bn.foldedScaleAndShift()`, all in Double. The output channel of a
    /// kernel element is its flat index modulo `outputs` (HWIO `[kh, kw, in, out]`, and a
    /// depthwise `[kh, kw, in, multiplier]`, whose channel `c * multiplier + m` is the same).
    static func fold(kernel: Tensor, bias: Tensor?, outputs: Int, into bn: BatchNormalization) -> (kernel: Tensor, bias: Tensor) {
        let (scale, shift) = bn.foldedScaleAndShift()
        let folded = Tensor(unsafeUninitializedShape: kernel.shape) { out in
            kernel.withUnsafeBufferPointer { w in
                for i in 0..<w.count { out[i] = Float(Double(w[i]) * Double(scale[i % outputs])) }
            }
        }
        let oldBias = bias?.scalars ?? [Float](repeating: 0, count: outputs)
        let newBias = (0..<outputs).map { Float(Double(oldBias[$0]) * Double(scale[$0]) + Double(shift[$0])) }
        return (folded, Tensor(newBias, shape: [outputs]))
    }
}

/// The folded weights of a ``FusedConvolution``, kept while their sources are unchanged.
///
/// The entry holds the source tensors (kernel, bias, the BatchNormalization's four). Tensors
/// are copy-on-write, so while the entry shares their storage nobody changes those values in
/// place (a writer copies first, to another address): the same addresses mean the same values,
/// as for ``WinogradKernelCache``.
final class FoldedWeights: Sendable {
    private struct Entry: @unchecked Sendable {
        var sources: [Tensor]
        var addresses: [UnsafePointer<Float>?]
        var kernel: Tensor
        var bias: Tensor?
    }

    private let entry = Mutex<Entry?>(nil)

    /// The kernel and bias with `batchNorm` (if any) folded in.
    func weights(kernel: Tensor, bias: Tensor?, outputs: Int, batchNorm: BatchNormalization?) -> (kernel: Tensor, bias: Tensor?) {
        guard let batchNorm else { return (kernel, bias) }
        let sources = [kernel, bias, batchNorm.gamma.value, batchNorm.beta.value, batchNorm.movingMean.value,
                       batchNorm.movingVariance.value].compactMap { $0 }
        let addresses = sources.map { t in t.withUnsafeBufferPointer { $0.baseAddress } }
        if let hit = entry.withLock({ e -> (Tensor, Tensor?)? in
            guard let e, e.addresses == addresses, zip(e.sources, sources).allSatisfy({ $0.shape == $1.shape })
            else { return nil }
            return (e.kernel, e.bias)
        }) {
            return hit
        }
        let (k, b) = BatchNormFolding.fold(kernel: kernel, bias: bias, outputs: outputs, into: batchNorm)
        entry.withLock {
            $0 = Entry(sources: sources.map(\.detached), addresses: addresses, kernel: k, bias: b)
        }
        return (k, b)
    }
}

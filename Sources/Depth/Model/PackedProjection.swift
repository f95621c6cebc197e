import Layers
import Synchronization
import Tensor

/// The query, key and value projections of one attention layer as one: weight `[in, 3·out]`
/// (`[W_q | W_k | W_v]`) and bias `[3·out]`, so inference runs one GEMM and the attention reads
/// its output in place (``Tensor/multiHeadAttention(packed:heads:scale:)``). Kept while the
/// three layers' weights stay the same (their storage addresses are the key: a writer copies first).
final class PackedProjection: Sendable {
    private struct Entry: @unchecked Sendable {
        var sources: [Tensor]
        var addresses: [UnsafePointer<Float>?]
        var weight: Tensor
        var bias: Tensor
    }

    private let entry = Mutex<Entry?>(nil)

    /// The packed weight and bias of `layers` (Dense layers of one input size).
    func packed(_ layers: [Dense]) -> (weight: Tensor, bias: Tensor) {
        let sources = layers.flatMap { [$0.kernel.value, $0.bias.value] }
        let addresses = sources.map { tensor in tensor.withUnsafeBufferPointer { $0.baseAddress } }
        if let hit = entry.withLock({ e -> (Tensor, Tensor)? in
            guard let e, e.addresses == addresses else { return nil }
            return (e.weight, e.bias)
        }) {
            return hit
        }
        let inputs = layers[0].inputSize, widths = layers.map(\.outputSize), total = widths.reduce(0, +)
        let weight = Tensor(unsafeUninitializedShape: [inputs, total]) { w in
            var column = 0
            for (layer, width) in zip(layers, widths) {
                layer.kernel.value.withUnsafeBufferPointer { k in
                    for row in 0..<inputs {
                        (w.baseAddress! + row * total + column).update(from: k.baseAddress! + row * width, count: width)
                    }
                }
                column += width
            }
        }
        let bias = Tensor(layers.flatMap { $0.bias.value.scalars }, shape: [total])
        entry.withLock { $0 = Entry(sources: sources, addresses: addresses, weight: weight, bias: bias) }
        return (weight, bias)
    }
}

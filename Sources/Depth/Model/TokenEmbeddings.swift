import Layers
import Segmentation
import Synchronization
import Tensor

/// DINOv2's class token and position embeddings (the tensors of `Dinov2Embeddings` itself, named
/// `backbone.embeddings.cls_token`, `.mask_token`, `.position_embeddings`): patch features in,
/// tokens out, the class token first.
///
/// The position embeddings were learnt for a `grid x grid` patch grid. For any other grid they
/// are resized as transformers 5's `interpolate_pos_encoding` does: the patch part viewed as a
/// `grid x grid` map and resampled bicubically (`align_corners=False`, to `size=(h, w)`: no
/// scale factor, no offset) to the input's `h x w` grid, the class token's embedding kept. The
/// mask token is loaded and saved but unused (it replaces masked patches in pre-training only).
public final class TokenEmbeddings: Layer, TorchModule {
    public let name: String
    /// `[1, 1, channels]`.
    public let classToken: Parameter
    /// `[1, channels]`; `nil` when the configuration has `use_mask_token: false`.
    public let maskToken: Parameter?
    /// `[1, 1 + grid², channels]`, the class token's first.
    public let positionEmbeddings: Parameter
    /// The side of the patch grid the position embeddings belong to.
    public let grid: Int
    private let cache = PositionCache()

    /// `name` is the module path (`backbone.embeddings`); the values start as transformers
    /// initialises them (truncated normal with std `initializerRange`, mask token 0).
    init(name: String, channels: Int, grid: Int, maskToken: Bool, initializerRange: Float, rng: inout SeededGenerator) {
        self.name = name
        self.grid = grid
        classToken = Parameter(name: "cls_token", value: .truncatedNormal([1, 1, channels], standardDeviation: initializerRange, using: &rng))
        self.maskToken = maskToken ? Parameter(name: "mask_token", value: Tensor(zeros: [1, channels])) : nil
        positionEmbeddings = Parameter(name: "position_embeddings",
                                       value: .truncatedNormal([1, 1 + grid * grid, channels], standardDeviation: initializerRange, using: &rng))
    }

    public var channels: Int { classToken.shape[2] }
    public var parameters: [Parameter] { [classToken] + (maskToken.map { [$0] } ?? []) + [positionEmbeddings] }
    public var torchTensors: [TorchTensor] {
        [TorchTensor(name: "\(name).cls_token", parameter: classToken, layout: .same)]
            + (maskToken.map { [TorchTensor(name: "\(name).mask_token", parameter: $0, layout: .same)] } ?? [])
            + [TorchTensor(name: "\(name).position_embeddings", parameter: positionEmbeddings, layout: .same)]
    }

    /// Patch features `[batch, h, w, channels]` -> tokens `[batch, 1 + h·w, channels]`: the class
    /// token, then the patches row by row, each plus its position embedding.
    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == 4, input.shape[3] == channels, input.shape[1] >= 1, input.shape[2] >= 1 else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, h, w, \(channels)]", got: input.shape)
        }
        let (batch, h, w) = (input.shape[0], input.shape[1], input.shape[2])
        let tokens = 1 + h * w
        guard Autograd.isRecording, input.requiresGradient || parameters.contains(where: \.isTrainable) else {
            // One pass: class token and patches, each plus its embedding, into one buffer.
            let positions = cachedPositions(height: h, width: w)
            let d = channels
            return input.withUnsafeBufferPointer { x in
                positions.withUnsafeBufferPointer { p in
                    classToken.value.withUnsafeBufferPointer { c in
                        Tensor(unsafeUninitializedShape: [batch, tokens, d]) { y in
                            for item in 0..<batch {
                                let out = y.baseAddress! + item * tokens * d
                                for j in 0..<d { out[j] = c[j] + p[j] }
                                let patches = x.baseAddress! + item * h * w * d
                                for i in 0..<(h * w * d) { out[d + i] = patches[i] + p[d + i] }
                            }
                        }
                    }
                }
            }
        }
        let classTokens = classToken.tracked + Tensor(zeros: [batch, 1, channels])
        let joined = Tensor.concatenatingTokens([classTokens, input.reshaped([batch, h * w, channels])])
        return joined + positions(height: h, width: w)
    }

    public func outputShape(for inputs: [Shape]) throws -> Shape {
        guard let input = inputs.first, inputs.count == 1, input.rank == 4, input[3] == channels else {
            throw LayerError.shapeMismatch(layer: name, expected: "[batch, h, w, \(channels)]", got: inputs.first ?? [])
        }
        return [input[0], 1 + input[1] * input[2], channels]
    }

    /// `[1, 1 + h·w, channels]`: the position embeddings for an `h x w` patch grid (recorded for
    /// gradients when the embeddings are trained).
    public func positions(height h: Int, width w: Int) -> Tensor {
        let table = positionEmbeddings.tracked
        guard h != grid || w != grid else { return table }
        let patches = table.slicingTokens(1..<table.shape[1]).reshaped([1, grid, grid, channels])
        let resized = patches.resizedBicubic(height: h, width: w, alignCorners: false).reshaped([1, h * w, channels])
        return Tensor.concatenatingTokens([table.slicingTokens(0..<1), resized])
    }

    /// ``positions(height:width:)`` without gradients, kept for the last grid while the
    /// embeddings' values stay the same (their storage is the key: a writer copies first).
    func cachedPositions(height h: Int, width w: Int) -> Tensor {
        let table = positionEmbeddings.value
        let address = table.withUnsafeBufferPointer { $0.baseAddress }
        if let hit = cache.lookup(height: h, width: w, address: address) { return hit }
        let positions = withoutGradients { self.positions(height: h, width: w) }
        cache.store(height: h, width: w, table: table, address: address, positions: positions)
        return positions
    }
}

/// The position embeddings of the last grid asked for.
final class PositionCache: Sendable {
    private struct Entry: @unchecked Sendable {
        var height, width: Int
        var table: Tensor
        var address: UnsafePointer<Float>?
        var positions: Tensor
    }

    private let entry = Mutex<Entry?>(nil)

    func lookup(height: Int, width: Int, address: UnsafePointer<Float>?) -> Tensor? {
        entry.withLock { e in
            guard let e, e.height == height, e.width == width, e.address == address else { return nil }
            return e.positions
        }
    }

    func store(height: Int, width: Int, table: Tensor, address: UnsafePointer<Float>?, positions: Tensor) {
        entry.withLock { $0 = Entry(height: height, width: width, table: table, address: address, positions: positions) }
    }
}

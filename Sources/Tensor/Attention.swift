import CKernels
import Foundation

extension Tensor {
    /// Multi-head scaled dot-product attention on token-major tensors, heads side by side in the
    /// channel axis (PyTorch's `transpose_for_scores` layout, without the transposes):
    /// `softmax(Q_h K_hᵀ · scale) V_h` for each head `h`, written back into its channel slice.
    ///
    /// - Parameters:
    ///   - query: `[batch, queries, channels]`
    ///   - key: `[batch, keys, channels]`
    ///   - value: `[batch, keys, channels]`
    ///   - heads: number of heads; `channels` must be a multiple of it.
    ///   - scale: multiplies the scores; `1 / √(channels / heads)` when `nil`.
    /// - Returns: `[batch, queries, channels]`.
    ///
    /// Each head reads and writes its slice in place through OpenBLAS strides. Without gradients
    /// the queries go in blocks whose scores stay in cache (``AttentionGeometry/blockedInference``);
    /// while gradients are recorded the probabilities `[batch, heads, queries, keys]` are kept.
    public static func multiHeadAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int,
                                          scale: Float? = nil) -> Tensor {
        precondition(query.rank == 3 && key.rank == 3 && value.rank == 3 && key.shape == value.shape
                     && query.shape[0] == key.shape[0] && query.shape[2] == key.shape[2]
                     && heads > 0 && query.shape[2] % heads == 0,
                     "attention of query \(query.shape), key \(key.shape), value \(value.shape), \(heads) heads")
        let geometry = AttentionGeometry(batch: query.shape[0], queries: query.shape[1], keys: key.shape[1],
                                         channels: query.shape[2], heads: heads)
        let factor = scale ?? 1 / Float(geometry.headSize).squareRoot()
        let recording = Autograd.isRecording
            && (query.requiresGradient || key.requiresGradient || value.requiresGradient)
        let out = Tensor.uninitialized(query.shape)
        guard recording else {
            geometry.blockedInference(query: query.storage.base, key: key.storage.base, value: value.storage.base,
                                      scale: factor, into: out.storage.base)
            return out
        }
        let probabilityCount = geometry.batch * heads * geometry.scoreCount
        let probabilities = Tensor.uninitialized([probabilityCount])
        for item in 0..<geometry.batch {
            for head in 0..<heads {
                let scores = probabilities.storage.base + (item * heads + head) * geometry.scoreCount
                geometry.scores(item: item, head: head, query: query.storage.base, key: key.storage.base,
                                scale: factor, into: scores)
                Tensor.softmaxRows(scores, rows: geometry.queries, width: geometry.keys)
                BLAS.sgemm(m: geometry.queries, n: geometry.headSize, k: geometry.keys,
                           a: scores, lda: geometry.keys,
                           b: value.storage.base + geometry.keyOffset(item: item, head: head), ldb: geometry.channels,
                           c: out.storage.base + geometry.queryOffset(item: item, head: head), ldc: geometry.channels)
            }
        }
        let gradients = AttentionGradients(geometry: geometry, scale: factor, query: query.detached,
                                           key: key.detached, value: value.detached, probabilities: probabilities)
        return out.recordingGradient(from: [
            (query, { gradients.of($0).query }),
            (key, { gradients.of($0).key }),
            (value, { gradients.of($0).value }),
        ])
    }

    /// ``multiHeadAttention(query:key:value:heads:scale:)`` of self-attention whose projections
    /// come packed from one GEMM: `qkv [batch, tokens, 3·channels]` holds each token's query, key
    /// and value side by side (the columns of `[W_q | W_k | W_v]`), read in place through sgemm
    /// strides. Inference only: nothing is recorded for gradients.
    /// - Returns: `[batch, tokens, channels]`.
    public static func multiHeadAttention(packed qkv: Tensor, heads: Int, scale: Float? = nil) -> Tensor {
        precondition(qkv.rank == 3 && qkv.shape[2] % 3 == 0 && heads > 0 && (qkv.shape[2] / 3) % heads == 0,
                     "packed attention of \(qkv.shape), \(heads) heads")
        precondition(!(Autograd.isRecording && qkv.requiresGradient), "packed attention records no gradients")
        let channels = qkv.shape[2] / 3
        let geometry = AttentionGeometry(batch: qkv.shape[0], queries: qkv.shape[1], keys: qkv.shape[1], channels: channels,
                                         heads: heads, inputStride: 3 * channels)
        let out = Tensor.uninitialized([qkv.shape[0], qkv.shape[1], channels])
        let base = qkv.storage.base
        geometry.blockedInference(query: base, key: base + channels, value: base + 2 * channels,
                                  scale: scale ?? 1 / Float(geometry.headSize).squareRoot(), into: out.storage.base)
        return out
    }

    /// Softmax of each row of a `[rows, width]` buffer, in place, rows split over the cores.
    static func softmaxRows(_ buffer: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let shared = UncheckedSendable(buffer)
        Parallel.forEachRange(rows, grain: Swift.max(1, 8192 / Swift.max(width, 1))) { range in
            rubble_softmax_rows(shared.value + range.lowerBound * width, range.count, width)
        }
    }
}

/// Sizes and buffer offsets of one attention call.
struct AttentionGeometry {
    let batch, queries, keys, channels, heads: Int
    /// Floats between consecutive tokens of the inputs (`channels`, or `3 · channels` for packed
    /// query, key and value); the output's tokens are `channels` apart.
    let inputStride: Int

    init(batch: Int, queries: Int, keys: Int, channels: Int, heads: Int, inputStride: Int? = nil) {
        self.batch = batch
        self.queries = queries
        self.keys = keys
        self.channels = channels
        self.heads = heads
        self.inputStride = inputStride ?? channels
    }

    var headSize: Int { channels / heads }
    var scoreCount: Int { queries * keys }

    func queryOffset(item: Int, head: Int) -> Int { item * queries * channels + head * headSize }
    func keyOffset(item: Int, head: Int) -> Int { item * keys * channels + head * headSize }

    /// Score rows per block. Up to 256 keys (SegFormer's reduced keys) the block's scores
    /// (`rows · keys` floats) stay near 128 KB, in cache. With more keys (a ViT's 1370 tokens)
    /// blocks of a few dozen rows would spend most of each sgemm call on edges and on packing the
    /// keys and values again, so the scores get 1 MB, in 256 rows at most (measured on DINOv2-Small
    /// at 518: 191 rows about 10 % faster than 128, no gain beyond).
    var blockRows: Int {
        let keys = Swift.max(keys, 1)
        let rows = keys <= 256 ? 32768 / keys : Swift.min(256, 262_144 / keys)
        return Swift.max(16, Swift.min(queries, rows))
    }

    /// The attention output without gradients: (item, head, block of query rows) units split
    /// over the cores, each one `scale · Q K_hᵀ` into a score block of its thread, the softmax of
    /// its rows and `P V_h` into the output slice, OpenBLAS held to one thread meanwhile.
    func blockedInference(query: UnsafePointer<Float>, key: UnsafePointer<Float>, value: UnsafePointer<Float>,
                          scale: Float, into out: UnsafeMutablePointer<Float>) {
        let rows = blockRows, blocks = (queries + rows - 1) / rows
        let units = batch * heads * blocks
        guard units > 0, keys > 0 else {
            if keys == 0 { out.initialize(repeating: 0, count: batch * queries * channels) }
            return
        }
        let shared = UncheckedSendable((query, key, value, out))
        BLAS.withOneThread { Parallel.forEachRange(units) { range in
            let (q, k, v, o) = shared.value
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * keys)
            defer { scores.deallocate() }
            let stride = inputStride
            for unit in range {
                let block = unit % blocks, head = (unit / blocks) % heads, item = unit / (blocks * heads)
                let first = block * rows, count = Swift.min(rows, queries - first)
                let qOffset = item * queries * stride + head * headSize + first * stride
                let kOffset = item * keys * stride + head * headSize
                BLAS.sgemm(transposeB: true, m: count, n: keys, k: headSize, alpha: scale, a: q + qOffset, lda: stride,
                           b: k + kOffset, ldb: stride, c: scores, ldc: keys)
                rubble_softmax_rows(scores, count, keys)
                BLAS.sgemm(m: count, n: headSize, k: keys, a: scores, lda: keys, b: v + kOffset, ldb: stride,
                           c: o + queryOffset(item: item, head: head) + first * channels, ldc: channels)
            }
        } }
    }

    /// `scale · Q_h K_hᵀ` `[queries, keys]` into `scores`.
    func scores(item: Int, head: Int, query: UnsafePointer<Float>, key: UnsafePointer<Float>, scale: Float,
                into scores: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(transposeB: true, m: queries, n: keys, k: headSize, alpha: scale,
                   a: query + queryOffset(item: item, head: head), lda: channels,
                   b: key + keyOffset(item: item, head: head), ldb: channels,
                   c: scores, ldc: keys)
    }
}

/// The three input gradients of one attention call, computed together once per output gradient
/// (the pullbacks of query, key and value are called one after another with the same gradient).
final class AttentionGradients: @unchecked Sendable {
    let geometry: AttentionGeometry
    let scale: Float
    let query, key, value, probabilities: Tensor
    private var cached: (gradient: Tensor, query: Tensor, key: Tensor, value: Tensor)?

    init(geometry: AttentionGeometry, scale: Float, query: Tensor, key: Tensor, value: Tensor, probabilities: Tensor) {
        self.geometry = geometry
        self.scale = scale
        self.query = query
        self.key = key
        self.value = value
        self.probabilities = probabilities
    }

    func of(_ gradient: Tensor) -> (query: Tensor, key: Tensor, value: Tensor) {
        if let cached, cached.gradient.storage === gradient.storage { return (cached.query, cached.key, cached.value) }
        let g = geometry
        let dQuery = Tensor(zeros: query.shape), dKey = Tensor(zeros: key.shape), dValue = Tensor(zeros: value.shape)
        let dScores = Tensor.uninitialized([g.scoreCount])
        let ds = dScores.storage.base, gradientBase = gradient.storage.base
        for item in 0..<g.batch {
            for head in 0..<g.heads {
                let p = probabilities.storage.base + (item * g.heads + head) * g.scoreCount
                let qOffset = g.queryOffset(item: item, head: head), kOffset = g.keyOffset(item: item, head: head)
                // dV_h = Pᵀ dO_h
                BLAS.sgemm(transposeA: true, m: g.keys, n: g.headSize, k: g.queries, a: p, lda: g.keys,
                           b: gradientBase + qOffset, ldb: g.channels, c: dValue.storage.base + kOffset, ldc: g.channels)
                // dP = dO_h V_hᵀ, then the softmax pullback dS = P (dP - Σ dP P)
                BLAS.sgemm(transposeB: true, m: g.queries, n: g.keys, k: g.headSize, a: gradientBase + qOffset,
                           lda: g.channels, b: value.storage.base + kOffset, ldb: g.channels, c: ds, ldc: g.keys)
                AttentionGradients.softmaxPullback(probabilities: p, gradient: ds, rows: g.queries, width: g.keys)
                // dQ_h = scale dS K_h, dK_h = scale dSᵀ Q_h
                BLAS.sgemm(m: g.queries, n: g.headSize, k: g.keys, alpha: scale, a: ds, lda: g.keys,
                           b: key.storage.base + kOffset, ldb: g.channels, c: dQuery.storage.base + qOffset, ldc: g.channels)
                BLAS.sgemm(transposeA: true, m: g.keys, n: g.headSize, k: g.queries, alpha: scale, a: ds, lda: g.keys,
                           b: query.storage.base + qOffset, ldb: g.channels, c: dKey.storage.base + kOffset, ldc: g.channels)
            }
        }
        cached = (gradient, dQuery, dKey, dValue)
        return (dQuery, dKey, dValue)
    }

    static func softmaxPullback(probabilities: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                                rows: Int, width: Int) {
        let shared = UncheckedSendable((probabilities, gradient))
        Parallel.forEachRange(rows, grain: Swift.max(1, 8192 / Swift.max(width, 1))) { range in
            let (p, d) = shared.value
            let offset = range.lowerBound * width
            rubble_softmax_pullback_rows(p + offset, d + offset, range.count, width)
        }
    }
}

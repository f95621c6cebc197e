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
    var headSize: Int { channels / heads }
    var scoreCount: Int { queries * keys }

    func queryOffset(item: Int, head: Int) -> Int { item * queries * channels + head * headSize }
    func keyOffset(item: Int, head: Int) -> Int { item * keys * channels + head * headSize }

    /// Score rows per block: the block's scores (`rows · keys` floats) stay near 128 KB, in cache;
    /// with many keys (a ViT's 1370 tokens) at least 128 rows as long as they fit in 1 MB, since
    /// sgemm calls of a few dozen rows waste most of their time on edges and packing.
    var blockRows: Int {
        let keys = Swift.max(keys, 1)
        return Swift.max(16, Swift.min(queries, Swift.max(32768 / keys, Swift.min(128, 262_144 / keys))))
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
            for unit in range {
                let block = unit % blocks, head = (unit / blocks) % heads, item = unit / (blocks * heads)
                let first = block * rows, count = Swift.min(rows, queries - first)
                let qOffset = queryOffset(item: item, head: head) + first * channels
                let kOffset = keyOffset(item: item, head: head)
                BLAS.sgemm(transposeB: true, m: count, n: keys, k: headSize, alpha: scale, a: q + qOffset, lda: channels,
                           b: k + kOffset, ldb: channels, c: scores, ldc: keys)
                rubble_softmax_rows(scores, count, keys)
                BLAS.sgemm(m: count, n: headSize, k: keys, a: scores, lda: keys, b: v + kOffset, ldb: channels,
                           c: o + qOffset, ldc: channels)
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

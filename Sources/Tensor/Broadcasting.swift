/// NumPy broadcasting: which shapes combine, and the strided loop that combines them.
///
/// Shapes are aligned at their last axis; a missing leading axis counts as 1, and an axis of
/// extent 1 stretches to the other operand's extent: `[b, h, w, c] * [b, 1, 1, c]` is
/// `[b, h, w, c]`, `[1, 3, 1, 5] + [2, 1, 4, 1]` is `[2, 3, 4, 5]`, `[]` goes with anything.
extension Shape {
    /// The shape of `a op b` under NumPy broadcasting, or `nil` when some aligned pair of
    /// extents differs with neither of them 1 (layers check this and throw their own error).
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        if a == b { return a }
        let rank = Swift.max(a.rank, b.rank)
        var dims = [Int](repeating: 1, count: rank)
        for k in 0..<rank {
            let x = k < rank - a.rank ? 1 : a.dims[k - (rank - a.rank)]
            let y = k < rank - b.rank ? 1 : b.dims[k - (rank - b.rank)]
            if x == y || y == 1 {
                dims[k] = x
            } else if x == 1 {
                dims[k] = y
            } else {
                return nil
            }
        }
        return Shape(dims)
    }

    /// `dims` with leading 1s up to `rank` (the alignment broadcasting uses).
    func padded(toRank rank: Int) -> [Int] {
        [Int](repeating: 1, count: Swift.max(0, rank - self.rank)) + dims
    }
}

/// How two operands are read while an output of their broadcast shape is written in order.
///
/// Axes of extent 1 in the output are dropped and neighbouring axes that both operands read
/// alike are merged, so `[b, h, w, c] * [b, 1, 1, c]` becomes three axes `[b, h*w, c]` with
/// element strides `(h*w*c, c, 1)` and `(c, 0, 1)`. The last axis is the inner loop: each operand
/// either walks it contiguously (stride 1) or repeats one element (stride 0); both repeat it
/// only when the two operands are one tensor expanded to a larger shape.
struct BroadcastLayout {
    /// Extents of the merged axes, outermost first (at least one axis; each above 1 unless the
    /// output holds a single element).
    private(set) var dims: [Int] = []
    /// Element strides of each operand along `dims` (0 where it is broadcast).
    private(set) var stridesA: [Int] = []
    private(set) var stridesB: [Int] = []

    /// The layout for writing `output` from operands of shapes `a` and `b`, each of which must
    /// broadcast to `output`.
    init(output: Shape, _ a: Shape, _ b: Shape) {
        let rank = output.rank
        let da = a.padded(toRank: rank), db = b.padded(toRank: rank)
        var runA = 1, runB = 1
        // Innermost first, then reversed.
        var dimsIn: [Int] = [], sa: [Int] = [], sb: [Int] = []
        for k in stride(from: rank - 1, through: 0, by: -1) where output.dims[k] != 1 {
            let n = output.dims[k]
            let strideA = da[k] == 1 ? 0 : runA, strideB = db[k] == 1 ? 0 : runB
            if da[k] != 1 { runA *= n }
            if db[k] != 1 { runB *= n }
            if let inner = dimsIn.last, sa[sa.count - 1] * inner == strideA,
               sb[sb.count - 1] * inner == strideB {
                // Merge with the inner neighbour: both operands continue the same way.
                dimsIn[dimsIn.count - 1] *= n
            } else {
                dimsIn.append(n)
                sa.append(strideA)
                sb.append(strideB)
            }
        }
        if dimsIn.isEmpty { dimsIn = [1]; sa = [1]; sb = [1] }
        dims = dimsIn.reversed()
        stridesA = sa.reversed()
        stridesB = sb.reversed()
    }

    /// Calls `row(outputOffset, offsetA, offsetB)` for every inner row in `rows` (rows are the
    /// output split into runs of `dims.last` elements), walking the outer axes like an odometer.
    @inline(__always)
    func forEachRow(in rows: Range<Int>, _ row: (Int, Int, Int) -> Void) {
        let inner = dims[dims.count - 1]
        let outer = dims.count - 1
        guard outer > 0 else {
            for r in rows { row(r * inner, 0, 0) }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: outer) { index in
            // Position of the first row.
            var rest = rows.lowerBound, offA = 0, offB = 0
            for k in stride(from: outer - 1, through: 0, by: -1) {
                index[k] = rest % dims[k]
                rest /= dims[k]
                offA += index[k] * stridesA[k]
                offB += index[k] * stridesB[k]
            }
            for r in rows {
                row(r * inner, offA, offB)
                var k = outer - 1
                while k >= 0 {
                    index[k] += 1
                    offA += stridesA[k]
                    offB += stridesB[k]
                    if index[k] < dims[k] { break }
                    offA -= stridesA[k] * dims[k]
                    offB -= stridesB[k] * dims[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
    }
}

extension Tensor {
    /// `f` over the broadcast of `a` and `b`, whatever their shapes (the general path of `zip`).
    @inline(__always)
    static func broadcastZip(_ a: Tensor, _ b: Tensor, into out: Tensor,
                             _ f: (Float, Float) -> Float) {
        let layout = BroadcastLayout(output: out.shape, a.shape, b.shape)
        let inner = layout.dims[layout.dims.count - 1]
        let innerA = layout.stridesA[layout.dims.count - 1], innerB = layout.stridesB[layout.dims.count - 1]
        let pa = UncheckedSendable(a.storage.base), pb = UncheckedSendable(b.storage.base)
        let po = UncheckedSendable(out.storage.base)
        let rows = out.count / Swift.max(inner, 1)
        Parallel.forEachRange(rows, grain: Swift.max(1, elementwiseGrain / Swift.max(inner, 1))) { range in
            layout.forEachRow(in: range) { o, oa, ob in
                let dst = po.value + o, x = pa.value + oa, y = pb.value + ob
                switch (innerA, innerB) {
                case (1, 1):
                    for j in 0..<inner { dst[j] = f(x[j], y[j]) }
                case (1, _):
                    let s = y[0]
                    for j in 0..<inner { dst[j] = f(x[j], s) }
                case (_, 1):
                    let s = x[0]
                    for j in 0..<inner { dst[j] = f(s, y[j]) }
                default:
                    // Both repeated (only when one tensor is expanded, as in `broadcast(to:)`).
                    let v = f(x[0], y[0])
                    for j in 0..<inner { dst[j] = v }
                }
            }
        }
    }

    /// This value repeated along broadcast axes to `shape` (which `self.shape` must broadcast
    /// to, e.g. `[c]` or `[b, 1, 1, c]` to `[b, h, w, c]`). The gradient is summed back.
    public func broadcast(to shape: Shape) -> Tensor {
        precondition(Shape.broadcast(self.shape, shape) == shape,
                     "broadcast: shape \(self.shape) does not broadcast to \(shape)")
        if shape == self.shape { return self }
        let source = detached
        let out = Tensor.uninitialized(shape)
        if count == shape.count {
            out.storage.base.update(from: storage.base, count: count)
        } else {
            Tensor.broadcastZip(source, source, into: out) { x, _ in x }
        }
        let sourceShape = self.shape
        return out.recordingGradient(from: self) { Tensor.unbroadcast($0, to: sourceShape) }
    }

    /// Sums a gradient of a broadcast result back to the shape of one operand, `target` (which
    /// broadcasts to `grad.shape`): over the axes where the operand was repeated.
    static func unbroadcast(_ grad: Tensor, to target: Shape) -> Tensor {
        if grad.shape == target { return grad }
        if grad.count == target.count { return Tensor(storage: grad.storage, shape: target) }
        let padded = target.padded(toRank: grad.rank)
        precondition(padded.count == grad.rank, "unbroadcast: \(grad.shape) to \(target)")
        let reduced = (0..<grad.rank).map { padded[$0] == 1 && grad.shape.dims[$0] != 1 }
        return Tensor(storage: AxisReduction(grad.shape, reducing: reduced).sum(grad), shape: target)
    }
}

/// The kernel behind `sum(alongAxes:)`, `mean`, `variance` and the gradients of broadcast ops:
/// sums of a contiguous tensor over a set of axes, accumulated in `Double`.
///
/// Axes of extent 1 are dropped and neighbouring axes of the same kind (kept or reduced) merged,
/// so summing `[b, h, w, c]` over `[0, 1, 2]` is one reduced group `b*h*w` over one kept group
/// `c` (rows added into a `c`-vector, a loop the compiler vectorises), and over `[1, 2]` is
/// `b` kept, `h*w` reduced, `c` kept. Work is split so the result does not depend on the thread
/// count: over the outermost group when it is kept (each output written by one task), otherwise
/// into fixed chunks of that reduced group whose partial sums are added in chunk order.
struct AxisReduction {
    /// Extents of the merged groups, outermost first, alternating kept and reduced.
    private var groups: [Int] = []
    private var isReduced: [Bool] = []
    /// Output element stride of each group (0 for reduced groups).
    private var outputStrides: [Int] = []
    let inputCount: Int
    /// Elements of the result: the product of the kept extents.
    let outputCount: Int

    /// Chunk of the reduced outer group handled by one task (elements of input).
    static let chunkElements = 1 << 16
    /// Partial sums kept at most (doubles) before falling back to one serial pass.
    static let partialLimit = 1 << 20

    /// Reduces a tensor of `shape` over the axes `reducing[axis] == true`.
    init(_ shape: Shape, reducing: [Bool]) {
        precondition(reducing.count == shape.rank, "reduction mask \(reducing) for shape \(shape)")
        inputCount = shape.count
        var kept = 1
        for axis in 0..<shape.rank where !reducing[axis] { kept *= shape.dims[axis] }
        outputCount = kept
        for axis in 0..<shape.rank where shape.dims[axis] != 1 {
            if let last = isReduced.last, last == reducing[axis] {
                groups[groups.count - 1] *= shape.dims[axis]
            } else {
                groups.append(shape.dims[axis])
                isReduced.append(reducing[axis])
            }
        }
        var run = 1
        outputStrides = [Int](repeating: 0, count: groups.count)
        for g in stride(from: groups.count - 1, through: 0, by: -1) where !isReduced[g] {
            outputStrides[g] = run
            run *= groups[g]
        }
    }

    /// Sums of `x` (whose shape this reduction was made for) as a `Float` storage in the
    /// order of the kept axes.
    func sum(_ x: Tensor) -> Storage {
        let sums = self.sums(x)
        let out = Storage(count: outputCount)
        for i in 0..<outputCount { out.base[i] = Float(sums[i]) }
        return out
    }

    /// Sums of `x`, or with `centre` (one value per output) sums of `(x - centre)²`.
    func sums(_ x: Tensor, centre: [Double]? = nil) -> [Double] {
        precondition(x.count == inputCount, "reduction of \(inputCount) elements applied to \(x.shape)")
        var out = [Double](repeating: 0, count: outputCount)
        guard inputCount > 0 else { return out }
        let input = x.storage.base
        out.withUnsafeMutableBufferPointer { outBuffer in
            guard let o = outBuffer.baseAddress else { return }
            if !isReduced.contains(true) {
                // Nothing to reduce (only axes of extent 1): a conversion.
                if let centre {
                    for i in 0..<inputCount { let d = Double(input[i]) - centre[i]; o[i] = d * d }
                } else {
                    for i in 0..<inputCount { o[i] = Double(input[i]) }
                }
                return
            }
            if let centre {
                centre.withUnsafeBufferPointer { run(input, centre: $0.baseAddress, into: o) }
            } else {
                run(input, centre: nil, into: o)
            }
        }
        return out
    }

    /// Splits the work (see the type's documentation) and adds the results into `out`.
    private func run(_ x: UnsafePointer<Float>, centre: UnsafePointer<Double>?,
                     into out: UnsafeMutablePointer<Double>) {
        let perOuter = inputCount / groups[0]
        let src = UncheckedSendable(x), mid = UncheckedSendable(centre), dst = UncheckedSendable(out)
        if !isReduced[0] {
            let stride0 = outputStrides[0]
            Parallel.forEachRange(groups[0], grain: Swift.max(1, Tensor.elementwiseGrain / perOuter)) { range in
                for i in range {
                    accumulate(src.value + i * perOuter, from: 1, firstExtent: groups[1],
                               centre: mid.value.map { $0 + i * stride0 }, into: dst.value + i * stride0)
                }
            }
            return
        }
        var chunkExtent = Swift.max(1, Self.chunkElements / perOuter)
        var chunks = (groups[0] + chunkExtent - 1) / chunkExtent
        if chunks > 1, chunks * outputCount > Self.partialLimit {
            let allowed = Swift.max(1, Self.partialLimit / outputCount)
            chunkExtent = (groups[0] + allowed - 1) / allowed
            chunks = (groups[0] + chunkExtent - 1) / chunkExtent
        }
        guard chunks > 1 else {
            return accumulate(x, from: 0, firstExtent: groups[0], centre: centre, into: out)
        }
        let partials = UnsafeMutablePointer<Double>.allocate(capacity: chunks * outputCount)
        defer { partials.deallocate() }
        partials.initialize(repeating: 0, count: chunks * outputCount)
        let part = UncheckedSendable(partials)
        Parallel.forEachRange(chunks) { range in
            for c in range {
                let start = c * chunkExtent, end = Swift.min(groups[0], start + chunkExtent)
                accumulate(src.value + start * perOuter, from: 0, firstExtent: end - start,
                           centre: mid.value, into: part.value + c * outputCount)
            }
        }
        for c in 0..<chunks {
            let p = partials + c * outputCount
            for j in 0..<outputCount { out[j] += p[j] }
        }
    }

    /// One serial pass over the slice of the input made of groups `first...` (the first of them
    /// `firstExtent` long), adding into `out` (and reading `centre`) at the slice's output offsets.
    private func accumulate(_ x: UnsafePointer<Float>, from first: Int, firstExtent: Int,
                            centre: UnsafePointer<Double>?, into out: UnsafeMutablePointer<Double>) {
        let last = groups.count - 1
        let inner = first == last ? firstExtent : groups[last]
        let innerReduced = isReduced[last]
        let outer = last - first  // groups walked by the odometer
        var rows = 1
        for g in first..<last { rows *= g == first ? firstExtent : groups[g] }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Swift.max(outer, 1)) { index in
            index.initialize(repeating: 0)
            var o = 0
            for r in 0..<rows {
                let row = x + r * inner
                switch (innerReduced, centre) {
                case (false, nil):
                    let dst = out + o
                    for j in 0..<inner { dst[j] += Double(row[j]) }
                case (false, let c?):
                    let dst = out + o, mean = c + o
                    for j in 0..<inner { let d = Double(row[j]) - mean[j]; dst[j] += d * d }
                case (true, nil):
                    out[o] += Self.blockSum(row, inner)
                case (true, let c?):
                    out[o] += Self.blockSquares(row, inner, around: c[o])
                }
                // Odometer over the outer groups, innermost first.
                var k = outer - 1
                while k >= 0 {
                    let g = first + k
                    index[k] += 1
                    o += outputStrides[g]
                    if index[k] < (g == first ? firstExtent : groups[g]) { break }
                    o -= outputStrides[g] * index[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }
    }

    /// Sum of `n` contiguous floats in four `Double` accumulators.
    @inline(__always)
    static func blockSum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var j = 0
        while j + 4 <= n {
            s0 += Double(x[j]); s1 += Double(x[j + 1]); s2 += Double(x[j + 2]); s3 += Double(x[j + 3])
            j += 4
        }
        while j < n { s0 += Double(x[j]); j += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// Sum of `(x - centre)²` over `n` contiguous floats.
    @inline(__always)
    static func blockSquares(_ x: UnsafePointer<Float>, _ n: Int, around centre: Double) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var j = 0
        while j + 4 <= n {
            let d0 = Double(x[j]) - centre, d1 = Double(x[j + 1]) - centre
            let d2 = Double(x[j + 2]) - centre, d3 = Double(x[j + 3]) - centre
            s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
            j += 4
        }
        while j < n { let d = Double(x[j]) - centre; s0 += d * d; j += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}

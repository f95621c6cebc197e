/// Sums, means and (population) variances over chosen axes, with gradients: the statistics of
/// batch normalisation (`[b, h, w, c]` over `[0, 1, 2]` -> `[c]`) and global pooling
/// (`[b, h, w, c]` over `[1, 2]` -> `[b, c]`, or `[b, 1, 1, c]` keeping dimensions).
///
/// Axes may be negative (`-1` is the last); an empty list reduces nothing. Sums accumulate in
/// `Double` (see `AxisReduction`), and the variance is two-pass (mean first, then the mean of
/// squared deviations, dividing by the element count N as `tf.nn.moments` does), so a mean over
/// 32*112*112 pixels is as accurate as float32 can hold.
extension Tensor {
    /// Sum over `axes`: `[2, 3, 4].sum(alongAxes: [1])` is `[2, 4]`, or `[2, 1, 4]` keeping
    /// dimensions.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let plan = AxesPlan(shape, axes, "sum")
        let out = Tensor(storage: plan.reduction.sum(self), shape: plan.resultShape(keepingDimensions))
        return out.recordingGradient(from: self) { [shape] grad in
            Tensor.expand(grad, from: plan.keptShape, to: shape, scale: 1)
        }
    }

    /// Mean over `axes` (the sum divided by the number of elements reduced into each result).
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        moments(alongAxes: axes, keepingDimensions: keepingDimensions, variance: false).mean
    }

    /// Population variance over `axes`: the mean of `(x - mean)²`, divided by N (not N - 1).
    public func variance(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        moments(alongAxes: axes, keepingDimensions: keepingDimensions).variance
    }

    /// Mean and population variance over `axes` in one go (as `tf.nn.moments`); each result
    /// has its own gradient.
    public func moments(alongAxes axes: [Int],
                        keepingDimensions: Bool = false) -> (mean: Tensor, variance: Tensor) {
        moments(alongAxes: axes, keepingDimensions: keepingDimensions, variance: true)
    }

    private func moments(alongAxes axes: [Int], keepingDimensions: Bool,
                         variance wantVariance: Bool) -> (mean: Tensor, variance: Tensor) {
        let plan = AxesPlan(shape, axes, wantVariance ? "variance" : "mean")
        let resultShape = plan.resultShape(keepingDimensions)
        let n = Double(plan.reducedCount)
        var means = plan.reduction.sums(self)
        for i in means.indices { means[i] /= n }
        let meanTensor = Tensor(resultShape, doubles: means)
        let inputShape = shape, scale = Float(1 / n)
        let mean = meanTensor.recordingGradient(from: self) { grad in
            Tensor.expand(grad, from: plan.keptShape, to: inputShape, scale: scale)
        }
        guard wantVariance else { return (mean, mean) }
        var squares = plan.reduction.sums(self, centre: means)
        for i in squares.indices { squares[i] /= n }
        let x = detached, centre = Tensor(plan.keptShape, doubles: means)
        let variance = Tensor(resultShape, doubles: squares).recordingGradient(from: self) { grad in
            // d var / dx = 2 (x - mean) / N, times the incoming gradient broadcast back.
            Tensor.centredProduct(x, centre: centre, grad: grad, keptShape: plan.keptShape,
                                  scale: 2 * scale)
        }
        return (mean, variance)
    }

    /// A tensor of `shape` holding `values` rounded to float.
    init(_ shape: Shape, doubles values: [Double]) {
        let storage = Storage(count: shape.count)
        for i in 0..<shape.count { storage.base[i] = Float(values[i]) }
        self.init(storage: storage, shape: shape)
    }

    /// `grad` (of a reduction result, in the kept axes' order) repeated along the reduced axes
    /// up to `shape` and multiplied by `scale`.
    static func expand(_ grad: Tensor, from keptShape: Shape, to shape: Shape, scale: Float) -> Tensor {
        let g = Tensor(storage: grad.storage, shape: keptShape)
        let out = Tensor.uninitialized(shape)
        if out.count > 0 { broadcastZip(g, g, into: out) { v, _ in v * scale } }
        return out
    }

    /// `scale * (x - centre) * grad`, with `centre` and `grad` (of `keptShape`'s element count)
    /// broadcast along the reduced axes: one pass over `x`.
    static func centredProduct(_ x: Tensor, centre: Tensor, grad: Tensor, keptShape: Shape,
                               scale: Float) -> Tensor {
        let out = Tensor.uninitialized(x.shape)
        guard x.count > 0 else { return out }
        let layout = BroadcastLayout(output: x.shape, x.shape, keptShape)
        let inner = layout.dims[layout.dims.count - 1]
        let repeated = layout.stridesB[layout.dims.count - 1] == 0
        let px = UncheckedSendable(x.storage.base), po = UncheckedSendable(out.storage.base)
        let pm = UncheckedSendable(centre.storage.base), pg = UncheckedSendable(grad.storage.base)
        Parallel.forEachRange(x.count / inner, grain: Swift.max(1, elementwiseGrain / inner)) { range in
            layout.forEachRow(in: range) { o, ox, ok in
                let src = px.value + ox, dst = po.value + o, m = pm.value + ok, g = pg.value + ok
                if repeated {
                    let mean = m[0], factor = scale * g[0]
                    for j in 0..<inner { dst[j] = (src[j] - mean) * factor }
                } else {
                    for j in 0..<inner { dst[j] = (src[j] - m[j]) * (scale * g[j]) }
                }
            }
        }
        return out
    }
}

/// The axes of one reduction, checked and normalised, and the shapes around it.
struct AxesPlan {
    let reduction: AxisReduction
    /// The input's shape with every reduced axis set to 1.
    let keptShape: Shape
    /// The input's shape without the reduced axes.
    let droppedShape: Shape
    /// Elements summed into each result (the product of the reduced extents).
    let reducedCount: Int

    init(_ shape: Shape, _ axes: [Int], _ op: String) {
        var reducing = [Bool](repeating: false, count: shape.rank)
        for axis in axes {
            let k = axis < 0 ? axis + shape.rank : axis
            precondition(k >= 0 && k < shape.rank, "\(op)(alongAxes: \(axes)): axis \(axis) out of range for shape \(shape)")
            precondition(!reducing[k], "\(op)(alongAxes: \(axes)): axis \(axis) given twice")
            reducing[k] = true
        }
        reduction = AxisReduction(shape, reducing: reducing)
        var kept = shape.dims, dropped: [Int] = [], count = 1
        for k in 0..<shape.rank {
            if reducing[k] { kept[k] = 1; count *= shape.dims[k] } else { dropped.append(shape.dims[k]) }
        }
        keptShape = Shape(kept)
        droppedShape = Shape(dropped)
        reducedCount = count
    }

    func resultShape(_ keepingDimensions: Bool) -> Shape { keepingDimensions ? keptShape : droppedShape }
}

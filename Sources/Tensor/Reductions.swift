extension Tensor {
    /// Sum of all elements, as a tensor of shape `[]` (accumulated in `Double`).
    public func sum() -> Tensor {
        let reduction = AxisReduction(shape, reducing: [Bool](repeating: true, count: rank))
        let total = count == 0 ? 0 : reduction.sums(self)[0]
        let inputShape = shape
        return Tensor([Float(total)], shape: [])
            .recordingGradient(from: self) { grad in Tensor(repeating: grad.scalar, shape: inputShape) }
    }

    /// Mean of all elements, as a tensor of shape `[]`.
    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    /// Sums over every axis but the last: `[..., n]` -> `[n]` (bias gradients); a scalar `[]`
    /// becomes `[1]`.
    public func sumOverLeadingAxes() -> Tensor {
        guard rank > 0 else { return reshaped([1]) }
        return sum(alongAxes: Array(0..<(rank - 1)))
    }

    /// Index of the largest element along the last axis, one per row.
    public func argmaxLastAxis() -> [Int] {
        let width = shape.dims.last ?? 1
        return withUnsafeBufferPointer { buffer in
            (0..<(count / Swift.max(width, 1))).map { row in
                var best = 0
                for j in 1..<width where buffer[row * width + j] > buffer[row * width + best] { best = j }
                return best
            }
        }
    }
}

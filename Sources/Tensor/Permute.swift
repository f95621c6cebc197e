extension Tensor {
    /// The axes reordered: result axis `i` is this tensor's axis `axes[i]` (NumPy `transpose`,
    /// PyTorch `permute`), copied into row-major order. The gradient is the inverse permutation.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes) == Set(0..<rank), "permutation \(axes) of a rank-\(rank) tensor")
        let dims = shape.dims
        let outDims = axes.map { dims[$0] }
        let out = Tensor.uninitialized(Shape(outDims))
        guard count > 0 else { return out }
        // Source stride of each output axis.
        var inputStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { inputStrides[axis] = inputStrides[axis + 1] * dims[axis + 1] }
        let strides = axes.map { inputStrides[$0] }
        let src = storage.base, dst = out.storage.base
        let inner = outDims.last ?? 1, innerStride = strides.last ?? 1
        let outer = count / Swift.max(inner, 1)
        Parallel.forEachRange(outer, grain: Swift.max(1, 16384 / Swift.max(inner, 1))) { range in
            var index = [Int](repeating: 0, count: Swift.max(rank - 1, 0))
            for row in range {
                var rest = row, offset = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    index[axis] = rest % outDims[axis]
                    rest /= outDims[axis]
                    offset += index[axis] * strides[axis]
                }
                let target = dst + row * inner
                for j in 0..<inner { target[j] = src[offset + j * innerStride] }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        return out.recordingGradient(from: self) { grad in grad.permuted(inverse) }
    }
}

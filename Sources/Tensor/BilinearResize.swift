extension Tensor {
    /// Bilinear resampling of feature maps `[batch, height, width, channels]` to
    /// `[batch, toHeight, toWidth, channels]` with PyTorch's `interpolate(mode="bilinear",
    /// antialias=False)` rules:
    /// - `alignCorners == false`: source coordinate `(dst + 0.5) · in/out - 0.5`, clamped below at 0;
    /// - `alignCorners == true`: source coordinate `dst · (in - 1)/(out - 1)` (0 when `out == 1`);
    /// the right/bottom neighbour is clamped to the last row/column. The gradient scatters each
    /// output gradient back onto its four sources with the same weights.
    public func resizedBilinear(height toHeight: Int, width toWidth: Int, alignCorners: Bool) -> Tensor {
        precondition(rank == 4 && toHeight > 0 && toWidth > 0, "bilinear resize of \(shape) to \(toHeight)x\(toWidth)")
        let (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        let rows = BilinearTaps(input: height, output: toHeight, alignCorners: alignCorners)
        let cols = BilinearTaps(input: width, output: toWidth, alignCorners: alignCorners)
        let out = Tensor.uninitialized([batch, toHeight, toWidth, channels])
        let src = UncheckedSendable(storage.base), dst = UncheckedSendable(out.storage.base)
        Parallel.forEachRange(batch * toHeight, grain: Swift.max(1, 8192 / Swift.max(toWidth * channels, 1))) { range in
            for row in range {
                let item = row / toHeight, y = row % toHeight
                let top = src.value + (item * height + rows.low[y]) * width * channels
                let bottom = src.value + (item * height + rows.high[y]) * width * channels
                let wy1 = rows.highWeight[y], wy0 = 1 - wy1
                var target = dst.value + row * toWidth * channels
                for x in 0..<toWidth {
                    let left = cols.low[x] * channels, right = cols.high[x] * channels
                    let wx1 = cols.highWeight[x], wx0 = 1 - wx1
                    for c in 0..<channels {
                        target[c] = wy0 * (wx0 * top[left + c] + wx1 * top[right + c])
                            + wy1 * (wx0 * bottom[left + c] + wx1 * bottom[right + c])
                    }
                    target += channels
                }
            }
        }
        let inputShape = shape
        return out.recordingGradient(from: self) { grad in
            Tensor.bilinearResizeGradient(grad, to: inputShape, rows: rows, cols: cols)
        }
    }

    /// The transpose of ``resizedBilinear(height:width:alignCorners:)``: channel ranges in parallel,
    /// so each worker scatters into its own slice.
    static func bilinearResizeGradient(_ grad: Tensor, to inputShape: Shape, rows: BilinearTaps,
                                       cols: BilinearTaps) -> Tensor {
        let (batch, height, width, channels) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (toHeight, toWidth) = (grad.shape[1], grad.shape[2])
        let out = Tensor(zeros: inputShape)
        let src = UncheckedSendable(grad.storage.base), dst = UncheckedSendable(out.storage.base)
        let work = batch * channels
        Parallel.forEachRange(work, grain: 1) { range in
            for unit in range {
                let item = unit / channels, c = unit % channels
                let image = dst.value + item * height * width * channels + c
                let gradImage = src.value + item * toHeight * toWidth * channels + c
                for y in 0..<toHeight {
                    let top = image + rows.low[y] * width * channels
                    let bottom = image + rows.high[y] * width * channels
                    let wy1 = rows.highWeight[y], wy0 = 1 - wy1
                    let gradRow = gradImage + y * toWidth * channels
                    for x in 0..<toWidth {
                        let g = gradRow[x * channels]
                        let left = cols.low[x] * channels, right = cols.high[x] * channels
                        let wx1 = cols.highWeight[x], wx0 = 1 - wx1
                        top[left] += wy0 * wx0 * g
                        top[right] += wy0 * wx1 * g
                        bottom[left] += wy1 * wx0 * g
                        bottom[right] += wy1 * wx1 * g
                    }
                }
            }
        }
        return out
    }
}

/// For each output index along one axis: the two source indices and the weight of the second.
struct BilinearTaps: Sendable {
    var low: [Int], high: [Int], highWeight: [Float]

    init(input: Int, output: Int, alignCorners: Bool) {
        low = []; high = []; highWeight = []
        low.reserveCapacity(output); high.reserveCapacity(output); highWeight.reserveCapacity(output)
        let scale: Float = alignCorners ? (output > 1 ? Float(input - 1) / Float(output - 1) : 0)
                                        : Float(input) / Float(output)
        for index in 0..<output {
            var source = alignCorners ? scale * Float(index) : scale * (Float(index) + 0.5) - 0.5
            if source < 0 { source = 0 }
            let first = Swift.min(Int(source), input - 1)
            low.append(first)
            high.append(first < input - 1 ? first + 1 : first)
            highWeight.append(Swift.min(source - Float(first), 1))
        }
    }
}

extension Tensor {
    /// `self + Σ resize(map)` for feature maps `[batch, h_i, w_i, channels]` resized bilinearly to
    /// this tensor's `[batch, height, width, channels]`: the decode-head sum of SegFormer-like
    /// models in one pass per map, without a resized copy of each. With gradients recorded it is
    /// the same sum of ``resizedBilinear(height:width:alignCorners:)`` terms.
    public func addingResizedBilinear(_ maps: [Tensor], alignCorners: Bool) -> Tensor {
        precondition(rank == 4 && maps.allSatisfy { $0.rank == 4 && $0.shape[0] == shape[0] && $0.shape[3] == shape[3] },
                     "adding resized maps \(maps.map(\.shape)) to \(shape)")
        let (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        if Autograd.isRecording && (requiresGradient || maps.contains(where: \.requiresGradient)) {
            return maps.reduce(self) { $0 + $1.resizedBilinear(height: height, width: width, alignCorners: alignCorners) }
        }
        var out = detached
        out.makeUnique()
        let dst = UncheckedSendable(out.storage.base)
        for map in maps {
            let (mapHeight, mapWidth) = (map.shape[1], map.shape[2])
            let rows = BilinearTaps(input: mapHeight, output: height, alignCorners: alignCorners)
            let cols = BilinearTaps(input: mapWidth, output: width, alignCorners: alignCorners)
            let src = UncheckedSendable(map.storage.base)
            Parallel.forEachRange(batch * height, grain: Swift.max(1, 8192 / Swift.max(width * channels, 1))) { range in
                for row in range {
                    let item = row / height, y = row % height
                    let top = src.value + (item * mapHeight + rows.low[y]) * mapWidth * channels
                    let bottom = src.value + (item * mapHeight + rows.high[y]) * mapWidth * channels
                    let wy1 = rows.highWeight[y], wy0 = 1 - wy1
                    var target = dst.value + row * width * channels
                    for x in 0..<width {
                        let left = cols.low[x] * channels, right = cols.high[x] * channels
                        let wx1 = cols.highWeight[x], wx0 = 1 - wx1
                        let a = wy0 * wx0, b = wy0 * wx1, c = wy1 * wx0, d = wy1 * wx1
                        for k in 0..<channels {
                            target[k] += a * top[left + k] + b * top[right + k] + c * bottom[left + k] + d * bottom[right + k]
                        }
                        target += channels
                    }
                }
            }
        }
        return out
    }
}

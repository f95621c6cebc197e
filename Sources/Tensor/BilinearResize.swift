import CKernels

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
    /// `self + constant + Σ resize(map)` for feature maps `[batch, h_i, w_i, channels]` resized
    /// bilinearly to this tensor's `[batch, height, width, channels]`, then `max(·, 0)` when
    /// `relu` (NaN passes): the decode-head sum of SegFormer-like models. Without gradients it is
    /// one pass per output row over all maps at once (``Kernels``), so the output is written once
    /// and no resized copy of a map exists. With gradients recorded it is the same composition of
    /// ``resizedBilinear(height:width:alignCorners:)``, `+` and ``relu()``.
    ///
    /// - Parameter constant: `[channels]`, added to every pixel; none when `nil`.
    public func addingResizedBilinear(_ maps: [Tensor], alignCorners: Bool, constant: Tensor? = nil,
                                      relu: Bool = false) -> Tensor {
        precondition(rank == 4 && maps.allSatisfy { $0.rank == 4 && $0.shape[0] == shape[0] && $0.shape[3] == shape[3] }
                     && (constant.map { $0.shape == [shape[3]] } ?? true),
                     "adding resized maps \(maps.map(\.shape)) and constant \(constant?.shape.dims ?? []) to \(shape)")
        let (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        if Autograd.isRecording && (requiresGradient || maps.contains(where: \.requiresGradient)
                                    || (constant?.requiresGradient ?? false)) {
            let sum = maps.reduce(constant.map { self + $0 } ?? self) {
                $0 + $1.resizedBilinear(height: height, width: width, alignCorners: alignCorners)
            }
            return relu ? sum.relu() : sum
        }
        let out = Tensor.uninitialized(shape)
        guard out.count > 0 else { return out }
        let plan = ResizedSumPlan(maps: maps, height: height, width: width, channels: channels, alignCorners: alignCorners)
        let shared = UncheckedSendable((base: storage.base, out: out.storage.base, constant: constant?.storage.base))
        withExtendedLifetime(maps) {
            Parallel.forEachRange(batch * height, grain: Swift.max(1, 8192 / Swift.max(width * channels, 1))) { range in
                let s = shared.value
                plan.withSources { sources in
                    for row in range {
                        let offset = row * width * channels
                        plan.sumRow(row, sources: sources, base: s.base + offset, constant: s.constant, relu: relu,
                                    into: s.out + offset)
                    }
                }
            }
        }
        return out
    }
}

/// The resizing geometry of ``Tensor/addingResizedBilinear(_:alignCorners:constant:relu:)`` for
/// one set of maps: per map the row taps, and per map and output column the left and right
/// source offsets (column · channels) and the right weight, in buffers the C kernel reads.
final class ResizedSumPlan: @unchecked Sendable {
    let maps: [(base: UnsafeMutablePointer<Float>, height: Int, width: Int)]
    let rowTaps: [BilinearTaps]
    let height, width, channels: Int
    private let offsets: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>

    /// `maps` must outlive the plan (their storage is read through pointers).
    init(maps: [Tensor], height: Int, width: Int, channels: Int, alignCorners: Bool) {
        precondition(maps.allSatisfy { $0.shape[2] * channels <= Int(Int32.max) }, "resized maps \(maps.map(\.shape)) too wide")
        self.maps = maps.map { ($0.storage.base, $0.shape[1], $0.shape[2]) }
        self.height = height
        self.width = width
        self.channels = channels
        rowTaps = maps.map { BilinearTaps(input: $0.shape[1], output: height, alignCorners: alignCorners) }
        offsets = .allocate(capacity: Swift.max(1, 2 * maps.count * width))
        weights = .allocate(capacity: Swift.max(1, maps.count * width))
        for (m, map) in maps.enumerated() {
            let cols = BilinearTaps(input: map.shape[2], output: width, alignCorners: alignCorners)
            for x in 0..<width {
                offsets[(2 * m) * width + x] = Int32(cols.low[x] * channels)
                offsets[(2 * m + 1) * width + x] = Int32(cols.high[x] * channels)
                weights[m * width + x] = cols.highWeight[x]
            }
        }
    }

    deinit {
        offsets.deallocate()
        weights.deallocate()
    }

    /// `body` with room for one row's sources (on the stack).
    func withSources<R>(_ body: (UnsafeMutablePointer<rubble_resize_source>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: rubble_resize_source.self, capacity: Swift.max(1, maps.count)) { body($0.baseAddress!) }
    }

    /// Output row `row` (of `batch · height`): `base + constant + Σ resize(map)`, ReLU'd when
    /// `relu`, into `out` (which may be `base`).
    func sumRow(_ row: Int, sources: UnsafeMutablePointer<rubble_resize_source>, base: UnsafePointer<Float>?,
                constant: UnsafePointer<Float>?, relu: Bool, into out: UnsafeMutablePointer<Float>) {
        let item = row / height, y = row % height
        for (m, map) in maps.enumerated() {
            let image = map.base + item * map.height * map.width * channels
            let taps = rowTaps[m]
            sources[m] = rubble_resize_source(
                top: image + taps.low[y] * map.width * channels, bottom: image + taps.high[y] * map.width * channels,
                bottom_weight: taps.highWeight[y], left: offsets + (2 * m) * width,
                right: offsets + (2 * m + 1) * width, right_weight: weights + m * width)
        }
        rubble_resized_sum_row(out, base, constant, width, channels, sources, maps.count, relu ? 1 : 0)
    }
}

extension Tensor {
    /// The all-MLP decode head's inference in one pass per output row, with nothing of the
    /// full-resolution `[batch, height, width, channels]` sum ever leaving cache:
    /// `linear(relu(x · baseWeight + constant + Σ resize(map)), outputWeight, outputBias)` where
    /// `x` is `[batch, height, width, inputs]`, `baseWeight [inputs, channels]`, the maps
    /// `[batch, h_i, w_i, channels]`, `constant [channels]`, `outputWeight [channels, outputs]`
    /// and `outputBias [outputs]`; the result is `[batch, height, width, outputs]`. Each row of
    /// the sum is one sgemm into a scratch row of its thread, the resized maps, constant and ReLU
    /// added in place (``addingResizedBilinear(_:alignCorners:constant:relu:)``), then the
    /// output sgemm. No gradients: for recorded graphs compose those ops.
    public static func projectedResizedSum(_ x: Tensor, baseWeight: Tensor, maps: [Tensor], alignCorners: Bool,
                                           constant: Tensor, outputWeight: Tensor, outputBias: Tensor) -> Tensor {
        precondition(x.rank == 4 && baseWeight.rank == 2 && baseWeight.shape[0] == x.shape[3], "projected sum of \(x.shape) by \(baseWeight.shape)")
        let (batch, height, width, inputs) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let channels = baseWeight.shape[1]
        precondition(maps.allSatisfy { $0.rank == 4 && $0.shape[0] == batch && $0.shape[3] == channels }
                     && constant.shape == [channels] && outputWeight.rank == 2 && outputWeight.shape[0] == channels
                     && outputBias.shape == [outputWeight.shape[1]],
                     "projected sum: maps \(maps.map(\.shape)), constant \(constant.shape), output \(outputWeight.shape) + \(outputBias.shape)")
        let outputs = outputWeight.shape[1]
        let out = Tensor.uninitialized([batch, height, width, outputs])
        guard out.count > 0 else { return out }
        let plan = ResizedSumPlan(maps: maps, height: height, width: width, channels: channels, alignCorners: alignCorners)
        let shared = UncheckedSendable((x: x.storage.base, baseWeight: baseWeight.storage.base, constant: constant.storage.base,
                                        outputWeight: outputWeight.storage.base, outputBias: outputBias.storage.base,
                                        out: out.storage.base))
        withExtendedLifetime(maps) { BLAS.withOneThread { Parallel.forEachRange(batch * height) { range in
            let s = shared.value
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: width * channels)
            defer { scratch.deallocate() }
            plan.withSources { sources in
                for row in range {
                    if inputs > 0 {
                        BLAS.sgemm(m: width, n: channels, k: inputs, a: s.x + row * width * inputs, lda: inputs,
                                   b: s.baseWeight, ldb: channels, c: scratch, ldc: channels)
                    } else {
                        scratch.initialize(repeating: 0, count: width * channels)
                    }
                    plan.sumRow(row, sources: sources, base: scratch, constant: s.constant, relu: true, into: scratch)
                    let target = s.out + row * width * outputs
                    rubble_fill_rows(target, s.outputBias, width, outputs)
                    BLAS.sgemm(m: width, n: outputs, k: channels, a: scratch, lda: channels, b: s.outputWeight,
                               ldb: outputs, beta: 1, c: target, ldc: outputs)
                }
            }
        } } }
        return out
    }
}

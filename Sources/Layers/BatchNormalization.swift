import Foundation
import Tensor

/// Keras' `BatchNormalization` over the last axis (`axis=-1`): NHWC activations or
/// `[batch, features]`, any rank >= 2 (every axis but the last is reduced).
///
/// Parameters in Keras' order: `gamma` and `beta` (weights), `moving_mean` and
/// `moving_variance` (state: never trainable, never given a gradient; `setTrainable` leaves
/// them alone).
///
/// Semantics of tf_keras 2.21 (`tf_keras/layers/normalization/batch_normalization.py`):
/// - **Batch statistics** when called with `training: true` *and* the layer is trainable
///   (``isTrainable``: its gamma/beta): `y = gamma * (x - mean) / sqrt(var + epsilon) + beta`
///   with the batch's mean and biased (divide-by-N) variance, N the number of values per
///   channel (batch x height x width). The moving statistics are then updated as
///   `moving = moving * momentum + batch * (1 - momentum)`.
/// - **Inference mode** otherwise, including a frozen layer called with `training: true`
///   (Keras' `_get_training_value`: "When the layer is not trainable, it overrides the value
///   passed from model"): `y = (x - moving_mean) * gamma / sqrt(moving_variance + epsilon) + beta`.
///
/// **The variance the moving average takes.** For 4-D (and 5-D) input Keras uses the fused
/// kernel (`fused = rank in (4, 5)` in `build`), and the moving variance is updated with the
/// *unbiased* batch variance, `var * N / (N - 1)` (Bessel's correction; N = 1 gives factor 1):
/// `_fused_batch_norm` passes `exponential_avg_factor = 1 - momentum` to
/// `tf.compat.v1.nn.fused_batch_norm` and assigns the kernel's returned running variance to
/// `moving_variance`; its `_maybe_add_or_remove_bessels_correction` is a no-op because
/// `__init__` sets `self._bessels_correction_test_only = True`. TensorFlow's CPU kernel
/// (`tensorflow/core/kernels/fused_batch_norm_op.cc`, `FusedBatchNorm<CPUDevice, T, U, true>`)
/// computes `new_variance = (1 - factor) * old_variance + (factor * rest_size_adjust) *
/// batch_variance` with `rest_size_adjust = rest_size / (rest_size - 1)` ("This adjustment is
/// for Bessel's correction"), while normalising the output with the biased `batch_variance`.
/// (Without fused average updates, e.g. under XLA, the kernel returns `batch_variance *
/// rest_size_adjust` and Keras averages that: unbiased too.) For other ranks (`[batch,
/// features]`) Keras takes the non-fused path, whose `tf.nn.moments` variance is biased, and
/// the moving variance is updated with the biased variance. This layer does the same:
/// ``movingVarianceCorrection(rank:count:)``.
///
/// Gradients: with batch statistics, the full batch-norm backward (through the mean and
/// variance) for x, gamma and beta; in inference mode the affine map's.
///
/// Forward and backward are fused per-channel kernels over raw pointers, parallel over rows,
/// with statistics accumulated in Double (per-part partial sums merged in a fixed order).
public final class BatchNormalization: ChannelwiseLayer {
    public let name: String
    public let gamma: Parameter
    public let beta: Parameter
    public let movingMean: Parameter
    public let movingVariance: Parameter
    /// Weight of the old moving statistics in each update (Keras default 0.99).
    public let momentum: Float
    /// Added to the variance before the square root (Keras default 1e-3).
    public let epsilon: Float

    /// gamma 1, beta 0, moving mean 0, moving variance 1 (Keras' initialisers). Throws
    /// `LayerError.invalidConfiguration` for momentum outside [0, 1], epsilon <= 0 (or not
    /// finite) or channels < 1.
    public init(name: String = "batch_normalization", channels: Int, momentum: Float = 0.99,
                epsilon: Float = 1e-3) throws {
        guard channels >= 1 else {
            throw LayerError.invalidConfiguration(layer: name, setting: "channels \(channels)", requirement: "must be >= 1")
        }
        guard (0...1).contains(momentum) else {
            throw LayerError.invalidConfiguration(layer: name, setting: "momentum \(momentum)", requirement: "must be in [0, 1]")
        }
        guard epsilon > 0, epsilon.isFinite else {
            throw LayerError.invalidConfiguration(layer: name, setting: "epsilon \(epsilon)",
                                                  requirement: "must be > 0 and finite")
        }
        self.name = name
        self.momentum = momentum
        self.epsilon = epsilon
        gamma = Parameter(name: "gamma", value: Tensor(repeating: 1, shape: [channels]))
        beta = Parameter(name: "beta", value: Tensor(zeros: [channels]))
        movingMean = Parameter(name: "moving_mean", value: Tensor(zeros: [channels]), role: .state)
        movingVariance = Parameter(name: "moving_variance", value: Tensor(repeating: 1, shape: [channels]), role: .state)
    }

    public var channels: Int { gamma.shape[0] }
    public var parameters: [Parameter] { [gamma, beta, movingMean, movingVariance] }
    public var requiredChannels: Int? { channels }
    public var minimumRank: Int { 2 }
    public var kerasClassName: String { "BatchNormalization" }

    /// Whether a call with this `training` flag normalises with the batch's statistics (and
    /// updates the moving ones): only when training and the layer is trainable.
    public func usesBatchStatistics(training: Bool) -> Bool { training && isTrainable }

    /// The factor the biased batch variance is multiplied by before it enters the moving
    /// average, for input of `rank` with `count` values per channel: `count / (count - 1)` for
    /// rank 4 and 5 (Keras' fused kernel applies Bessel's correction; 1 when `count` is 1),
    /// 1 otherwise (the non-fused path averages the biased variance). See the type's notes.
    public static func movingVarianceCorrection(rank: Int, count: Int) -> Double {
        guard rank == 4 || rank == 5, count > 1 else { return 1 }
        return Double(count) / Double(count - 1)
    }

    /// The inference-mode map as `y = x * scale + shift` per channel: `scale = gamma /
    /// sqrt(moving_variance + epsilon)`, `shift = beta - moving_mean * scale` (computed in
    /// Double). A preceding convolution can absorb it (`Conv2D.foldingBatchNorm(_:)`).
    public func foldedScaleAndShift() -> (scale: [Float], shift: [Float]) {
        let g = gamma.value.scalars, b = beta.value.scalars
        let m = movingMean.value.scalars, v = movingVariance.value.scalars
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let s = Double(g[c]) / (Double(v[c]) + Double(epsilon)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(b[c]) - Double(m[c]) * s)
        }
        return (scale, shift)
    }



    public func callAsFunction(_ input: Tensor, training: Bool) throws -> Tensor {
        try checkChannels(input.shape)
        let c = channels, rows = input.count / c
        let g = gamma.tracked, b = beta.tracked
        let gammaValues = g.scalars, betaValues = b.scalars
        let batch = usesBatchStatistics(training: training) && rows > 0

        // Per channel: the centre subtracted and 1 / sqrt(variance + epsilon).
        var center = [Float](repeating: 0, count: c), invStd = [Double](repeating: 0, count: c)
        if batch {
            let (mean, variance) = Self.moments(input, channels: c)
            for k in 0..<c {
                center[k] = Float(mean[k])
                invStd[k] = 1 / (variance[k] + Double(epsilon)).squareRoot()
            }
            updateMovingStatistics(mean: mean, variance: variance, rank: input.rank, count: rows)
        } else {
            let m = movingMean.value.scalars, v = movingVariance.value.scalars
            for k in 0..<c {
                center[k] = m[k]
                invStd[k] = 1 / (Double(v[k]) + Double(epsilon)).squareRoot()
            }
        }
        let scale = (0..<c).map { Float(Double(gammaValues[$0]) * invStd[$0]) }
        let output = ChannelKernels.affine(input, channels: c, center: center, scale: scale, shift: betaValues)

        guard Autograd.isRecording, input.requiresGradient || g.requiresGradient || b.requiresGradient else {
            return output
        }
        let backward = BatchNormGradient(input: input.detached, channels: c, center: center,
                                         invStd: invStd.map { Float($0) }, scale: scale, batchStatistics: batch)
        return output.recordingGradient(from: [
            (input, { dy in backward.inputGradient(dy) }),
            (g, { dy in backward.gammaGradient(dy) }),
            (b, { dy in backward.betaGradient(dy) }),
        ])
    }

    /// `moving = moving * momentum + batch * (1 - momentum)`, the variance corrected as Keras does.
    private func updateMovingStatistics(mean: [Double], variance: [Double], rank: Int, count: Int) {
        let correction = Self.movingVarianceCorrection(rank: rank, count: count)
        let m = movingMean.value.scalars, v = movingVariance.value.scalars
        let keep = Double(momentum), take = 1 - Double(momentum)
        movingMean.value = Tensor((0..<channels).map { Float(Double(m[$0]) * keep + mean[$0] * take) },
                                  shape: [channels])
        movingVariance.value = Tensor((0..<channels).map { Float(Double(v[$0]) * keep + variance[$0] * correction * take) },
                                      shape: [channels])
    }

    /// Per-channel mean and biased variance of `x` (`[rows, channels]` innermost), in Double.
    /// One pass of shifted sums: with `k` the first row, `sum(x - k)` and `sum((x - k)^2)`
    /// keep no large cancellation (k is a sample of the data).
    static func moments(_ x: Tensor, channels c: Int) -> (mean: [Double], variance: [Double]) {
        let rows = x.count / c
        return x.withUnsafeBufferPointer { xb in
            let xs = UncheckedSendable(xb.baseAddress!)
            let sums = ChannelKernels.sums(rows: rows, channels: c, lanes: 2) { part, acc in
                let x = xs.value, s2 = acc + c
                for r in part {
                    let row = x + r * c
                    for k in 0..<c {
                        let d = Double(row[k]) - Double(x[k])
                        acc[k] += d
                        s2[k] += d * d
                    }
                }
            }
            let n = Double(rows)
            var mean = [Double](repeating: 0, count: c), variance = mean
            for k in 0..<c {
                let shifted = sums[k] / n
                mean[k] = Double(xb[k]) + shifted
                variance[k] = max(0, sums[c + k] / n - shifted * shifted)
            }
            return (mean, variance)
        }
    }
}

/// The pullbacks of one batch-norm call. The per-channel reductions of dy (`sum dy` and
/// `sum dy * (x - centre)`) are computed once and shared by the x, gamma and beta pullbacks.
final class BatchNormGradient: @unchecked Sendable {
    private let input: Tensor
    private let channels: Int
    private let center: [Float], invStd: [Float], scale: [Float]
    private let batchStatistics: Bool
    private var cached: (sumDy: [Double], sumDyCentered: [Double])?

    init(input: Tensor, channels: Int, center: [Float], invStd: [Float], scale: [Float], batchStatistics: Bool) {
        self.input = input
        self.channels = channels
        self.center = center
        self.invStd = invStd
        self.scale = scale
        self.batchStatistics = batchStatistics
    }

    private func reductions(_ dy: Tensor) -> (sumDy: [Double], sumDyCentered: [Double]) {
        if let cached { return cached }
        let c = channels, rows = input.count / c
        let sums = input.withUnsafeBufferPointer { xb in
            dy.withUnsafeBufferPointer { gb in
                center.withUnsafeBufferPointer { mb in
                    let xs = UncheckedSendable(xb.baseAddress!), gs = UncheckedSendable(gb.baseAddress!)
                    let ms = UncheckedSendable(mb.baseAddress!)
                    return ChannelKernels.sums(rows: rows, channels: c, lanes: 2) { part, acc in
                        let x = xs.value, g = gs.value, m = ms.value, s2 = acc + c
                        for r in part {
                            let xr = x + r * c, gr = g + r * c
                            for k in 0..<c {
                                let d = Double(gr[k])
                                acc[k] += d
                                s2[k] += d * Double(xr[k] - m[k])
                            }
                        }
                    }
                }
            }
        }
        let result = (Array(sums[0..<c]), Array(sums[c..<2 * c]))
        cached = result
        return result
    }

    func betaGradient(_ dy: Tensor) -> Tensor {
        Tensor(reductions(dy).sumDy.map { Float($0) }, shape: [channels])
    }

    func gammaGradient(_ dy: Tensor) -> Tensor {
        let s = reductions(dy).sumDyCentered
        return Tensor((0..<channels).map { Float(s[$0] * Double(invStd[$0])) }, shape: [channels])
    }

    /// Inference mode: `dx = dy * scale`. Batch statistics: `dx = gamma * invStd * (dy -
    /// mean(dy) - (x - mean) * invStd^2 * mean(dy * (x - mean)))`.
    func inputGradient(_ dy: Tensor) -> Tensor {
        let c = channels
        guard batchStatistics else {
            return ChannelKernels.affine(dy, channels: c, center: nil, scale: scale, shift: nil)
        }
        let (sumDy, sumDyCentered) = reductions(dy)
        let n = Double(input.count / c)
        // dx = scale * dy - scale * mean(dy) - (x - mean) * scale * invStd^2 * mean(dy * xc)
        //    = (x - mean) * a + (dy * scale + b), per channel a, b.
        var ab = [Float](repeating: 0, count: 2 * c)
        for k in 0..<c {
            let s = Double(scale[k]), i = Double(invStd[k])
            ab[k] = Float(-s * i * i * sumDyCentered[k] / n)
            ab[c + k] = Float(-s * sumDy[k] / n)
        }
        return Tensor(unsafeUninitializedShape: dy.shape) { out in
            input.withUnsafeBufferPointer { xb in
                dy.withUnsafeBufferPointer { gb in
                    center.withUnsafeBufferPointer { mb in
                        scale.withUnsafeBufferPointer { sb in
                            ab.withUnsafeBufferPointer { abb in
                                let xs = UncheckedSendable(xb.baseAddress!), gs = UncheckedSendable(gb.baseAddress!)
                                let ys = UncheckedSendable(out.baseAddress!), ms = UncheckedSendable(mb.baseAddress!)
                                let ss = UncheckedSendable(sb.baseAddress!), cs = UncheckedSendable(abb.baseAddress!)
                                Parallel.forEachRange(dy.count / c, grain: max(1, ChannelKernels.grainElements / c)) { part in
                                    let x = xs.value, g = gs.value, y = ys.value, m = ms.value, s = ss.value
                                    let a = cs.value, b = cs.value + c
                                    for r in part {
                                        let xr = x + r * c, gr = g + r * c, yr = y + r * c
                                        for k in 0..<c { yr[k] = (xr[k] - m[k]) * a[k] + (gr[k] * s[k] + b[k]) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

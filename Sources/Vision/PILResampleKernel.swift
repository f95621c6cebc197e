import Foundation
import Tensor

/// Pillow's convolution resampling of 8-bit images (`libImaging/Resample.c`), bit for bit:
/// `precompute_coeffs` (support widened by the scale factor when shrinking, weights normalised
/// to sum 1), `normalize_coeffs_8bpc` (22-bit fixed point, rounded half away from zero), then a
/// horizontal and a vertical pass, each accumulating from `1 << 21` in integers and clipping
/// `sum >> 22` to 0...255, so the intermediate image is 8-bit as in Pillow. A pass whose size
/// does not change is skipped, as `ImagingResampleInner` does.
///
/// PyTorch's antialiased uint8 interpolation (what torchvision's `resize` runs on uint8 tensors,
/// `UpSampleKernel.cpp` / `UpSampleKernelAVXAntialias.h`, derived from Pillow-SIMD) is the same
/// algorithm with the same double-precision weights, quantised differently: to int16 with, per
/// axis, the largest precision `p < 22` at which the largest weight still fits
/// (`_compute_indices_int16_weights_aa`), accumulated from `1 << (p - 1)` and shifted by `p`;
/// always horizontal first. ``Flavor/torchvision`` reproduces it.
enum PILResampleKernel {
    /// `32 - 8 - 2`: fixed-point fraction bits of Pillow's 8-bit path (`PRECISION_BITS`).
    static let precisionBits = 22

    /// Which pass runs first when both are needed.
    enum PassOrder: Sendable {
        /// Pillow 13: vertical first when the height shrinks by more than twice as many pixels
        /// as the width (`inH - outH > 0 && inH - outH > 2 * (inW - outW)`), else horizontal first.
        case pillow13
        /// Pillow up to 12 (and PyTorch): always horizontal first.
        case horizontalFirst
    }

    /// Whose arithmetic to reproduce.
    enum Flavor: Sendable, Equatable {
        /// Pillow: 22-bit weights, the pass order given.
        case pillow(PassOrder)
        /// PyTorch / torchvision on uint8: int16 weights of per-axis precision, horizontal first.
        case torchvision
    }

    /// `pixels` (`height` rows of `width` pixels of `channels` interleaved 8-bit samples)
    /// resampled to `toWidth` x `toHeight` with `filter`. All sizes must be > 0 (callers check).
    static func resample(_ pixels: [UInt8], width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int,
                         filter: PILConvolutionFilter, flavor: Flavor = .pillow(.pillow13)) -> [UInt8] {
        let needHorizontal = toWidth != width, needVertical = toHeight != height
        guard needHorizontal || needVertical else { return pixels }
        let shrinkY = height - toHeight, shrinkX = width - toWidth
        let horizontalFirst = flavor != .pillow(.pillow13) || !(shrinkY > 0 && shrinkY > shrinkX * 2)
        let horizontal = needHorizontal ? PILCoefficients(inSize: width, outSize: toWidth, filter: filter, flavor: flavor) : nil
        let vertical = needVertical ? PILCoefficients(inSize: height, outSize: toHeight, filter: filter, flavor: flavor) : nil
        var current = pixels
        if horizontalFirst {
            var rowOffset = 0
            if let horizontal {
                var rows = 0..<height
                if let vertical {
                    // Only the source rows the vertical pass reads go through the horizontal pass.
                    let last = toHeight - 1
                    rows = vertical.starts[0]..<(vertical.starts[last] + vertical.counts[last])
                }
                current = horizontalPass(current, width: width, channels: channels, rows: rows, horizontal)
                rowOffset = rows.lowerBound
            }
            if let vertical {
                current = verticalPass(current, width: toWidth, channels: channels, rowOffset: rowOffset, vertical)
            }
        } else {
            if let vertical {
                current = verticalPass(current, width: width, channels: channels, rowOffset: 0, vertical)
            }
            if let horizontal {
                current = horizontalPass(current, width: width, channels: channels, rows: 0..<toHeight, horizontal)
            }
        }
        return current
    }

    /// `sum >> precision` clipped to 0...255 (Pillow's `clip8`; PyTorch's saturating packs).
    @inline(__always)
    static func clip8(_ value: Int, _ precision: Int) -> UInt8 {
        let v = value >> precision
        return v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
    }

    /// Rows `rows` of `source` (`width` pixels wide) resampled horizontally to
    /// `coefficients.outSize` pixels: `rows.count` rows out.
    static func horizontalPass(_ source: [UInt8], width: Int, channels: Int, rows: Range<Int>,
                               _ coefficients: PILCoefficients) -> [UInt8] {
        let outWidth = coefficients.outSize, precision = coefficients.precision
        let outRow = outWidth * channels, inRow = width * channels
        return [UInt8](unsafeUninitializedCapacity: rows.count * outRow) { out, initialized in
            source.withUnsafeBufferPointer { src in
                coefficients.weights.withUnsafeBufferPointer { kk in
                    let dst = UncheckedSendable(out), input = UncheckedSendable(src), weights = UncheckedSendable(kk)
                    Parallel.forEachRange(rows.count, grain: max(1, (1 << 15) / max(1, outRow))) { part in
                        let src = input.value, dst = dst.value, kk = weights.value
                        for y in part {
                            let line = src.baseAddress! + (rows.lowerBound + y) * inRow
                            let lineOut = dst.baseAddress! + y * outRow
                            for x in 0..<outWidth {
                                let start = coefficients.starts[x], count = coefficients.counts[x]
                                let k = kk.baseAddress! + x * coefficients.ksize
                                for c in 0..<channels {
                                    var ss = 1 << (precision - 1)
                                    var p = line + start * channels + c
                                    for i in 0..<count {
                                        ss += Int(p.pointee) * Int(k[i])
                                        p += channels
                                    }
                                    lineOut[x * channels + c] = clip8(ss, precision)
                                }
                            }
                        }
                    }
                }
            }
            initialized = rows.count * outRow
        }
    }

    /// `source` (`width` pixels wide, its first row being source row `rowOffset`) resampled
    /// vertically to `coefficients.outSize` rows.
    static func verticalPass(_ source: [UInt8], width: Int, channels: Int, rowOffset: Int,
                             _ coefficients: PILCoefficients) -> [UInt8] {
        let outHeight = coefficients.outSize, precision = coefficients.precision
        let rowLength = width * channels
        return [UInt8](unsafeUninitializedCapacity: outHeight * rowLength) { out, initialized in
            source.withUnsafeBufferPointer { src in
                coefficients.weights.withUnsafeBufferPointer { kk in
                    let dst = UncheckedSendable(out), input = UncheckedSendable(src), weights = UncheckedSendable(kk)
                    Parallel.forEachRange(outHeight, grain: max(1, (1 << 15) / max(1, rowLength))) { part in
                        let src = input.value, dst = dst.value, kk = weights.value
                        for y in part {
                            let start = coefficients.starts[y], count = coefficients.counts[y]
                            let k = kk.baseAddress! + y * coefficients.ksize
                            let top = src.baseAddress! + (start - rowOffset) * rowLength
                            let lineOut = dst.baseAddress! + y * rowLength
                            for i in 0..<rowLength {
                                var ss = 1 << (precision - 1)
                                var p = top + i
                                for j in 0..<count {
                                    ss += Int(p.pointee) * Int(k[j])
                                    p += rowLength
                                }
                                lineOut[i] = clip8(ss, precision)
                            }
                        }
                    }
                }
            }
            initialized = outHeight * rowLength
        }
    }

    /// Pillow's `resize(NEAREST)` (`ImagingScaleAffine`): source column of output column `x` is
    /// `(int)xo` with `xo` starting at `scale / 2` and growing by `scale = in / out` per column
    /// (accumulated in double, as Pillow does), the same for rows; a position outside the source
    /// gives 0.
    static func nearest(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                        toWidth: Int, toHeight: Int) -> [UInt8] {
        if toWidth == width && toHeight == height { return pixels }
        let columns = nearestIndices(inSize: width, outSize: toWidth)
        let rows = nearestIndices(inSize: height, outSize: toHeight)
        let rowLength = toWidth * channels
        var out = [UInt8](repeating: 0, count: toHeight * rowLength)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<toHeight {
                    guard let sy = rows[y] else { continue }
                    let line = src.baseAddress! + sy * width * channels
                    let lineOut = dst.baseAddress! + y * rowLength
                    for x in 0..<toWidth {
                        guard let sx = columns[x] else { continue }
                        for c in 0..<channels { lineOut[x * channels + c] = line[sx * channels + c] }
                    }
                }
            }
        }
        return out
    }

    /// PyTorch's `nearest-exact` (torchvision's `NEAREST_EXACT`, what transformers' torchvision
    /// backend uses for `NEAREST`): source index `min(floorf((dst + 0.5) * scale), in - 1)` with
    /// `scale = float(in) / out` in single precision.
    static func nearestExact(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                             toWidth: Int, toHeight: Int) -> [UInt8] {
        if toWidth == width && toHeight == height { return pixels }
        func indices(_ inSize: Int, _ outSize: Int) -> [Int] {
            let scale = Float(inSize) / Float(outSize)
            return (0..<outSize).map { min(Int(Float((Double($0) + 0.5) * Double(scale)).rounded(.down)), inSize - 1) }
        }
        let columns = indices(width, toWidth), rows = indices(height, toHeight)
        var out = [UInt8](repeating: 0, count: toHeight * toWidth * channels)
        var i = 0
        for y in rows {
            for x in columns {
                for c in 0..<channels { out[i + c] = pixels[(y * width + x) * channels + c] }
                i += channels
            }
        }
        return out
    }

    /// For each output index, the source index Pillow's nearest scaling reads (nil: outside).
    static func nearestIndices(inSize: Int, outSize: Int) -> [Int?] {
        // a[0] = (double)(box[2] - box[0]) / xsize, box in float; xo = a[2] + a[0] * 0.5.
        let scale = Double(Float(inSize)) / Double(outSize)
        var position = scale * 0.5
        var indices: [Int?] = []
        indices.reserveCapacity(outSize)
        for _ in 0..<outSize {
            let index = position < 0 ? -1 : Int(position)  // COORD(v)
            indices.append(index >= 0 && index < inSize ? index : nil)
            position += scale
        }
        return indices
    }
}

/// Pillow's convolution filters (`struct filter` in `Resample.c`): the kernel and its support.
enum PILConvolutionFilter: Sendable {
    case box, bilinear, hamming, bicubic, lanczos

    /// Half-width of the kernel at scale 1.
    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The kernel, with Pillow's exact expressions (and its float constants in `hamming`), or
    /// PyTorch's (`HelperInterpCubic::aa_filter`: the same cubic, `a = -0.5`, written
    /// `((a x - 5 a) x + 8 a) x - 4 a` beyond 1).
    @inline(__always)
    func weight(_ value: Double, torchvision: Bool) -> Double {
        if torchvision, self == .bicubic {
            let a = -0.5, x = abs(value)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            return 0
        }
        return weight(value)
    }

    /// The kernel, with Pillow's exact expressions (and its float constants in `hamming`).
    @inline(__always)
    func weight(_ value: Double) -> Double {
        var x = value
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            if x < 0 { x = -x }
            return x < 1 ? 1 - x : 0
        case .hamming:
            if x < 0 { x = -x }
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            x *= Double.pi
            return sin(x) / x * (Double(Float(0.54)) + Double(Float(0.46)) * cos(x))
        case .bicubic:
            // a = -0.5: ((a + 2) x - (a + 3)) x x + 1 below 1, (((x - 5) x + 8) x - 4) a below 2.
            let a = -0.5
            if x < 0 { x = -x }
            if x < 1 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        case .lanczos:
            return -3.0 <= x && x < 3.0 ? Self.sinc(x) * Self.sinc(x / 3) : 0
        }
    }

    static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let y = x * Double.pi
        return sin(y) / y
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for one axis (box `0...inSize`), or
/// PyTorch's `_compute_indices_int16_weights_aa` (the same weights, quantised to int16).
struct PILCoefficients: Sendable {
    let outSize: Int
    /// Fraction bits of ``weights``: 22 (Pillow) or PyTorch's per-axis choice.
    let precision: Int
    /// Taps per output pixel reserved in ``weights`` (`ceil(support) * 2 + 1`).
    let ksize: Int
    /// Per output pixel: the first source index and the number of taps.
    let starts: [Int]
    let counts: [Int]
    /// `outSize * ksize` fixed-point weights (22 fraction bits).
    let weights: [Int32]

    init(inSize: Int, outSize: Int, filter: PILConvolutionFilter, flavor: PILResampleKernel.Flavor = .pillow(.pillow13)) {
        let torchvision = flavor == .torchvision
        // in0 = 0 and in1 = inSize are floats in Pillow: scale = (double)(in1 - in0) / outSize.
        let scale = Double(Float(inSize)) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        let inverseScale = 1.0 / filterScale
        var starts: [Int] = [], counts: [Int] = []
        starts.reserveCapacity(outSize)
        counts.reserveCapacity(outSize)
        var normalised = [Double](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            // C's (int) casts truncate toward zero, as Swift's Int(Double) does.
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var ww = 0.0
            for x in 0..<xmax {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverseScale, torchvision: torchvision)
                k[x] = w
                ww += w
            }
            for x in 0..<xmax { normalised[xx * ksize + x] = ww != 0 ? k[x] / ww : k[x] }
            starts.append(xmin)
            counts.append(max(xmax, 0))
        }
        var precision = PILResampleKernel.precisionBits
        if torchvision {
            // The largest weight (padding zeros included, the first entry the start) decides.
            var largest = normalised.first ?? 0
            for v in normalised where largest < v { largest = v }
            precision = 0
            while precision < 22, Int(0.5 + largest * Double(1 << (precision + 1))) < 1 << 15 { precision += 1 }
            precision = max(precision, 1)
        }
        let one = Double(1 << precision)
        let weights = normalised.map { v -> Int32 in
            let scaled = v * one
            let rounded = Int32(v < 0 ? -0.5 + scaled : 0.5 + scaled)
            return torchvision ? Int32(Int16(truncatingIfNeeded: rounded)) : rounded
        }
        self.outSize = outSize
        self.precision = precision
        self.ksize = ksize
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }
}

/// `exp` and `erf` on eight floats at once, for the loops that spend their time in them
/// (softmax over attention scores, GELU). Portable SIMD (no target flags): the compiler maps
/// `SIMD8<Float>` onto whatever vector registers the build targets.
///
/// - `exp`: Cephes' `expf` — `x = n ln2 + r`, a degree-5 polynomial for `e^r` on
///   `|r| <= ln2 / 2`, scaled by `2^n` built in the exponent bits; relative error within 2 ulp
///   of the correctly rounded value on [-87, 88], 0 below -87.3 (where float32 underflows to
///   denormals), +infinity above 88.7, NaN passing through.
/// - `erf`: Abramowitz & Stegun 7.1.26 on `|x|` with the sign restored: 1.5e-7 in exact
///   arithmetic, below 5e-7 absolute in float32 (8 steps of float32's spacing just below 1).
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let tooSmall = x .< -87.33654, tooLarge = x .> 88.72283
        // Clamped by masks (SIMD's `clamped` is not specialised here and would cost a call per vector).
        var clamped = x
        clamped.replace(with: -87.33654, where: tooSmall)
        clamped.replace(with: 88.72283, where: tooLarge)
        clamped.replace(with: 0, where: x .!= x)
        // n = round(x / ln2) through the 1.5·2^23 trick: the sum's low mantissa bits hold n.
        let shifter = Vector(repeating: 12_582_912)
        let biased = clamped * 1.442_695_040_888_963_4 + shifter
        let n = biased - shifter
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_400_546_905_8e-4
        var p = Vector(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * (r * r) + r + 1
        // 2^n as 2^(n/2) · 2^(n - n/2), each built in the exponent bits, so that n = 128 (x near
        // 88.7, finite result) and n = -126 stay in range.
        let integer = unsafeBitCast(biased, to: SIMD8<Int32>.self) &- unsafeBitCast(shifter, to: SIMD8<Int32>.self)
        let half = integer &>> 1
        let scaleLow = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let scaleHigh = unsafeBitCast((integer &- half &+ 127) &<< 23, to: Vector.self)
        var result = y * scaleLow * scaleHigh
        result.replace(with: 0, where: tooSmall)
        result.replace(with: .infinity, where: tooLarge)
        result.replace(with: x, where: x .!= x)
        return result
    }

    @inline(__always)
    public static func erf(_ x: Vector) -> Vector {
        let a = abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = Vector(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        var y = 1 - p * t * exp(-(a * a))
        y.replace(with: -y, where: x .< 0)
        y.replace(with: x, where: x .!= x)
        return y
    }

    @inline(__always)
    static func abs(_ x: Vector) -> Vector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Vector.self)
    }

    /// The largest of `count` floats (`-infinity` for none; NaN is skipped as `max` skips it).
    @inline(__always)
    static func maximum(_ source: UnsafePointer<Float>, count: Int) -> Float {
        var best = Vector(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: Vector.self)
            best.replace(with: v, where: v .> best)
            i += 8
        }
        var result = best.max()
        while i < count { result = Swift.max(result, source[i]); i += 1 }
        return result
    }

    /// `target[i] = exp(source[i] - shift)` for `count` floats, returning their sum.
    @inline(__always)
    static func exponentials(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, count: Int,
                             shift: Float) -> Float {
        let offset = Vector(repeating: shift)
        var sums = Vector(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let e = exp(UnsafeRawPointer(source + i).loadUnaligned(as: Vector.self) - offset)
            UnsafeMutableRawPointer(target + i).storeBytes(of: e, as: Vector.self)
            sums += e
            i += 8
        }
        var total = sums.sum()
        if i < count {
            var v = Vector(repeating: -.infinity)
            for j in 0..<(count - i) { v[j] = source[i + j] }
            let e = exp(v - offset)
            for j in 0..<(count - i) { target[i + j] = e[j]; total += e[j] }
        }
        return total
    }

    /// `target[i] = source[i] * factor` for `count` floats.
    @inline(__always)
    static func scale(_ buffer: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(buffer + i).loadUnaligned(as: Vector.self) * factor
            UnsafeMutableRawPointer(buffer + i).storeBytes(of: v, as: Vector.self)
            i += 8
        }
        while i < count { buffer[i] *= factor; i += 1 }
    }

    /// `body` on `count` floats eight at a time; the tail is padded, computed and cut off.
    @inline(__always)
    static func apply(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, count: Int,
                      _ body: (Vector) -> Vector) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(source + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(target + i).storeBytes(of: body(v), as: Vector.self)
            i += 8
        }
        if i < count {
            var v = Vector(repeating: 0)
            for j in 0..<(count - i) { v[j] = source[i + j] }
            let y = body(v)
            for j in 0..<(count - i) { target[i + j] = y[j] }
        }
    }
}

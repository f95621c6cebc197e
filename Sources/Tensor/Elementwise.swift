/// Elementwise arithmetic between tensors under NumPy broadcasting (`Broadcasting.swift`):
/// either operand may be repeated along axes of extent 1 or missing leading axes, and the
/// result has shape `Shape.broadcast(lhs.shape, rhs.shape)`. Each operand's gradient is summed
/// back to its own shape. Incompatible shapes are a programming error (layers check with
/// `Shape.broadcast` first and throw).
extension Tensor {
    /// Elements per parallel task: small loops stay on one thread.
    @usableFromInline static let elementwiseGrain = 1 << 15

    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let out = Tensor.uninitialized(x.shape)
        let src = UncheckedSendable(x.storage.base), dst = UncheckedSendable(out.storage.base)
        Parallel.forEachRange(x.count, grain: elementwiseGrain) { range in
            for i in range { dst.value[i] = f(src.value[i]) }
        }
        return out
    }

    /// The broadcast shape of `lhs op rhs`; traps with both shapes named when there is none.
    static func broadcastShape(_ lhs: Shape, _ rhs: Shape, _ op: String) -> Shape {
        guard let shape = Shape.broadcast(lhs, rhs) else {
            preconditionFailure("\(op): shapes \(lhs) and \(rhs) do not broadcast")
        }
        return shape
    }

    /// `f` elementwise over the broadcast of `a` and `b`. Fast paths: equal shapes; one side a
    /// single element; one side's shape a suffix of the other's (a bias `[c]` against
    /// `[b, h, w, c]`: a period). Anything else takes the strided loop of `broadcastZip`.
    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, _ op: String, _ f: (Float, Float) -> Float) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op)
        let out = Tensor.uninitialized(shape)
        let pa = UncheckedSendable(a.storage.base), pb = UncheckedSendable(b.storage.base)
        let po = UncheckedSendable(out.storage.base)
        let n = out.count
        if a.count == n && b.count == n {
            Parallel.forEachRange(n, grain: elementwiseGrain) { range in
                for i in range { po.value[i] = f(pa.value[i], pb.value[i]) }
            }
        } else if b.count == 1 {
            let s = b.storage.base[0]
            Parallel.forEachRange(n, grain: elementwiseGrain) { range in
                for i in range { po.value[i] = f(pa.value[i], s) }
            }
        } else if a.count == 1 {
            let s = a.storage.base[0]
            Parallel.forEachRange(n, grain: elementwiseGrain) { range in
                for i in range { po.value[i] = f(s, pb.value[i]) }
            }
        } else if isSuffix(b.shape, of: a.shape) {
            let period = b.count
            Parallel.forEachRange(n / period, grain: max(1, elementwiseGrain / period)) { range in
                for r in range {
                    let dst = po.value + r * period, x = pa.value + r * period, y = pb.value
                    for j in 0..<period { dst[j] = f(x[j], y[j]) }
                }
            }
        } else if isSuffix(a.shape, of: b.shape) {
            let period = a.count
            Parallel.forEachRange(n / period, grain: max(1, elementwiseGrain / period)) { range in
                for r in range {
                    let dst = po.value + r * period, x = pa.value, y = pb.value + r * period
                    for j in 0..<period { dst[j] = f(x[j], y[j]) }
                }
            }
        } else if n > 0 {
            broadcastZip(a, b, into: out, f)
        }
        return out
    }

    /// Whether `short` is a trailing part of `long` (so it repeats with period `short.count`).
    @inline(__always)
    static func isSuffix(_ short: Shape, of long: Shape) -> Bool {
        short.rank <= long.rank && long.dims.suffix(short.rank).elementsEqual(short.dims)
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let ls = lhs.shape, rs = rhs.shape
        return zip(lhs, rhs, "+") { $0 + $1 }.recordingGradient(from: [
            (lhs, { unbroadcast($0, to: ls) }),
            (rhs, { unbroadcast($0, to: rs) }),
        ])
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let ls = lhs.shape, rs = rhs.shape
        return zip(lhs, rhs, "-") { $0 - $1 }.recordingGradient(from: [
            (lhs, { unbroadcast($0, to: ls) }),
            (rhs, { unbroadcast(-$0, to: rs) }),
        ])
    }

    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let l = lhs.detached, r = rhs.detached
        return zip(lhs, rhs, "*") { $0 * $1 }.recordingGradient(from: [
            (lhs, { unbroadcast($0 * r, to: l.shape) }),
            (rhs, { unbroadcast($0 * l, to: r.shape) }),
        ])
    }

    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let l = lhs.detached, r = rhs.detached
        return zip(lhs, rhs, "/") { $0 / $1 }.recordingGradient(from: [
            (lhs, { unbroadcast($0 / r, to: l.shape) }),
            (rhs, { unbroadcast(-$0 * l / (r * r), to: r.shape) }),
        ])
    }

    public static prefix func - (x: Tensor) -> Tensor {
        map(x) { -$0 }.recordingGradient(from: x) { -$0 }
    }

    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        map(lhs) { $0 * rhs }.recordingGradient(from: lhs) { $0 * rhs }
    }

    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }

    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs * (1 / rhs) }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        map(lhs) { $0 + rhs }.recordingGradient(from: lhs) { $0 }
    }

    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }

    /// `max(x, 0)`; the gradient passes where the output is positive.
    public func relu() -> Tensor {
        let out = Tensor.map(self) { $0 < 0 ? 0 : $0 }  // NaN passes through, as in TensorFlow
        let mask = out.detached
        return out.recordingGradient(from: self) { grad in
            Tensor.zip(grad, mask, "relu'") { g, y in y > 0 ? g : 0 }
        }
    }

    public func exp() -> Tensor {
        let out = Tensor.map(self) { Foundation.exp($0) }
        let y = out.detached
        return out.recordingGradient(from: self) { $0 * y }
    }

    public func log() -> Tensor {
        let x = detached
        return Tensor.map(self) { Foundation.log($0) }.recordingGradient(from: self) { $0 / x }
    }

    public func squared() -> Tensor {
        let x = detached
        return Tensor.map(self) { $0 * $0 }.recordingGradient(from: self) { $0 * x * 2 }
    }

    /// `self += other` without autograd (gradient accumulation, optimizer updates).
    public mutating func addInPlace(_ other: Tensor, scale: Float = 1) {
        precondition(shape == other.shape, "adding \(other.shape) into \(shape)")
        makeUnique()
        let dst = UncheckedSendable(storage.base), src = UncheckedSendable(other.storage.base)
        Parallel.forEachRange(count, grain: Tensor.elementwiseGrain) { range in
            for i in range { dst.value[i] += scale * src.value[i] }
        }
    }
}

import Foundation

import CKernels
import Tensor

/// The activation a kernel applies to its sums in the pass that stores them (C's
/// `RUBBLE_EPILOGUE_*`), so that no separate pass over the output is needed.
public enum KernelEpilogue: Int32, Sendable {
    case none = 0, relu = 1, gelu = 2, relu6 = 3, swish = 4

    /// The fused form of `activation`; `nil` for one a kernel cannot fuse (softmax, sigmoid).
    public init?(_ activation: Activation) {
        switch activation {
        case .linear: self = .none
        case .relu: self = .relu
        case .gelu: self = .gelu
        case .swish: self = .swish
        case .softmax, .sigmoid: return nil
        }
    }

    /// The fused form of an activation layer (`Activation`, `ReLU` with no cap or a cap of 6);
    /// `nil` for any other layer.
    public init?(layer: any Layer) {
        switch layer {
        case let relu as ReLU:
            switch relu.maxValue {
            case nil: self = .relu
            case 6?: self = .relu6
            default: return nil
            }
        case let activation as ActivationLayer:
            guard let epilogue = KernelEpilogue(activation.activation) else { return nil }
            self = epilogue
        default:
            return nil
        }
    }

    /// `c = self((c + bias) + residual)` over `rows` rows of `width` values, in place: bias
    /// (`width` values) and residual (laid out as `c`) each optional.
    @inline(__always)
    func apply(to c: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>?,
               residual: UnsafePointer<Float>?) {
        guard bias != nil || residual != nil || self != .none else { return }
        rubble_epilogue_rows(c, bias, residual, rows, width, rawValue)
    }

    /// `apply` over all rows, spread over the cores.
    func applyInParallel(to c: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>?,
                         residual: UnsafePointer<Float>?) {
        guard bias != nil || residual != nil || self != .none else { return }
        let cs = UncheckedSendable(c), bs = UncheckedSendable(bias), rs = UncheckedSendable(residual)
        Parallel.forEachRange(rows, grain: max(1, 16384 / max(width, 1))) { part in
            let offset = part.lowerBound * width
            self.apply(to: cs.value + offset, rows: part.count, width: width, bias: bs.value,
                       residual: rs.value.map { $0 + offset })
        }
    }
}

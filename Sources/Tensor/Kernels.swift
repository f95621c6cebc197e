import CKernels

/// The instruction-set variants of the C kernels in `Sources/CKernels` (softmax rows, GELU,
/// sigmoid / swish, layer normalisation, the resized sum of decode heads). The best one the
/// CPU supports is chosen at the first call, from its features (never from its name).
public enum KernelVariant: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C for the build's baseline (any CPU).
    case portable = 0
    /// AVX2 + FMA, eight lanes.
    case avx2 = 1
    /// AVX-512F + DQ, sixteen lanes.
    case avx512 = 2

    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "AVX2"
        case .avx512: return "AVX-512"
        }
    }
}

public enum Kernels {
    /// The best variant this CPU runs.
    public static var best: KernelVariant { KernelVariant(rawValue: Int(rubble_kernels_best_variant())) ?? .portable }

    /// The variant in use (`best` unless set lower, as the tests do to check every variant).
    /// Setting a variant the CPU lacks sets `best`. Process-wide: set it only while no other
    /// thread computes.
    public static var variant: KernelVariant {
        get { KernelVariant(rawValue: Int(rubble_kernels_variant())) ?? .portable }
        set { rubble_kernels_set_variant(Int32(newValue.rawValue)) }
    }

    /// The variants this CPU runs, portable first.
    public static var supported: [KernelVariant] { KernelVariant.allCases.filter { $0.rawValue <= best.rawValue } }

    /// `body` with `variant` in use, then the previous variant again.
    public static func with<R>(_ variant: KernelVariant, _ body: () throws -> R) rethrows -> R {
        let before = Int32(rubble_kernels_set_variant(Int32(variant.rawValue)))
        defer { rubble_kernels_set_variant(before) }
        return try body()
    }
}

/// A C kernel over `count` floats from a source into a target.
typealias ArrayKernel = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void

extension Tensor {
    /// `kernel` over every element of `x` into a new tensor, chunks split over the cores.
    static func kernelMap(_ x: Tensor, _ kernel: ArrayKernel) -> Tensor {
        let out = Tensor.uninitialized(x.shape)
        let src = UncheckedSendable(x.storage.base), dst = UncheckedSendable(out.storage.base)
        Parallel.forEachRange(x.count, grain: elementwiseGrain) { range in
            kernel(src.value + range.lowerBound, dst.value + range.lowerBound, range.count)
        }
        return out
    }
}

import Foundation

/// The bounds on what a file may make Rubble allocate, and the checks every tensor read from a
/// file passes (hostile input: Fuzz/README.md): weights files (KerasFiles' `KerasWeights.load` /
/// `inspect` / `tensors`) and training checkpoints (Train's `TrainingCheckpoint.read`). It lives
/// here, with `Shape`, so that both modules use one set of limits without depending on each other.
///
/// A shape from a file is accepted only if its rank is at most `maximumRank` (8), every
/// dimension is a non-negative number that fits in `Int`, the product of its dimensions (and of
/// every prefix of them, zeros counted as one) does not overflow, and the tensor's float32 bytes
/// are at most `maximumTensorBytes` (default 4 GiB). All of it is checked before anything is
/// allocated; the values read must then be finite (`firstNonFinite(in:)`).
public struct TensorLimits: Sendable, Equatable, CustomStringConvertible {
    /// 4 GiB. The largest tensor of the paper's model (VGG19's `fc1` kernel in the full ImageNet
    /// file, 25088 x 4096) takes 392 MiB.
    public static let defaultMaximumTensorBytes = 4 << 30
    /// Keras weights have rank 5 at most (a Conv3D kernel).
    public static let maximumRank = 8

    /// The most bytes one tensor read from a file may take (float32: 4 bytes an element).
    public var maximumTensorBytes: Int

    public init(maximumTensorBytes: Int = TensorLimits.defaultMaximumTensorBytes) {
        self.maximumTensorBytes = maximumTensorBytes
    }

    public static let `default` = TensorLimits()

    public var description: String { "tensors of at most \(Self.describe(bytes: maximumTensorBytes))" }

    /// Why a shape from a file was refused.
    public enum ShapeProblem: Error, Equatable, Sendable, CustomStringConvertible {
        /// More than `TensorLimits.maximumRank` dimensions.
        case rank(Int, maximum: Int)
        /// A dimension below zero (0-based `axis`).
        case negativeDimension(axis: Int, value: Int64)
        /// A dimension larger than `Int.max`.
        case dimensionTooLarge(axis: Int, value: UInt64)
        /// The element count (or its byte count) does not fit in `Int`.
        case elementCountOverflow(dims: [Int])
        /// The tensor would take `bytes` bytes, more than the budget `maximum`.
        case overBudget(dims: [Int], bytes: Int, maximum: Int)

        public var description: String {
            switch self {
            case let .rank(rank, maximum):
                return "rank \(rank) is more than \(maximum)"
            case let .negativeDimension(axis, value):
                return "dimension \(axis) is \(value), below zero"
            case let .dimensionTooLarge(axis, value):
                return "dimension \(axis) is \(value), more than \(Int.max)"
            case let .elementCountOverflow(dims):
                return "the element count of \(Shape(dims)) overflows"
            case let .overBudget(dims, bytes, maximum):
                return "\(Shape(dims)) takes \(TensorLimits.describe(bytes: bytes)), more than the budget of "
                    + "\(TensorLimits.describe(bytes: maximum)) a tensor (TensorLimits.maximumTensorBytes)"
            }
        }
    }

    /// `dims` as a float32 `Shape`, or why they cannot be one.
    public func shape<D: BinaryInteger>(_ dims: [D]) -> Result<Shape, ShapeProblem> {
        guard dims.count <= Self.maximumRank else { return .failure(.rank(dims.count, maximum: Self.maximumRank)) }
        var extents: [Int] = []
        extents.reserveCapacity(dims.count)
        for (axis, dim) in dims.enumerated() {
            if dim < 0 { return .failure(.negativeDimension(axis: axis, value: Int64(clamping: dim))) }
            guard let extent = Int(exactly: dim) else {
                return .failure(.dimensionTooLarge(axis: axis, value: UInt64(clamping: dim)))
            }
            extents.append(extent)
        }
        // Zeros count as one, so that no partial product (strides, row sizes) can overflow either.
        var product = 1
        for extent in extents {
            let (next, overflow) = product.multipliedReportingOverflow(by: Swift.max(extent, 1))
            if overflow { return .failure(.elementCountOverflow(dims: extents)) }
            product = next
        }
        let count = extents.contains(0) ? 0 : product
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        if overflow { return .failure(.elementCountOverflow(dims: extents)) }
        guard bytes <= maximumTensorBytes else {
            return .failure(.overBudget(dims: extents, bytes: bytes, maximum: maximumTensorBytes))
        }
        return .success(Shape(extents))
    }

    /// The first NaN or infinite element of `tensor` (row-major index and value), if any.
    public static func firstNonFinite(in tensor: Tensor) -> (index: Int, value: Float)? {
        tensor.withUnsafeBufferPointer { firstNonFinite(in: $0) }
    }

    /// The first NaN or infinite element of `values`, if any. Finite data costs one pass of an
    /// integer maximum over the exponent bits (vectorised), the search only runs on bad data.
    public static func firstNonFinite(in values: UnsafeBufferPointer<Float>) -> (index: Int, value: Float)? {
        let exponent: UInt32 = 0x7F80_0000
        let largest = values.withMemoryRebound(to: UInt32.self) { bits in
            var largest: UInt32 = 0
            for word in bits { largest = Swift.max(largest, word & exponent) }
            return largest
        }
        guard largest == exponent else { return nil }
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return nil }
        return (index, values[index])
    }

    /// A byte count for error messages: 4294967296 -> "4294967296 bytes (4 GiB)".
    public static func describe(bytes count: Int) -> String {
        let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, unit) in units where count >= size {
            let value = Double(count) / Double(size)
            let text = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
            return "\(count) bytes (\(text) \(unit))"
        }
        return "\(count) bytes"
    }
}

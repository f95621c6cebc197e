/// Why a NumPy `.npy` file (``NPYFile``) was refused: the file (its path, or the name given
/// with the bytes) and the problem. `.npy` files are hostile input (ARCHITECTURE.md §9): a user
/// hands over depth maps or labels, so every header field is checked before anything is
/// allocated.
public struct NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        /// The file could not be read at all (the system's reason).
        case unreadable(String)
        /// The first six bytes are not `\x93NUMPY`, or the file is shorter than a prelude.
        case notNPY
        /// A format version other than 1.0, 2.0 or 3.0.
        case unsupportedVersion(major: UInt8, minor: UInt8)
        /// The header claims `length` bytes, more than `NPYFile.maximumHeaderLength` or than the
        /// `available` bytes after the prelude.
        case headerLength(Int, available: Int)
        /// The header is not the dictionary NumPy writes (what is wrong, and where).
        case malformedHeader(String)
        /// A `descr` that is not one of ``NPYFile/supportedDTypes``.
        case unsupportedDType(String)
        /// `fortran_order` is `True`: only C (row-major) order is read.
        case fortranOrder
        /// The shape is refused by ``TensorLimits`` (rank, a negative or huge dimension, overflow,
        /// more than the tensor budget).
        case shape(TensorLimits.ShapeProblem)
        /// The data after the header is not exactly `expected` bytes (shape product x item size).
        case dataSize(expected: Int, actual: Int)
        /// ``NPYFile/readInt64(_:)`` on a floating-point file.
        case notInteger(String)

        public var description: String {
            switch self {
            case let .unreadable(reason): return "cannot be read: \(reason)"
            case .notNPY: return "is not a .npy file (no \\x93NUMPY magic)"
            case let .unsupportedVersion(major, minor):
                return "has format version \(major).\(minor); only 1.0, 2.0 and 3.0 are read"
            case let .headerLength(length, available):
                return "declares a header of \(length) bytes, but at most "
                    + "\(min(available, NPYFile.maximumHeaderLength)) are allowed here"
            case let .malformedHeader(detail): return "has a malformed header: \(detail)"
            case let .unsupportedDType(descr):
                return "has dtype '\(descr)'; supported: \(NPYFile.supportedDTypes.joined(separator: ", "))"
            case .fortranOrder: return "is in Fortran order; only C order is read (save np.ascontiguousarray(a))"
            case let .shape(problem): return "has a refused shape: \(problem)"
            case let .dataSize(expected, actual):
                return "holds \(actual) data bytes, but its shape and dtype need exactly \(expected)"
            case let .notInteger(descr): return "has dtype '\(descr)', not an integer type"
            }
        }
    }

    /// The file's path, or the name the bytes were given under.
    public let file: String
    public let problem: Problem

    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file) \(problem)" }
}

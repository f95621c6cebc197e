/// The element types of a safetensors file that Rubble reads, spelled as the header spells them.
/// All are little-endian; `BOOL` is one byte (0 or 1).
public enum SafeTensorsDType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes one element takes.
    public var size: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Whether ``SafeTensorsFile/floatTensor(_:)`` reads it (converting to Float32).
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }

    /// Whether ``SafeTensorsFile/int64Values(_:)`` reads it (widening to Int64).
    public var isInteger: Bool { !isFloatingPoint }

    /// The position of the dtype in the `safetensors` library's `Dtype` enum, which lists the
    /// types in increasing alignment. Its writer sorts tensors by this, descending, then by name.
    public var libraryOrder: Int {
        switch self {
        case .bool: return 0
        case .uint8: return 1
        case .int8: return 2
        // 3 and 4: F8_E5M2, F8_E4M3
        case .int16: return 5
        case .uint16: return 6
        case .float16: return 7
        case .bfloat16: return 8
        case .int32: return 9
        case .uint32: return 10
        case .float32: return 11
        case .float64: return 12
        case .int64: return 13
        case .uint64: return 14
        }
    }

    public var description: String { rawValue }
}

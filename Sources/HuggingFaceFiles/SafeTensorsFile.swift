import Foundation
import Tensor

/// A `.safetensors` file opened for reading: 8 bytes of little-endian header length N, N bytes
/// of JSON describing every tensor, then the data buffer. The file is untrusted: the header is
/// validated completely when the file is opened (``SafeTensorsHeader``), so every tensor read
/// afterwards lies inside the file and spans exactly its shape's bytes.
///
/// Tensors keep PyTorch's names and layouts (a conv weight is `[out, in, kh, kw]`, a linear
/// weight `[out, in]`); mapping them to Rubble's layouts is the caller's job.
///
/// The file is memory-mapped; like every mapped reader, it must not be truncated while open.
public struct SafeTensorsFile: Sendable {
    /// The name `save_pretrained` gives the weights of an unsharded model.
    public static let fileName = "model.safetensors"

    /// The file's path as given; errors name it.
    public let path: String
    /// The validated header.
    public let header: SafeTensorsHeader
    private let data: Data
    private let index: [String: Int]

    /// Opens and validates the file at `url`.
    /// Throws ``HuggingFaceError/missingFile(file:)`` when there is nothing at `url`, and the
    /// header errors of ``SafeTensorsHeader/init(bytes:fileSize:file:)``.
    public init(contentsOf url: URL) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw HuggingFaceError.missingFile(file: path)
        }
        guard !isDirectory.boolValue else { throw HuggingFaceError.unreadableFile(file: path, reason: "it is a folder") }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw HuggingFaceError.unreadableFile(file: path, reason: error.localizedDescription)
        }
        try self.init(data: data, path: path)
    }

    /// `model.safetensors` in a model folder.
    public init(folder: URL) throws {
        try self.init(contentsOf: folder.appendingPathComponent(Self.fileName))
    }

    /// The file's bytes already in memory (`path` names it in errors).
    public init(data: Data, path: String) throws {
        let header = try data.withUnsafeBytes { try SafeTensorsHeader(bytes: $0, fileSize: data.count, file: path) }
        self.path = path
        self.header = header
        self.data = data
        var index: [String: Int] = [:]
        for (position, entry) in header.entries.enumerated() { index[entry.name] = position }
        self.index = index
    }

    /// The tensors in the order of their bytes in the file.
    public var entries: [SafeTensorsEntry] { header.entries }

    /// Every tensor's name, in the order of their bytes in the file.
    public var names: [String] { header.entries.map(\.name) }

    /// The `__metadata__` strings (`["format": "pt"]` for PyTorch files).
    public var metadata: [String: String] { header.metadata }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The entry of `name`, or ``HuggingFaceError/missingTensor(name:file:)``.
    public func entry(_ name: String) throws -> SafeTensorsEntry {
        guard let position = index[name] else { throw HuggingFaceError.missingTensor(name: name, file: path) }
        return header.entries[position]
    }

    public func shape(of name: String) throws -> [Int] { try entry(name).shape }

    public func dtype(of name: String) throws -> SafeTensorsDType { try entry(name).dtype }

    /// Throws ``HuggingFaceError/shapeMismatch(name:file:expected:got:)`` naming the tensor
    /// unless it is stored with shape `expected`.
    public func checkShape(_ name: String, expected: [Int]) throws {
        try HuggingFaceError.check(shape: entry(name).shape, expected: expected, name: name, file: path)
    }

    /// The raw little-endian bytes of a tensor, as stored.
    public func bytes(of name: String) throws -> Data {
        let entry = try entry(name)
        let start = header.dataStart + entry.dataOffsets.lowerBound
        return data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + entry.dataOffsets.count))
    }

    /// A floating-point tensor as float32, with the stored shape and PyTorch's contiguous
    /// row-major layout (`[]` becomes a one-element tensor of shape `[]`). F16, BF16 and F64
    /// are converted (F64 rounded to nearest). Throws ``HuggingFaceError/wrongDType(name:file:expected:got:)``
    /// for an integer tensor, ``HuggingFaceError/invalidShape(name:file:reason:)`` for a shape
    /// outside `limits` (rank over 8, more than 4 GiB as float32), and
    /// ``HuggingFaceError/nonFiniteValue(name:file:index:value:)`` for NaN or an infinity.
    public func floatTensor(_ name: String, limits: TensorLimits = .default) throws -> Tensor {
        let entry = try entry(name)
        guard entry.dtype.isFloatingPoint else {
            throw HuggingFaceError.wrongDType(name: name, file: path, expected: "a floating-point dtype (F32, F16, BF16, F64)",
                                              got: entry.dtype.rawValue)
        }
        let shape: Shape
        switch limits.shape(entry.shape) {
        case let .success(checked): shape = checked
        case let .failure(problem): throw HuggingFaceError.invalidShape(name: name, file: path, reason: problem.description)
        }
        let tensor = withRawBytes(of: entry) { raw in
            Tensor(unsafeUninitializedShape: shape) { Self.convert(raw, entry.dtype, into: $0) }
        }
        if let (bad, value) = TensorLimits.firstNonFinite(in: tensor) {
            throw HuggingFaceError.nonFiniteValue(name: name, file: path, index: bad, value: "\(value)")
        }
        return tensor
    }

    /// ``floatTensor(_:limits:)`` after checking the stored shape is `expectedShape`.
    public func floatTensor(_ name: String, expectedShape: [Int]) throws -> Tensor {
        try checkShape(name, expected: expectedShape)
        return try floatTensor(name)
    }

    /// An integer (or BOOL) tensor's elements, row-major, widened to Int64; PyTorch's BatchNorm
    /// `num_batches_tracked` is an I64 of shape `[]` (one value). Throws
    /// ``HuggingFaceError/wrongDType(name:file:expected:got:)`` for a float tensor or a U64
    /// value above `Int64.max`.
    public func int64Values(_ name: String) throws -> [Int64] {
        let entry = try entry(name)
        guard entry.dtype.isInteger else {
            throw HuggingFaceError.wrongDType(name: name, file: path, expected: "an integer dtype (I64, I32, ...)",
                                              got: entry.dtype.rawValue)
        }
        let count = entry.elementCount
        if entry.dtype == .uint64 {
            let values: [UInt64] = withRawBytes(of: entry) { raw in
                (0..<count).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
            }
            if let bad = values.firstIndex(where: { $0 > UInt64(Int64.max) }) {
                throw HuggingFaceError.wrongDType(name: name, file: path, expected: "values that fit in I64",
                                                  got: "U64 holding \(values[bad]) at index \(bad)")
            }
            return values.map { Int64($0) }
        }
        return withRawBytes(of: entry) { raw in
            (0..<count).map { i -> Int64 in
                switch entry.dtype {
                case .bool, .uint8: return Int64(raw[i])
                case .int8: return Int64(Int8(bitPattern: raw[i]))
                case .int16: return Int64(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case .uint16: return Int64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case .int32: return Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .uint32: return Int64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case .int64: return Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                case .uint64, .float16, .bfloat16, .float32, .float64: return 0  // handled above / refused
                }
            }
        }
    }

    private func withRawBytes<R>(of entry: SafeTensorsEntry, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        data.withUnsafeBytes { file in
            let start = header.dataStart + entry.dataOffsets.lowerBound
            return body(UnsafeRawBufferPointer(rebasing: file[start..<(start + entry.dataOffsets.count)]))
        }
    }

    /// Converts `raw` (exactly `output.count` elements of `dtype`) to float32.
    static func convert(_ raw: UnsafeRawBufferPointer, _ dtype: SafeTensorsDType, into output: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .float32:
            #if _endian(little)
            UnsafeMutableRawBufferPointer(output).copyMemory(from: raw)
            #else
            for i in output.indices {
                output[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
        case .float16:
            for i in output.indices {
                output[i] = Half.float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bfloat16:
            for i in output.indices {
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                output[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .float64:
            for i in output.indices {
                output[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        default:
            output.initialize(repeating: 0)
        }
    }
}

/// IEEE 754 binary16 to binary32 by bits (exact: every half is a float), so the conversion
/// needs no `Float16` type, which not every platform has.
enum Half {
    static func float(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}

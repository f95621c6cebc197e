import Foundation

/// NumPy `.npy` files in and out: the one reader and writer of the library (depth maps,
/// Grad-CAM maps, test fixtures).
///
/// Layout (NumPy's format versions 1.0 / 2.0 / 3.0): the magic `\x93NUMPY`, a major and a minor
/// version byte, the header length (little-endian uint16 for 1.0, uint32 for 2.0 and 3.0), the
/// header (a Python dict literal, see ``NPYHeader``) padded with spaces and a newline, then the
/// values in C (row-major) order.
///
/// Reading treats the file as hostile (ARCHITECTURE.md §9): the magic, the version, the header
/// length (at most ``maximumHeaderLength`` and within the file), every header field, the shape
/// (through ``TensorLimits``: rank, overflow, the 4 GiB budget as float32) and the exact data
/// size are checked before the values are allocated. Values are converted to `Float`
/// (``supportedDTypes``; integers beyond 2^24 lose precision, `bool` reads as 0 / 1); NaN and
/// infinity are passed through, callers that need finite values check them.
public enum NPYFile {
    /// The dtypes read: little-endian float32 / float64 / int64 / int32, uint8 and bool.
    public static let supportedDTypes = ["<f4", "<f8", "<i8", "<i4", "<u1", "|u1", "|b1"]
    /// The integer dtypes ``readInt64(_:)`` accepts.
    public static let integerDTypes = ["<i8", "<i4", "<u1", "|u1", "|b1"]
    /// NumPy's own default bound on the header (`np.load(max_header_size=10000)`).
    public static let maximumHeaderLength = 10_000

    // MARK: Reading

    /// The array in the file at `url`, as a float32 tensor of its shape (`[]` for a 0-d array).
    /// Throws ``NPYError`` naming the file.
    public static func read(_ url: URL, limits: TensorLimits = .default) throws -> Tensor {
        try read(contentsOf(url), name: url.path, limits: limits)
    }

    /// The array held by `data` (a whole `.npy` file); `name` is what errors call it.
    public static func read(_ data: Data, name: String, limits: TensorLimits = .default) throws -> Tensor {
        let array = try parse(data, name: name, limits: limits)
        var converted = false
        let tensor = data.withUnsafeBytes { raw in
            Tensor(shape: array.shape) { out in
                converted = convert(array.descr, UnsafeRawBufferPointer(rebasing: raw[array.dataOffset...]), into: out)
            }
        }
        guard converted else { throw NPYError(file: name, problem: .unsupportedDType(array.descr)) }
        return tensor
    }

    /// The integers in the file at `url` (labels: `<i8`, `<i4`, `uint8`, `bool`) with their
    /// shape, exactly (no float rounding). A float dtype is ``NPYError/Problem/notInteger(_:)``.
    public static func readInt64(_ url: URL, limits: TensorLimits = .default) throws -> (shape: Shape, values: [Int64]) {
        try readInt64(contentsOf(url), name: url.path, limits: limits)
    }

    /// ``readInt64(_:limits:)`` over the bytes of a whole file.
    public static func readInt64(_ data: Data, name: String,
                                 limits: TensorLimits = .default) throws -> (shape: Shape, values: [Int64]) {
        let array = try parse(data, name: name, limits: limits)
        guard integerDTypes.contains(array.descr) else {
            throw NPYError(file: name, problem: .notInteger(array.descr))
        }
        let count = array.shape.count
        let values = data.withUnsafeBytes { raw -> [Int64] in
            let body = UnsafeRawBufferPointer(rebasing: raw[array.dataOffset...])
            return [Int64](unsafeUninitializedCapacity: count) { out, initialised in
                for i in 0..<count {
                    switch array.descr {
                    case "<i8": out[i] = Int64(littleEndian: body.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    case "<i4": out[i] = Int64(Int32(littleEndian: body.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                    case "|b1": out[i] = body[i] == 0 ? 0 : 1
                    default: out[i] = Int64(body[i])
                    }
                }
                initialised = count
            }
        }
        return (array.shape, values)
    }

    // MARK: Writing

    /// The bytes of a `.npy` file holding `tensor` as `<f4` in C order: format version 1.0 (2.0
    /// only if the header would not fit in 64 KiB), the header padded with spaces and a newline
    /// so that the data starts at a multiple of 64 bytes, as `numpy.save` writes it.
    /// (Writing to disk is the caller's, atomically: `AtomicFile.write(NPYFile.data(t), to:)`.)
    public static func data(_ tensor: Tensor) -> Data {
        let dims = tensor.shape.dims.map(String.init)
        let tuple = "(" + dims.joined(separator: ", ") + (dims.count == 1 ? ",)" : ")")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(tuple), }"
        var prelude = 10  // magic (6) + version (2) + header length (2)
        if prelude + header.utf8.count + 1 > Int(UInt16.max) { prelude = 12 }
        let unpadded = prelude + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        var data = Data([0x93]) + Data("NUMPY".utf8)
        if prelude == 10 {
            data.append(contentsOf: [1, 0, UInt8(length & 0xff), UInt8(length >> 8)])
        } else {
            data.append(contentsOf: [2, 0] + (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) })
        }
        data.append(contentsOf: header.utf8)
        tensor.withUnsafeBufferPointer { values in
            var body = [UInt8](repeating: 0, count: values.count * 4)
            for (i, value) in values.enumerated() {
                let bits = value.bitPattern
                for k in 0..<4 { body[4 * i + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
            }
            data.append(contentsOf: body)
        }
        return data
    }

    // MARK: Parsing

    /// A checked header: the dtype, the shape and where the values start.
    struct ArrayLayout {
        let descr: String
        let shape: Shape
        let dataOffset: Int
    }

    static func itemSize(_ descr: String) -> Int? {
        switch descr {
        case "<f8", "<i8": return 8
        case "<f4", "<i4": return 4
        case "<u1", "|u1", "|b1": return 1
        default: return nil
        }
    }

    static func parse(_ data: Data, name: String, limits: TensorLimits) throws -> ArrayLayout {
        func refuse(_ problem: NPYError.Problem) -> NPYError { NPYError(file: name, problem: problem) }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes.prefix(6) == [0x93] + Array("NUMPY".utf8) else { throw refuse(.notNPY) }
        let (major, minor) = (bytes[6], bytes[7])
        guard (1...3).contains(major), minor == 0 else { throw refuse(.unsupportedVersion(major: major, minor: minor)) }
        let prelude = major == 1 ? 10 : 12
        guard bytes.count >= prelude else { throw refuse(.malformedHeader("the file ends inside the header length")) }
        var headerLength = 0
        for k in 0..<(prelude - 8) { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        let available = data.count - prelude
        guard headerLength <= maximumHeaderLength, headerLength <= available else {
            throw refuse(.headerLength(headerLength, available: available))
        }
        let start = data.startIndex + prelude
        let header: NPYHeader
        switch NPYHeader.parse([UInt8](data[start..<(start + headerLength)])) {
        case .success(let parsed): header = parsed
        case .failure(let failure): throw refuse(.malformedHeader(failure.message))
        }
        guard let size = itemSize(header.descr) else { throw refuse(.unsupportedDType(header.descr)) }
        guard !header.fortranOrder else { throw refuse(.fortranOrder) }
        let shape: Shape
        switch limits.shape(header.shape) {
        case .success(let checked): shape = checked
        case .failure(let problem): throw refuse(.shape(problem))
        }
        // The element count times 4 fits in Int (TensorLimits), times 8 may not.
        let (expected, overflow) = shape.count.multipliedReportingOverflow(by: size)
        let actual = available - headerLength
        guard !overflow, expected == actual else {
            throw refuse(.dataSize(expected: overflow ? Int.max : expected, actual: actual))
        }
        return ArrayLayout(descr: header.descr, shape: shape, dataOffset: prelude + headerLength)
    }

    static func contentsOf(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw NPYError(file: url.path, problem: .unreadable(error.localizedDescription))
        }
    }

    /// Fills `out` (the shape's count of values) from the data bytes, which `parse` sized
    /// exactly; `false` for a dtype that is not read as floats.
    static func convert(_ descr: String, _ body: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) -> Bool {
        switch descr {
        case "<f4":
            for i in out.indices {
                out[i] = Float(bitPattern: UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case "<f8":
            for i in out.indices {
                let bits = UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                out[i] = Float(Double(bitPattern: bits))
            }
        case "<i8":
            for i in out.indices { out[i] = Float(Int64(littleEndian: body.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
        case "<i4":
            for i in out.indices { out[i] = Float(Int32(littleEndian: body.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        case "<u1", "|u1":
            for i in out.indices { out[i] = Float(body[i]) }
        case "|b1":
            for i in out.indices { out[i] = body[i] == 0 ? 0 : 1 }
        default:
            return false
        }
        return true
    }
}

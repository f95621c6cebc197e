import AtomicFiles
import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// Writes `.safetensors` files as the `safetensors` library's `serialize` lays them out: tensors
/// sorted by dtype alignment (descending: I64 before F32) and then by name, contiguous in that
/// order; the header is compact JSON (Foundation's `JSONEncoder`, keys sorted), padded with
/// spaces to a multiple of 8 bytes so every tensor's data is 8-byte aligned in the file; data
/// little-endian. A file read by ``SafeTensorsFile`` and written again has the same data buffer
/// byte for byte and a header with the same JSON value; only the order of the header's keys
/// differs from the library's (`__metadata__` first, then the tensors in data order), which
/// readers do not depend on.
///
/// ```swift
/// var writer = SafeTensorsWriter()                    // metadata {"format": "pt"}
/// writer.add("decode_head.classifier.weight", kernel) // F32, [3, 32, 1, 1]
/// writer.add("decode_head.batch_norm.num_batches_tracked", int64: [0], shape: [])
/// try writer.write(to: folder.appendingPathComponent(SafeTensorsFile.fileName))
/// ```
public struct SafeTensorsWriter: Sendable {
    /// What `transformers`' `save_pretrained` puts in `__metadata__`.
    public static let defaultMetadata = ["format": "pt"]

    /// The `__metadata__` strings; `nil` writes no `__metadata__` key.
    public var metadata: [String: String]?
    private var items: [Item] = []

    private enum Payload: Sendable {
        case float32(Tensor)
        case int64([Int64])
        case raw(Data)
    }

    private struct Item: Sendable {
        let name: String
        let dtype: SafeTensorsDType
        let shape: [Int]
        let payload: Payload
    }

    public init(metadata: [String: String]? = SafeTensorsWriter.defaultMetadata) {
        self.metadata = metadata
    }

    /// Adds a float32 tensor; its shape is written as the tensor's (row-major = PyTorch's
    /// contiguous layout, so give it in PyTorch's layout).
    public mutating func add(_ name: String, _ tensor: Tensor) {
        items.append(Item(name: name, dtype: .float32, shape: tensor.shape.dims, payload: .float32(tensor)))
    }

    /// Adds an I64 tensor of `shape` (`[]` for a scalar such as `num_batches_tracked`); the
    /// values are row-major and must number the shape's element count.
    public mutating func add(_ name: String, int64 values: [Int64], shape: [Int]) {
        items.append(Item(name: name, dtype: .int64, shape: shape, payload: .int64(values)))
    }

    /// Adds a tensor of any dtype from its raw little-endian bytes (copying one read with
    /// ``SafeTensorsFile/bytes(of:)``); `bytes` must be the shape's element count times the size.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: Data) {
        items.append(Item(name: name, dtype: dtype, shape: shape, payload: .raw(bytes)))
    }

    /// The names added so far, in the order added.
    public var names: [String] { items.map(\.name) }

    /// The whole file in memory. `file` names it in errors (see ``write(to:)`` for them).
    public func serialized(file: String = "<memory>") throws -> Data {
        let (header, ordered) = try prepare(file: file)
        var data = header
        for item in ordered { Self.withBytes(of: item) { data.append(contentsOf: $0) } }
        return data
    }

    /// Writes the file atomically (through a temporary file renamed onto `url`). Throws
    /// ``HuggingFaceError/invalidTensor(name:file:reason:)`` for a name given twice or the
    /// reserved `__metadata__`, a negative dimension, values that do not fill the shape;
    /// ``HuggingFaceError/nonFiniteValue(name:file:index:value:)`` for NaN or an infinity in a
    /// float32 tensor; ``HuggingFaceError/writeFailed(file:reason:)`` when the file system says no.
    public func write(to url: URL) throws {
        let path = url.path
        let (header, ordered) = try prepare(file: path)
        do {
            try AtomicFile.replace(url) { temporary in
                let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                guard fd >= 0 else {
                    throw AtomicFileError(path: path, reason: "cannot create a temporary file beside it "
                                          + "(\(String(cString: strerror(errno))))")
                }
                defer { close(fd) }
                try header.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
                for item in ordered {
                    try Self.withBytes(of: item) { try AtomicFile.writeAll(fd, $0, path: path) }
                }
            }
        } catch let error as AtomicFileError {
            throw HuggingFaceError.writeFailed(file: path, reason: error.reason)
        }
    }

    /// Writes `tensors` (F32) and `int64` tensors with `metadata` to `url` in one call.
    public static func write(_ tensors: [(name: String, tensor: Tensor)],
                             int64: [(name: String, values: [Int64], shape: [Int])] = [],
                             metadata: [String: String]? = SafeTensorsWriter.defaultMetadata,
                             to url: URL) throws {
        var writer = SafeTensorsWriter(metadata: metadata)
        for (name, tensor) in tensors { writer.add(name, tensor) }
        for (name, values, shape) in int64 { writer.add(name, int64: values, shape: shape) }
        try writer.write(to: url)
    }

    /// Checks every item, orders them as the library does and builds the padded header
    /// (length prefix included).
    private func prepare(file: String) throws -> (header: Data, ordered: [Item]) {
        var seen = Set<String>()
        for item in items {
            guard item.name != "__metadata__" else {
                throw HuggingFaceError.invalidTensor(name: item.name, file: file, reason: "the name is reserved for the metadata")
            }
            guard seen.insert(item.name).inserted else {
                throw HuggingFaceError.invalidTensor(name: item.name, file: file, reason: "the name is given twice")
            }
            try Self.check(item, file: file)
        }
        let ordered = items.sorted { left, right in
            if left.dtype.libraryOrder != right.dtype.libraryOrder { return left.dtype.libraryOrder > right.dtype.libraryOrder }
            return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
        }
        var header: [String: JSONValue] = [:]
        if let metadata { header["__metadata__"] = .object(metadata.mapValues(JSONValue.string)) }
        var offset = 0
        for item in ordered {
            let end = offset + Self.byteCount(item)
            header[item.name] = .object(["dtype": .string(item.dtype.rawValue),
                                         "shape": .array(item.shape.map { .integer(Int64($0)) }),
                                         "data_offsets": .array([.integer(Int64(offset)), .integer(Int64(end))])])
            offset = end
        }
        var headerBytes: [UInt8]
        do {
            headerBytes = Array(try JSONValue.object(header).jsonData())
        } catch {
            throw HuggingFaceError.writeFailed(file: file, reason: HuggingFaceError.encodingReason(error))
        }
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))
        var data = Data(capacity: 8 + headerBytes.count)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        return (data, ordered)
    }

    private static func check(_ item: Item, file: String) throws {
        if let axis = item.shape.firstIndex(where: { $0 < 0 }) {
            throw HuggingFaceError.invalidTensor(name: item.name, file: file, reason: "dimension \(axis) of "
                                                 + "\(HuggingFaceError.shape(item.shape)) is below zero")
        }
        var count = 1
        for extent in item.shape {
            let (next, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else {
                throw HuggingFaceError.invalidTensor(name: item.name, file: file, reason: "the element count of "
                                                     + "\(HuggingFaceError.shape(item.shape)) overflows")
            }
            count = next
        }
        switch item.payload {
        case let .float32(tensor):
            if let (index, value) = TensorLimits.firstNonFinite(in: tensor) {
                throw HuggingFaceError.nonFiniteValue(name: item.name, file: file, index: index, value: "\(value)")
            }
        case let .int64(values):
            guard values.count == count else {
                throw HuggingFaceError.invalidTensor(name: item.name, file: file, reason: "\(values.count) values for shape "
                                                     + "\(HuggingFaceError.shape(item.shape)) (\(count) elements)")
            }
        case let .raw(bytes):
            let (expected, overflow) = count.multipliedReportingOverflow(by: item.dtype.size)
            guard !overflow, bytes.count == expected else {
                throw HuggingFaceError.invalidTensor(name: item.name, file: file, reason: "\(bytes.count) bytes for "
                                                     + "\(HuggingFaceError.shape(item.shape)) of \(item.dtype)")
            }
        }
    }

    private static func byteCount(_ item: Item) -> Int {
        switch item.payload {
        case let .float32(tensor): return tensor.count * 4
        case let .int64(values): return values.count * 8
        case let .raw(bytes): return bytes.count
        }
    }

    /// Hands `body` the item's bytes, little-endian.
    private static func withBytes(of item: Item, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        switch item.payload {
        case let .float32(tensor):
            #if _endian(little)
            try tensor.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
            #else
            try tensor.scalars.map { $0.bitPattern.littleEndian }.withUnsafeBytes(body)
            #endif
        case let .int64(values):
            #if _endian(little)
            try values.withUnsafeBytes(body)
            #else
            try values.map(\.littleEndian).withUnsafeBytes(body)
            #endif
        case let .raw(bytes):
            try bytes.withUnsafeBytes(body)
        }
    }
}

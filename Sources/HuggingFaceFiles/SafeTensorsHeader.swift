import Foundation

/// One tensor of a safetensors file, as its header describes it (already validated).
public struct SafeTensorsEntry: Sendable, Hashable {
    public let name: String
    public let dtype: SafeTensorsDType
    /// PyTorch's shape, outermost first; `[]` for a scalar (one element).
    public let shape: [Int]
    /// The tensor's bytes within the data buffer (relative to the first byte after the header).
    public let dataOffsets: Range<Int>

    /// The number of elements: the product of `shape` (1 for a scalar).
    public var elementCount: Int { dataOffsets.count / dtype.size }
}

/// The validated header of a safetensors file: its length prefix, JSON, every entry's dtype,
/// shape and offsets. Everything is checked before anything is sized by a number from the file.
public struct SafeTensorsHeader: Sendable, Equatable {
    /// The `safetensors` library's limit on the header (`MAX_HEADER_SIZE`, 100 MB).
    public static let maximumHeaderBytes = 100_000_000

    /// The entries in the order of their bytes in the data buffer.
    public let entries: [SafeTensorsEntry]
    /// The `__metadata__` object (`{"format": "pt"}` from PyTorch), empty when absent.
    public let metadata: [String: String]
    /// The header length N from the first 8 bytes; the data buffer starts at byte `8 + N`.
    public let headerLength: Int

    /// Where the data buffer starts in the file.
    public var dataStart: Int { 8 + headerLength }

    /// Parses and validates the first bytes of a file of `fileSize` bytes, as the `safetensors`
    /// library does: the length fits the file and the 100 MB cap, the JSON is an object, each
    /// entry has a known dtype, a shape of non-negative integers whose element and byte counts
    /// do not overflow, and `[begin, end]` offsets that span exactly those bytes; sorted by
    /// offset, the entries tile the data buffer from 0 to its end with no overlap and no gap.
    ///
    /// `bytes` must hold at least the whole header (it may hold the whole file); `file` names
    /// the file in errors.
    public init(bytes: UnsafeRawBufferPointer, fileSize: Int, file: String) throws {
        guard fileSize >= 8, bytes.count >= 8 else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the file has \(fileSize) bytes, fewer than the 8 "
                                                 + "of the header length")
        }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= UInt64(Self.maximumHeaderBytes) else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the header length \(length) is more than the "
                                                 + "limit of \(Self.maximumHeaderBytes) bytes")
        }
        let headerLength = Int(length)
        guard headerLength <= fileSize - 8 else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the header length \(length) is more than the "
                                                 + "\(fileSize - 8) bytes after the length field")
        }
        guard bytes.count >= 8 + headerLength else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the header could not be read completely")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: Data(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])))
        } catch {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the header is not valid JSON: \(error.reason)")
        }
        guard case let .object(members) = json else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the header is \(json.kind), not a JSON object")
        }
        self.headerLength = headerLength
        self.metadata = try Self.metadata(members["__metadata__"], file: file)
        let dataSize = fileSize - 8 - headerLength
        var entries: [SafeTensorsEntry] = []
        entries.reserveCapacity(members.count)
        for name in members.keys.sorted() where name != "__metadata__" {
            guard let value = members[name] else { continue }
            entries.append(try Self.entry(name, value, dataSize: dataSize, file: file))
        }
        entries.sort { left, right in
            let a = left.dataOffsets, b = right.dataOffsets
            if a.lowerBound != b.lowerBound { return a.lowerBound < b.lowerBound }
            if a.upperBound != b.upperBound { return a.upperBound < b.upperBound }
            return left.name.unicodeScalars.lexicographicallyPrecedes(right.name.unicodeScalars)
        }
        var end = 0
        var previous: String?
        for entry in entries {
            if entry.dataOffsets.lowerBound < end, let previous {
                throw HuggingFaceError.overlappingTensors(name: entry.name, other: previous, file: file)
            }
            if entry.dataOffsets.lowerBound > end {
                throw HuggingFaceError.invalidOffsets(name: entry.name, file: file, reason: "bytes \(end)..<"
                                                      + "\(entry.dataOffsets.lowerBound) before it belong to no tensor")
            }
            end = entry.dataOffsets.upperBound
            if !entry.dataOffsets.isEmpty { previous = entry.name }
        }
        guard end == dataSize else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the tensors end at byte \(end) of the data buffer, "
                                                 + "but it has \(dataSize) bytes")
        }
        self.entries = entries
    }

    private static func metadata(_ value: JSONValue?, file: String) throws -> [String: String] {
        switch value {
        case nil, .null?:
            return [:]
        case let .object(members)?:
            var result: [String: String] = [:]
            for (key, value) in members {
                guard case let .string(text) = value else {
                    throw HuggingFaceError.invalidHeader(file: file, reason: "__metadata__ \(HuggingFaceError.quote(key)) "
                                                         + "is \(value.kind), not a string")
                }
                result[key] = text
            }
            return result
        case let value?:
            throw HuggingFaceError.invalidHeader(file: file, reason: "__metadata__ is \(value.kind), not an object of strings")
        }
    }

    private static func entry(_ name: String, _ value: JSONValue, dataSize: Int, file: String) throws -> SafeTensorsEntry {
        let quoted = HuggingFaceError.quote(name)
        guard case let .object(fields) = value else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the entry \(quoted) is \(value.kind), not an object")
        }
        guard let dtypeValue = fields["dtype"], let shapeValue = fields["shape"], let offsetsValue = fields["data_offsets"] else {
            let missing = ["dtype", "shape", "data_offsets"].filter { fields[$0] == nil }
            throw HuggingFaceError.invalidHeader(file: file, reason: "the entry \(quoted) has no "
                                                 + missing.joined(separator: ", "))
        }
        guard case let .string(dtypeName) = dtypeValue else {
            throw HuggingFaceError.invalidHeader(file: file, reason: "the dtype of \(quoted) is \(dtypeValue.kind), not a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw HuggingFaceError.unsupportedDType(name: name, file: file, dtype: dtypeName)
        }
        let shape = try Self.shape(shapeValue, name: name, file: file)
        let byteCount = try Self.byteCount(shape, dtype: dtype, name: name, file: file)
        guard case let .array(offsets) = offsetsValue, offsets.count == 2,
              case let .integer(begin) = offsets[0], case let .integer(end) = offsets[1] else {
            throw HuggingFaceError.invalidOffsets(name: name, file: file, reason: "\(offsetsValue.excerpt(100)) "
                                                  + "is not a pair of integers [begin, end]")
        }
        guard begin >= 0, begin <= end else {
            throw HuggingFaceError.invalidOffsets(name: name, file: file, reason: "[\(begin), \(end)] is not a range "
                                                  + "(0 <= begin <= end)")
        }
        guard end <= Int64(dataSize) else {
            throw HuggingFaceError.invalidOffsets(name: name, file: file, reason: "[\(begin), \(end)] is outside the data "
                                                  + "buffer of \(dataSize) bytes")
        }
        let range = Int(begin)..<Int(end)
        guard range.count == byteCount else {
            throw HuggingFaceError.invalidOffsets(name: name, file: file, reason: "[\(begin), \(end)] spans \(range.count) "
                                                  + "bytes, but \(HuggingFaceError.shape(shape)) of \(dtype) takes \(byteCount)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, dataOffsets: range)
    }

    private static func shape(_ value: JSONValue, name: String, file: String) throws -> [Int] {
        guard case let .array(elements) = value else {
            throw HuggingFaceError.invalidShape(name: name, file: file, reason: "it is \(value.kind), not an array")
        }
        var dims: [Int] = []
        dims.reserveCapacity(elements.count)
        for (axis, element) in elements.enumerated() {
            guard case let .integer(dim) = element, let extent = Int(exactly: dim) else {
                throw HuggingFaceError.invalidShape(name: name, file: file, reason: "dimension \(axis) is "
                                                    + "\(element.excerpt(40)), not an integer")
            }
            guard extent >= 0 else {
                throw HuggingFaceError.invalidShape(name: name, file: file, reason: "dimension \(axis) is \(extent), below zero")
            }
            dims.append(extent)
        }
        return dims
    }

    /// `product(shape) * dtype.size`, checked; zeros count as one in the partial products, so
    /// no stride computed from the shape later can overflow either.
    private static func byteCount(_ shape: [Int], dtype: SafeTensorsDType, name: String, file: String) throws -> Int {
        var product = 1
        for extent in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: max(extent, 1))
            if overflow {
                throw HuggingFaceError.invalidShape(name: name, file: file, reason: "the element count of "
                                                    + "\(HuggingFaceError.shape(shape)) overflows")
            }
            product = next
        }
        let (bytes, overflow) = product.multipliedReportingOverflow(by: dtype.size)
        if overflow {
            throw HuggingFaceError.invalidShape(name: name, file: file, reason: "the byte count of "
                                                + "\(HuggingFaceError.shape(shape)) of \(dtype) overflows")
        }
        return shape.contains(0) ? 0 : bytes
    }
}

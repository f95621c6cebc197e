import CHDF5
import Foundation

/// Attributes of a group: the strings and numbers Keras keeps beside the weights
/// (`layer_names`, `weight_names`, `keras_version`, Keras 3's `name`).
extension HDF5Group {
    func hasAttribute(_ name: String) -> Bool {
        HDF5.locked { rh5_attr_exists(handle.id, name) > 0 }
    }

    func attributeNames() throws -> [String] {
        try HDF5.locked {
            let count = rh5_attr_count(handle.id)
            guard count >= 0 else { throw HDF5Error.current("list the attributes of '\(path)'", at: path) }
            guard count <= HDF5.maximumChildren else {
                throw HDF5Error(operation: "list the attributes of '\(path)'",
                                reason: "it has \(count) attributes, more than \(HDF5.maximumChildren)")
            }
            return try (0..<UInt64(count)).map { index in
                try Self.readName("list the attributes of '\(path)'") { rh5_attr_name(handle.id, index, $0, $1) }
            }
        }
    }

    enum AttributeKind: Equatable {
        case string, integer, float, other
    }

    /// The element kind and count of an attribute, `nil` when there is none.
    func attributeInfo(_ name: String) throws -> (kind: AttributeKind, count: Int)? {
        try HDF5.locked {
            guard hasAttribute(name) else { return nil }
            var typeClass: Int32 = 0
            var count: UInt64 = 0
            guard rh5_attr_info(handle.id, name, &typeClass, &count) >= 0 else {
                throw HDF5Error.current("read attribute '\(name)' of '\(path)'", at: path, attribute: name)
            }
            // The shim refuses larger attributes; nothing below is sized by more.
            guard count <= UInt64(RH5_MAX_ATTRIBUTE_ELEMENTS) else {
                throw HDF5Error(operation: "read attribute '\(name)' of '\(path)'", reason: "",
                                refusal: HDF5Refusal(kind: .object(.tooLarge), object: "\(path) (attribute '\(name)')"))
            }
            let kind: AttributeKind
            switch typeClass {
            case Int32(RH5_CLASS_STRING): kind = .string
            case Int32(RH5_CLASS_INTEGER): kind = .integer
            case Int32(RH5_CLASS_FLOAT): kind = .float
            default: kind = .other
            }
            return (kind, Int(count))
        }
    }

    /// A string attribute (scalar or list, fixed or variable length) as strings; `nil` when
    /// the attribute is absent. An empty numeric array (what h5py writes for an empty list,
    /// e.g. `weight_names` of a pooling layer) reads as `[]`.
    func strings(_ name: String) throws -> [String]? {
        try HDF5.locked {
            guard let info = try attributeInfo(name) else { return nil }
            if info.kind != .string {
                guard info.count == 0 else {
                    throw HDF5Error(operation: "read attribute '\(name)' of '\(path)'",
                                    reason: info.kind == .other ? "it holds neither strings nor numbers"
                                        : "it holds numbers, not strings")
                }
                return []
            }
            var joined: UnsafeMutablePointer<CChar>?
            var length = 0
            let count = rh5_attr_read_strings(handle.id, name, &joined, &length)
            defer { rh5_free(joined) }
            guard count >= 0 else {
                throw HDF5Error.current("read attribute '\(name)' of '\(path)'", at: path, attribute: name)
            }
            guard let joined, count > 0 else { return [] }
            let bytes = UnsafeRawBufferPointer(start: joined, count: length)
            return bytes.split(separator: 0, maxSplits: Int(count), omittingEmptySubsequences: false)
                .prefix(Int(count))
                .map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// A string-list attribute that Keras may have split into `name0`, `name1`, ... because
    /// of HDF5's 64 KB object-header limit (`load_attributes_from_hdf5_group`).
    func stringList(_ name: String) throws -> [String]? {
        try HDF5.locked {
            if let whole = try strings(name) { return whole }
            var chunks: [String] = []
            var index = 0
            while let chunk = try strings("\(name)\(index)") {
                chunks += chunk
                index += 1
                guard chunks.count <= Int(RH5_MAX_ATTRIBUTE_ELEMENTS) else {
                    throw HDF5Error(operation: "read attribute '\(name)' of '\(path)'", reason: "",
                                    refusal: HDF5Refusal(kind: .object(.tooLarge), object: "\(path) (attribute '\(name)')"))
                }
            }
            return index == 0 ? nil : chunks
        }
    }

    /// A scalar string attribute (`keras_version`, `backend`, Keras 3's `name`).
    func string(_ name: String) throws -> String? {
        try strings(name)?.first
    }

    /// A numeric attribute converted to Int64; `nil` when absent or not numeric.
    func integers(_ name: String) throws -> [Int64]? {
        try HDF5.locked {
            guard let info = try attributeInfo(name), info.kind == .integer || info.kind == .float else {
                return nil
            }
            var values = [Int64](repeating: 0, count: max(info.count, 1))
            let count = rh5_attr_read_i64(handle.id, name, &values, values.count)
            guard count >= 0 else {
                throw HDF5Error.current("read attribute '\(name)' of '\(path)'", at: path, attribute: name)
            }
            return Array(values.prefix(Int(count)))
        }
    }

    /// Writes variable-length strings (as h5py does for Python `str`): a scalar when `scalar`,
    /// else a 1-D array. An empty list is written as an empty float64 array, as h5py does.
    func setStrings(_ name: String, _ values: [String], scalar: Bool = false, utf8: Bool = false) throws {
        try HDF5.locked {
            let status: Int32
            if values.isEmpty && !scalar {
                status = rh5_attr_write_empty(handle.id, name)
            } else {
                let cStrings = values.map { strdup($0)! }
                defer { cStrings.forEach { free($0) } }
                let pointers: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) }
                status = pointers.withUnsafeBufferPointer { buffer in
                    rh5_attr_write_strings(handle.id, name, buffer.baseAddress, buffer.count,
                                           scalar ? 1 : 0, utf8 ? 1 : 0)
                }
            }
            if status < 0 { throw HDF5Error.current("write attribute '\(name)' of '\(path)'") }
        }
    }

    func setString(_ name: String, _ value: String, utf8: Bool = false) throws {
        try setStrings(name, [value], scalar: true, utf8: utf8)
    }

    /// Writes a 1-D little-endian int64 attribute.
    func setIntegers(_ name: String, _ values: [Int64]) throws {
        try HDF5.locked {
            let status = values.withUnsafeBufferPointer {
                rh5_attr_write_i64(handle.id, name, $0.baseAddress, $0.count)
            }
            if status < 0 { throw HDF5Error.current("write attribute '\(name)' of '\(path)'") }
        }
    }
}

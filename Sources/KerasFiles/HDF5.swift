import CHDF5
import Foundation
import Tensor

/// The small slice of libhdf5 the Keras weights reader and writer use.
///
/// Serial HDF5 is not safe to call from several threads at once, so every call goes through
/// one process-wide recursive lock (recursive, so that a handle released inside a locked
/// section can close itself). HDF5's own error printing is switched off; failures come back
/// as `HDF5Error` carrying HDF5's message, and callers turn them into `WeightsError`s that
/// name the file.
///
/// Hostile files (hostile input: Fuzz/README.md): the shim follows only hard links, opens only datasets
/// stored in the file itself with built-in filters, never loads plugins, and bounds attribute
/// sizes; what it refuses comes back as an `HDF5Error` with a `refusal`.
enum HDF5 {
    private static let lock = NSRecursiveLock()

    /// Runs `body` holding the HDF5 lock, with the library open and its error printing off.
    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = rh5_begin()
        return try body()
    }

    /// HDF5's error stack as one line (most specific message first); clears the stack.
    static func takeErrorMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = rh5_error_message(&buffer, buffer.count)
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What the shim refused in the last failed call (and clears it), with the object's path
    /// resolved against `base` (the group or dataset the call was made on); `attribute` names
    /// the attribute a call was reading.
    static func takeRefusal(base: String, attribute: String? = nil) -> HDF5Refusal? {
        var buffer = [CChar](repeating: 0, count: 1200)
        let kind = rh5_take_refusal(&buffer, buffer.count)
        guard kind != Int32(RH5_REFUSED_NONE) else { return nil }
        let detail = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if kind == Int32(RH5_REFUSED_ELEMENT_TYPE) {
            return HDF5Refusal(kind: .elementType(detail), object: base)
        }
        let object: String
        if let attribute {
            object = "\(base) (attribute '\(attribute)')"
        } else if detail.isEmpty {
            object = base
        } else if detail.hasPrefix("/") {
            object = detail
        } else {
            object = base == "/" ? "/" + detail : base + "/" + detail
        }
        let reasons: [Int32: WeightsRefusal] = [
            Int32(RH5_REFUSED_SOFT_LINK): .softLink, Int32(RH5_REFUSED_EXTERNAL_LINK): .externalLink,
            Int32(RH5_REFUSED_USER_LINK): .userDefinedLink, Int32(RH5_REFUSED_NAMED_DATATYPE): .namedDatatype,
            Int32(RH5_REFUSED_UNKNOWN_OBJECT): .unknownObject, Int32(RH5_REFUSED_SHARED_OBJECT): .sharedObject,
            Int32(RH5_REFUSED_VIRTUAL_DATASET): .virtualDataset,
            Int32(RH5_REFUSED_EXTERNAL_STORAGE): .externalStorage, Int32(RH5_REFUSED_FILTER): .unsupportedFilter,
            Int32(RH5_REFUSED_TOO_MANY_LINKS): .tooManyLinks, Int32(RH5_REFUSED_TOO_DEEP): .tooDeep,
            Int32(RH5_REFUSED_TOO_LARGE): .tooLarge, Int32(RH5_REFUSED_NOT_STORED): .notStored,
        ]
        return HDF5Refusal(kind: .object(reasons[kind] ?? .unknownObject), object: object)
    }

    /// Names (of links, attributes) longer than this are refused.
    static let maximumNameLength = 1 << 16
    /// Groups with more members than this are refused.
    static let maximumChildren = 1 << 20

    /// 1 when the file starts with an HDF5 signature, 0 when it does not, `nil` when it could
    /// not be checked.
    static func isHDF5(_ path: String) -> Bool? {
        locked {
            let result = rh5_is_hdf5(path)
            _ = takeErrorMessage()
            return result < 0 ? nil : result > 0
        }
    }
}

/// A failed HDF5 call: what was attempted and HDF5's explanation, or what the shim refused.
struct HDF5Error: Error, CustomStringConvertible {
    let operation: String
    let reason: String
    var refusal: HDF5Refusal? = nil

    var description: String {
        if let refusal { return "cannot \(operation): \(refusal)" }
        return reason.isEmpty ? "cannot \(operation)" : "cannot \(operation): \(reason)"
    }

    /// Captures (and clears) the shim's refusal and HDF5's error stack for `operation` on the
    /// object at `base`.
    static func current(_ operation: String, at base: String = "/", attribute: String? = nil) -> HDF5Error {
        let refusal = HDF5.takeRefusal(base: base, attribute: attribute)
        return HDF5Error(operation: operation, reason: HDF5.takeErrorMessage(), refusal: refusal)
    }
}

/// An object the shim would not follow or read.
struct HDF5Refusal: Equatable, CustomStringConvertible {
    enum Kind: Equatable {
        case object(WeightsRefusal)
        /// Reading float32 from a dataset of another element type (its name).
        case elementType(String)
    }

    let kind: Kind
    /// Its absolute path in the file.
    let object: String

    var description: String {
        switch kind {
        case .object(let reason): return "refused '\(object)': \(reason)"
        case .elementType(let type): return "'\(object)' holds \(type), not float32"
        }
    }
}

/// Owns one HDF5 id and closes it when released (or earlier, with `close()`).
final class HDF5Handle: @unchecked Sendable {
    private(set) var id: rh5_id

    /// Takes ownership of `id`, or throws HDF5's error (or the shim's refusal) for `operation`
    /// on the object at `base` when it is invalid.
    init(_ id: rh5_id, _ operation: @autoclosure () -> String, at base: @autoclosure () -> String = "/") throws {
        guard id >= 0 else { throw HDF5Error.current(operation(), at: base()) }
        self.id = id
    }

    func close() throws {
        try HDF5.locked {
            guard id >= 0 else { return }
            let status = rh5_close(id)
            id = -1
            if status < 0 { throw HDF5Error.current("close an HDF5 object") }
        }
    }

    deinit {
        let id = self.id
        if id >= 0 { HDF5.locked { _ = rh5_close(id) } }
    }
}

/// An open HDF5 file. Closing it (explicitly or on release) closes every object opened in it.
final class HDF5File {
    let path: String
    let handle: HDF5Handle

    private init(path: String, handle: HDF5Handle) {
        self.path = path
        self.handle = handle
    }

    static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
        try HDF5.locked {
            HDF5File(path: path, handle: try HDF5Handle(rh5_file_open(path, writable ? 1 : 0), "open the file"))
        }
    }

    /// Creates (truncating) a file.
    static func create(_ path: String) throws -> HDF5File {
        try HDF5.locked {
            HDF5File(path: path, handle: try HDF5Handle(rh5_file_create(path), "create the file"))
        }
    }

    /// Walks the whole file before anything else reads it: refuses (an `HDF5Error` with a
    /// `refusal`) any link that is not a hard link, any object that is not a group or a dataset
    /// or is linked more than once, any dataset stored outside the file or through a plugin
    /// filter, more than `maximumLinks` links and groups nested deeper than `maximumDepth`.
    func checkStructure(maximumLinks: Int, maximumDepth: Int) throws {
        try HDF5.locked {
            let verdict = rh5_file_check(handle.id, UInt64(max(maximumLinks, 0)), Int32(clamping: maximumDepth))
            if verdict != 0 { throw HDF5Error.current("check the file's structure", at: "/") }
        }
    }

    /// The root group `/`.
    var root: HDF5Group { get throws { try HDF5.locked { try group(at: "/") } } }

    fileprivate func group(at path: String) throws -> HDF5Group {
        HDF5Group(file: self, path: path,
                  handle: try HDF5Handle(rh5_group_open(handle.id, path), "open group '\(path)'", at: "/"))
    }

    /// Flushes and closes; errors (a full disk) surface here rather than being lost.
    func close() throws {
        try HDF5.locked {
            if rh5_file_flush(handle.id) < 0 { throw HDF5Error.current("flush the file") }
            try handle.close()
        }
    }
}

/// What a path inside a file names.
enum HDF5ObjectKind: Equatable {
    case group, dataset, other
}

/// A group (the root included). Keeps its file open while alive.
final class HDF5Group {
    let file: HDF5File
    /// Absolute path inside the file, for messages.
    let path: String
    let handle: HDF5Handle

    fileprivate init(file: HDF5File, path: String, handle: HDF5Handle) {
        self.file = file
        self.path = path
        self.handle = handle
    }

    func absolute(_ relative: String) -> String {
        if relative.hasPrefix("/") { return relative }
        return path == "/" ? "/" + relative : path + "/" + relative
    }

    /// Whether `relative` (any number of components) names an existing object reached through
    /// hard links only (a path through any other link counts as absent).
    func exists(_ relative: String) -> Bool {
        HDF5.locked {
            let result = rh5_exists(handle.id, relative)
            if result < 0 { _ = HDF5.takeRefusal(base: path); _ = HDF5.takeErrorMessage() }
            return result > 0
        }
    }

    /// What `relative` names; `nil` when it does not exist. A path through a soft, external or
    /// user-defined link is refused (thrown), never followed.
    func kind(of relative: String) throws -> HDF5ObjectKind? {
        try HDF5.locked {
            switch rh5_object_kind(handle.id, relative) {
            case 1: return .group
            case 2: return .dataset
            case 3: return .other
            case 0: return nil
            default:
                let error = HDF5Error.current("look up '\(absolute(relative))'", at: path)
                if error.refusal != nil { throw error }
                return nil
            }
        }
    }

    func group(_ relative: String) throws -> HDF5Group {
        try HDF5.locked {
            HDF5Group(file: file, path: absolute(relative),
                      handle: try HDF5Handle(rh5_group_open(handle.id, relative), "open group '\(absolute(relative))'",
                                             at: path))
        }
    }

    /// Creates a group and any missing groups on the way.
    @discardableResult
    func createGroup(_ relative: String) throws -> HDF5Group {
        try HDF5.locked {
            HDF5Group(file: file, path: absolute(relative),
                      handle: try HDF5Handle(rh5_group_create(handle.id, relative),
                                             "create group '\(absolute(relative))'"))
        }
    }

    /// The names of this group's members, in HDF5's (alphabetical) order.
    func children() throws -> [String] {
        try HDF5.locked {
            let count = rh5_child_count(handle.id)
            guard count >= 0 else { throw HDF5Error.current("list group '\(path)'", at: path) }
            guard count <= HDF5.maximumChildren else {
                throw HDF5Error(operation: "list group '\(path)'",
                                reason: "it has \(count) members, more than \(HDF5.maximumChildren)")
            }
            return try (0..<UInt64(count)).map { index in
                try Self.readName("list group '\(path)'") { rh5_child_name(handle.id, index, $0, $1) }
            }
        }
    }

    func dataset(_ relative: String) throws -> HDF5Dataset {
        try HDF5.locked {
            HDF5Dataset(group: self, path: absolute(relative),
                        handle: try HDF5Handle(rh5_dataset_open(handle.id, relative),
                                               "open dataset '\(absolute(relative))'", at: path))
        }
    }

    /// Writes `tensor` as a contiguous little-endian float32 dataset at `relative`, creating
    /// intermediate groups (`vgg19/block1_conv1/kernel:0`).
    func writeDataset(_ relative: String, _ tensor: Tensor) throws {
        let dims = tensor.shape.dims.map { UInt64($0) }
        try HDF5.locked {
            let status = tensor.withUnsafeBufferPointer { values in
                dims.withUnsafeBufferPointer { extents in
                    rh5_dataset_write_f32(handle.id, relative, Int32(dims.count), extents.baseAddress,
                                          values.baseAddress)
                }
            }
            if status < 0 { throw HDF5Error.current("write dataset '\(absolute(relative))'") }
        }
    }

    /// Reads a name whose length is unknown: asks for the length, then fills a buffer.
    static func readName(_ operation: @autoclosure () -> String,
                         _ read: (UnsafeMutablePointer<CChar>?, Int) -> Int64) throws -> String {
        let length = read(nil, 0)
        guard length >= 0 else { throw HDF5Error.current(operation()) }
        guard length <= HDF5.maximumNameLength else {
            throw HDF5Error(operation: operation(), reason: "a name of \(length) bytes, more than \(HDF5.maximumNameLength)")
        }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        guard read(&buffer, buffer.count) >= 0 else { throw HDF5Error.current(operation()) }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A dataset: its shape, element type, and its values as float32. Only datasets whose storage
/// passed the shim's checks can be opened (see `HDF5`).
final class HDF5Dataset {
    let group: HDF5Group
    let path: String
    let handle: HDF5Handle

    fileprivate init(group: HDF5Group, path: String, handle: HDF5Handle) {
        self.group = group
        self.path = path
        self.handle = handle
    }

    /// The extents as stored (unsigned 64-bit; HDF5 allows up to 32 of them).
    var dims: [UInt64] {
        get throws {
            try HDF5.locked {
                var dims = [UInt64](repeating: 0, count: Int(RH5_MAX_RANK))
                let rank = rh5_dataset_shape(handle.id, &dims, Int32(dims.count))
                guard rank >= 0, Int(rank) <= dims.count else {
                    throw HDF5Error.current("read the shape of '\(path)'", at: path)
                }
                return Array(dims.prefix(Int(rank)))
            }
        }
    }

    /// The extents as a `Shape`, without a memory budget (the weights reader applies one, see
    /// `TensorLimits`); throws when they cannot be a shape at all.
    var shape: Shape {
        get throws {
            switch TensorLimits(maximumTensorBytes: .max).shape(try dims) {
            case .success(let shape): return shape
            case .failure(let problem):
                throw HDF5Error(operation: "read the shape of '\(path)'", reason: problem.description)
            }
        }
    }

    /// The stored element type: float or integer (or neither), and its size in bytes.
    var elementType: (isFloat: Bool, isInteger: Bool, size: Int) {
        get throws {
            try HDF5.locked {
                var typeClass: Int32 = 0
                var size = 0
                guard rh5_dataset_type(handle.id, &typeClass, &size) >= 0 else {
                    throw HDF5Error.current("read the type of '\(path)'", at: path)
                }
                return (typeClass == Int32(RH5_CLASS_FLOAT), typeClass == Int32(RH5_CLASS_INTEGER), size)
            }
        }
    }

    /// Whether the elements are IEEE float32, and the stored type's name (`float32`, `float64`,
    /// `int32`, `string`, ...).
    var element: (isFloat32: Bool, name: String) {
        get throws {
            try HDF5.locked {
                var buffer = [CChar](repeating: 0, count: 64)
                let result = rh5_dataset_element(handle.id, &buffer, buffer.count)
                guard result >= 0 else { throw HDF5Error.current("read the type of '\(path)'", at: path) }
                let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return (result == 1, name)
            }
        }
    }

    /// Refuses (an `HDF5Error` with a `refusal`) chunks larger than `maximumChunkBytes` (libhdf5
    /// allocates a whole chunk to read one), and everything `rh5_dataset_check` refuses.
    func checkStorage(maximumChunkBytes: Int) throws {
        try HDF5.locked {
            if rh5_dataset_check(handle.id, path, UInt64(max(maximumChunkBytes, 0))) != 0 {
                throw HDF5Error.current("check the storage of '\(path)'", at: "/")
            }
        }
    }

    /// Whether every element is written in the file (unwritten chunks would read as fill values:
    /// a small file could then make the reader allocate far more than it holds).
    var isFullyStored: Bool {
        get throws {
            try HDF5.locked {
                let result = rh5_dataset_is_stored(handle.id)
                guard result >= 0 else { throw HDF5Error.current("check the storage of '\(path)'", at: path) }
                return result == 1
            }
        }
    }

    /// The values, read straight into the tensor's storage. Only IEEE float32 datasets are
    /// read (nothing is converted from float64, float16 or integers: refused with the type's
    /// name), and only when fully stored in the file. `shape` must have passed `TensorLimits`.
    func read(shape: Shape) throws -> Tensor {
        try HDF5.locked {
            guard try isFullyStored else {
                throw HDF5Error(operation: "read '\(path)'", reason: "", refusal: HDF5Refusal(kind: .object(.notStored), object: path))
            }
            return try Tensor(unsafeUninitializedShape: shape) { buffer in
                guard rh5_dataset_read_f32(handle.id, buffer.baseAddress, UInt64(buffer.count)) >= 0 else {
                    // Leave no uninitialised floats behind, even on the error path.
                    buffer.initialize(repeating: 0)
                    throw HDF5Error.current("read '\(path)'", at: path)
                }
            }
        }
    }
}

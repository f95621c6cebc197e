import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// POSIX access to a file named by bytes (Linux names need not be UTF-8; Foundation's `URL`
/// and `FileManager` would replace the bytes that are not): what is there, where it really is,
/// and its contents. Used for verified photos (``VerifiedLabels``), whose paths come from a
/// screening run or a store as bytes.
enum BytePath {
    /// `body` with `path` as a NUL-terminated C string.
    static func withCString<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (path + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// What `path` leads to (links followed): nil when nothing, else "a file", "a folder", ...
    static func kind(_ path: [UInt8]) -> String? {
        var info = Glibc.stat()
        guard withCString(path, { stat($0, &info) }) == 0 else { return nil }
        return kindName(info.st_mode)
    }

    static func isRegularFile(_ path: [UInt8]) -> Bool { kind(path) == "a file" }

    /// `realpath(3)`: absolute, every link resolved; nil if some component is missing.
    static func realpath(_ path: [UInt8]) -> [UInt8]? {
        withCString(path) { c -> [UInt8]? in
            guard let resolved = Glibc.realpath(c, nil) else { return nil }
            defer { free(resolved) }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self),
                                             count: strlen(resolved)))
        }
    }

    /// Every byte of the regular file at `path` (links followed; opened without blocking, so a
    /// pipe named `.jpg` never hangs the run).
    static func read(_ path: [UInt8]) throws -> Data {
        let fd = withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { throw Failure(reason: lastError) }
        defer { close(fd) }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { throw Failure(reason: lastError) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(reason: "not a regular file (\(kindName(info.st_mode)))") }
        var data = Data(count: max(Int(info.st_size), 0))
        var count = 0
        while true {
            if count == data.count { data.count += max(65536, data.count / 4) }  // the file grew meanwhile
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(reason: lastError)
            }
            if n == 0 { break }
            count += n
        }
        data.count = count
        return data
    }

    /// `path` made absolute against `folder` (both bytes) unless it already is, without `.`
    /// components and repeated slashes (`..` is kept: only the file system knows where it leads).
    static func resolve(_ path: [UInt8], against folder: [UInt8]) -> [UInt8] {
        let joined = path.first == 0x2F || folder.isEmpty ? path : folder + [0x2F] + path
        let parts = joined.split(separator: 0x2F, omittingEmptySubsequences: true).filter { $0 != [0x2E] }
        let absolute = joined.first == 0x2F
        guard !parts.isEmpty else { return absolute ? [0x2F] : [0x2E] }
        let body = Array(parts.map(Array.init).joined(separator: [0x2F]))
        return absolute ? [0x2F] + body : body
    }

    struct Failure: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a file"
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a named pipe"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "an unknown kind of file"
        }
    }

    static var lastError: String { String(cString: strerror(errno)) }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// POSIX file access on byte paths (Foundation's `URL` and `FileManager` take `String`s and
/// replace bytes that are not UTF-8).
enum POSIXPath {
    /// `body` with `path` as a NUL-terminated C string.
    static func withCString<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (path + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// `lstat(2)`: what the path itself is (a link is not followed); nil (errno set) if none.
    static func linkInfo(_ path: [UInt8]) -> Glibc.stat? {
        var info = Glibc.stat()
        return withCString(path) { fstatat(AT_FDCWD, $0, &info, AT_SYMLINK_NOFOLLOW) } == 0 ? info : nil
    }

    /// `stat(2)`: what the path leads to; nil (errno set) if nothing.
    static func info(_ path: [UInt8]) -> Glibc.stat? {
        var info = Glibc.stat()
        return withCString(path) { fstatat(AT_FDCWD, $0, &info, 0) } == 0 ? info : nil
    }

    /// `realpath(3)`: the absolute path with every symbolic link resolved; nil (errno set) if
    /// some component is missing.
    static func realpath(_ path: [UInt8]) -> [UInt8]? {
        withCString(path) { c -> [UInt8]? in
            guard let resolved = Glibc.realpath(c, nil) else { return nil }
            defer { free(resolved) }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self),
                                             count: strlen(resolved)))
        }
    }

    /// The target a symbolic link holds, as written in the link.
    static func readlink(_ path: [UInt8]) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = withCString(path) { c in
            buffer.withUnsafeMutableBufferPointer { Glibc.readlink(c, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count - 1) }
        }
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }

    /// The names in a folder ("." and ".." left out), or the reason it cannot be listed. A
    /// listing cut short by a read error keeps the names read so far and says why.
    static func list(_ path: [UInt8]) -> (names: [[UInt8]], error: String?) {
        guard let dir = withCString(path, { opendir($0) }) else { return ([], lastError) }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                return (names, errno == 0 ? nil : lastError)
            }
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw -> [UInt8] in
                let bytes = raw.bindMemory(to: UInt8.self)
                let length = bytes.firstIndex(of: 0) ?? bytes.count
                return Array(bytes[0..<length])
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
    }

    /// Why the folder at `path` cannot be opened for listing, or nil when it can.
    static func cannotOpenFolder(_ path: [UInt8]) -> String? {
        guard let dir = withCString(path, { opendir($0) }) else { return lastError }
        closedir(dir)
        return nil
    }

    /// Every byte of the regular file at `path`. Opened without blocking (a FIFO named `.jpg`
    /// never hangs the run) and, unless `followLinks`, without following a final symbolic link
    /// (a file swapped for a link after the folder was listed is refused, not followed).
    static func readFile(_ path: [UInt8], followLinks: Bool) throws -> Data {
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followLinks ? 0 : O_NOFOLLOW)
        let fd = withCString(path) { open($0, flags) }
        guard fd >= 0 else {
            if errno == ELOOP && !followLinks {
                throw ReadFailure(reason: "it is a symbolic link (it was replaced after the folder was listed); not followed")
            }
            throw ReadFailure(reason: lastError)
        }
        defer { close(fd) }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else { throw ReadFailure(reason: lastError) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ReadFailure(reason: "not a regular file (\(fileType(info.st_mode)))")
        }
        var data = Data(count: max(Int(info.st_size), 0))
        var count = 0
        while true {
            if count == data.count { data.count += max(65536, data.count / 4) }  // the file grew meanwhile
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ReadFailure(reason: lastError)
            }
            if n == 0 { break }
            count += n
        }
        data.count = count
        return data
    }

    struct ReadFailure: Error {
        let reason: String
    }

    static func fileType(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a file"
        case S_IFDIR: return "a folder"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a named pipe"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "an unknown kind of file"
        }
    }

    static var lastError: String { String(cString: strerror(errno)) }
}

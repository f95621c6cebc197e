import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// File names are bytes: how screening shows them (in results.csv, report.html, warnings and
/// `rubble dedup`'s output) and reads them.
///
/// Linux file names are byte strings; most are UTF-8, but a photo copied from an old camera
/// card or a zip archive can be named in Latin-1 (`caf\xE9.jpg`). Such a name cannot be a Swift
/// `String` without losing bytes, so the walk keeps the raw bytes to open the file and shows the
/// name with ``escape(_:)``:
/// - valid UTF-8 is shown as is, except
/// - a byte that is not part of valid UTF-8 is shown as `\xHH` (two uppercase hex digits),
/// - control characters (U+0000-U+001F, U+007F-U+009F) and the bidirectional-override
///   characters (U+202A-U+202E, U+2066-U+2069), which could hide or reorder what a reader sees,
///   are shown as the `\xHH` escapes of their UTF-8 bytes,
/// - a backslash is shown as `\\`, so that every shown name stands for exactly one byte string.
///
/// ``unescape(_:)`` turns a shown name back into its bytes; in a shell, `printf '%b'` does the
/// same: `ls "$(printf '%b' 'photos/caf\xE9.jpg')"`.
public enum FileName {
    /// The shown form of a file name or path (see ``FileName``).
    public static func escape<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let b = Array(bytes)
        var out = ""
        out.reserveCapacity(b.count)
        var i = 0
        func escapeBytes(_ range: Range<Int>) {
            for byte in b[range] {
                out += "\\x"
                out += String(byte >> 4, radix: 16, uppercase: true)
                out += String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        while i < b.count {
            let length = validSequenceLength(b, at: i)
            guard length > 0 else {
                escapeBytes(i..<i + 1)
                i += 1
                continue
            }
            let scalar = decodeScalar(b, at: i, length: length)
            if scalar == 0x5C {
                out += "\\\\"
            } else if mustEscape(scalar) {
                escapeBytes(i..<i + length)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(scalar)!)
            }
            i += length
        }
        return out
    }

    /// The bytes a shown name stands for; nil when `shown` holds a backslash that is not one of
    /// the two escapes (`\\`, `\xHH`), i.e. when it did not come from ``escape(_:)``.
    public static func unescape(_ shown: String) -> [UInt8]? {
        let u = Array(shown.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            guard u[i] == 0x5C else {
                out.append(u[i])
                i += 1
                continue
            }
            guard i + 1 < u.count else { return nil }
            if u[i + 1] == 0x5C {
                out.append(0x5C)
                i += 2
            } else if u[i + 1] == UInt8(ascii: "x"), i + 3 < u.count,
                      let hi = hexValue(u[i + 2]), let lo = hexValue(u[i + 3]) {
                out.append(hi << 4 | lo)
                i += 4
            } else {
                return nil
            }
        }
        return out
    }

    /// Whether `bytes` are shown exactly as they are (valid UTF-8, nothing escaped).
    public static func isPlain<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        escape(bytes).utf8.elementsEqual(bytes)
    }

    static func mustEscape(_ scalar: UInt32) -> Bool {
        scalar < 0x20 || (0x7F...0x9F).contains(scalar) || (0x202A...0x202E).contains(scalar)
            || (0x2066...0x2069).contains(scalar)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `i` (Unicode table 3-7), 0 if none.
    private static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let first = b[i]
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < b.count && range.contains(b[i + k])
        }
        switch first {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    private static func decodeScalar(_ b: [UInt8], at i: Int, length: Int) -> UInt32 {
        switch length {
        case 1: return UInt32(b[i])
        case 2: return UInt32(b[i] & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F)
        case 3: return UInt32(b[i] & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F)
        default:
            return UInt32(b[i] & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6
                | UInt32(b[i + 3] & 0x3F)
        }
    }
}

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

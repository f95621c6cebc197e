import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files written so that a crash never leaves half of one: the content goes to a hidden
/// temporary file beside the target (`.<name>.<pid>.<random>.tmp`), is flushed to disk, and is
/// then renamed onto the target (and the folder flushed, so the rename survives a power loss).
public enum AtomicFile {
    /// Lets `produce` write a fresh temporary path beside `url`, then puts that file in place.
    /// If `produce` throws, the temporary file is removed, `url` is left as it was, and the
    /// error is rethrown unchanged; failures after it throw ``AtomicFileError``.
    public static func replace(_ url: URL, producing produce: (URL) throws -> Void) throws {
        let target = url.standardizedFileURL
        let directory = target.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(temporaryName(for: target.lastPathComponent))
        do {
            try produce(temporary)
            try flush(temporary.path, target: target.path)
        } catch {
            unlink(temporary.path)
            throw error
        }
        guard rename(temporary.path, target.path) == 0 else {
            let error = AtomicFileError(path: target.path, reason: "cannot rename the temporary file onto it (\(lastError))")
            unlink(temporary.path)
            throw error
        }
        flushDirectory(directory.path)
    }

    /// The hidden temporary name a write of `name` uses: `.<name>.<pid>.<random>.tmp`.
    public static func temporaryName(for name: String) -> String {
        ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    }

    /// The target name and the writer's process id of a name made by `temporaryName(for:)`,
    /// or `nil` for any other name (so leftovers of an interrupted write can be cleaned up).
    public static func parseTemporaryName(_ temporaryName: String) -> (target: String, pid: Int32)? {
        guard temporaryName.hasPrefix("."), temporaryName.hasSuffix(".tmp") else { return nil }
        let parts = temporaryName.dropFirst().dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0,
              UInt32(parts[parts.count - 1]) != nil else { return nil }
        let target = parts.dropLast(2).joined(separator: ".")
        return target.isEmpty ? nil : (target, pid)
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try replace(url) { temporary in
            let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw AtomicFileError(path: url.path, reason: "cannot create a temporary file in "
                                      + "\(temporary.deletingLastPathComponent().path) (\(lastError))")
            }
            defer { close(fd) }
            try data.withUnsafeBytes { try writeAll(fd, $0, path: url.path) }
        }
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Writes every byte of `bytes` to `fd`, retrying interrupted and short writes.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var pointer = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, pointer, left)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AtomicFileError(path: path, reason: "write failed (\(lastError))") }
            pointer += n
            left -= n
        }
    }

    private static func flush(_ path: String, target: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFileError(path: target, reason: "the temporary file vanished (\(lastError))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw AtomicFileError(path: target, reason: "cannot flush it to disk (\(lastError))") }
    }

    /// Best effort: a folder that cannot be opened or flushed still holds the renamed file.
    private static func flushDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static var lastError: String { String(cString: strerror(errno)) }
}

/// A file that could not be written; names the file and the reason.
public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

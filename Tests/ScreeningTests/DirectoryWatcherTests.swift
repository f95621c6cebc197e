import Foundation
import Screening
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Listing and polling: sorted, hidden and output folders skipped, names kept as bytes,
/// nothing skipped without a word, files handed out once and only when they stopped changing
/// for a while, failed files handed out again when they change.
final class DirectoryWatcherTests: XCTestCase {
    func testScanIsSortedRecursiveAndSkipsHiddenAndExcluded() throws {
        let root = try temporaryFolder(self, "scan")
        for name in ["b.jpg", "a/z.PNG", "a/b/c.jpeg", "notes.txt", ".hidden.jpg", ".cache/x.jpg", "out/panel.png",
                     "out/gradcam/p_gradcam.png", "x.gif"] {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
        }
        let entries = try PhotoDirectory.scan(root, excluding: root.appendingPathComponent("out"))
        XCTAssertEqual(entries.map(\.file.relativePath), ["a/b/c.jpeg", "a/z.PNG", "b.jpg", "x.gif"])
        XCTAssertEqual(entries[0].file.path, root.relativePath + "/a/b/c.jpeg")
        XCTAssertTrue(entries.allSatisfy { $0.file.problem == nil })
        XCTAssertThrowsError(try PhotoDirectory.scan(root.appendingPathComponent("b.jpg"))) { error in
            XCTAssertEqual(error as? ScreenError, .notADirectory(root.appendingPathComponent("b.jpg").path))
        }
        // When the output folder is the screened folder itself, its gradcam/ is what is excluded.
        let same = try PhotoDirectory.scan(root.appendingPathComponent("out"),
                                           excluding: [root.appendingPathComponent("out"), root.appendingPathComponent("out/gradcam")])
        XCTAssertEqual(same.map(\.file.relativePath), ["panel.png"])
    }

    /// A name that is not UTF-8 is listed, shown escaped, and opened through its bytes.
    func testNamesThatAreNotUTF8AreListedWithTheirBytes() throws {
        let root = try temporaryFolder(self, "bytes")
        let name: [UInt8] = Array("caf".utf8) + [0xE9] + Array(" \\ ok.jpg".utf8)  // Latin-1 é, a backslash
        let path = Array(root.path.utf8) + [0x2F] + name
        let fd = (path + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(write(fd, "abc", 3), 3)
        close(fd)
        let entries = try PhotoDirectory.scan(root)
        XCTAssertEqual(entries.map(\.file.relativePath), ["caf\\xE9 \\\\ ok.jpg"])
        XCTAssertEqual(entries.first?.file.fileSystemPath.suffix(name.count), name[...])
        XCTAssertEqual(FileName.unescape(entries[0].file.relativePath), name, "the shown name leads back to the bytes")
        XCTAssertEqual(entries[0].size, 3)
    }

    func testFileNameEscaping() {
        XCTAssertEqual(FileName.escape(Array("plain/é.jpg".utf8)), "plain/é.jpg")
        XCTAssertEqual(FileName.escape([0x61, 0xE9, 0x62]), "a\\xE9b")
        XCTAssertEqual(FileName.escape([0xC3]), "\\xC3", "a cut-off sequence")
        XCTAssertEqual(FileName.escape([0xED, 0xA0, 0x80]), "\\xED\\xA0\\x80", "an encoded surrogate is not UTF-8")
        XCTAssertEqual(FileName.escape([0xC0, 0xAF]), "\\xC0\\xAF", "an overlong slash")
        XCTAssertEqual(FileName.escape(Array("a\nb\u{1B}[31m".utf8)), "a\\x0Ab\\x1B[31m", "control characters")
        XCTAssertEqual(FileName.escape(Array("x\u{202E}gpj.exe".utf8)), "x\\xE2\\x80\\xAEgpj.exe", "bidi override")
        XCTAssertEqual(FileName.escape(Array("a\\xE9".utf8)), "a\\\\xE9", "a literal backslash is doubled")
        for bytes: [UInt8] in [[0x61, 0xE9], Array("a\\xE9".utf8), [0x5C, 0x5C, 0xFF, 0x0A], Array("日本.png".utf8)] {
            XCTAssertEqual(FileName.unescape(FileName.escape(bytes)), bytes)
        }
        XCTAssertNil(FileName.unescape("a\\q"))
        XCTAssertTrue(FileName.isPlain(Array("ok.jpg".utf8)))
        XCTAssertFalse(FileName.isPlain([0xE9]))
    }

    /// Broken links, links leading outside, links to folders, pipes: error entries, not read.
    func testSymbolicLinksAndSpecialFilesAreReportedNotFollowed() throws {
        let base = try temporaryFolder(self, "links")
        let root = base.appendingPathComponent("photos")
        let outside = base.appendingPathComponent("secret.jpg")
        try Data("secret".utf8).write(to: outside)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("real"), withIntermediateDirectories: true)
        try Data("inside".utf8).write(to: root.appendingPathComponent("real/in.jpg"))
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("dangling.jpg").path, withDestinationPath: "nowhere.jpg")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("shadow.jpg").path, withDestinationPath: outside.path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("alias.jpg").path, withDestinationPath: "real/in.jpg")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("elsewhere").path, withDestinationPath: base.path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("notes.txt").path, withDestinationPath: outside.path)
        XCTAssertEqual(mkfifo(root.appendingPathComponent("pipe.jpg").path, 0o644), 0)

        let entries = try PhotoDirectory.scan(root)
        let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.file.relativePath, $0.file) })
        XCTAssertEqual(entries.map(\.file.relativePath), ["alias.jpg", "dangling.jpg", "elsewhere", "pipe.jpg", "real/in.jpg", "shadow.jpg"])
        XCTAssertNil(byName["alias.jpg"]?.problem, "a link to a photo inside the folder is read")
        XCTAssertEqual(byName["alias.jpg"]?.fileSystemPath, POSIXTestPath.real(root.appendingPathComponent("real/in.jpg")),
                       "through its resolved path")
        XCTAssertEqual(byName["dangling.jpg"]?.problem,
                       root.relativePath + "/dangling.jpg: broken symbolic link: its target nowhere.jpg does not exist")
        let shadow = try XCTUnwrap(byName["shadow.jpg"]?.problem)
        XCTAssertTrue(shadow.hasSuffix("shadow.jpg: symbolic link to \(String(decoding: POSIXTestPath.real(outside), as: UTF8.self)), "
                                       + "outside the screened folder; not read (give --follow-symlinks to read it)"), shadow)
        XCTAssertTrue(byName["elsewhere"]?.problem?.contains("symbolic link to a folder") ?? false)
        XCTAssertEqual(byName["pipe.jpg"]?.problem, root.relativePath + "/pipe.jpg: not a regular file (a named pipe); not read")

        // With followSymlinks: the outside file is listed to be read, the folder walked (its
        // link back to the screened folder is a loop, reported once).
        let followed = try PhotoDirectory.scan(root, followSymlinks: true)
        let names = followed.map(\.file.relativePath)
        XCTAssertTrue(names.contains("shadow.jpg") && names.contains("elsewhere/secret.jpg"), "\(names)")
        XCTAssertNil(followed.first { $0.file.relativePath == "shadow.jpg" }?.file.problem)
        XCTAssertEqual(followed.filter { $0.file.problem?.contains("symbolic link loop") ?? false }.map(\.file.relativePath),
                       ["elsewhere/photos"])
        XCTAssertNotNil(followed.first { $0.file.relativePath == "dangling.jpg" }?.file.problem, "still broken")
    }

    func testUnreadableSubfolderIsAnEntry() throws {
        guard geteuid() != 0 else {
            throw XCTSkip("root reads a chmod 000 folder anyway (the CLI test drops the capability to check this)")
        }
        let root = try temporaryFolder(self, "locked")
        let locked = root.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: locked.appendingPathComponent("a.jpg"))
        chmod(locked.path, 0)
        addTeardownBlock { chmod(locked.path, 0o755) }
        let entries = try PhotoDirectory.scan(root)
        XCTAssertEqual(entries.map(\.file.relativePath), ["locked"])
        XCTAssertEqual(entries[0].file.problem,
                       root.relativePath + "/locked: cannot read the folder (Permission denied); the photos in it were not screened")
        chmod(root.path, 0)
        addTeardownBlock { chmod(root.path, 0o755) }
        XCTAssertThrowsError(try PhotoDirectory.scan(root)) { error in
            XCTAssertEqual(error as? ScreenError, .unreadableFolder(root.path, reason: "Permission denied"))
        }
    }

    /// A fake clock: the time a test says it is.
    final class FakeClock: @unchecked Sendable {
        var now = 0.0
    }

    func testFollowWaitsForAStableIntervalNotTwoPolls() throws {
        let root = try temporaryFolder(self, "watch")
        let clock = FakeClock()
        var watcher = DirectoryWatcher(directory: root, waitForStableFiles: true)
        watcher.clock = { clock.now }
        watcher.stableSeconds = 2
        watcher.emptyStableSeconds = 10
        let a = root.appendingPathComponent("a.jpg")
        try Data(repeating: 1, count: 10).write(to: a)
        XCTAssertEqual(try watcher.poll(), [], "first sight: not yet known to be stable")
        XCTAssertEqual(try watcher.poll(), [], "a second poll at once proves nothing (a busy folder polls back to back)")
        clock.now = 1.9
        XCTAssertEqual(try watcher.poll(), [], "unchanged for 1.9 s of 2")
        let handle = try FileHandle(forWritingTo: a)
        handle.seekToEndOfFile()
        handle.write(Data(repeating: 2, count: 10))
        clock.now = 2.5
        XCTAssertEqual(try watcher.poll(), [], "it grew: the interval starts again")
        clock.now = 4.4
        XCTAssertEqual(try watcher.poll(), [])
        clock.now = 4.5
        XCTAssertEqual(try watcher.poll().map(\.relativePath), ["a.jpg"], "unchanged for 2 s: ready")
        handle.write(Data(repeating: 3, count: 10))
        try handle.close()
        clock.now = 10
        XCTAssertEqual(try watcher.poll(), [], "handed out once, even if it changes later")
        clock.now = 20
        XCTAssertEqual(try watcher.poll(), [])

        // An empty file waits the longer interval, then is handed out; it comes back when filled.
        let empty = root.appendingPathComponent("empty.png")
        try Data().write(to: empty)
        clock.now = 30
        XCTAssertEqual(try watcher.poll(), [])
        clock.now = 39.9
        XCTAssertEqual(try watcher.poll(), [], "empty for 9.9 s of 10")
        clock.now = 40
        XCTAssertEqual(try watcher.poll().map(\.relativePath), ["empty.png"])
        watcher.retryWhenChanged("empty.png")
        clock.now = 100
        XCTAssertEqual(try watcher.poll(), [], "unchanged: not handed out again")
        try Data(repeating: 7, count: 50).write(to: empty)
        clock.now = 101
        XCTAssertEqual(try watcher.poll(), [], "changed: a candidate again, not yet stable")
        clock.now = 103
        XCTAssertEqual(try watcher.poll().map(\.relativePath), ["empty.png"], "filled and stable: handed out again")
        try Data(repeating: 8, count: 60).write(to: empty)
        clock.now = 200
        XCTAssertEqual(try watcher.poll(), [], "no retry asked for this time")
        XCTAssertEqual(watcher.handedOut, 2)
    }

    func testOneShotHandsOutEverythingAtOnce() throws {
        let root = try temporaryFolder(self, "oneshot")
        for name in ["2.jpg", "1.jpg", "10.jpg"] { try Data("x".utf8).write(to: root.appendingPathComponent(name)) }
        var watcher = DirectoryWatcher(directory: root, waitForStableFiles: false)
        XCTAssertEqual(try watcher.poll().map(\.relativePath), ["1.jpg", "10.jpg", "2.jpg"])
        XCTAssertEqual(try watcher.poll(), [])
    }
}

enum POSIXTestPath {
    /// realpath(3) of `url`, as bytes.
    static func real(_ url: URL) -> [UInt8] {
        guard let p = realpath(url.path, nil) else { return [] }
        defer { free(p) }
        return Array(String(cString: p).utf8)
    }
}

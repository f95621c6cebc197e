import Foundation
import Markup
#if canImport(Glibc)
import Glibc
#endif

/// One photo file found under a screened folder (or, with ``problem``, something in it that
/// could not be screened: an unreadable sub-folder, a broken or refused symbolic link).
public struct PhotoFile: Sendable, Hashable {
    /// The file as a URL. For a name that is not valid UTF-8 a URL cannot hold the exact bytes
    /// (Foundation replaces them); ``fileSystemPath`` always can, and is what screening opens.
    public let url: URL
    /// The path as reported (in results, groups, the report): the folder as given plus the
    /// path inside it, e.g. `photos/day1/a.jpg`, shown with ``FileName/escape(_:)``.
    public let path: String
    /// The path inside the folder (`day1/a.jpg`), shown with ``FileName/escape(_:)``; files
    /// are processed in the order of the raw bytes of this path.
    public let relativePath: String
    /// The absolute path to open, as bytes (without a terminating NUL).
    public let fileSystemPath: [UInt8]
    /// Set when the entry is not to be read: why (a sentence that names the entry). Such an
    /// entry is reported as an error row, never opened.
    public let problem: String?
    /// Whether opening it may follow a symbolic link (only with `--follow-symlinks`).
    public let followsLinks: Bool
    /// The bytes themselves, when the photo is kept in the store rather than in a file (an
    /// upload to `rubble serve`): read instead of ``fileSystemPath``.
    public var storedBytes: Data?

    public init(url: URL, path: String, relativePath: String) {
        self.init(url: url, path: path, relativePath: relativePath, fileSystemPath: Array(url.path.utf8))
    }

    public init(url: URL, path: String, relativePath: String, fileSystemPath: [UInt8], problem: String? = nil,
                followsLinks: Bool = false) {
        self.url = url
        self.path = path
        self.relativePath = relativePath
        self.fileSystemPath = fileSystemPath
        self.problem = problem
        self.followsLinks = followsLinks
    }
}

/// What `stat` said about a file, to tell whether it changed: size, modification time, and
/// which file it is (a file replaced by a rename is another file).
public struct FileSignature: Sendable, Hashable {
    public let size: Int64
    public let modified: Int64  // nanoseconds since the epoch
    public let device: UInt64
    public let inode: UInt64

    init(_ info: stat) {
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Lists the photos under a folder, recursively, in sorted path order.
///
/// The walk uses `opendir`/`readdir` and keeps names as bytes, so a name that is not valid
/// UTF-8 is listed like any other (and shown escaped, see ``FileName``). Hidden files and
/// folders (names starting with ".", e.g. the temporary files of an atomic writer or a
/// `.thumbnails` folder) are skipped, and so are the `excluding` folders (the output folder and
/// its `gradcam/` when they lie inside the screened one). Files count as photos by extension:
/// JPEG and PNG, which Rubble decodes, and other picture formats (GIF, WebP, HEIC, BMP, TIFF,
/// AVIF), which are listed so that they are reported as unreadable rather than silently ignored.
///
/// Nothing is skipped without a word: these are listed as entries with a ``PhotoFile/problem``
/// (an error row, not read):
/// - a sub-folder that cannot be listed (no permission, I/O error);
/// - a photo-named entry that is not a regular file (a named pipe, a device: reading those
///   could block or never end);
/// - a broken symbolic link, or a link loop;
/// - without `followSymlinks`: a symbolic link whose target lies outside the screened folder
///   (never read: a link to `/etc/shadow` must not have its digest written out), and a link to
///   a folder (not walked). A link to a photo inside the screened folder is read (through its
///   resolved path).
/// With `followSymlinks` every link is followed, folders included (a folder already being
/// walked is a loop, reported once).
public enum PhotoDirectory {
    public static let decodableExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png"]
    public static let otherPictureExtensions: Set<String> = ["gif", "webp", "heic", "heif", "bmp", "tif", "tiff", "avif"]

    public static func isPhoto(_ name: String) -> Bool {
        let ext = (name as NSString).pathExtension.lowercased()
        return decodableExtensions.contains(ext) || otherPictureExtensions.contains(ext)
    }

    /// The extension test on a raw name (the extension itself is ASCII when it is a photo's).
    static func isPhoto(bytes name: [UInt8]) -> Bool {
        guard let dot = name.lastIndex(of: 0x2E), dot > 0 else { return false }
        let ext = name[(dot + 1)...]
        guard !ext.isEmpty, ext.allSatisfy({ $0 < 0x80 }) else { return false }
        let lowered = String(decoding: ext, as: UTF8.self).lowercased()
        return decodableExtensions.contains(lowered) || otherPictureExtensions.contains(lowered)
    }

    /// A file found by a scan, with what `stat` said about it.
    public struct Entry: Sendable, Equatable {
        public let file: PhotoFile
        public let size: Int64
        public let modified: Int64  // nanoseconds since the epoch
        public let signature: FileSignature
        /// The raw bytes of the relative path (the sort key).
        let relativeBytes: [UInt8]
    }

    /// Every photo under `directory`, sorted by relative path.
    /// - Throws: ``ScreenError/notADirectory(_:)`` when `directory` is missing or not a
    ///   folder, ``ScreenError/unreadableFolder(_:reason:)`` when it cannot be listed.
    public static func scan(_ directory: URL, excluding excluded: URL?) throws -> [Entry] {
        try scan(directory, excluding: excluded.map { [$0] } ?? [])
    }

    /// Every photo under `directory`, sorted by relative path (see ``PhotoDirectory``).
    public static func scan(_ directory: URL, excluding excluded: [URL] = [], followSymlinks: Bool = false) throws -> [Entry] {
        let root = try checkFolder(directory)
        var shown = directory.relativePath
        while shown.hasSuffix("/") { shown.removeLast() }  // "photos/" -> "photos", "/" -> ""
        var walk = Walk(root: root, shownRoot: shown, followSymlinks: followSymlinks)
        for url in excluded {
            if let info = POSIXPath.info(Array(url.standardizedFileURL.path.utf8)), info.st_mode & S_IFMT == S_IFDIR {
                walk.excluded.insert(Identity(info))
            }
        }
        guard let rootInfo = POSIXPath.info(root) else { throw ScreenError.notADirectory(directory.path) }
        walk.walk(root, relative: [], ancestors: [Identity(rootInfo)])
        return walk.entries.sorted { $0.relativeBytes.lexicographicallyPrecedes($1.relativeBytes) }
    }

    /// Checks that `directory` is a folder that can be listed; returns its resolved absolute
    /// path (bytes). Writes nothing.
    @discardableResult
    public static func checkFolder(_ directory: URL) throws -> [UInt8] {
        let given = Array(directory.standardizedFileURL.path.utf8)
        guard let info = POSIXPath.info(given) else {
            if errno == ENOENT || errno == ENOTDIR { throw ScreenError.notADirectory(directory.path) }
            throw ScreenError.unreadableFolder(directory.path, reason: POSIXPath.lastError)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw ScreenError.notADirectory(directory.path) }
        guard let root = POSIXPath.realpath(given) else {
            throw ScreenError.unreadableFolder(directory.path, reason: POSIXPath.lastError)
        }
        if let error = POSIXPath.cannotOpenFolder(root) {
            throw ScreenError.unreadableFolder(directory.path, reason: error)
        }
        return root
    }

    /// Which file a folder is (to skip excluded folders and detect loops).
    struct Identity: Hashable {
        let device: UInt64
        let inode: UInt64
        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    private struct Walk {
        let root: [UInt8]
        let shownRoot: String
        let followSymlinks: Bool
        var excluded = Set<Identity>()
        var entries: [Entry] = []

        init(root: [UInt8], shownRoot: String, followSymlinks: Bool) {
            self.root = root
            self.shownRoot = shownRoot
            self.followSymlinks = followSymlinks
        }

        func shown(_ relative: [UInt8]) -> (path: String, relative: String) {
            let r = FileName.escape(relative)
            return (shownRoot + "/" + r, r)
        }

        mutating func add(_ relative: [UInt8], path: [UInt8], info: stat, problem: String? = nil, followsLinks: Bool = false) {
            let (shownPath, shownRelative) = shown(relative)
            let url = URL(fileURLWithPath: String(decoding: path, as: UTF8.self))
            let file = PhotoFile(url: url, path: shownPath, relativePath: shownRelative, fileSystemPath: path,
                                 problem: problem.map { "\(shownPath): \($0)" }, followsLinks: followsLinks)
            let signature = FileSignature(info)
            entries.append(Entry(file: file, size: signature.size, modified: signature.modified, signature: signature,
                                 relativeBytes: relative))
        }

        /// Whether `path` (resolved) is the root or lies under it.
        func isInside(_ path: [UInt8]) -> Bool {
            if path == root { return true }
            let prefix = root == [0x2F] ? root : root + [0x2F]
            return path.starts(with: prefix)
        }

        mutating func walk(_ directory: [UInt8], relative: [UInt8], ancestors: Set<Identity>) {
            let listing = POSIXPath.list(directory)
            if let error = listing.error, let info = POSIXPath.linkInfo(directory), !relative.isEmpty {
                let what = listing.names.isEmpty ? "cannot read the folder" : "the folder could not be listed completely"
                add(relative, path: directory, info: info, problem: "\(what) (\(error)); the photos in it were not screened")
            }
            for name in listing.names where name.first != 0x2E {  // hidden files and folders
                let path = directory + [0x2F] + name
                let rel = relative.isEmpty ? name : relative + [0x2F] + name
                guard let info = POSIXPath.linkInfo(path) else { continue }  // vanished since the listing
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    enter(path, relative: rel, info: info, ancestors: ancestors)
                case S_IFREG:
                    if PhotoDirectory.isPhoto(bytes: name) { add(rel, path: path, info: info) }
                case S_IFLNK:
                    link(path, name: name, relative: rel, info: info, ancestors: ancestors)
                default:
                    if PhotoDirectory.isPhoto(bytes: name) {
                        add(rel, path: path, info: info, problem: "not a regular file (\(POSIXPath.fileType(info.st_mode))); not read")
                    }
                }
            }
        }

        /// Walks a sub-folder (`info` from stat of what the path leads to).
        mutating func enter(_ path: [UInt8], relative: [UInt8], info: stat, ancestors: Set<Identity>) {
            let identity = Identity(info)
            if excluded.contains(identity) { return }
            if ancestors.contains(identity) {
                add(relative, path: path, info: info,
                    problem: "symbolic link loop: it leads back to a folder that contains it; not followed again")
                return
            }
            walk(path, relative: relative, ancestors: ancestors.union([identity]))
        }

        mutating func link(_ path: [UInt8], name: [UInt8], relative: [UInt8], info linkInfo: stat, ancestors: Set<Identity>) {
            let written = POSIXPath.readlink(path).map(FileName.escape) ?? "?"
            guard let target = POSIXPath.info(path) else {
                let problem = errno == ELOOP ? "symbolic link loop (-> \(written)); not followed"
                    : errno == ENOENT ? "broken symbolic link: its target \(written) does not exist"
                    : "cannot follow the symbolic link to \(written) (\(POSIXPath.lastError))"
                add(relative, path: path, info: linkInfo, problem: problem)
                return
            }
            let resolved = POSIXPath.realpath(path) ?? path
            let isFolder = target.st_mode & S_IFMT == S_IFDIR
            guard isFolder || PhotoDirectory.isPhoto(bytes: name) else { return }
            if followSymlinks {
                if isFolder {
                    enter(path, relative: relative, info: target, ancestors: ancestors)
                } else if target.st_mode & S_IFMT == S_IFREG {
                    add(relative, path: path, info: target, followsLinks: true)
                } else {
                    add(relative, path: path, info: target,
                        problem: "symbolic link to \(POSIXPath.fileType(target.st_mode)), not a regular file; not read")
                }
                return
            }
            let to = FileName.escape(resolved)
            if isFolder {
                add(relative, path: path, info: linkInfo,
                    problem: "symbolic link to a folder (\(to)); not followed (give --follow-symlinks to screen it)")
            } else if !isInside(resolved) {
                add(relative, path: path, info: linkInfo,
                    problem: "symbolic link to \(to), outside the screened folder; not read (give --follow-symlinks to read it)")
            } else if target.st_mode & S_IFMT != S_IFREG {
                add(relative, path: path, info: linkInfo,
                    problem: "symbolic link to \(POSIXPath.fileType(target.st_mode)), not a regular file; not read")
            } else {
                add(relative, path: resolved, info: target)  // read through the resolved path, never a link
            }
        }
    }
}

/// Watches a folder by polling: each ``poll()`` returns the photos that are new and ready,
/// each file once (or again, see ``retryWhenChanged(_:)``).
///
/// With `waitForStableFiles` (the `--follow` mode), a file is ready when its size, modification
/// time and identity (device, inode) have stayed the same for at least ``stableSeconds`` of
/// wall-clock time, measured by ``clock`` between polls — not merely between two polls, which
/// can come back to back when the folder is busy — and the size is not zero. A photo still
/// being copied or downloaded is left for a later poll; a file still empty after
/// ``emptyStableSeconds`` is handed over, to be reported as empty. Without it, every file
/// present is ready at once (a one-shot run over a finished folder).
public struct DirectoryWatcher {
    public let directory: URL
    public let excluding: [URL]
    public let waitForStableFiles: Bool
    /// Follow symbolic links everywhere (see ``PhotoDirectory``).
    public var followSymlinks = false
    /// Seconds a non-empty file must stay unchanged before it is handed out.
    public var stableSeconds = 2.0
    /// Seconds an empty file must stay empty and unchanged before it is handed out.
    public var emptyStableSeconds = 10.0
    /// Monotonic seconds (a fake one in tests).
    public var clock: () -> Double = {
        let t = ContinuousClock.now - DirectoryWatcher.epoch
        return Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
    }
    private static let epoch = ContinuousClock.now

    private var handled: [String: FileSignature] = [:]
    private var retrying = Set<String>()
    private var candidates: [String: (signature: FileSignature, since: Double)] = [:]

    public init(directory: URL, excluding: URL? = nil, waitForStableFiles: Bool) {
        self.init(directory: directory, excluding: excluding.map { [$0] } ?? [], waitForStableFiles: waitForStableFiles)
    }

    public init(directory: URL, excluding: [URL], waitForStableFiles: Bool) {
        self.directory = directory
        self.excluding = excluding
        self.waitForStableFiles = waitForStableFiles
    }

    /// Number of files handed out so far (each counted once, however often retried).
    public var handedOut: Int { handled.count }

    /// Hands `relativePath` (a file handed out before, whose screening failed in a way a later
    /// version of the file may not: empty, truncated, corrupt, unreadable) out again once it
    /// has changed and then stayed unchanged as long as a new file must.
    public mutating func retryWhenChanged(_ relativePath: String) {
        guard handled[relativePath] != nil else { return }
        retrying.insert(relativePath)
    }

    /// The files that became ready since the last poll, sorted by relative path.
    public mutating func poll() throws -> [PhotoFile] {
        let entries = try PhotoDirectory.scan(directory, excluding: excluding, followSymlinks: followSymlinks)
        let now = clock()
        var ready: [PhotoDirectory.Entry] = []
        var seen = Set<String>()
        for entry in entries {
            let key = entry.file.relativePath
            seen.insert(key)
            if let signature = handled[key] {
                guard retrying.contains(key), signature != entry.signature else { continue }
                retrying.remove(key)  // changed since it failed: a new candidate
                handled[key] = nil
            }
            guard waitForStableFiles else {
                ready.append(entry)
                continue
            }
            if let candidate = candidates[key], candidate.signature == entry.signature {
                let wait = entry.size > 0 ? stableSeconds : emptyStableSeconds
                if now - candidate.since >= wait {
                    ready.append(entry)
                    candidates[key] = nil
                }
            } else {
                candidates[key] = (entry.signature, now)
            }
        }
        // Files that disappeared before they were ready are forgotten.
        for key in candidates.keys where !seen.contains(key) { candidates[key] = nil }
        for entry in ready { handled[entry.file.relativePath] = entry.signature }
        return ready.map(\.file)
    }
}

import Foundation
import Inference
import Tensor
import Vision

/// Photos in one folder per class, as Keras' `image_dataset_from_directory` reads them:
///
/// ```
/// root/
///   damage/     img001.jpg  img002.JPG ...
///   no_damage/  a.png  sub/b.jpeg ...
/// ```
///
/// - **Classes** are the non-hidden sub-folders of `root` (symbolic links to folders count),
///   sorted by byte order (Python's `sorted`); label `i` is `classNames[i]`.
/// - **Files**: each class folder is walked recursively (not into hidden folders or through
///   symbolic links to folders, as `os.walk`); folders are visited in sorted path order and files
///   sorted by name within each. Names starting with `.` are skipped. Extensions `jpg`, `jpeg`,
///   `png` (any case) are used; everything else — `bmp`, which our decoder cannot read, `txt`,
///   ... — is listed in ``skipped`` with the reason.
/// - **Unreadable files**: scanning never opens a file. ``inputs(_:augmentation:seed:)`` decodes
///   the batch (in parallel, with the ``ImagePipeline``) and throws
///   ``DatasetError/unreadableFile(path:reason:)`` naming the first bad file of the batch.
///   To find every bad file up front, call ``validate(decodePixels:)`` and train on
///   ``removing(_:)`` of what it reports.
public struct ImageFolderExamples: LabelledExamples {
    /// Extensions (lower case) that are read.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// A file the scan did not use, and why.
    public struct SkippedFile: Sendable, Equatable {
        public let path: String
        public let reason: String
    }

    /// A file ``validate(decodePixels:)`` could not read.
    public struct BadFile: Sendable, Equatable, CustomStringConvertible {
        /// Its example index.
        public let index: Int
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public let root: URL
    public let classNames: [String]
    /// One file per example, in example order.
    public let files: [URL]
    public let labels: [Int]
    public let pipeline: ImagePipeline
    /// Non-hidden files in class folders that are not images we read (sorted by path).
    public let skipped: [SkippedFile]

    /// Scans `directory`. With `classNames`, the folder must hold exactly those classes (same
    /// names; their order gives the labels) — e.g. a validation folder checked against the
    /// training classes.
    ///
    /// - Throws: ``DatasetError/notADirectory(path:)``, ``DatasetError/noClasses(path:)``,
    ///   ``DatasetError/classMismatch(path:expected:found:)``, ``DatasetError/noImages(path:classes:)``,
    ///   ``DatasetError/unreadableFile(path:reason:)`` for a folder that cannot be listed.
    public init(directory: URL, pipeline: ImagePipeline = ImagePipeline(), classNames required: [String]? = nil) throws {
        let fm = FileManager.default
        let rootPath = directory.standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: rootPath, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.notADirectory(path: rootPath)
        }
        let found = try Self.listing(rootPath).filter { name in
            var isDir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: rootPath + "/" + name, isDirectory: &isDir) && isDir.boolValue
        }.sorted(by: pythonStringOrder)
        guard !found.isEmpty else { throw DatasetError.noClasses(path: rootPath) }
        let classNames: [String]
        if let required {
            guard Set(required) == Set(found), required.count == found.count else {
                throw DatasetError.classMismatch(path: rootPath, expected: required, found: found)
            }
            classNames = required
        } else {
            classNames = found
        }
        var files: [URL] = []
        var labels: [Int] = []
        var skipped: [SkippedFile] = []
        for (label, name) in classNames.enumerated() {
            for path in try Self.walk(rootPath + "/" + name) {
                let ext = (path as NSString).pathExtension.lowercased()
                if Self.imageExtensions.contains(ext) {
                    files.append(URL(fileURLWithPath: path))
                    labels.append(label)
                } else {
                    let reason = ext == "bmp" ? "BMP is not supported (convert to PNG)"
                        : ext.isEmpty ? "no image extension (jpg, jpeg, png)" : "not an image extension (.\(ext))"
                    skipped.append(SkippedFile(path: path, reason: reason))
                }
            }
        }
        guard !files.isEmpty else { throw DatasetError.noImages(path: rootPath, classes: classNames) }
        self.root = URL(fileURLWithPath: rootPath)
        self.classNames = classNames
        self.files = files
        self.labels = labels
        self.pipeline = pipeline
        self.skipped = skipped
    }

    /// A set of given files (no scanning); every label must be in `0..<classNames.count`.
    public init(files: [URL], labels: [Int], classNames: [String], pipeline: ImagePipeline = ImagePipeline(),
                root: URL? = nil) throws {
        guard files.count == labels.count else {
            throw DatasetError.invalidArgument("\(files.count) files but \(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classNames.count }) {
            throw DatasetError.invalidArgument("label \(bad) outside 0..<\(classNames.count) (\(classNames))")
        }
        self.root = root ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        self.classNames = classNames
        self.files = files
        self.labels = labels
        self.pipeline = pipeline
        self.skipped = []
    }

    public var count: Int { files.count }

    /// The file's path.
    public func identifier(_ index: Int) -> String { files[index].path }

    /// `[indices.count, imageSize, imageSize, 3]`: decoded in parallel, resized and preprocessed
    /// by ``pipeline``, then augmented (with its preprocessing) when asked.
    /// - Throws: ``DatasetError/unreadableFile(path:reason:)`` for the first file (in `indices`
    ///   order) that cannot be decoded.
    public func inputs(_ indices: [Int], augmentation: Augmentation?, seed: UInt64) throws -> Tensor {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DatasetError.invalidArgument("example index \(bad) outside 0..<\(count)")
        }
        let decoded = pipeline.decode(indices.map { files[$0] })
        var images: [RGBImage] = []
        images.reserveCapacity(indices.count)
        for (index, result) in zip(indices, decoded) {
            switch result {
            case .success(let image): images.append(image)
            case .failure(let error): throw Self.unreadable(files[index].path, error)
            }
        }
        var batch = pipeline.tensor(images)
        if let augmentation { augmentation.apply(to: &batch, seed: seed, preprocessing: pipeline.preprocessing) }
        return batch
    }

    /// Checks every file in parallel and returns the ones that cannot be read, in example order.
    /// By default only headers are read (format, size: fast; catches non-images, empty and
    /// wrongly named files); `decodePixels: true` decodes each image fully (also catches
    /// truncated and damaged data; about as slow as one epoch's decoding).
    public func validate(decodePixels: Bool = false) -> [BadFile] {
        var problems = [BadFile?](repeating: nil, count: files.count)
        let files = self.files
        let target = (pipeline.imageSize, pipeline.imageSize)
        problems.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachRange(files.count) { range in
                for i in range {
                    do {
                        if decodePixels {
                            _ = try ImageDecoder.decode(contentsOf: files[i], atLeast: target)
                        } else {
                            let size = try ImageDecoder.size(contentsOf: files[i])
                            try DecodeLimits.default.check(width: size.width, height: size.height, file: files[i].path)
                            if size.width <= 0 || size.height <= 0 {
                                out.value[i] = BadFile(index: i, path: files[i].path, reason: "image of size \(size.width)x\(size.height)")
                            }
                        }
                    } catch {
                        let reason = Self.reason(files[i].path, error)
                        out.value[i] = BadFile(index: i, path: files[i].path, reason: reason)
                    }
                }
            }
        }
        return problems.compactMap { $0 }
    }

    /// The same set without the examples `bad` lists (e.g. from ``validate(decodePixels:)``).
    public func removing(_ bad: [BadFile]) -> ImageFolderExamples {
        removing(indices: Set(bad.map(\.index)))
    }

    /// The same set without the examples at `indices`.
    public func removing(indices: Set<Int>) -> ImageFolderExamples {
        let keep = (0..<count).filter { !indices.contains($0) }
        return ImageFolderExamples(root: root, classNames: classNames, files: keep.map { files[$0] },
                                   labels: keep.map { labels[$0] }, pipeline: pipeline, skipped: skipped)
    }

    /// One line for the start of a run, e.g.
    /// `data/train: 6556 images in 2 classes (damage 3684, no_damage 2872); skipped 2 files (1 .bmp, 1 .txt)`.
    public var summary: String {
        let counts = classCounts
        let perClass = zip(classNames, counts).map { "\($0) \($1)" }.joined(separator: ", ")
        var line = "\(root.path): \(count) images in \(classNames.count) classes (\(perClass))"
        if !skipped.isEmpty {
            var byExtension: [String: Int] = [:]
            for file in skipped {
                let ext = (file.path as NSString).pathExtension.lowercased()
                byExtension[ext.isEmpty ? "no extension" : "." + ext, default: 0] += 1
            }
            let parts = byExtension.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            line += "; skipped \(skipped.count) file\(skipped.count == 1 ? "" : "s") (\(parts.joined(separator: ", ")))"
        }
        return line
    }

    // MARK: - Internals

    private init(root: URL, classNames: [String], files: [URL], labels: [Int], pipeline: ImagePipeline,
                 skipped: [SkippedFile]) {
        self.root = root
        self.classNames = classNames
        self.files = files
        self.labels = labels
        self.pipeline = pipeline
        self.skipped = skipped
    }

    static func unreadable(_ path: String, _ error: any Error) -> DatasetError {
        .unreadableFile(path: path, reason: reason(path, error))
    }

    /// The error's message without the leading `"<path>: "` our errors already carry.
    static func reason(_ path: String, _ error: any Error) -> String {
        let text = String(describing: error)
        if let file = (error as? ImageError)?.file, text.hasPrefix(file + ": ") {
            return String(text.dropFirst(file.count + 2))
        }
        return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
    }

    private static func listing(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw DatasetError.unreadableFile(path: path, reason: "cannot list the folder (\(error.localizedDescription))")
        }
    }

    /// Non-hidden files under `folder`, `os.walk` order with sorted folders and names.
    private static func walk(_ folder: String) throws -> [String] {
        let fm = FileManager.default
        var result: [String] = []
        var folders: [String] = [folder]
        var listings: [String: [String]] = [:]
        // Collect every folder first so they can be visited in sorted path order (Keras sorts
        // the os.walk tuples, i.e. by folder path).
        while let current = folders.popLast() {
            let names = try listing(current).filter { !$0.hasPrefix(".") }
            listings[current] = names
            for name in names where isRealDirectory(current + "/" + name, fm) {
                folders.append(current + "/" + name)
            }
        }
        for current in listings.keys.sorted(by: pythonStringOrder) {
            for name in listings[current]!.sorted(by: pythonStringOrder) {
                let path = current + "/" + name
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
                result.append(path)
            }
        }
        return result
    }

    /// A directory that is not a symbolic link (`os.walk(followlinks=False)` does not descend).
    private static func isRealDirectory(_ path: String, _ fm: FileManager) -> Bool {
        guard let type = try? fm.attributesOfItem(atPath: path)[.type] as? FileAttributeType else { return false }
        return type == .typeDirectory
    }
}

/// Python's `sorted` order for strings: by Unicode scalar (= UTF-8 byte order).
func pythonStringOrder(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

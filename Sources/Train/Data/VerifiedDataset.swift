import Digest
import Foundation
import Inference
import Tensor

/// Training or evaluation data from verified photos (``VerifiedLabels``), merged with the
/// photos of a class-folder set (`rubble train --data`) when there is one.
///
/// - **Classes**: the folder's when there is a folder (every label must be one of them);
///   else `classNames` when given (fixing the order: `--classes a,b`), else the distinct
///   labels in byte order. A label outside the classes is
///   ``VerifiedLabelsError/unknownLabel(_:value:classes:)``, checked before any photo is read.
/// - **De-duplication by content** (SHA-256 of the file's bytes): a verified photo
///   byte-identical to a folder photo is left out when the folder puts it in the same class
///   (it is there already) and is ``VerifiedLabelsError/conflictsWithFolder(_:path:label:folderFile:folderLabel:)``
///   otherwise; one byte-identical to an earlier verified photo is left out when both have the
///   same label and is ``VerifiedLabelsError/conflictingCopies(_:path:label:other:otherPath:otherLabel:)``
///   otherwise. The folder's own photos are kept as they are (as `--data` alone trains).
/// - **Order**: the folder's photos in folder order, then the verified ones in the source's order.
public struct VerifiedDataset: Sendable {
    /// What the merge did, for the run's log.
    public struct Counts: Sendable, Equatable {
        /// Photos of the folder (0 without one).
        public var folderPhotos = 0
        /// Verified photos given (after ``VerifiedLabels`` left out repeated rows).
        public var verifiedPhotos = 0
        /// Verified photos left out: byte-identical to a folder photo of the same class.
        public var sameAsFolderPhoto = 0
        /// Verified photos left out: byte-identical to an earlier verified photo with the same label.
        public var sameAsVerifiedPhoto = 0

        /// Verified photos that joined the data.
        public var added: Int { verifiedPhotos - sameAsFolderPhoto - sameAsVerifiedPhoto }
        /// All photos of the data.
        public var total: Int { folderPhotos + added }
    }

    public let examples: PhotoListExamples
    public let counts: Counts
    public let verified: VerifiedLabels
    /// The folder's root, when merged with one.
    public let folder: URL?

    /// - Parameters:
    ///   - folder: a class-folder set whose classes are the run's (`--data`); its pipeline is
    ///     the data's.
    ///   - classNames: the classes in label order when there is no folder (`nil`: the labels,
    ///     sorted); with a folder, they must be the folder's.
    ///   - pipeline: decoding and preprocessing when there is no folder.
    /// - Throws: ``VerifiedLabelsError`` (unknown label, unreadable photo, conflicting
    ///   copies), ``DatasetError`` (classes that differ from the folder's or repeat a name, an
    ///   unreadable folder photo).
    public init(_ verified: VerifiedLabels, mergingWith folder: ImageFolderExamples? = nil, classNames: [String]? = nil,
                pipeline: ImagePipeline = ImagePipeline()) throws {
        let classes: [String]
        if let folder {
            if let classNames, classNames != folder.classNames {
                throw DatasetError.classMismatch(path: folder.root.path, expected: classNames, found: folder.classNames)
            }
            classes = folder.classNames
        } else if let classNames {
            guard !classNames.isEmpty, Set(classNames).count == classNames.count,
                  !classNames.contains(where: \.isEmpty) else {
                throw DatasetError.invalidArgument("classes \(classNames): give each class once, none empty")
            }
            classes = classNames
        } else {
            classes = verified.labels
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var verifiedLabels: [Int] = []
        for entry in verified.entries {
            guard let label = index[entry.label] else {
                throw VerifiedLabelsError.unknownLabel(entry.source, value: entry.label, classes: classes)
            }
            verifiedLabels.append(label)
        }

        let folderPhotos = folder.map { $0.files.map { PhotoListExamples.Photo(path: Array($0.path.utf8), shownPath: $0.path) } } ?? []
        let verifiedPhotos = verified.entries.map { PhotoListExamples.Photo(path: $0.path) }
        let verifiedDigests = try Self.digests(verifiedPhotos).enumerated().map { i, result in
            switch result {
            case .success(let digest): return digest
            case .failure(let failure):
                throw VerifiedLabelsError.unreadablePhoto(verified.entries[i].source, path: verifiedPhotos[i].shownPath,
                                                          reason: failure.reason)
            }
        }
        var folderByDigest: [SHA256Digest: [Int]] = [:]
        if let folder {
            for (i, result) in Self.digests(folderPhotos).enumerated() {
                switch result {
                case .success(let digest): folderByDigest[digest, default: []].append(i)
                case .failure(let failure):
                    throw DatasetError.unreadableFile(path: folder.files[i].path, reason: failure.reason)
                }
            }
        }

        var counts = Counts(folderPhotos: folderPhotos.count, verifiedPhotos: verifiedPhotos.count)
        var photos = folderPhotos
        var labels = folder?.labels ?? []
        var firstVerified: [SHA256Digest: Int] = [:]
        for (i, digest) in verifiedDigests.enumerated() {
            let entry = verified.entries[i]
            if let matches = folderByDigest[digest] {
                if let other = matches.first(where: { labels[$0] != verifiedLabels[i] }) {
                    throw VerifiedLabelsError.conflictsWithFolder(entry.source, path: verifiedPhotos[i].shownPath,
                                                                  label: entry.label, folderFile: folderPhotos[other].shownPath,
                                                                  folderLabel: classes[labels[other]])
                }
                counts.sameAsFolderPhoto += 1
                continue
            }
            if let first = firstVerified[digest] {
                guard verifiedLabels[first] == verifiedLabels[i] else {
                    let other = verified.entries[first]
                    throw VerifiedLabelsError.conflictingCopies(entry.source, path: verifiedPhotos[i].shownPath,
                                                                label: entry.label, other: other.source,
                                                                otherPath: verifiedPhotos[first].shownPath,
                                                                otherLabel: other.label)
                }
                counts.sameAsVerifiedPhoto += 1
                continue
            }
            firstVerified[digest] = i
            photos.append(verifiedPhotos[i])
            labels.append(verifiedLabels[i])
        }
        self.examples = try PhotoListExamples(photos: photos, labels: labels, classNames: classes,
                                              pipeline: folder?.pipeline ?? pipeline)
        self.counts = counts
        self.verified = verified
        self.folder = folder?.root
    }

    /// One line for the start of a run, e.g. `labels.csv: 12 verified photos (damage 5,
    /// no_damage 7); 3 rows without a verdict skipped; merged with data/train (40 photos): 10
    /// added, 2 left out as duplicates (2 of folder photos, 0 of other verified photos); 50 photos`.
    public var summary: String {
        var line = verified.summary
        let duplicates = counts.sameAsFolderPhoto + counts.sameAsVerifiedPhoto
        if let folder {
            line += "; merged with \(folder.path) (\(counts.folderPhotos) photos): \(counts.added) added, "
                + "\(duplicates) left out as duplicates (\(counts.sameAsFolderPhoto) of folder photos, "
                + "\(counts.sameAsVerifiedPhoto) of other verified photos)"
        } else if duplicates > 0 {
            line += "; \(duplicates) left out as byte-identical copies of other verified photos"
        }
        return line + "; \(counts.total) photo\(counts.total == 1 ? "" : "s")"
    }

    /// SHA-256 of each file's bytes, over the cores.
    static func digests(_ photos: [PhotoListExamples.Photo]) -> [Result<SHA256Digest, BytePath.Failure>] {
        var results = [Result<SHA256Digest, BytePath.Failure>](repeating: .failure(BytePath.Failure(reason: "")),
                                                                count: photos.count)
        results.withUnsafeMutableBufferPointer { buffer in
            let out = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachRange(photos.count) { range in
                for i in range {
                    do {
                        out.value[i] = .success(SHA256.hash(try BytePath.read(photos[i].path)))
                    } catch let failure as BytePath.Failure {
                        out.value[i] = .failure(failure)
                    } catch {
                        out.value[i] = .failure(BytePath.Failure(reason: "\(error)"))
                    }
                }
            }
        }
        return results
    }
}

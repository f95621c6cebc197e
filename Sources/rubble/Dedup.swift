import ArgumentParser
import Foundation
import Screening
import Vision

extension PerceptualHashKind: ExpressibleByArgument {}

/// `rubble dedup`: groups of exact and near-duplicate photos in a folder.
struct DedupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedup",
        abstract: "Find exact and near-duplicate photos in a folder.",
        discussion: """
            Walks DIR recursively (hidden files and folders skipped; .jpg/.jpeg/.png decoded, other \
            picture formats reported as unreadable) in sorted path order. File names are bytes: a \
            name that is not valid UTF-8 is shown with each such byte (and each control character) \
            as \\xHH and a backslash as \\\\ (printf '%b' turns it back into the name). A sub-folder \
            that cannot be read, a broken symbolic link and (without --follow-symlinks) a link to \
            a folder or to a file outside DIR are reported as unreadable, not read. Each photo is \
            decoded, hashed and dropped before the next (one at a time per core). Exact duplicates have the \
            same SHA-256 of their bytes; near duplicates have a perceptual hash (as Python's imagehash \
            computes it, on the full-size photo) within --threshold bits of a kept photo's. The kept \
            photo of each group is its first in sorted path order; every duplicate is within the \
            threshold of it (groups do not chain).

            Prints one block per group (the kept photo, then each duplicate with its kind and \
            distance) and a summary line: images, unique, exact duplicates, near duplicates, \
            unreadable. With --json, prints one JSON object instead: directory, hash, threshold, \
            counts {images, unique, exact_duplicates, near_duplicates, unreadable}, groups [{kept, \
            hash, digest, count, duplicates [{path, kind, distance}]}], images [{path, status, \
            digest, hash, duplicate_of, distance, error}] and unreadable [{path, error}]. \
            Unreadable files are reported on standard error and never stop the run (exit status 0).
            """)

    @Option(help: "Perceptual hash: phash, dhash or ahash.")
    var hash: PerceptualHashKind = .phash

    @Option(help: "Largest Hamming distance (of 64 bits) between near duplicates.")
    var threshold: Int = 10

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Print the per-stage timing table on standard error.")
    var timing = false

    @Flag(help: "Follow symbolic links, also to files and folders outside DIR.")
    var followSymlinks = false

    @Argument(help: "Folder of photos.")
    var directory: String

    func validate() throws {
        if threshold < 0 || threshold > 64 { throw ValidationError("--threshold must be in 0...64") }
    }

    func run() throws {
        var times = StageTimes()
        let start = ContinuousClock.now
        let report: DedupReport
        do {
            var deduplicator = Deduplicator(hashKind: hash, threshold: threshold)
            deduplicator.followSymlinks = followSymlinks
            report = try deduplicator.run(URL(fileURLWithPath: directory), times: &times)
        } catch let error as ScreenError {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        for image in report.unreadable { warn(image.error ?? image.path) }
        if json {
            print(String(decoding: try report.json(), as: UTF8.self))
        } else {
            print(report.text())
        }
        if timing {
            let elapsed = ContinuousClock.now - start
            let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            FileHandle.standardError.write(Data((times.table(total: (report.images.count, total)) + "\n").utf8))
        }
    }
}

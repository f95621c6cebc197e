import ArgumentParser
import Foundation
import Screening
import Train
import Vision
import AtomicFiles

/// `rubble verdicts`: puts a team's verification marks into the store.
struct VerdictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdicts",
        abstract: "Store verification marks (report.html's verified_labels.csv) in a store, for retraining and evaluation.",
        discussion: """
            FILE is report.html's export path,predicted,verified_label (or path,label): each path as \
            results.csv shows it. Every marked photo gets a verdict with --verifier and the time; \
            a later verdict on the same photo supersedes an earlier one (both are kept). rubble \
            train --db and rubble evaluate --db then use every photo with a verdict. A path the \
            store does not know, or an empty label, is an error naming the line; nothing is stored then.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "Who verified the photos.")
    var verifier: String

    @Argument(help: "The verdicts: path,predicted,verified_label or path,label (CSV with a header).")
    var file: String

    func validate() throws {
        if store.url == nil { throw ValidationError("--db is required") }
        if verifier.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--verifier must name someone") }
    }

    func run() throws {
        guard let text = FileManager.default.contents(atPath: file).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ValidationError("\(file): cannot read the file")
        }
        let table = CSVFormat.parse(text)
        guard let header = table.first?.map({ $0.lowercased() }), let pathColumn = header.firstIndex(of: "path"),
              let labelColumn = header.firstIndex(of: "verified_label") ?? header.firstIndex(of: "label") else {
            throw ValidationError("\(file): the header must be path,predicted,verified_label or path,label")
        }
        var marks: [(line: Int, path: String, label: String)] = []
        for (n, row) in table.dropFirst().enumerated() where row.count > max(pathColumn, labelColumn) {
            let label = row[labelColumn].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { continue }
            marks.append((n + 2, row[pathColumn], label))
        }
        do {
            let opened = try store.open()
            let ids = try opened.photoIDs(shownPaths: marks.map(\.path))
            var verdicts: [(photo: Int, label: String)] = []
            for mark in marks {
                guard let id = ids[mark.path] else {
                    throw ValidationError("\(file) line \(mark.line): the store \(opened.location) has no photo \(mark.path)")
                }
                verdicts.append((id, mark.label))
            }
            try opened.addVerdicts(verdicts, verifier: verifier)
            FileHandle.standardError.write(Data("rubble verdicts: \(verdicts.count) verdicts by \(verifier) stored in \(opened.location)\n".utf8))
        } catch let error as ValidationError {
            throw error
        } catch {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
    }
}

extension StoreOptions {
    /// Every photo of the store with a verdict, as verified labels for training or evaluation.
    /// Uploads to `rubble serve` have no file: their bytes are written once to
    /// `uploads/<digest>.jpg|png` (atomically) and trained on from there.
    func verifiedLabels(uploadsIn uploads: URL) throws -> VerifiedLabels {
        let opened = try open()
        let verdicts = try opened.verdicts()
        var files: [Int: [UInt8]] = [:]
        let stored = verdicts.filter(\.imageInStore)
        if !stored.isEmpty {
            try FileManager.default.createDirectory(at: uploads, withIntermediateDirectories: true)
            for start in stride(from: 0, to: stored.count, by: 64) {
                let chunk = stored[start..<min(start + 64, stored.count)]
                let bytes = try opened.images(of: chunk.map(\.photo))
                for v in chunk {
                    guard let data = bytes[v.photo], !v.digest.isEmpty, v.digest.allSatisfy(\.isHexDigit) else { continue }
                    let kind = ImageFormat.detect(data.prefix(ImageFormat.sniffLength)) == .png ? "png" : "jpg"
                    let file = uploads.appendingPathComponent("\(v.digest).\(kind)")
                    if !FileManager.default.fileExists(atPath: file.path) { try AtomicFile.write(Data(data), to: file) }
                    files[v.photo] = Array(file.path.utf8)
                }
            }
        }
        let entries = verdicts.map { v in
            VerifiedLabels.Entry(path: files[v.photo] ?? v.filePath, label: v.label,
                                 source: VerifiedLabels.Source(file: opened.location, record: "photo \(v.photo), \(v.path)"))
        }
        return try VerifiedLabels(origin: opened.location, entries: entries)
    }
}

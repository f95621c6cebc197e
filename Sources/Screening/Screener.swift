import AtomicFiles
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GradCAM
import Inference
import Layers
import Tensor
import Vision

/// Screens the photos of a folder (and, in follow mode, those that arrive later): drops exact
/// and near duplicates and photos that are too small, classifies the rest in batches, explains
/// the flagged ones with Grad-CAM and keeps `results.csv` and `report.html` current in the
/// output folder. A photo that cannot be read is a row with an error, never a failure of the
/// run.
///
/// Per batch: read + SHA-256 + header, decode (JPEG at the DCT scale just above the model
/// input) and pHash run over the cores; with ``ScreenOptions/overlap`` they run for the next
/// batch on a background thread while the model classifies this one. Duplicate decisions are
/// made in path order on the calling thread, so results do not depend on timing. With
/// Grad-CAM on, the batch is classified through Grad-CAM's split of the model, which yields
/// every photo's maps at almost no extra cost (see `forward`), so explaining the flagged
/// photos only costs drawing and writing their panels (over the cores).
///
/// With a ``DamageAssessor``, the flagged photos of each batch are then read and decoded again
/// at the assessor's scale and scored for damage severity: the `severity` column of
/// `results.csv`, `segment/<stem>_segment.png` and the report's cards (see
/// `ScreenerAssessment.swift`).
///
/// Stage times (``ScreenSummary/times``): read+digest, decode, hash (wall time of each
/// parallel phase), dedup, classify (model input + forward, with the maps), explain (panels),
/// severity (with an assessor: re-decoding, assessing and writing the panels of flagged
/// photos), write (results.csv and report.html).
///
/// Before anything is written, ``run(directory:shouldStop:)`` checks the folder to screen and
/// the output folder: one that holds `results.csv` or `report.html` of an earlier run is
/// refused unless ``ScreenOptions/overwrite`` (nothing of it is touched), and temporary files
/// left in it by an interrupted atomic write (``OutputLeftovers``) are removed at the start.
/// The output folder, its `gradcam/` and `segment/` are never screened, even when they lie inside the
/// screened folder (or are it).
///
/// A photo whose probabilities come out NaN or infinite is an error row (never a label, never
/// "not flagged"); ``ScreenSummary/modelFailedOnEveryPhoto`` tells a run where that happened to
/// every photo the model saw. With ``ScreenOptions/follow``, a photo that failed as empty,
/// truncated, corrupt or unreadable is screened again once the file changes and settles, and
/// its row is replaced.
///
/// Hashes are computed on the photo as decoded for the model: for JPEGs larger than twice the
/// model input that is a reduced DCT scale, whose pHash can differ from imagehash's on the
/// full-size photo by a few bits (`rubble dedup` decodes at full size and matches imagehash
/// exactly).
public final class Screener {
    public let model: any Layer
    public let pipeline: ImagePipeline
    public let options: ScreenOptions
    public let output: URL
    /// Scores the damage severity of flagged photos (nil: no severity stage).
    public let assessor: (any DamageAssessor)?
    /// Receives warnings (unreadable photos, files that could not be written).
    public var warn: (String) -> Void = { _ in }
    /// Receives a progress line after each batch.
    public var progress: (ScreenSummary) -> Void = { _ in }

    private let gradCAM: GradCAM?
    private var index: DuplicateIndex
    private var representatives: [String] = []
    private var results: ScreenResults
    private var report: ScreenReport
    private var reportThrottle = WriteThrottle()
    private var reportDirty = true
    var stems = Set<String>()
    var summary = ScreenSummary()
    let gradcamDirectory: URL
    /// `segment/`: the assessor's panels.
    let severityDirectory: URL
    /// The resolved output folder, as bytes (for links from the report to the photos).
    var outputPath: [UInt8] = []
    /// Rows of photos whose failure may go away when the file changes, by relative path.
    private var retryRows: [String: Int] = [:]
    /// Relative paths to hand to the watcher for a retry after the current batch.
    private var newRetries: [String] = []

    /// `assessor`, when given, scores the damage severity of every flagged photo.
    public init(model: any Layer, pipeline: ImagePipeline, options: ScreenOptions, output: URL,
                assessor: (any DamageAssessor)? = nil) throws {
        guard !options.classNames.isEmpty, options.positive >= 0, options.positive < options.classNames.count else {
            throw ScreenError.invalidOption("positive class \(options.positive) is not one of \(options.classNames.count) classes")
        }
        guard options.threshold >= 0, options.threshold <= 1 else {
            throw ScreenError.invalidOption("threshold \(options.threshold) is not in [0, 1]")
        }
        guard options.batchSize >= 1 else { throw ScreenError.invalidOption("batch size \(options.batchSize) is not >= 1") }
        guard (0...64).contains(options.duplicateThreshold) else {
            throw ScreenError.invalidOption("duplicate threshold \(options.duplicateThreshold) is not in 0...64")
        }
        guard options.minimumSide >= 0 else { throw ScreenError.invalidOption("minimum side \(options.minimumSide) is not >= 0") }
        guard options.pollInterval.isFinite, options.pollInterval > 0 else {
            throw ScreenError.invalidOption("poll interval \(options.pollInterval) is not a positive number of seconds")
        }
        guard options.stableSeconds.isFinite, options.stableSeconds >= 0 else {
            throw ScreenError.invalidOption("stable time \(options.stableSeconds) is not a number of seconds >= 0")
        }
        if let maxSeconds = options.maxSeconds, !(maxSeconds.isFinite && maxSeconds >= 0) {
            throw ScreenError.invalidOption("maximum run time \(maxSeconds) is not a number of seconds >= 0")
        }
        if let side = assessor?.imageSide, side < 1 {
            throw ScreenError.invalidOption("the damage assessor's image side \(side) is not >= 1")
        }
        self.model = model
        self.pipeline = pipeline
        self.options = options
        self.output = output
        self.assessor = assessor
        gradCAM = options.explain ? try GradCAM(model: model, layer: options.gradCAMLayer) : nil
        index = DuplicateIndex(threshold: options.duplicateThreshold)
        results = ScreenResults(directory: output, classNames: options.classNames, severityColumn: assessor != nil)
        gradcamDirectory = output.appendingPathComponent("gradcam", isDirectory: true)
        severityDirectory = output.appendingPathComponent(Self.severityPanelFolder, isDirectory: true)
        report = ScreenReport(directory: "", classNames: options.classNames, positive: options.positive,
                              threshold: options.threshold, model: options.modelDescription)
        if assessor != nil {
            summary.assessesSeverity = true
            summary.times = StageTimes(["read+digest", "decode", "hash", "dedup", "classify", "explain", "severity", "write"])
        }
    }

    /// The rows written so far.
    public var rows: [ScreenRow] { results.rows }

    /// Refuses an output folder that is a file, or that holds the results of an earlier run
    /// (`results.csv` or `report.html`) unless `overwrite`. Writes nothing.
    public static func checkOutput(_ output: URL, overwrite: Bool) throws {
        let folder = Array(output.standardizedFileURL.path.utf8)
        if let info = POSIXPath.info(folder), info.st_mode & S_IFMT != S_IFDIR {
            throw ScreenError.outputNotAFolder(output.path)
        }
        guard !overwrite else { return }
        for name in [ScreenResults.fileName, ScreenReport.fileName] {
            let file = output.appendingPathComponent(name)
            if POSIXPath.linkInfo(Array(file.standardizedFileURL.path.utf8)) != nil {
                throw ScreenError.outputHoldsResults(file.path)
            }
        }
    }

    /// Screens `directory` until done (or, in follow mode, until `shouldStop` returns true or
    /// ``ScreenOptions/maxSeconds`` pass). Writes `results.csv`, `report.html`, `gradcam/` (and,
    /// with an assessor, `segment/`) into the output folder (created if needed); returns the
    /// counts and stage times.
    ///
    /// - Throws: before writing anything, ``ScreenError/notADirectory(_:)`` or
    ///   ``ScreenError/unreadableFolder(_:reason:)`` for `directory`,
    ///   ``ScreenError/outputHoldsResults(_:)`` or ``ScreenError/outputNotAFolder(_:)`` for the
    ///   output folder; later, ``ScreenError/writeFailed(file:reason:)``.
    public func run(directory: URL, shouldStop: @escaping () -> Bool = { false }) throws -> ScreenSummary {
        let start = ContinuousClock.now
        // Everything is checked before the first byte is written.
        try PhotoDirectory.checkFolder(directory)
        try Self.checkOutput(output, overwrite: options.overwrite)
        for folder in [gradcamDirectory] + (assessor != nil ? [severityDirectory] : []) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw ScreenError.writeFailed(file: folder.path, reason: PhotoPreparer.reason(error))
            }
        }
        outputPath = POSIXPath.realpath(Array(output.standardizedFileURL.path.utf8)) ?? Array(output.standardizedFileURL.path.utf8)
        let leftovers = OutputLeftovers.remove(in: [output, gradcamDirectory, severityDirectory])
        if !leftovers.isEmpty {
            warn("removed \(leftovers.count) temporary file\(leftovers.count == 1 ? "" : "s") left in \(output.path) by an interrupted run")
        }
        if options.overwrite {
            OutputLeftovers.removePanels(in: gradcamDirectory)
            OutputLeftovers.removePanels(in: severityDirectory, suffix: "_segment.png")
        }
        report.directory = directory.relativePath
        report.assessesSeverity = assessor != nil
        var watcher = DirectoryWatcher(directory: directory, excluding: [output, gradcamDirectory, severityDirectory],
                                       waitForStableFiles: options.follow)
        watcher.followSymlinks = options.followSymlinks
        watcher.stableSeconds = options.stableSeconds
        watcher.emptyStableSeconds = 5 * options.stableSeconds
        func timeUp() -> Bool { options.maxSeconds.map { seconds(since: start) >= $0 } ?? false }
        func stop() -> Bool { shouldStop() || timeUp() }
        try flush(force: true)  // header and an empty report right away

        while !stop() {
            let ready = try watcher.poll()
            if ready.isEmpty {
                guard options.follow else { break }
                // Idle: whatever the write throttle held back goes to disk now.
                try flush(force: true)
                // sleep in short slices so a stop request is seen quickly
                let interval = min(options.pollInterval, 86_400)  // finite and positive (checked in init)
                let wake = ContinuousClock.now.advanced(by: .milliseconds(Int(interval * 1000)))
                while ContinuousClock.now < wake && !stop() { usleep(useconds_t(min(50_000, interval * 1e6))) }
                continue
            }
            try process(ready, stop: stop)
            for key in newRetries { watcher.retryWhenChanged(key) }
            newRetries.removeAll()
            summary.seconds = seconds(since: start)
        }
        summary.stopped = stop()
        report.running = false
        reportDirty = true
        summary.seconds = seconds(since: start)
        try flush(force: true)
        summary.seconds = seconds(since: start)
        return summary
    }

    // MARK: - Batches

    /// Work prepared off the main thread.
    private final class Pending: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var photos: [PreparedPhoto] = []
        var times = StageTimes()
    }

    private func startPreparing(_ files: [PhotoFile]) -> Pending {
        let pending = Pending()
        let preparer = PhotoPreparer(hashKind: .phash, minimumSide: options.minimumSide,
                                     decodeAtLeast: pipeline.imageSize, modelInput: pipeline,
                                     thumbnail: options.explain ? GradCAMPanel() : nil)
        let known = index
        let job = UncheckedSendable((pending, files, preparer, known))
        let work: @Sendable () -> Void = {
            let (pending, files, preparer, known) = job.value
            pending.photos = preparer.prepare(files, known: known, times: &pending.times)
            pending.done.signal()
        }
        if options.overlap {
            DispatchQueue.global(qos: .userInitiated).async(execute: work)
        } else {
            work()
        }
        return pending
    }

    private func process(_ files: [PhotoFile], stop: () -> Bool) throws {
        let batches = stride(from: 0, to: files.count, by: max(1, options.batchSize))
            .map { Array(files[$0..<min($0 + options.batchSize, files.count)]) }
        var pending: Pending? = startPreparing(batches[0])
        for b in batches.indices {
            guard let current = pending else { break }
            current.done.wait()
            pending = nil
            for stage in current.times.stages { summary.times.add(stage.name, items: stage.items, seconds: stage.seconds) }
            if b > 0 && stop() { break }  // the first batch of a poll is always finished
            let selected = decide(current.photos)
            if b + 1 < batches.count && !stop() { pending = startPreparing(batches[b + 1]) }
            try classify(selected)
            try flush(force: false)
            progress(summary)
            if pending == nil { break }
        }
        // A stop request leaves the files of later batches unhandled (they were never decided).
        if let pending { pending.done.wait() }
    }

    /// Photo slots of a batch, in order: the row so far, and the reduced photo if it goes to
    /// the model.
    struct Slot {
        var file: PhotoFile
        var row: ScreenRow
        var reduced: ReducedPhoto?
        var seconds: Double
        /// The row this one replaces (a retried photo).
        var replaces: Int?
        /// Whether to retry the photo when its file changes.
        var retry = false
        /// The file-name stem of its panels (flagged photos; unique in the run).
        var stem: String?
    }

    /// Duplicate and size decisions, in path order. Returns the batch's rows, with the photos
    /// to classify attached.
    private func decide(_ photos: [PreparedPhoto]) -> [Slot] {
        let clock = ContinuousClock.now
        var slots: [Slot] = []
        for photo in photos {
            var row = ScreenRow(path: photo.file.path)
            row.digest = photo.digest?.hex ?? ""
            var reduced: ReducedPhoto?
            let replaces = retryRows.removeValue(forKey: photo.file.relativePath)
            if replaces != nil {  // its earlier row counted as an unreadable photo
                summary.images -= 1
                summary.unreadable -= 1
            }
            var retry = false
            summary.images += 1
            switch photo.state {
            case .failed(let message):
                row.error = message
                summary.unreadable += 1
                retry = options.follow && photo.mayChange
                warn(message + (retry ? " (screened again if the file changes)" : ""))
            case .tooSmall(let w, let h):
                row.error = "too small: \(w)x\(h) (minimum \(options.minimumSide) px per side)"
                summary.tooSmall += 1
            case .knownCopy(let r, let d):
                row.duplicateOf = representatives[r]
                row.duplicateKind = "exact"
                row.duplicateDistance = d
                summary.exactDuplicates += 1
            case .ready(let hash, let photoReduced):
                row.phash = hash.hex
                switch index.add(digest: photo.digest!, hash: hash) {
                case .unique:
                    representatives.append(photo.file.path)
                    reduced = photoReduced
                case .exact(let r, let d):
                    row.duplicateOf = representatives[r]
                    row.duplicateKind = "exact"
                    row.duplicateDistance = d
                    summary.exactDuplicates += 1
                case .near(let r, let d):
                    row.duplicateOf = representatives[r]
                    row.duplicateKind = "near"
                    row.duplicateDistance = d
                    summary.nearDuplicates += 1
                }
            }
            slots.append(Slot(file: photo.file, row: row, reduced: reduced, seconds: photo.seconds,
                              replaces: replaces, retry: retry))
        }
        summary.times.add("dedup", items: photos.count, seconds: seconds(since: clock))
        return slots
    }

    /// Class probabilities for a batch; with Grad-CAM on, also every class's map for every
    /// image. Grad-CAM's split of the model makes that nearly free: the prefix up to the last
    /// convolution (all but a sliver of the FLOPs) runs once without a graph, the logits come
    /// from the small suffix, and each class costs one pass back through the suffix only. So
    /// the photos that end up flagged need no second forward pass.
    private func forward(_ input: Tensor) throws -> (probabilities: [[Float]], explanations: [ImageExplanation]?) {
        if let gradCAM {
            do {
                let explanations = try GradCAMReport.explain(input, with: gradCAM)
                return (explanations.map(\.probabilities), explanations)
            } catch {
                warn("Grad-CAM failed on a batch (\(error)); classifying it without maps")
            }
        }
        let output = try withoutGradients { try model(input) }
        let k = output.shape[1]
        let values = output.scalars
        return ((0..<output.shape[0]).map { Array(values[$0 * k..<($0 + 1) * k]) }, nil)
    }

    /// The batch tensor of the photos' model inputs.
    private func batch(_ inputs: [[Float]]) -> Tensor {
        let size = pipeline.imageSize, length = size * size * 3
        return Tensor(unsafeUninitializedShape: Shape([inputs.count, size, size, 3])) { buffer in
            for (n, input) in inputs.enumerated() {
                precondition(input.count == length, "model input of \(input.count) values, expected \(length)")
                input.withUnsafeBufferPointer { buffer.baseAddress!.advanced(by: n * length).update(from: $0.baseAddress!, count: length) }
            }
        }
    }

    private func classify(_ slots: [Slot]) throws {
        var slots = slots
        let chosen = slots.indices.filter { slots[$0].reduced != nil }
        if !chosen.isEmpty {
            var clock = ContinuousClock.now
            let (probabilities, explanations) = try forward(batch(chosen.map { slots[$0].reduced!.input }))
            let classifySeconds = seconds(since: clock)
            summary.times.add("classify", items: chosen.count, seconds: classifySeconds)
            let k = probabilities.first?.count ?? 0
            guard k == options.classNames.count else {
                throw ScreenError.invalidOption("the model has \(k) outputs but \(options.classNames.count) class names")
            }
            var flagged: [(slot: Int, explanation: ImageExplanation?)] = []
            var classified = 0
            for (n, i) in chosen.enumerated() {
                let p = probabilities[n]
                slots[i].seconds += classifySeconds / Double(chosen.count)
                guard p.allSatisfy(\.isFinite) else {
                    // A NaN compares false with everything: as a label it would read "intact" and
                    // never be flagged. It is an error, and says which values came out.
                    let values = zip(options.classNames, p).map { "p_\($0)=\($1.isNaN ? "nan" : "\($1)")" }.joined(separator: ", ")
                    let message = "\(slots[i].row.path): the model's output is not finite (\(values)): not classified; "
                        + "the weights or the model are broken"
                    slots[i].row.error = message
                    summary.nonFinite += 1
                    warn(message)
                    continue
                }
                classified += 1
                let best = p.indices.max { p[$0] < p[$1] } ?? 0
                slots[i].row.probabilities = p
                slots[i].row.label = options.classNames[best]
                if p[options.positive] >= options.threshold {
                    slots[i].row.flagged = true
                    var explanation = explanations?[n]
                    if let e = explanation, !e.maps.allSatisfy({ $0.values.allSatisfy(\.isFinite) }) {
                        warn("\(slots[i].row.path): the Grad-CAM heat map is not finite; no panel drawn")
                        explanation = nil
                    }
                    flagged.append((i, explanation))
                }
            }
            summary.classified += classified
            summary.flagged += flagged.count
            // One stem per flagged photo with a panel, in path order, shared by its panels.
            for f in flagged where f.explanation != nil || assessor != nil {
                slots[f.slot].stem = uniqueStem(for: slots[f.slot].row.path)
            }
            let explained = flagged.compactMap { f in f.explanation.map { (f.slot, $0) } }
            if !explained.isEmpty {
                clock = ContinuousClock.now
                writePanels(explained, in: &slots)
                let explainSeconds = seconds(since: clock)
                summary.times.add("explain", items: explained.count, seconds: explainSeconds)
                for (i, _) in explained { slots[i].seconds += explainSeconds / Double(explained.count) }
            }
            if let assessor, !flagged.isEmpty {
                clock = ContinuousClock.now
                assessSeverity(flagged.map(\.slot), in: &slots, with: assessor)
                let severitySeconds = seconds(since: clock)
                summary.times.add("severity", items: flagged.count, seconds: severitySeconds)
                for f in flagged { slots[f.slot].seconds += severitySeconds / Double(flagged.count) }
            }
        }
        for slot in slots {
            var row = slot.row
            row.milliseconds = slot.seconds * 1000
            let position: Int
            if let replaced = slot.replaces {
                results.replace(at: replaced, with: row)
                position = replaced
            } else {
                position = results.rows.count
                results.append(row)
            }
            if slot.retry {
                retryRows[slot.file.relativePath] = position
                newRetries.append(slot.file.relativePath)
            }
            if row.flagged {
                report.items.append(ScreenReport.Item(
                    path: row.path, probabilities: row.probabilities, label: row.label,
                    score: row.probabilities[options.positive], panel: row.panel,
                    original: ScreenReport.link(toPath: relativePath(of: slot.file.fileSystemPath)),
                    severity: row.severity, severitySummary: row.severitySummary, severityPanel: row.severityPanel))
            }
        }
        reportDirty = true
        report.summary = summary
    }

    /// Grad-CAM panels (the photo, then every class's map over it) for the flagged slots.
    private func flush(force: Bool) throws {
        let clock = ContinuousClock.now
        do {
            try results.flush(force: force)
            if reportDirty && (force || reportThrottle.allowsWrite()) {
                report.summary = summary
                let report = self.report
                let url = output.appendingPathComponent(ScreenReport.fileName)
                try reportThrottle.measure { try report.write(to: url) }
                reportDirty = false
            }
        } catch {
            throw ScreenError.writeFailed(file: output.path, reason: "\(error)")
        }
        summary.times.add("write", items: 0, seconds: seconds(since: clock))
    }
}

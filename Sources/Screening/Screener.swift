import AtomicFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Inference
import Layers
import Tensor
import Vision

/// Screens the photos of a folder (and, in follow mode, those that arrive later) through a
/// ``ScreeningStore``: each new photo is read once (SHA-256 digest, EXIF), added to the store
/// and queued for the model; an in-process ``ScreenWorker`` answers the queue (other machines'
/// `rubble worker`s may share it through PostgreSQL); `results.csv`, `report.html`,
/// `gradcam/` and `segment/` are exports of the store (``ScreenExport``), refreshed every few
/// seconds and at the end. A photo that cannot be read is a row with an error, never a failure
/// of the run.
///
/// Resumable: a photo (same name, same digest) that already has a result for this model is
/// not screened again, so rerunning a screen that was stopped or killed continues where it
/// stopped, and the store ends as an uninterrupted run leaves it. The run returns once every
/// photo it queued has a final result, from whichever worker.
///
/// Before anything is written, ``run(directory:shouldStop:)`` checks the folder to screen and
/// the output folder: one that holds `results.csv` or `report.html` while the store has no run
/// yet (the files of another run, or of a Rubble without a store) is refused unless
/// ``ScreenOptions/overwrite``. Temporary files left by an interrupted atomic write
/// (``OutputLeftovers``) are removed at the start. The output folder, its `gradcam/` and
/// `segment/` are never screened, even when they lie inside the screened folder (or are it).
///
/// With ``ScreenOptions/follow``, a photo that failed as empty, truncated, corrupt or
/// unreadable is screened again once the file changes and settles, and its row replaced; a
/// folder that disappears is waited for (a warning), and screened on when it is back.
public final class Screener {
    public let store: ScreeningStore
    public let options: ScreenOptions
    public let output: URL
    public let worker: ScreenWorker
    /// Receives warnings (unreadable photos, files that could not be written).
    public var warn: (String) -> Void = { _ in } {
        didSet { worker.warn = warn }
    }
    /// Receives a progress line after each batch.
    public var progress: (ScreenSummary) -> Void = { _ in }
    /// Seconds between refreshes of the exports (the end of the run always writes them).
    public var exportInterval = 3.0

    private let storedModel: StoredModel
    private var export: ScreenExport
    private let gradcamDirectory: URL
    private let severityDirectory: URL

    /// `model` answers the store's jobs for `identity` (its fingerprint decides which results
    /// count as "already screened"); `relevance` is the optional first stage; `assessor`, when
    /// given, scores the damage severity of every flagged photo.
    public init(model: any Layer, pipeline: ImagePipeline, options: ScreenOptions, output: URL, store: ScreeningStore,
                identity: StoredModel, relevance: RelevanceFilter? = nil, assessor: (any DamageAssessor)? = nil) throws {
        guard !options.classNames.isEmpty, options.positive >= 0, options.positive < options.classNames.count else {
            throw ScreenError.invalidOption("positive class \(options.positive) is not one of \(options.classNames.count) classes")
        }
        guard options.threshold >= 0, options.threshold <= 1 else {
            throw ScreenError.invalidOption("threshold \(options.threshold) is not in [0, 1]")
        }
        guard options.batchSize >= 1 else { throw ScreenError.invalidOption("batch size \(options.batchSize) is not >= 1") }
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
        guard identity.classNames == options.classNames else {
            throw ScreenError.invalidOption("the model identity's classes \(identity.classNames) differ from \(options.classNames)")
        }
        self.store = store
        self.options = options
        self.output = output
        storedModel = identity
        let modelID = try store.register(identity)
        worker = try ScreenWorker(store: store, modelID: modelID, classNames: options.classNames, model: model, pipeline: pipeline,
                                  duplicateThreshold: options.duplicateThreshold, gradCAMLayer: options.gradCAMLayer,
                                  relevance: relevance, assessor: assessor)
        worker.batchSize = options.batchSize
        worker.overlap = options.overlap
        export = ScreenExport(store: store, modelID: modelID, classNames: options.classNames, output: output,
                              positive: options.positive, threshold: options.threshold, modelDescription: options.modelDescription)
        export.severityColumn = assessor != nil
        export.relevanceColumn = relevance != nil
        gradcamDirectory = output.appendingPathComponent(ScreenExport.gradcamKind, isDirectory: true)
        severityDirectory = output.appendingPathComponent(ScreenExport.severityPanelFolder, isDirectory: true)
    }

    /// The rows of the last export.
    public var rows: [ScreenRow] { ((try? export.currentRows()) ?? []).map(\.row) }

    /// Refuses an output folder that is a file, or (unless `overwrite`, or `resuming` a store
    /// that has runs) one that holds `results.csv` or `report.html`. Writes nothing.
    public static func checkOutput(_ output: URL, overwrite: Bool, resuming: Bool = false) throws {
        let folder = Array(output.standardizedFileURL.path.utf8)
        if let info = POSIXPath.info(folder), info.st_mode & S_IFMT != S_IFDIR {
            throw ScreenError.outputNotAFolder(output.path)
        }
        guard !overwrite && !resuming else { return }
        for name in [ScreenResults.fileName, ScreenReport.fileName] {
            let file = output.appendingPathComponent(name)
            if POSIXPath.linkInfo(Array(file.standardizedFileURL.path.utf8)) != nil {
                throw ScreenError.outputHoldsResults(file.path)
            }
        }
    }

    /// Screens `directory` until done (or, in follow mode, until `shouldStop` returns true or
    /// ``ScreenOptions/maxSeconds`` pass); returns the counts (over this screen's photos) and
    /// the local worker's stage times.
    public func run(directory: URL, shouldStop: @escaping () -> Bool = { false }) throws -> ScreenSummary {
        let start = ContinuousClock.now
        try PhotoDirectory.checkFolder(directory)
        let resuming = try store.latestRunModel() != nil
        try Self.checkOutput(output, overwrite: options.overwrite, resuming: resuming)
        for folder in [output, gradcamDirectory] + (export.severityColumn ? [severityDirectory] : []) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw ScreenError.writeFailed(file: folder.path, reason: PhotoPreparer.reason(error))
            }
        }
        let leftovers = OutputLeftovers.remove(in: [output, gradcamDirectory, severityDirectory])
        if !leftovers.isEmpty {
            warn("removed \(leftovers.count) temporary file\(leftovers.count == 1 ? "" : "s") left in \(output.path) by an interrupted run")
        }
        if options.overwrite && !resuming {
            OutputLeftovers.removePanels(in: gradcamDirectory)
            OutputLeftovers.removePanels(in: severityDirectory, suffix: "_segment.png")
        }
        let runID = try store.startRun(modelID: worker.modelID, folder: directory.relativePath, options: RunOptions(
            positive: options.positive, threshold: options.threshold, minimumSide: options.minimumSide, explain: options.explain))
        export.directory = directory.relativePath
        export.interval = exportInterval
        var watcher = DirectoryWatcher(directory: directory, excluding: [output, gradcamDirectory, severityDirectory],
                                       waitForStableFiles: options.follow)
        watcher.followSymlinks = options.followSymlinks
        watcher.stableSeconds = options.stableSeconds
        watcher.emptyStableSeconds = 5 * options.stableSeconds
        func timeUp() -> Bool { options.maxSeconds.map { seconds(since: start) >= $0 } ?? false }
        func stop() -> Bool { shouldStop() || timeUp() }
        var mine = Set<Int>()
        var relativePaths: [Int: String] = [:]
        var resumed = 0
        export.summaryPhotos = mine
        try refresh(force: true, running: true, resumed: resumed, start: start)

        var folderGone = false
        while !stop() {
            let ready: [PhotoFile]
            do {
                ready = try watcher.poll()
                if folderGone {
                    warn("\(directory.path) is back; screening it again")
                    folderGone = false
                }
            } catch let error as ScreenError where options.follow {
                // A folder that disappears (an unmounted share, a moved folder) is waited for.
                if !folderGone { warn("\(error); still following: waiting for the folder to come back") }
                folderGone = true
                ready = []
            }
            if !ready.isEmpty {
                let clock = ContinuousClock.now
                let arrivals = PhotoIntake.read(ready)
                let queued = try store.enqueue(arrivals, modelID: worker.modelID, runID: runID)
                for (file, outcome) in zip(ready, queued) {
                    mine.insert(outcome.photo)
                    relativePaths[outcome.photo] = file.relativePath
                    if !outcome.queued { resumed += 1 }
                }
                export.summaryPhotos = mine
                worker.addTime("intake", items: ready.count, seconds: seconds(since: clock))
            }
            // Work the queue until this screen's photos are all answered.
            var idle = true
            while !stop() {
                let answered = try worker.workOnce()
                for photo in worker.takeRetryable() {
                    if let key = relativePaths[photo], options.follow { watcher.retryWhenChanged(key) }
                }
                if answered > 0 {
                    idle = false
                    try refresh(force: false, running: true, resumed: resumed, start: start)
                    progress(export.summary)
                    continue
                }
                if try store.unfinished(mine, modelID: worker.modelID) == 0 { break }
                // Other workers hold the rest: wait for them (their leases expire if they die).
                usleep(100_000)
            }
            if ready.isEmpty && idle {
                guard options.follow else { break }
                try refresh(force: true, running: true, resumed: resumed, start: start)
                let interval = min(options.pollInterval, 86_400)
                let wake = ContinuousClock.now.advanced(by: .milliseconds(Int(interval * 1000)))
                while ContinuousClock.now < wake && !stop() { usleep(useconds_t(min(50_000, interval * 1e6))) }
            }
        }
        try worker.stop()
        let stopped = stop()
        try store.finishRun(runID)
        var summary = try refresh(force: true, running: false, resumed: resumed, start: start)
        summary.stopped = stopped
        return summary
    }

    @discardableResult
    private func refresh(force: Bool, running: Bool, resumed: Int, start: ContinuousClock.Instant) throws -> ScreenSummary {
        var local = worker.summary
        local.resumed = resumed
        local.seconds = seconds(since: start)
        let clock = ContinuousClock.now
        try export.refresh(force: force, running: running, local: local)
        worker.addTime("write", items: 0, seconds: seconds(since: clock))
        var summary = export.summary
        summary.seconds = seconds(since: start)
        return summary
    }
}

import ArgumentParser
import Foundation
import Screening
import Train
#if canImport(Glibc)
import Glibc
#endif

/// `rubble worker`: answers the photos a `rubble screen` queued in a shared store.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Work the queue of a shared store: classify (and explain, assess) photos other machines queued.",
        discussion: """
            Claims the queued photos of its model (the same model flags as the screen that queued \
            them: results are kept per model, by architecture, input, preprocessing, classes and \
            the weights' digest) in arrival order, under a lease of --lease-seconds renewed at \
            every stage; a worker that dies loses its lease and its photos return to the queue. \
            Duplicates are decided at one serialised point in the store, in arrival order, so every \
            worker gives the answer a single one would. Panels are stored in the store; rubble \
            export (or the screen) writes them out. The photos' files must be readable here at \
            the path the screen saw (a shared folder). Runs until SIGINT/SIGTERM, --max-seconds, \
            or with --until-idle once nothing is queued for its model.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var stages: ScreenStageOptions
    @OptionGroup var store: StoreOptions

    @Option(help: "Photos per forward pass.")
    var batchSize: Int = 32

    @Option(help: "Near-duplicate radius (must equal the store's, set by its first screen).")
    var duplicateThreshold: Int = 10

    @Option(help: "Grad-CAM layer (default: the last convolution).")
    var layer: String?

    @Option(help: "Seconds a claim lasts unless renewed.")
    var leaseSeconds: Double = 60

    @Option(help: "Seconds between looks at an empty queue.")
    var pollInterval: Double = 1

    @Option(help: "Stop after this many seconds (the batch in progress is completed).")
    var maxSeconds: Double?

    @Flag(help: "Exit once nothing is queued for this model.")
    var untilIdle = false

    @Option(help: "The worker's name in the store (default host:pid).")
    var name: String?

    func validate() throws {
        if store.url == nil { throw ValidationError("--db is required: the store the screen queued its photos in") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if !(0...64).contains(duplicateThreshold) { throw ValidationError("--duplicate-threshold must be in 0...64") }
        if !leaseSeconds.isFinite || leaseSeconds < 1 { throw ValidationError("--lease-seconds must be at least 1, got \(leaseSeconds)") }
        if !pollInterval.isFinite || pollInterval <= 0 { throw ValidationError("--poll-interval must be positive, got \(pollInterval)") }
        if let maxSeconds, !maxSeconds.isFinite || maxSeconds < 0 { throw ValidationError("--max-seconds must be >= 0") }
    }

    func run() throws {
        let loaded = try model.load()
        let relevance = try stages.relevanceFilter()
        let assessor = try stages.assessor()
        let classNames = loaded.classNames ?? (0..<loaded.classCount).map(String.init)
        let description = "\(loaded.architecture.rawValue) \(loaded.pipeline.imageSize)x\(loaded.pipeline.imageSize) (\(loaded.weightsDescription))"
        let worker: ScreenWorker
        do {
            let opened = try store.open()
            let identity = try loaded.storedModel(weights: model.weights, description: description, classNames: classNames)
            let modelID = try opened.register(identity)
            worker = try ScreenWorker(store: opened, modelID: modelID, classNames: classNames, model: loaded.network,
                                      pipeline: loaded.pipeline, duplicateThreshold: duplicateThreshold,
                                      gradCAMLayer: layer ?? loaded.architecture.defaultGradCAMLayer, relevance: relevance,
                                      assessor: assessor, name: name)
        } catch {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        worker.batchSize = batchSize
        worker.leaseSeconds = leaseSeconds
        worker.warn = { warn($0) }
        installStopHandlers()
        let start = ContinuousClock.now
        func stop() -> Bool {
            stopRequested.load(ordering: .relaxed)
                || maxSeconds.map { Double((ContinuousClock.now - start).components.seconds) >= $0 } ?? false
        }
        var answered = 0
        do {
            while !stop() {
                let n = try worker.workOnce()
                answered += n
                if n == 0 {
                    if untilIdle { break }
                    usleep(useconds_t(min(pollInterval, 60) * 1e6))
                }
            }
            try worker.stop()
        } catch {
            try? worker.stop()
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data("""
            rubble worker \(worker.name): \(answered) photos in \(String(format: "%.1f", seconds)) s
            \(worker.summary.times.table(total: (answered, seconds)))

            """.utf8))
    }
}

/// `rubble export`: results.csv, report.html and the panels from a store, at any time.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write results.csv, report.html, gradcam/ and segment/ from a store.",
        discussion: """
            Writes the results of one model (--model-fingerprint, default: the latest run's) as \
            rubble screen writes them, from the store alone: any machine that reaches the store can \
            export at any time, also while workers go on. Every file is written atomically.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "The model whose results to write (a fingerprint from the store; default: the latest run's model).")
    var modelFingerprint: String?

    @Option(help: "Positive class name for the report (default: 'damage' or 'damaged' if present, else the last class).")
    var positive: String?

    @Option(help: "Flag threshold shown in the report.")
    var threshold: Float = 0.5

    func validate() throws {
        if store.url == nil { throw ValidationError("--db is required") }
    }

    func run() throws {
        do {
            let opened = try store.open()
            let models = try opened.models()
            let chosen: (id: Int, model: StoredModel)
            if let modelFingerprint {
                guard let m = models.first(where: { $0.model.fingerprint == modelFingerprint }) else {
                    throw ValidationError("--model-fingerprint \(modelFingerprint) is not in the store (it has \(models.map(\.model.fingerprint)))")
                }
                chosen = m
            } else {
                guard let latest = try opened.latestRunModel(), let m = models.first(where: { $0.id == latest }) else {
                    throw ValidationError("\(opened.location): the store has no run yet: nothing to export")
                }
                chosen = m
            }
            let names = chosen.model.classNames
            let positiveIndex = try BinaryMetrics.positiveClassIndex(names, requested: positive)
            let output = try OutputFolder.url(out)
            var export = ScreenExport(store: opened, modelID: chosen.id, classNames: names, output: output, positive: positiveIndex,
                                      threshold: threshold, modelDescription: chosen.model.description)
            let rows = try export.currentRows()
            export.severityColumn = rows.contains { $0.row.severitySummary != nil }
            export.relevanceColumn = rows.contains { $0.relevance != nil }
            try export.refresh(force: true, running: false)
            var text = "rubble export: \(export.summary.line)\n"
            for w in try opened.workers() {
                let rate = w.busySeconds > 0 ? String(format: "%.1f photos/s busy", Double(w.photos) / w.busySeconds) : "idle"
                text += "  worker \(w.name): \(w.photos) photos, \(rate), last seen \(w.lastSeen)\n"
            }
            text += "queue: \(try opened.queueDepth(modelID: chosen.id)) photos of this model waiting\n"
            text += "results: \(output.appendingPathComponent(ScreenResults.fileName).path)\n"
            FileHandle.standardError.write(Data(text.utf8))
        } catch let error as ValidationError {
            throw error
        } catch {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
    }
}

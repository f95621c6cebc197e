import ArgumentParser
import Foundation
import Screening
import Synchronization
import Train
import Vision
#if canImport(Glibc)
import Glibc
#endif


/// `rubble screen`: de-duplicate, filter, classify and explain a stream of photos.
struct ScreenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "screen",
        abstract: "Screen a folder (or a stream) of photos: drop duplicates, classify, explain, report.",
        discussion: """
            Walks DIR recursively in sorted path order (hidden files and folders, OUT, \
            OUT/gradcam and OUT/segment are skipped). File names are bytes: a name that is not valid UTF-8 is \
            screened like any other and shown with each such byte (and each control character) \
            as \\xHH and a backslash as \\\\ (printf '%b' turns the shown name back into the file's \
            name). A sub-folder that cannot be read, a broken symbolic link, a photo-named pipe \
            or device, and (without --follow-symlinks) a symbolic link to a folder or to a file \
            outside DIR are not read: each is a row with the reason in error and no digest. A \
            link to a photo inside DIR is read. \
            Each photo is read and digested (SHA-256), checked against the minimum size \
            from its header, decoded (JPEG at the DCT scale just above the model input) and \
            pHashed; exact copies (same digest) and near duplicates (pHash within \
            --duplicate-threshold bits of a photo kept earlier in the run) are dropped, the rest \
            are classified in batches. Photos whose --positive class probability is >= \
            --threshold are flagged and explained with Grad-CAM.

            With --segmenter (a Hugging Face SegFormer folder, as rubble segment --model), each \
            flagged photo is read again (its bytes must still have the digest in results.csv), \
            decoded at the scale just above the segmenter's input (--segmenter-input-size \
            overrides preprocessor_config.json's size), segmented into its classes and given a \
            damage severity in [0, 1]: v(undamaged_structure)=0, v(damaged_structure)=0.5, \
            v(debris)=1, averaged over the structure pixels (other label sets: --class-values \
            name=value,..., as rubble segment); no structure in view gives no severity. The \
            segmenter folder and --class-values are checked before any photo is read.

            Everything goes through a store (--db; default OUT/rubble.sqlite, SQLite; \
            postgres://user@host:port/db for several machines, with rubble worker on the others): \
            each photo is read once for its SHA-256 and EXIF, queued, and answered by this process \
            or any worker of the same model; the run returns once every photo it queued has an \
            answer. A rerun continues where the last one stopped (a photo with the same path and \
            digest already answered by this model is skipped), also after a crash or SIGKILL. \
            Before writing anything, checks DIR, the store, the model and the options, and refuses \
            an OUT that holds results.csv or report.html without its store unless --overwrite \
            (which, with the default store, also starts the store afresh). Temporary files an \
            interrupted run left in OUT are removed at the start. With --relevance-weights, a first \
            model decides which photos are relevant; the others get label irrelevant and skip the \
            damage model, Grad-CAM and the severity stage. \
            Writes into OUT (exports of the store, created if missing; every file atomically, \
            refreshed every few seconds and at the end, so a crash or Ctrl-C leaves complete files):
              results.csv  columns path,digest,phash,duplicate_of,p_<class0>,...,label,milliseconds,error \
            (fixed, one row per photo; duplicates have duplicate_of and empty p/label; unreadable, \
            corrupt and too-small photos, entries not read, and photos whose model output is not \
            finite (NaN or infinite) have the reason in error and empty p/label); with \
            --segmenter only, one more column at the end, severity: the score (6 decimals) of \
            flagged photos with structure in view, empty for every other row (without \
            --segmenter the columns are exactly the ones above, so tools that read them are unaffected); \
            then always latitude,longitude,taken_at (EXIF GPS and capture time, empty when absent), \
            then with --relevance-weights relevance (the first model's p(relevant class))
              gradcam/<stem>_gradcam.png  Grad-CAM panel of each flagged photo
              segment/<stem>_segment.png  with --segmenter: each flagged photo beside its class \
            overlay, the severity in the title
              report.html  the flagged photos for verification: sortable, filterable, confirm/reject \
            marks exported as a CSV path,predicted,verified_label; with --segmenter each card shows \
            the severity and the segmentation, and the cards sort by severity

            With --follow, keeps polling DIR (every --poll-interval seconds) and screens each new \
            photo once its size, modification time and inode have not changed for \
            --stable-seconds (an empty file: five times as long), until SIGINT/SIGTERM or \
            --max-seconds; a photo that failed as empty, truncated, corrupt or unreadable is \
            screened again when its file changes, and its row replaced. A per-stage timing table \
            goes to standard error at the end. \
            Unreadable photos are warnings, never fatal (exit status 0); but when the model gave \
            non-finite output for every photo it was run on (broken weights), the exit status is 1.
            """)

    @OptionGroup var model: ModelOptions

    @OptionGroup var answers: ScreenAnswerOptions

    @Flag(help: "Keep watching DIR for new photos until interrupted (SIGINT/SIGTERM) or --max-seconds.")
    var follow = false

    @Option(help: "Seconds between polls of DIR with --follow.")
    var pollInterval: Double = 1

    @Option(help: "With --follow, seconds a photo's size and modification time must stay unchanged before it is read.")
    var stableSeconds: Double = 2

    @Option(help: "Stop after this many seconds (the batch in progress is completed).")
    var maxSeconds: Double?

    @Flag(help: "Replace the results.csv, report.html and Grad-CAM panels of an earlier run in OUT.")
    var overwrite = false

    @Flag(help: "Follow symbolic links, also to files and folders outside DIR.")
    var followSymlinks = false

    @Flag(help: "Do not decode the next batch while the model runs (for timing comparisons).")
    var noOverlap = false

    @OptionGroup var stages: ScreenStageOptions

    @OptionGroup var store: StoreOptions

    @Option(help: "Output folder.")
    var out: String

    @Argument(help: "Folder of photos.")
    var directory: String

    func validate() throws {
        if !pollInterval.isFinite || pollInterval <= 0 {
            throw ValidationError("--poll-interval must be a positive number of seconds, got \(pollInterval)")
        }
        if !stableSeconds.isFinite || stableSeconds < 0 {
            throw ValidationError("--stable-seconds must be a number of seconds >= 0, got \(stableSeconds)")
        }
        if let maxSeconds, !maxSeconds.isFinite || maxSeconds < 0 {
            throw ValidationError("--max-seconds must be a number of seconds >= 0, got \(maxSeconds)")
        }
    }

    func run() throws {
        let output = try OutputFolder.url(out)
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        // Nothing is written (not even OUT created) before DIR, OUT, the model and the options pass.
        let defaultStore = store.url == nil
        let storeExists = try store.sqlitePath(defaultIn: output).map { FileManager.default.fileExists(atPath: $0) } ?? true
        do {
            // A folder with results of a run without this store is refused (unless --overwrite);
            // with the store, the run continues where the last one stopped.
            try Screener.checkOutput(output, overwrite: overwrite, resuming: storeExists && !(overwrite && defaultStore))
            try PhotoDirectory.checkFolder(folder)
        } catch let error as ScreenError {
            CommandLineMessages.error("\(error)")
            throw ExitCode.failure
        }
        let loaded = try model.load()
        // The relevancy model and the segmenter too are checked before any work.
        let relevance = try stages.relevanceFilter()
        let assessor = try stages.assessor()
        let network = loaded.network, pipeline = loaded.pipeline
        let classNames = loaded.classNames ?? (0..<loaded.classCount).map(String.init)
        let positiveIndex = try answers.positiveIndex(of: loaded, classNames: classNames)
        var options = ScreenOptions(classNames: classNames, positive: positiveIndex)
        options.threshold = answers.threshold
        options.duplicateThreshold = answers.duplicateThreshold
        options.minimumSide = answers.minSize
        options.batchSize = answers.batchSize
        options.explain = !answers.noGradcam
        options.gradCAMLayer = answers.layer ?? loaded.architecture.defaultGradCAMLayer
        options.follow = follow
        options.pollInterval = pollInterval
        options.maxSeconds = maxSeconds
        options.stableSeconds = stableSeconds
        options.overlap = !noOverlap
        options.overwrite = overwrite
        options.followSymlinks = followSymlinks
        options.modelDescription = "\(loaded.architecture.rawValue) \(pipeline.imageSize)x\(pipeline.imageSize)"
            + " (\(loaded.weightsDescription))" + (assessor.map { "; severity: \($0.description)" } ?? "")

        let screener: Screener
        do {
            if overwrite && defaultStore { StoreOptions.removeDefault(in: output) }
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            let opened = try store.open(defaultIn: output)
            let identity = try loaded.storedModel(weights: model.weights, description: options.modelDescription, classNames: classNames)
            screener = try Screener(model: network, pipeline: pipeline, options: options, output: output, store: opened,
                                    identity: identity, relevance: relevance, assessor: assessor)
        } catch {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        screener.warn = { warn($0) }
        let interactive = isatty(STDERR_FILENO) == 1
        screener.progress = { summary in
            guard interactive else { return }
            FileHandle.standardError.write(Data("\r\(summary.line)".utf8))
        }
        installStopHandlers()
        let summary: ScreenSummary
        do {
            summary = try screener.run(directory: folder) {
                stopRequested.load(ordering: .relaxed)
            }
        } catch {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        let outcome = summary.stopped ? "stopped" : "done"
        let text = """
            rubble screen: \(outcome) after \(String(format: "%.1f", summary.seconds)) s: \(summary.line); \(summary.explained) Grad-CAM panels\
            \(summary.assessesSeverity ? ", \(summary.severityPanels) segmentation panels" : "")
            \(summary.table)
            \(summary.resumed > 0 ? "\(summary.resumed) photos were already screened by this model (skipped by digest)\n" : "")\
            results: \(output.appendingPathComponent(ScreenResults.fileName).path)
            report:  \(output.appendingPathComponent(ScreenReport.fileName).path)

            """
        FileHandle.standardError.write(Data(text.utf8))
        if summary.modelFailedOnEveryPhoto {
            CommandLineMessages.error("the model's output was not finite (NaN or infinite) for every one of the "
                                      + "\(summary.nonFinite) photos it was run on, so none was classified: the weights "
                                      + "(\(loaded.weightsDescription)) are broken; results.csv lists each photo with this error")
            throw ExitCode.failure
        }
    }
}

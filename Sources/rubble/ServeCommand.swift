import ArgumentParser
import Dispatch
import Foundation
import Screening
import ScreeningServer

/// `rubble serve`: photos in over HTTP, answered by in-process workers (and by `rubble worker`
/// processes sharing a PostgreSQL store), verified by a team on the page at `/`.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the screening API and the team's verification page over HTTP.",
        discussion: """
            Photos arrive by POST /api/v1/photos (the image bytes; latitude, longitude, taken_at, \
            source as query parameters) and are queued in the store; --workers in-process workers \
            (and rubble worker processes on other machines, with a PostgreSQL --db) de-duplicate, \
            classify, explain and assess them. The page at / shows the flagged photos live, with \
            Grad-CAM, severity and a map, and takes the team's verdicts. Every /api and /metrics \
            request needs Authorization: Bearer TOKEN (rubble users add prints one). The API is \
            described in docs/openapi.yaml. Stops on SIGINT/SIGTERM after the batch in progress.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var stages: ScreenStageOptions
    @OptionGroup var store: StoreOptions

    @Option(help: ArgumentHelp("Address to listen on, HOST:PORT (port 0: any free one, printed).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @OptionGroup var answers: ScreenAnswerOptions

    @Option(help: "In-process workers (0: only rubble worker processes answer).")
    var workers: Int = 1

    @Option(help: "Seconds a worker's claim lasts unless renewed.")
    var leaseSeconds: Double = 60

    @Option(help: "Largest accepted upload in bytes.")
    var maxBodyBytes: Int = 20_000_000

    @Option(help: "Largest accepted photo in pixels (width x height, read from its header before decoding).")
    var maxPixels: Int = 50_000_000

    @Option(help: "Requests per minute per account.")
    var rateLimit: Int = 6000

    func validate() throws {
        if store.url == nil { throw ValidationError("--db is required: the store (a file for one box, postgres://... for several)") }
        _ = try Self.address(listen)
        if !(0...16).contains(workers) { throw ValidationError("--workers must be in 0...16, got \(workers)") }
        if !leaseSeconds.isFinite || leaseSeconds < 1 { throw ValidationError("--lease-seconds must be at least 1") }
        if !(1...2_000_000_000).contains(maxBodyBytes) { throw ValidationError("--max-body-bytes must be in 1...2000000000, got \(maxBodyBytes)") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1") }
        if !(1...1_000_000).contains(rateLimit) { throw ValidationError("--rate-limit must be in 1...1000000 requests a minute") }
    }

    /// `HOST:PORT` (an IPv6 host in brackets).
    static func address(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen \(text): give HOST:PORT, e.g. 127.0.0.1:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen \(text): no host (use 0.0.0.0 for every interface)") }
        return (host, port)
    }

    func run() throws {
        let (host, port) = try Self.address(listen)
        let loaded = try model.load()
        let relevance = try stages.relevanceFilter()
        let assessor = try stages.assessor()
        let classNames = loaded.classNames ?? (0..<loaded.classCount).map(String.init)
        let positiveIndex = try answers.positiveIndex(of: loaded, classNames: classNames)
        let description = "\(loaded.architecture.rawValue) \(loaded.pipeline.imageSize)x\(loaded.pipeline.imageSize) (\(loaded.weightsDescription))"
            + (assessor.map { "; severity: \($0.description)" } ?? "")
        let settings: ServerSettings
        var inProcess: [ScreenWorker] = []
        do {
            let opened = try store.open()
            try opened.fixSetting("duplicate_threshold", to: "\(answers.duplicateThreshold)")
            let identity = try loaded.storedModel(weights: model.weights, description: description, classNames: classNames)
            let modelID = try opened.register(identity)
            let runID = try opened.startRun(modelID: modelID, folder: "serve \(listen)",
                                            options: RunOptions(positive: positiveIndex, threshold: answers.threshold, minimumSide: answers.minSize,
                                                                explain: !answers.noGradcam))
            let requeued = try opened.queueStoredPhotos(modelID: modelID, runID: runID)
            if requeued > 0 {
                FileHandle.standardError.write(Data("rubble serve: \(requeued) earlier uploads queued for this model\n".utf8))
            }
            var chosen = ServerSettings(modelID: modelID, runID: runID, classNames: classNames, positive: positiveIndex,
                                        threshold: answers.threshold, modelDescription: description)
            chosen.host = host
            chosen.port = port
            chosen.maximumBodyBytes = maxBodyBytes
            chosen.maximumPixels = maxPixels
            chosen.requestsPerMinute = rateLimit
            settings = chosen
            for n in 0..<workers {
                let worker = try ScreenWorker(store: n == 0 ? opened : try store.open(), modelID: modelID, classNames: classNames,
                                              model: loaded.network, pipeline: loaded.pipeline, duplicateThreshold: answers.duplicateThreshold,
                                              gradCAMLayer: answers.layer ?? loaded.architecture.defaultGradCAMLayer, relevance: relevance,
                                              assessor: assessor, name: nil)
                worker.batchSize = answers.batchSize
                worker.leaseSeconds = leaseSeconds
                worker.warn = { warn($0) }
                inProcess.append(worker)
            }
        } catch {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        let storeOptions = store
        let workers = Handoff(inProcess)
        let done = DispatchSemaphore(value: 0)
        let failure = Handoff(FailureBox())
        Task {
            do {
                try await ScreeningServer.run(settings: settings, openStore: { try storeOptions.open() }, workers: workers.value) { host, port in
                    let shown = host.contains(":") ? "[\(host)]" : host
                    // Unbuffered: scripts wait for this line.
                    FileHandle.standardOutput.write(Data(
                        "rubble serve: listening on http://\(shown):\(port) (\(settings.modelDescription); store \(storeOptions.url ?? ""))\n".utf8))
                }
            } catch {
                failure.value.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = failure.value.error {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        FileHandle.standardError.write(Data("rubble serve: stopped\n".utf8))
    }
}

/// The error the server task ended with, read after it signalled.
final class FailureBox: @unchecked Sendable {
    var error: (any Error)?
}

/// A value handed to the task that uses it from then on.
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `rubble users`: the accounts of `rubble serve`.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage the accounts of rubble serve.",
        subcommands: [Add.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add an account; prints its token once, alone on the last line of standard output.",
            discussion: """
                Only the token's SHA-256 is stored: keep the printed token, it cannot be shown \
                again (add another account, e.g. ana-2, if it is lost). Roles: uploader (send \
                photos, read their status), verifier (also see every photo and give verdicts), \
                admin (everything).
                """)

        @OptionGroup var store: StoreOptions

        @Argument(help: "The account's name (letters, digits, '.', '_', '-', '@').")
        var name: String

        @Option(help: "uploader, verifier or admin.")
        var role: String = "verifier"

        func validate() throws {
            if store.url == nil { throw ValidationError("--db is required") }
            if UserRole(rawValue: role) == nil { throw ValidationError("--role must be uploader, verifier or admin, got '\(role)'") }
        }

        func run() throws {
            do {
                let opened = try store.open()
                let token = try opened.addUser(name: name, role: UserRole(rawValue: role) ?? .verifier)
                print("rubble users: added \(name) (\(role)) to \(opened.location); its token (shown only now):")
                print(token)
            } catch {
                CommandLineMessages.error(ErrorSentence.describe(error))
                throw ExitCode.failure
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the accounts (never their tokens).")

        @OptionGroup var store: StoreOptions

        func validate() throws {
            if store.url == nil { throw ValidationError("--db is required") }
        }

        func run() throws {
            do {
                for user in try store.open().users() { print("\(user.name)\t\(user.role)\t\(user.createdAt)") }
            } catch {
                CommandLineMessages.error(ErrorSentence.describe(error))
                throw ExitCode.failure
            }
        }
    }
}

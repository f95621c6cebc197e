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

/// Takes the queued photos of one model from a ``ScreeningStore`` and answers them: the part
/// of a screen that `rubble screen` runs in its own process and `rubble worker` on any other
/// machine.
///
/// Per batch: claim up to ``batchSize`` jobs in arrival order under a lease; read, digest,
/// decode and hash them over the cores (``PhotoPreparer``), the next batch on a background
/// thread while the model classifies this one; record the preparations; take the store's
/// decision point to decide duplicates in arrival order (``ScreeningStore/decide(_:)``),
/// waiting for (or, once its lease expires, taking over) an earlier photo another worker is
/// still preparing; run the relevancy filter, the model (through Grad-CAM's split when panels
/// are drawn) and the damage assessor; store every result with its job marked done, in one
/// transaction. A job whose lease was taken over meanwhile is not answered twice.
public final class ScreenWorker {
    public let store: ScreeningStore
    public let modelID: Int
    public let classNames: [String]
    public let model: any Layer
    public let pipeline: ImagePipeline
    public let relevance: RelevanceFilter?
    public let assessor: (any DamageAssessor)?
    /// The worker's name in the store (host:pid by default).
    public let name: String
    public var batchSize = 32
    /// Seconds a claim lasts without renewal; renewed at every stage of a batch.
    public var leaseSeconds = 60.0
    /// Decode the next batch while the model runs.
    public var overlap = true
    /// Grad-CAM layer (nil: the last convolution).
    public let gradCAMLayer: String?
    public var warn: (String) -> Void = { _ in }
    /// Stage times and counts of the photos this worker answered.
    public internal(set) var summary = ScreenSummary()
    /// Photos answered by this worker whose failure may go away once the file changes.
    public internal(set) var retryable: [Int] = []

    var duplicates: DuplicateState
    var gradCAMSplit: GradCAM?
    private var runOptions: [Int: RunOptions] = [:]
    private var pending: Pending?

    public init(store: ScreeningStore, modelID: Int, classNames: [String], model: any Layer, pipeline: ImagePipeline,
                duplicateThreshold: Int, gradCAMLayer: String? = nil, relevance: RelevanceFilter? = nil,
                assessor: (any DamageAssessor)? = nil, name: String? = nil) throws {
        guard !classNames.isEmpty else { throw ScreenError.invalidOption("the model has no class names") }
        guard (0...64).contains(duplicateThreshold) else {
            throw ScreenError.invalidOption("duplicate threshold \(duplicateThreshold) is not in 0...64")
        }
        if let side = assessor?.imageSide, side < 1 {
            throw ScreenError.invalidOption("the damage assessor's image side \(side) is not >= 1")
        }
        self.store = store
        self.modelID = modelID
        self.classNames = classNames
        self.model = model
        self.pipeline = pipeline
        self.relevance = relevance
        self.assessor = assessor
        self.gradCAMLayer = gradCAMLayer
        self.name = name ?? "\(ScreeningStore.hostName):\(getpid())"
        duplicates = DuplicateState(threshold: duplicateThreshold)
        try store.fixSetting("duplicate_threshold", to: "\(duplicateThreshold)")
        if assessor != nil {
            summary.assessesSeverity = true
            summary.times = StageTimes(["read+digest", "decode", "hash", "dedup", "classify", "explain", "severity", "store"])
        } else {
            summary.times = StageTimes(["read+digest", "decode", "hash", "dedup", "classify", "explain", "store"])
        }
        try store.heartbeat(worker: self.name, modelID: modelID, photos: 0, busySeconds: 0)
        // Start from the store's decisions, so exact copies of photos decided earlier are known.
        try store.decide(&duplicates)
    }

    /// Answers one batch (claiming the next one to prepare in the background); returns how many
    /// photos it answered (0: nothing was queued for this model).
    @discardableResult
    public func workOnce() throws -> Int {
        let start = ContinuousClock.now
        let current: Pending
        if let pending {
            current = pending
            self.pending = nil
        } else {
            let jobs = try store.claim(modelID: modelID, worker: name, limit: batchSize, leaseSeconds: leaseSeconds)
            guard !jobs.isEmpty else { return 0 }
            current = try startPreparing(jobs, background: false)
        }
        current.done.wait()
        for stage in current.times.stages { summary.times.add(stage.name, items: stage.items, seconds: stage.seconds) }
        var slots = try finishPreparation(current)
        try waitForDecisions(&slots)
        let next = try store.claim(modelID: modelID, worker: name, limit: batchSize, leaseSeconds: leaseSeconds)
        if !next.isEmpty { pending = try startPreparing(next, background: overlap) }
        try store.renew(slots.map(\.job.job), worker: name, leaseSeconds: leaseSeconds)
        let results = try answer(slots)
        let clock = ContinuousClock.now
        let stored = try store.complete(results, worker: name, modelID: modelID)
        summary.times.add("store", items: results.count, seconds: seconds(since: clock))
        try store.heartbeat(worker: name, modelID: modelID, photos: stored, busySeconds: seconds(since: start))
        return results.count
    }

    /// Works until no job of this model is left (or `shouldStop`), then releases any claim
    /// prepared ahead. Returns the number of photos answered.
    @discardableResult
    public func drain(shouldStop: () -> Bool = { false }) throws -> Int {
        var total = 0
        while !shouldStop() {
            let n = try workOnce()
            if n == 0 && pending == nil { break }
            total += n
        }
        try stop()
        return total
    }

    /// Returns the jobs claimed ahead to the queue.
    public func stop() throws {
        if let pending {
            pending.done.wait()
            self.pending = nil
        }
        try store.release(worker: name)
    }

    // MARK: - Preparation

    /// Jobs being prepared, and what was prepared.
    final class Pending: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let jobs: [ClaimedJob]
        var photos: [PreparedPhoto?]
        var times = StageTimes()
        init(jobs: [ClaimedJob]) {
            self.jobs = jobs
            photos = Array(repeating: nil, count: jobs.count)
        }
    }

    /// One job of a batch on its way to an answer.
    struct Slot {
        var job: ClaimedJob
        var options: RunOptions
        var preparation: PreparationRecord?
        var reduced: ReducedPhoto?
        var seconds = 0.0
    }

    func options(ofRun id: Int) throws -> RunOptions {
        if let known = runOptions[id] { return known }
        let options = try store.runOptions(id)
        runOptions[id] = options
        return options
    }

    private func startPreparing(_ jobs: [ClaimedJob], background: Bool) throws -> Pending {
        let pending = Pending(jobs: jobs)
        // Photos already decided (a new model over an old stream) need decoding only when kept.
        let decided = duplicates.decisions
        // Grouped by minimum size and by whether the photo is decided already: a kept photo of
        // an earlier run is decoded for the model but never taken for a copy of itself.
        struct Group: Hashable { let minimumSide: Int; let decided: Bool }
        var groups: [Group: [Int]] = [:]
        for (i, job) in jobs.enumerated() where decided[job.photo].map({ $0.kind == .unique }) ?? true {
            groups[Group(minimumSide: try options(ofRun: job.run).minimumSide, decided: decided[job.photo] != nil), default: []].append(i)
        }
        let explain = try jobs.contains { try options(ofRun: $0.run).explain }
        let inputs = [pipeline] + (relevance.map { [$0.pipeline] } ?? [])
        let preparers = groups.map { group, indices in
            (PhotoPreparer(hashKind: .phash, minimumSide: group.minimumSide, decodeAtLeast: inputs.map(\.imageSize).max(),
                           modelInput: pipeline, thumbnail: explain ? GradCAMPanel() : nil, otherInputs: Array(inputs.dropFirst())),
             indices, group.decided)
        }
        let known = duplicates.index
        let stored = try store.images(of: jobs.filter(\.imageInStore).map(\.photo))
        let job = UncheckedSendable((pending, preparers, known, stored))
        let work: @Sendable () -> Void = {
            let (pending, preparers, known, stored) = job.value
            for (preparer, indices, decided) in preparers {
                let files = indices.map { i in
                    let j = pending.jobs[i]
                    var file = PhotoFile(url: URL(fileURLWithPath: String(decoding: j.filePath, as: UTF8.self)), path: j.path,
                                         relativePath: j.path, fileSystemPath: j.filePath, problem: j.problem, followsLinks: j.followsLinks)
                    if j.imageInStore {
                        file.storedBytes = stored[j.photo].map { Data($0) } ?? Data()
                    }
                    return file
                }
                let prepared = preparer.prepare(files, known: decided ? nil : known, times: &pending.times)
                for (i, photo) in zip(indices, prepared) { pending.photos[i] = photo }
            }
            pending.done.signal()
        }
        if background { DispatchQueue.global(qos: .userInitiated).async(execute: work) } else { work() }
        return pending
    }

    /// The slots of a prepared batch, their preparations recorded in the store.
    private func finishPreparation(_ pending: Pending) throws -> [Slot] {
        var slots: [Slot] = []
        var records: [PreparationRecord] = []
        for (job, photo) in zip(pending.jobs, pending.photos) {
            var slot = Slot(job: job, options: try options(ofRun: job.run))
            if let photo {
                var record = PreparationRecord(photo: job.photo, outcome: .failed)
                slot.seconds = photo.seconds
                if let digest = photo.digest?.hex, !job.digest.isEmpty, digest != job.digest {
                    record.message = "\(job.path): the file changed after it was queued (its digest differs)"
                    record.mayChange = true
                } else {
                    switch photo.state {
                    case .failed(let message):
                        record.message = message
                        record.mayChange = photo.mayChange
                    case .tooSmall(let w, let h):
                        record = PreparationRecord(photo: job.photo, outcome: .tooSmall)
                        record.width = w
                        record.height = h
                    case .knownCopy:
                        record = PreparationRecord(photo: job.photo, outcome: .copy)
                    case .ready(let hash, let reduced):
                        record = PreparationRecord(photo: job.photo, outcome: .ready)
                        record.hash = hash
                        record.width = reduced?.decodedWidth
                        record.height = reduced?.decodedHeight
                        slot.reduced = reduced
                    }
                }
                slot.preparation = record
                records.append(record)
            }
            slots.append(slot)
        }
        try store.record(records)
        // Photos not prepared here were prepared (and decided) before: read what was found.
        let missing = slots.filter { $0.preparation == nil }.map(\.job.photo)
        if !missing.isEmpty {
            let known = try store.preparations(of: missing)
            for i in slots.indices where slots[i].preparation == nil { slots[i].preparation = known[slots[i].job.photo] }
        }
        return slots
    }

    /// Decides duplicates until every slot's photo is decided: an earlier photo another worker
    /// still prepares is waited for, and taken over once its lease expires.
    private func waitForDecisions(_ slots: inout [Slot]) throws {
        let clock = ContinuousClock.now
        var lastRenewal = ContinuousClock.now
        while true {
            try store.decide(&duplicates)
            if slots.allSatisfy({ duplicates.decisions[$0.job.photo] != nil }) { break }
            let first = slots.map(\.job.photo).min() ?? 0
            let stolen = try store.claim(modelID: modelID, worker: name, limit: batchSize, leaseSeconds: leaseSeconds, below: first)
            if !stolen.isEmpty {
                let pending = try startPreparing(stolen, background: false)
                slots = try finishPreparation(pending) + slots
                continue
            }
            if seconds(since: lastRenewal) > leaseSeconds / 3 {
                try store.renew(slots.map(\.job.job), worker: name, leaseSeconds: leaseSeconds)
                lastRenewal = ContinuousClock.now
            }
            usleep(20_000)
        }
        summary.times.add("dedup", items: slots.count, seconds: seconds(since: clock))
    }
}

extension ScreenWorker {
    /// Adds a stage the caller timed (the screen's intake and exports) to ``summary``.
    public func addTime(_ stage: String, items: Int, seconds: Double) {
        summary.times.add(stage, items: items, seconds: seconds)
    }

    /// The photos answered since the last call whose failure may go away once the file changes.
    public func takeRetryable() -> [Int] {
        defer { retryable.removeAll() }
        return retryable
    }
}

import Foundation
import Logging
import Screening

/// The server's own workers: each ``ScreenWorker`` works the queue on a thread of its own
/// (its forward passes use every core), woken at once by an upload and otherwise every
/// `pollSeconds` (photos other processes queued). A failing batch is logged and retried after
/// a pause; the server goes on answering.
final class BackgroundWorkers: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending = false
    private var stopping = false
    private var running = 0
    private let workers: [ScreenWorker]
    private let metrics: ServerMetrics
    private let pollSeconds: Double
    private let logger: Logger

    init(_ workers: [ScreenWorker], metrics: ServerMetrics, pollSeconds: Double, logger: Logger) {
        self.workers = workers
        self.metrics = metrics
        self.pollSeconds = pollSeconds
        self.logger = logger
    }

    func start() {
        for (n, worker) in workers.enumerated() {
            condition.lock()
            running += 1
            condition.unlock()
            let owned = Handoff(worker)  // only its thread uses it from here on
            let thread = Thread { [self] in loop(owned.value) }
            thread.name = "rubble-worker-\(n)"
            thread.start()
        }
    }

    /// A photo arrived: the next idle worker looks at once.
    func wake() {
        condition.lock()
        pending = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop(_ worker: ScreenWorker) {
        var seen: [String: (items: Int, seconds: Double)] = [:]
        while true {
            condition.lock()
            let stop = stopping
            pending = false
            condition.unlock()
            if stop { break }
            var answered = 0
            do {
                answered = try worker.workOnce()
            } catch {
                logger.error("worker \(worker.name): \(error)")
                answered = 0
            }
            for stage in worker.summary.times.stages {
                let before = seen[stage.name] ?? (0, 0)
                if stage.items > before.items {
                    metrics.stage(stage.name, seconds: stage.seconds - before.seconds, items: stage.items - before.items)
                }
                seen[stage.name] = (stage.items, stage.seconds)
            }
            if answered == 0 {
                condition.lock()
                if !pending && !stopping { _ = condition.wait(until: Date().addingTimeInterval(pollSeconds)) }
                condition.unlock()
            }
        }
        try? worker.stop()
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Lets each worker finish its batch, hand back what it holds, and stop.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}

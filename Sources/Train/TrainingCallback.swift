import Foundation

/// What a callback tells `Trainer.fit` after an epoch.
public enum TrainingDecision: Sendable, Equatable {
    case `continue`
    /// End training after this epoch (Keras' `model.stop_training = True`); `weights.h5` is
    /// still written and `Trainer.stoppedByCallback` is set.
    case stop
}

/// Hears about `Trainer.fit` as it runs: after every step and after every epoch (once its
/// validation, `best.h5`, `history.csv` and checkpoint are written). Both methods run on the
/// thread that called `fit`; keep them short. Every method has a default that does nothing.
///
/// ```swift
/// struct StopAtAccuracy: TrainingCallback {
///     func epochEnded(_ record: EpochRecord, improved: Bool, trainer: Trainer) -> TrainingDecision {
///         (record.validationAccuracy ?? 0) >= 0.95 ? .stop : .continue
///     }
/// }
/// try trainer.fit(training, validation: validation, callbacks: [StopAtAccuracy()])
/// ```
public protocol TrainingCallback {
    /// After step `step` (1-based) of `steps` of `epoch`, with that step's loss and accuracy.
    func batchEnded(epoch: Int, step: Int, of steps: Int, result: Trainer.BatchResult)
    /// After `record`'s epoch; `improved` tells whether the monitored metric improved.
    func epochEnded(_ record: EpochRecord, improved: Bool, trainer: Trainer) -> TrainingDecision
}

extension TrainingCallback {
    public func batchEnded(epoch: Int, step: Int, of steps: Int, result: Trainer.BatchResult) {}
    public func epochEnded(_ record: EpochRecord, improved: Bool, trainer: Trainer) -> TrainingDecision { .continue }
}

/// A callback made of a closure run after every epoch.
public struct EpochEndCallback: TrainingCallback {
    private let body: (EpochRecord, Bool) -> TrainingDecision

    /// `body(record, improved)` decides whether training goes on.
    public init(_ body: @escaping (EpochRecord, Bool) -> TrainingDecision) {
        self.body = body
    }

    public func epochEnded(_ record: EpochRecord, improved: Bool, trainer: Trainer) -> TrainingDecision {
        body(record, improved)
    }
}

/// A flag one thread raises and the training loop takes down when it acts on it.
final class CancellationRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    func request() {
        lock.lock()
        requested = true
        lock.unlock()
    }

    /// Whether a request is pending; clears it.
    func consume() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let was = requested
        requested = false
        return was
    }
}

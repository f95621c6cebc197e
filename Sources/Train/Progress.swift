import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Training progress on standard error (the classifier's `Trainer` and Segmentation's trainer).
///
/// On a terminal: one line rewritten in place (`\r`) at most ~8 times a second —
/// `epoch 3/10  step 45/205  loss 0.5123  acc 0.7712  31.2 img/s  ETA 1:42` — and a summary
/// line per epoch. Otherwise (a log file, a pipe): a plain line every ~15 s and the summary
/// line per epoch, so logs stay readable.
public final class TrainingProgress {
    private let enabled: Bool
    private let live: Bool
    private var lastDraw: ContinuousClock.Instant?
    private var phaseStart = ContinuousClock.now
    private var lineVisible = false
    private var epochLabel = ""
    private var phase = ""

    public init(mode: ProgressMode) {
        switch mode {
        case .silent: enabled = false; live = false
        case .plain: enabled = true; live = false
        case .automatic: enabled = true; live = isatty(STDERR_FILENO) != 0
        }
    }

    /// Starts a phase (`step`, `caching features`, `validating`) of `epoch`.
    public func begin(epoch: Int, of epochs: Int, phase: String) {
        begin(label: "epoch \(epoch)/\(epochs)", phase: phase)
    }

    /// Starts a phase outside training (`evaluating`).
    public func begin(label: String = "", phase: String) {
        epochLabel = label
        self.phase = phase
        phaseStart = .now
        lastDraw = nil
    }

    /// Reports `done` of `total` steps of the current phase, `images` processed so far in it.
    public func update(done: Int, of total: Int, images: Int, loss: Double? = nil, accuracy: Double? = nil) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let interval: Duration = live ? .milliseconds(120) : .seconds(15)
        if let lastDraw, now - lastDraw < interval, done < total { return }
        if !live && done == total { return }  // the epoch summary follows
        if lastDraw == nil && !live { lastDraw = now; return }  // plain: first line after ~15 s
        lastDraw = now
        let elapsed = Self.seconds(now - phaseStart)
        var parts = epochLabel.isEmpty ? [] : [epochLabel]
        parts.append("\(phase) \(done)/\(total)")
        if let loss { parts.append(String(format: "loss %.4f", loss)) }
        if let accuracy { parts.append(String(format: "acc %.4f", accuracy)) }
        if elapsed > 0 && images > 0 { parts.append(String(format: "%.1f img/s", Double(images) / elapsed)) }
        if done > 0 && done < total {
            parts.append("ETA " + Self.clock(elapsed / Double(done) * Double(total - done)))
        }
        let text = parts.joined(separator: "  ")
        if live {
            write("\r" + text + "\u{1B}[K")
            lineVisible = true
        } else {
            write(text + "\n")
        }
    }

    /// A finished epoch's summary line.
    func epochEnded(_ record: EpochRecord, of epochs: Int, improved: Bool, monitor: Monitor) {
        var parts = ["epoch \(record.epoch)/\(epochs)", String(format: "loss %.4f", record.loss),
                     String(format: "acc %.4f", record.accuracy)]
        if let v = record.validationLoss { parts.append(String(format: "val_loss %.4f", v)) }
        if let v = record.validationAccuracy { parts.append(String(format: "val_acc %.4f", v)) }
        parts.append(String(format: "%.1f s", record.seconds))
        parts.append(String(format: "%.1f img/s", record.imagesPerSecond))
        if improved { parts.append("best \(monitor.metric)") }
        message(parts.joined(separator: "  "))
    }

    /// Removes a live line, if one is showing.
    public func clear() {
        guard lineVisible else { return }
        write("\r\u{1B}[K")
        lineVisible = false
    }

    /// A line of its own (ends a live line first).
    public func message(_ text: String) {
        guard enabled else { return }
        if lineVisible {
            write("\r\u{1B}[K")
            lineVisible = false
        }
        write(text + "\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// `1:05:09`, `4:02`, `0:07`.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let total = Int(seconds.rounded())
        let h = total / 3600, m = total / 60 % 60, s = total % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}

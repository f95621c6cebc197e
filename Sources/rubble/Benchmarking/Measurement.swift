import KernelBench
import Dispatch

/// Which sample of several runs a benchmark reports.
enum Statistic: String, CaseIterable, Sendable {
    /// The middle sample: robust on a shared, noisy machine.
    case median
    /// The fastest sample: the least disturbed run.
    case best

    /// The chosen sample of `seconds` (non-empty).
    func pick(_ seconds: [Double]) -> Double {
        let sorted = seconds.sorted()
        switch self {
        case .best: return sorted[0]
        case .median:
            let mid = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        }
    }
}

/// Wall-clock timing for `rubble bench`.
enum Measurement {
    /// Seconds `body` takes, once.
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// A whole-network pass timed as `bench vgg` and `bench models` time it: two warm-up calls,
    /// then `runs` timed calls (5x as many at batch 1), and `statistic` of them in seconds.
    static func networkPass(batch: Int, runs: Int, statistic: Statistic, _ pass: () throws -> Void) throws -> Double {
        for _ in 0..<2 { try pass() }
        var samples: [Double] = []
        for _ in 0..<(batch == 1 ? 5 * runs : runs) {
            var failure: Error?
            samples.append(seconds { do { try pass() } catch { failure = error } })
            if let failure { throw failure }
        }
        return statistic.pick(samples)
    }

    /// `size:batch` cases (`150:32`), each size >= 32 and batch >= 1; `nil` if any is not.
    static func networkCases(_ texts: [String]) -> [(size: Int, batch: Int)]? {
        let cases = texts.compactMap { text -> (size: Int, batch: Int)? in
            let parts = text.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 && parts[0] >= 32 && parts[1] >= 1 ? (parts[0], parts[1]) : nil
        }
        return cases.count == texts.count ? cases : nil
    }

    /// Times several bodies interleaved, so drift on a shared machine hits them alike: one
    /// warm-up call each, then `runs` rounds, each taking one sample of every body. A sample
    /// is the mean seconds per call over enough back-to-back calls to last `minimumSample`.
    /// Returns the samples of each body.
    static func interleaved(_ bodies: [() -> Void], runs: Int, minimumSample: Double = 0.05) -> [[Double]] {
        let warm = bodies.map { seconds($0) }
        let repetitions = warm.map { max(1, min(10_000, Int((minimumSample / max($0, 1e-7)).rounded(.up)))) }
        var samples = Array(repeating: [Double](), count: bodies.count)
        for _ in 0..<max(runs, 1) {
            for (i, body) in bodies.enumerated() {
                let total = seconds { for _ in 0..<repetitions[i] { body() } }
                samples[i].append(total / Double(repetitions[i]))
            }
        }
        return samples
    }
}

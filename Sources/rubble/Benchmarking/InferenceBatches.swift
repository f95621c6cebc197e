import Foundation
import Layers
import Tensor

/// The batch loop shared by `bench segment` and `bench depth`: random inputs of `size`, each
/// batch timed through `forward` (`MeasureOptions`' runs and statistic), one table row (or one
/// JSON row) per batch, and with `parts` the milliseconds of each part under its row.
enum InferenceBatches {
    static func run(label: String, size: Int, batches: [Int], options: MeasureOptions, labelWidth: Int,
                    forward: (Tensor) throws -> Void, parts: ((Tensor) throws -> [(String, Double)])?) throws {
        if !options.json {
            print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; \(Kernels.variant) kernels; "
                  + "\(options.statistic.rawValue) of \(options.runs) runs (x5 at batch 1)")
            print("model".padding(toLength: labelWidth + 2, withPad: " ", startingAt: 0) + "size  batch   images/s   ms/batch")
        }
        var rows: [ModelBenchmarkRow] = []
        for batch in batches {
            var rng = SeededGenerator(seed: 2)
            let x = Tensor.uniform([batch, size, size, 3], low: -2, high: 2, using: &rng)
            let seconds = try Measurement.networkPass(batch: batch, runs: options.runs, statistic: options.statistic) {
                try forward(x)
            }
            let row = ModelBenchmarkRow(model: label, image_size: size, batch: batch,
                                        images_per_s: NetworkBenchmark.round2(Double(batch) / seconds),
                                        ms_per_batch: NetworkBenchmark.round2(seconds * 1e3))
            rows.append(row)
            if !options.json {
                print(NetworkTable.left(row.model, labelWidth)
                      + String(format: " %5d  %5d  %9.2f  %9.2f", row.image_size, row.batch, row.images_per_s, row.ms_per_batch))
                if let parts {
                    for (part, ms) in try parts(x) { print("    " + NetworkTable.left(part, 24) + String(format: "%9.2f ms", ms)) }
                }
                fflush(nil)
            }
        }
        if options.json { print(String(decoding: try JSONEncoder.pretty.encode(rows), as: UTF8.self)) }
    }
}

/// Milliseconds summed per named part of a pass (`bench segment --layers`, `bench depth --layers`).
final class PartTimer {
    private var totals: [(String, Double)] = []

    /// Runs `body` and adds its wall time to `part`.
    func callAsFunction<T>(_ part: String, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        if let index = totals.firstIndex(where: { $0.0 == part }) { totals[index].1 += ms } else { totals.append((part, ms)) }
        return result
    }

    /// The parts, slowest first.
    var slowestFirst: [(String, Double)] { totals.sorted { $0.1 > $1.1 } }
}

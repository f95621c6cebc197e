import ArgumentParser
import Foundation
import Layers
import Tensor
import Zoo

/// One row of `rubble bench models` (the JSON names are read by other tools: keep them).
struct ModelBenchmarkRow: Codable, Sendable {
    var model: String
    var image_size: Int
    var batch: Int
    var images_per_s: Double
    var ms_per_batch: Double
}

/// `rubble bench models`: inference of every architecture's base (no top), as `bench vgg`
/// times VGG.
struct BenchModels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Inference throughput of every architecture's base (no top): images/s and ms per batch.",
        discussion: """
            Each base as keras.applications builds it without the top (vgg16, vgg19, resnet50, \
            mobilenetv2 at alpha 1.0, efficientnetb0), random weights, random input in the \
            architecture's preprocessed range, forward under withoutGradients. Two warm-up passes, \
            then --runs timed passes (5x as many at batch 1) and the chosen statistic. Default \
            cases: 224x224 at batch 1 and 32, 150x150 at batch 32.
            """)

    @Option(parsing: .upToNextOption, help: "Models: vgg16 vgg19 resnet50 mobilenetv2 efficientnetb0.")
    var models: [String] = ["vgg16", "vgg19", "resnet50", "mobilenetv2", "efficientnetb0"]

    @Option(parsing: .upToNextOption, help: "Cases as size:batch.")
    var cases: [String] = ["224:1", "224:32", "150:32"]

    @Flag(help: "Also print where the time goes: milliseconds per batch by Keras layer class (one extra pass per case).")
    var layers = false

    @Flag(help: "Multiply by OpenBLAS, which packs the weights in every call, instead of by the kernels packed once (to compare the two).")
    var openblasKernels = false

    @OptionGroup var options: MeasureOptions

    var parsedCases: [(size: Int, batch: Int)] { Measurement.networkCases(cases) ?? [] }

    func validate() throws {
        let known = Architecture.allCases.filter { $0 != .baseline }.map(\.rawValue)
        if let bad = models.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown model \(bad); known: \(known.joined(separator: ", "))")
        }
        if Measurement.networkCases(cases) == nil { throw ValidationError("cases are size:batch, size >= 32, e.g. 224:32") }
    }

    func run() throws {
        try ConvolutionKernels.$usesPackedKernels.withValue(!openblasKernels) { try measureAll() }
    }

    private func measureAll() throws {
        if !options.json {
            print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; \(options.statistic.rawValue) of "
                  + "\(options.runs) runs (x5 at batch 1)")
            print("model           size  batch   images/s   ms/batch")
        }
        var rows: [ModelBenchmarkRow] = []
        for name in models {
            guard let arch = Architecture(rawValue: name) else { continue }
            for c in parsedCases {
                let row = try Self.measure(arch, imageSize: c.size, batch: c.batch, runs: options.runs,
                                           statistic: options.statistic)
                rows.append(row)
                if !options.json {
                    print(NetworkTable.left(row.model, 14)
                          + String(format: " %5d  %5d  %9.2f  %9.2f", row.image_size, row.batch, row.images_per_s, row.ms_per_batch))
                    if layers {
                        for (kind, ms) in try Self.timeByLayerClass(arch, imageSize: c.size, batch: c.batch) {
                            print("    " + NetworkTable.left(kind, 24) + String(format: "%9.2f ms", ms))
                        }
                    }
                    fflush(nil)
                }
            }
        }
        if options.json { print(String(decoding: try JSONEncoder.pretty.encode(rows), as: UTF8.self)) }
    }

    /// One pass step by step through the model's inference plan (the plan `model(x)` runs,
    /// with fused steps), timing each step: milliseconds per Keras layer class (a fused step's
    /// classes joined by `+`), largest first.
    static func timeByLayerClass(_ arch: Architecture, imageSize: Int, batch: Int) throws -> [(String, Double)] {
        let model = try arch.makeBase(imageSize: imageSize, seed: 1)
        let plan = try ExecutionPlan(model).fusedForInference()
        var rng = SeededGenerator(seed: 2)
        let x = Tensor.uniform([batch, imageSize, imageSize, 3], low: -1, high: 1, using: &rng)
        var totals: [String: Double] = [:]
        try withoutGradients {
            for _ in 0..<2 {  // the first pass warms the kernel caches; the second is timed
                totals = [:]
                var state = plan.start(x)
                for index in plan.steps.indices {
                    var failure: Error?
                    let seconds = Measurement.seconds {
                        do { state = try plan.advance(state, through: index, training: false) } catch { failure = error }
                    }
                    if let failure { throw failure }
                    totals[kind(of: plan.steps[index].layer), default: 0] += seconds * 1e3
                }
            }
        }
        return totals.sorted { $0.value > $1.value }
    }

    /// The layer's Keras class(es), and a convolution's window and stride (`Conv2D 1x1/1`).
    static func kind(of layer: any Layer) -> String {
        var conv = layer as? Conv2D
        if let fused = layer as? FusedConvolution, case let .convolution(c) = fused.base { conv = c }
        guard let conv else { return layer.kerasClassName }
        let window = "\(conv.kernel.shape[0])x\(conv.kernel.shape[1])/\(conv.stride.height)"
        return layer.kerasClassName.replacingOccurrences(of: "Conv2D", with: "Conv2D " + window)
    }

    static func measure(_ arch: Architecture, imageSize: Int, batch: Int, runs: Int,
                        statistic: Statistic) throws -> ModelBenchmarkRow {
        let model = try arch.makeBase(imageSize: imageSize, seed: 1)
        var rng = SeededGenerator(seed: 2)
        let (low, high): (Float, Float) = arch == .efficientnetb0 ? (0, 255) : (-1, 1)
        let x = Tensor.uniform([batch, imageSize, imageSize, 3], low: low, high: high, using: &rng)
        let seconds = try Measurement.networkPass(batch: batch, runs: runs, statistic: statistic) {
            _ = try withoutGradients { try model(x, training: false) }
        }
        return ModelBenchmarkRow(model: arch.rawValue, image_size: imageSize, batch: batch,
                                 images_per_s: NetworkBenchmark.round2(Double(batch) / seconds),
                                 ms_per_batch: NetworkBenchmark.round2(seconds * 1e3))
    }
}

import Foundation
import KernelBench
import Layers
import Tensor
import Train
import Zoo

/// One row of `rubble bench vgg` (the JSON names are read by other tools: keep them).
struct VGGBenchmarkRow: Codable, Sendable {
    var model: String
    var image_size: Int
    var batch: Int
    var images_per_s: Double
    var ms_per_batch: Double
    /// The network's direct-convolution FLOPs (2*H*W*Cin*Cout*9 per 3x3 conv per image) / time.
    var gflops_effective: Double
}

/// One row of `rubble bench train`.
struct TrainBenchmarkRow: Codable, Sendable {
    /// "uncached" (every step runs blocks 1-4 without gradients, then block 5 and the head
    /// with them) or "cached" (block 5 and the head from stored block4_pool features).
    var mode: String
    var model: String
    var image_size: Int
    var batch: Int
    var images_per_s: Double
    var ms_per_step: Double
}

/// Whole-network timings: VGG inference and the paper's transfer-training step.
enum NetworkBenchmark {
    /// Inference of `depth` without its top (Keras `include_top=False`) on `batch` random
    /// images in [0, 1): warm-up calls (the first caches each layer's transformed kernel),
    /// then `runs` timed forward passes under `withoutGradients`; `statistic` of them.
    /// At batch 1 every sample is one pass and 5x as many are taken.
    static func vgg(_ depth: VGGConfiguration.Depth, imageSize: Int, batch: Int, runs: Int,
                    statistic: Statistic) throws -> VGGBenchmarkRow {
        var rng = SeededGenerator(seed: 1)
        let model = try VGG.make(VGGConfiguration(depth: depth, inputSize: imageSize), rng: &rng)
        let x = Tensor.uniform([batch, imageSize, imageSize, 3], low: 0, high: 1, using: &rng)
        let seconds = try Measurement.networkPass(batch: batch, runs: runs, statistic: statistic) {
            _ = try withoutGradients { try model(x, training: false) }
        }
        let flops = try NetworkFLOPs.convolutions(model, input: [imageSize, imageSize, 3]) * Double(batch)
        return VGGBenchmarkRow(model: depth.rawValue, image_size: imageSize, batch: batch,
                               images_per_s: round2(Double(batch) / seconds), ms_per_batch: round2(seconds * 1e3),
                               gflops_effective: round2(flops / seconds / 1e9))
    }

    /// The paper's transfer training: VGG19 (or 16) at `imageSize`, blocks 1-4 frozen,
    /// Flatten-Dense(256, relu)-Dense(2, softmax), RMSprop(1e-5), class weights 0.8898/1.1414,
    /// through `Trainer.fit` on `steps * batch` random in-memory images (no validation, no
    /// shuffling cost beyond Keras' own, no output files). The first epoch is a warm-up (in
    /// cached mode it also fills the feature cache); the `statistic` of the next `epochs`
    /// epochs' training throughput (`EpochRecord.imagesPerSecond`: loading batches from memory
    /// or the cache, forward, loss, backward, RMSprop) is reported.
    static func train(_ depth: VGGConfiguration.Depth, cached: Bool, imageSize: Int, batch: Int, steps: Int,
                      epochs: Int, statistic: Statistic) throws -> TrainBenchmarkRow {
        let architecture: Architecture = depth == .vgg16 ? .vgg16 : .vgg19
        let model = try architecture.makeClassifier(imageSize: imageSize, hiddenUnits: 256, classes: 2,
                                                    freezeThrough: "block4", seed: 1)
        var rng = SeededGenerator(seed: 2)
        let count = steps * batch
        let images = Tensor.uniform([count, imageSize, imageSize, 3], low: 0, high: 1, using: &rng)
        let labels = (0..<count).map { $0 % 2 }
        let data = try TensorExamples(images: images, labels: labels, classNames: ["a", "b"])
        let trainer = Trainer(
            model: model, optimizer: try RMSprop(learningRate: 1e-5),
            configuration: TrainingConfiguration(epochs: 1 + epochs, batchSize: batch, classWeights: [0.8898, 1.1414],
                                                 featureCache: cached, progress: .silent))
        let history = try trainer.fit(data)
        let rates = history.records.dropFirst().map(\.imagesPerSecond)
        let rate = statistic.pick(Array(rates))
        return TrainBenchmarkRow(mode: cached ? "cached" : "uncached", model: depth.rawValue, image_size: imageSize,
                                 batch: batch, images_per_s: round2(rate),
                                 ms_per_step: round2(Double(batch) / rate * 1e3))
    }

    static func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}

/// The aligned text tables of `rubble bench vgg` and `rubble bench train`.
enum NetworkTable {
    static let vggHeader = "model   size  batch   images/s   ms/batch  GFLOP/s (direct-conv count)"

    static func line(_ r: VGGBenchmarkRow) -> String {
        left(r.model, 6) + String(format: " %5d  %5d  %9.2f  %9.2f  %8.1f", r.image_size, r.batch, r.images_per_s,
                                  r.ms_per_batch, r.gflops_effective)
    }

    static let trainHeader = "mode      model   size  batch   images/s    ms/step"

    static func line(_ r: TrainBenchmarkRow) -> String {
        left(r.mode, 9) + " " + left(r.model, 6)
            + String(format: " %5d  %5d  %9.2f  %9.2f", r.image_size, r.batch, r.images_per_s, r.ms_per_step)
    }

    static func left(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}

import ArgumentParser
import Depth
import Foundation
import HuggingFaceFiles
import Layers
import Tensor

/// `rubble bench depth`: Depth Anything inference latency and throughput (the JSON names are
/// read by `Benchmarks/compare/depth_anything_pytorch.py`: keep them).
struct BenchDepth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Depth Anything inference: images/s and ms per batch (V2 Small at 518x518 by default).",
        discussion: """
            The model of --model (a Hugging Face folder), else Depth Anything V2 Small's \
            configuration (DINOv2-Small reading layers 3/6/9/12, neck 48/96/192/384, fusion 64) \
            with random weights. Random normalised pixel values of --size x --size (a multiple of \
            14 is what the model sees), forward under withoutGradients up to predicted_depth at the \
            input resolution (what transformers returns). Two warm-up passes, then --runs timed \
            passes (5x as many at batch 1) and the chosen statistic.
            """)

    @Option(help: "A Depth Anything folder (config.json + model.safetensors); default: V2 Small with random weights.")
    var model: String?

    @Option(help: "Input height and width.")
    var size = 518

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batches: [Int] = [1]

    @Flag(help: "Also print milliseconds per batch by part (embeddings, attention, MLP, norms, LayerScale and residuals unfused, neck, head).")
    var layers = false

    @OptionGroup var options: MeasureOptions

    func validate() throws {
        guard size >= 14, size <= 2048 else { throw ValidationError("--size \(size) must be in 14...2048") }
        guard batches.allSatisfy({ (1...64).contains($0) }) else { throw ValidationError("--batches must be in 1...64") }
    }

    func run() throws {
        let depth: DepthAnything
        let label: String
        if let model {
            depth = try DepthAnythingFolder.load(URL(fileURLWithPath: model))
            label = URL(fileURLWithPath: model).lastPathComponent
        } else {
            depth = try DepthAnything(configuration: .v2Small, seed: 1)
            label = "depth-anything-v2-s"
        }
        try InferenceBatches.run(label: label, size: size, batches: batches, options: options, labelWidth: 20,
                                 forward: { x in _ = try withoutGradients { try depth(x, training: false) } },
                                 parts: layers ? { x in try Self.timeByPart(depth, x) } : nil)
    }

    /// One pass with each part timed on its own (after a warm-up pass): milliseconds per part.
    static func timeByPart(_ model: DepthAnything, _ x: Tensor) throws -> [(String, Double)] {
        let timed = PartTimer()
        _ = try withoutGradients { try model(x, training: false) }
        try withoutGradients {
            let backbone = model.backbone
            let (height, width) = (x.shape[1] / model.patchSize, x.shape[2] / model.patchSize)
            var h = try timed("embeddings") { try backbone.embeddings(x, training: false) }
            var states: [Tensor] = []
            let wanted = Set(backbone.configuration.outIndices)
            for (index, layer) in backbone.encoderLayers.enumerated() where index < (wanted.max() ?? 0) {
                let normed = try timed("layer norms") { try layer.attentionNorm(h, training: false) }
                let attention = try timed("attention") { try layer.attention(normed, training: false) }
                h = try timed("layer scale + residual") { h + (try layer.attentionScale(attention, training: false)) }
                let normed2 = try timed("layer norms") { try layer.feedForwardNorm(h, training: false) }
                let mlp = try timed("mlp") { try layer.feedForward(normed2, training: false) }
                h = try timed("layer scale + residual") { h + (try layer.feedForwardScale(mlp, training: false)) }
                if wanted.contains(index + 1) { states.append(try timed("layer norms") { try backbone.norm(h, training: false) }) }
            }
            let fused = try timed("neck") { try model.neck.fused(states, height: height, width: width, training: false) }
            _ = try timed("head") { try model.head.depth(fused[fused.count - 1], height: height, width: width, training: false) }
        }
        return timed.slowestFirst
    }
}

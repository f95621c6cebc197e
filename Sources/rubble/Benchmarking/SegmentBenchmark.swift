import ArgumentParser
import Foundation
import HuggingFaceFiles
import Layers
import Segmentation
import Tensor

/// `rubble bench segment`: SegFormer inference throughput (the JSON names are read by
/// `Benchmarks/compare/segformer_pytorch.py`: keep them).
struct BenchSegment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "SegFormer inference: images/s and ms per batch (B0 at 512x512 by default).",
        discussion: """
            The model of --model (a Hugging Face folder), else SegFormer-B0's configuration \
            (transformers' defaults: hidden sizes 32/64/160/256, decoder 256) with 3 classes and \
            random weights. Random normalised pixel values, forward under withoutGradients up to \
            the logits at 1/4 resolution (what transformers returns). Two warm-up passes, then \
            --runs timed passes (5x as many at batch 1) and the chosen statistic.
            """)

    @Option(help: "A SegFormer folder (config.json + model.safetensors); default: B0 with random weights.")
    var model: String?

    @Option(help: "Input height and width.")
    var size = 512

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batches: [Int] = [1, 8]

    @Flag(help: "Also print milliseconds per batch by part (patch embeddings, attention, Mix-FFN, norms, decode head; the batch run as one tensor, block parts unfused).")
    var layers = false

    @OptionGroup var options: MeasureOptions

    func validate() throws {
        guard size >= 32, size <= 4096 else { throw ValidationError("--size \(size) must be in 32...4096") }
        guard batches.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--batches must be in 1...256") }
    }

    func run() throws {
        let segformer: Segformer
        let label: String
        if let model {
            segformer = try SegformerFolder.load(URL(fileURLWithPath: model))
            label = URL(fileURLWithPath: model).lastPathComponent
        } else {
            segformer = try Segformer(configuration: SegformerConfiguration(classNames: ["undamaged_structure", "damaged_structure", "debris"]), seed: 1)
            label = "segformer-b0"
        }
        try InferenceBatches.run(label: label, size: size, batches: batches, options: options, labelWidth: 14,
                                 forward: { x in _ = try withoutGradients { try segformer(x, training: false) } },
                                 parts: layers ? { x in try Self.timeByPart(segformer, x) } : nil)
    }

    /// One pass with each part timed on its own (after a warm-up pass): milliseconds per part.
    static func timeByPart(_ model: Segformer, _ x: Tensor) throws -> [(String, Double)] {
        let timed = PartTimer()
        _ = try withoutGradients { try model(x, training: false) }
        try withoutGradients {
            var states: [Tensor] = []
            var h = x
            for stage in model.encoder.stages {
                h = try timed("patch embedding") { try stage.embedding(h, training: false) }
                for block in stage.blocks {
                    let normed = try timed("layer norms") { try block.attentionNorm(h, training: false) }
                    h = h + (try timed("attention") { try block.attention(normed, training: false) })
                    let normed2 = try timed("layer norms") { try block.feedForwardNorm(h, training: false) }
                    h = h + (try timed("mix-ffn") { try block.feedForward(normed2, training: false) })
                }
                h = try timed("layer norms") { try stage.norm(h, training: false) }
                states.append(h)
            }
            _ = try timed("decode head") { try model.decodeHead.logits(hiddenStates: states, training: false) }
        }
        return timed.slowestFirst
    }
}

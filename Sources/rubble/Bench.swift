import KernelBench
import ArgumentParser
import Foundation
import Layers
import Tensor
import Zoo

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the kernels and networks: sgemm, conv, vgg and models (inference), segment (SegFormer), depth (Depth Anything), train (transfer step), store (the screening store).",
        subcommands: [BenchSgemm.self, BenchConv.self, BenchVGG.self, BenchModels.self, BenchSegment.self, BenchDepth.self,
                      BenchTrain.self, BenchStore.self])
}

/// Options every bench command shares.
struct MeasureOptions: ParsableArguments {
    @Option(help: "Timed samples per measurement (after one warm-up call).")
    var runs = 5

    @Option(help: "Which sample to report: \(Statistic.allCases.map(\.rawValue).joined(separator: " or ")).")
    var statistic = Statistic.median

    @Flag(help: "Print JSON instead of a table.")
    var json = false
}

extension Statistic: ExpressibleByArgument {}

struct BenchSgemm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sgemm",
        abstract: "OpenBLAS core in use and sgemm GFLOP/s at size^3, on 1 thread and on all.",
        discussion: """
            Square row-major C = A·B on random 64-byte-aligned matrices. Each sample is the mean of \
            enough back-to-back calls to last 50 ms; one warm-up call first; the reported GFLOP/s \
            (2*size^3 per call) is the chosen statistic of --runs samples.
            """)

    @Option(help: "Matrix size.")
    var size = 2048

    @OptionGroup var options: MeasureOptions

    func run() throws {
        let report = SgemmReport.measure(size: size, runs: options.runs, statistic: options.statistic)
        if options.json {
            print(String(decoding: try JSONEncoder.pretty.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Conv forward/backward GFLOP/s at VGG19's 150x150 shapes, next to sgemm at the same GEMM shape.",
        discussion: """
            Every distinct 3x3 'same' stride-1 conv shape of VGG19 at 150x150x3 input, with the \
            library's kernels (ConvolutionKernels): forward (conv + bias + relu), backward_data (dX \
            from the pre-activation dY) and backward_weights (dW), each by the algorithm \
            --algorithm names (default automatic: the library's rule; the algorithm column says \
            what ran). GFLOP/s count 2*M*N*K of the im2col GEMM (M = batch*H*W, K = 9*Cin, N = \
            Cout) for every direction and algorithm: the direct-convolution FLOPs, so Winograd's \
            is an effective rate. The Winograd passes transform the kernel in every call (as in \
            training; inference caches it).

            sgemm_gflops is OpenBLAS sgemm alone, on random matrices allocated once, at the same \
            GEMM shape: forward [M,K]x[K,N], backward_data [M,N]x[N,K]^T, backward_weights \
            [K,M]^T x[M,N], with M cut so that no operand exceeds --reference-mb (default 256 MB; \
            it cuts M only at batch 32 for block1_conv2, block2_conv1/2 and block3_conv2 -- at such \
            M sgemm is at its asymptotic speed). It is not measured at the kernels' chunk shape.

            Conv and sgemm samples are interleaved (one warm-up call each, then --runs rounds; a \
            sample is the mean of back-to-back calls lasting >= 50 ms) and the chosen statistic \
            is reported. The table's ratio column is the median over rounds of conv GFLOP/s over \
            sgemm GFLOP/s in the same round (steadier on a shared machine than the ratio of the \
            two columns); ws is the workspace (column buffers, rotated kernel, partial dW; Winograd: \
            transform buffers, transformed kernel, Winograd-domain dW) a pass asked for at most.
            """)

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batch: [Int] = [32, 1]

    @Option(parsing: .upToNextOption,
            help: "Layers (default all): \(ConvLayerShape.vgg19At150.map(\.name).joined(separator: " ")).")
    var layers: [String] = []

    @Option(parsing: .upToNextOption, help: "Directions (default all): forward backward_data backward_weights.")
    var directions: [String] = []

    @Option(help: "Largest operand of the sgemm reference, in MB.")
    var referenceMb = 256

    @Option(parsing: .upToNextOption,
            help: """
                Algorithms, each measured in turn: \(ConvolutionAlgorithm.allCases.map(\.rawValue).joined(separator: " ")) \
                (automatic: the library's rule; a Winograd one falls back to im2col where it does not apply).
                """)
    var algorithm: [String] = ["automatic"]

    @Option(help: "Workspace cap (Workspace.capBytes) in MB for this run (default: the library's).")
    var workspaceMb: Int?

    @Option(help: "Per-thread column buffer target (Workspace.chunkBytes) in KB for this run (default: the library's).")
    var chunkKb: Int?

    @Option(help: """
        Per-thread Winograd transform buffers (Winograd.chunkBytes) in KB for this run (default: the library's).
        """)
    var winogradChunkKb: Int?

    @OptionGroup var options: MeasureOptions

    func validate() throws {
        let known = Set(ConvLayerShape.vgg19At150.map(\.name))
        if let bad = layers.first(where: { !known.contains($0) }) {
            throw ValidationError("unknown layer \(bad); known: \(ConvLayerShape.vgg19At150.map(\.name).joined(separator: ", "))")
        }
        if let bad = directions.first(where: { ConvDirection(rawValue: $0) == nil }) {
            throw ValidationError("unknown direction \(bad)")
        }
        if batch.contains(where: { $0 < 1 }) { throw ValidationError("batch sizes must be positive") }
        if let bad = algorithm.first(where: { ConvolutionAlgorithm(rawValue: $0) == nil }) {
            throw ValidationError("unknown algorithm \(bad)")
        }
    }

    func run() throws {
        let shapes = ConvLayerShape.vgg19At150.filter { layers.isEmpty || layers.contains($0.name) }
        var bench = ConvBenchmark()
        bench.runs = options.runs
        bench.statistic = options.statistic
        bench.maxReferenceOperandBytes = referenceMb << 20
        if !directions.isEmpty { bench.directions = directions.compactMap(ConvDirection.init(rawValue:)) }
        let cap = workspaceMb.map { $0 << 20 } ?? Workspace.capBytes
        let chunk = chunkKb.map { $0 << 10 } ?? Workspace.chunkBytes
        if !options.json {
            print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; workspace cap \(cap >> 20) MB, "
                  + "per-thread chunk \(chunk >> 10) KB; "
                  + "\(options.statistic.rawValue) of \(options.runs) runs")
            print(ConvTable.header)
        }
        var rows: [ConvBenchmarkRow] = []
        let winogradChunk = winogradChunkKb.map { $0 << 10 } ?? Winograd.chunkBytes
        Workspace.$capBytes.withValue(cap) { Workspace.$chunkBytes.withValue(chunk) {
        Winograd.$chunkBytes.withValue(winogradChunk) {
            let algorithms = algorithm.compactMap(ConvolutionAlgorithm.init(rawValue:))
            for b in batch {
                for shape in shapes {
                    for a in algorithms {
                        bench.algorithm = a
                        for row in bench.measure(shape, batch: b) {
                            rows.append(row)
                            if !options.json {
                                print(ConvTable.line(row))
                                fflush(nil)
                            }
                        }
                    }
                }
            }
        } } }
        if options.json { print(try ConvBenchmarkRow.jsonArray(rows)) }
    }
}

struct BenchVGG: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vgg",
        abstract: "VGG16/VGG19 inference (no top) throughput: images/s, ms per batch, effective GFLOP/s.",
        discussion: """
            Keras' VGG without the top (include_top=False), random Glorot weights, random input in \
            [0, 1), forward under withoutGradients. Two warm-up passes (the first caches each \
            layer's Winograd-transformed kernel), then --runs timed passes (5x as many at batch 1) \
            and the chosen statistic. gflops_effective is the network's direct-convolution FLOP \
            count (2*H*W*Cin*Cout*9 per conv layer per image) divided by the time, so Winograd \
            layers count the multiplications they avoid. Default cases: 150x150 at batch 1 and 32, \
            224x224 at batch 32, for vgg16 and vgg19.
            """)

    @Option(parsing: .upToNextOption, help: "Models: vgg16 vgg19.")
    var models: [String] = ["vgg16", "vgg19"]

    @Option(parsing: .upToNextOption, help: "Cases as size:batch.")
    var cases: [String] = ["150:1", "150:32", "224:32"]

    @Option(help: "Convolution algorithm: \(ConvolutionAlgorithm.allCases.map(\.rawValue).joined(separator: " ")).")
    var algorithm = "automatic"

    @OptionGroup var options: MeasureOptions

    var parsedCases: [(size: Int, batch: Int)] { Measurement.networkCases(cases) ?? [] }

    func validate() throws {
        if let bad = models.first(where: { VGGConfiguration.Depth(rawValue: $0) == nil }) {
            throw ValidationError("unknown model \(bad); known: vgg16, vgg19")
        }
        if Measurement.networkCases(cases) == nil { throw ValidationError("cases are size:batch, size >= 32, e.g. 150:32") }
        if ConvolutionAlgorithm(rawValue: algorithm) == nil { throw ValidationError("unknown algorithm \(algorithm)") }
    }

    func run() throws {
        if !options.json {
            print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; convolution algorithm \(algorithm); "
                  + "\(options.statistic.rawValue) of \(options.runs) runs (x5 at batch 1)")
            print(NetworkTable.vggHeader)
        }
        var rows: [VGGBenchmarkRow] = []
        try ConvolutionKernels.$algorithm.withValue(ConvolutionAlgorithm(rawValue: algorithm)!) {
            for name in models {
                for c in parsedCases {
                    let row = try NetworkBenchmark.vgg(VGGConfiguration.Depth(rawValue: name)!, imageSize: c.size,
                                                       batch: c.batch, runs: options.runs, statistic: options.statistic)
                    rows.append(row)
                    if !options.json {
                        print(NetworkTable.line(row))
                        fflush(nil)
                    }
                }
            }
        }
        if options.json { print(String(decoding: try JSONEncoder.pretty.encode(rows), as: UTF8.self)) }
    }
}

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "The paper's transfer-training throughput (VGG19 150x150, blocks 1-4 frozen), uncached and cached.",
        discussion: """
            Trainer.fit on random in-memory images: VGG19 base with blocks 1-4 frozen, \
            Flatten-try Dense(256)-try Dense(2), try RMSprop(1e-5), class weights, batch 32, no validation. \
            uncached: every step runs blocks 1-4 without gradients, then block 5 and the head with \
            them (what Keras' fit does each epoch); cached: block 5 and the head only, from the \
            block4_pool features the trainer stored in the first epoch. The first epoch is a \
            warm-up; the chosen statistic of the next --epochs epochs' images/s (loading, forward, \
            loss, backward, RMSprop; not validation) is reported.
            """)

    @Option(parsing: .upToNextOption, help: "Modes: uncached cached.")
    var modes: [String] = ["uncached", "cached"]

    @Option(help: "Model: vgg16 or vgg19.")
    var model = "vgg19"

    @Option(help: "Image size.")
    var imageSize = 150

    @Option(help: "Batch size.")
    var batch = 32

    @Option(help: "Steps per epoch (the data set holds steps * batch images).")
    var steps = 8

    @Option(help: "Timed epochs after the warm-up epoch.")
    var epochs = 3

    @Option(help: "Convolution algorithm: \(ConvolutionAlgorithm.allCases.map(\.rawValue).joined(separator: " ")).")
    var algorithm = "automatic"

    @OptionGroup var options: MeasureOptions

    func validate() throws {
        if let bad = modes.first(where: { $0 != "uncached" && $0 != "cached" }) {
            throw ValidationError("unknown mode \(bad); known: uncached, cached")
        }
        if VGGConfiguration.Depth(rawValue: model) == nil { throw ValidationError("unknown model \(model)") }
        if ConvolutionAlgorithm(rawValue: algorithm) == nil { throw ValidationError("unknown algorithm \(algorithm)") }
        if imageSize < 32 || batch < 1 || steps < 1 || epochs < 1 {
            throw ValidationError("image size >= 32, batch, steps and epochs >= 1")
        }
    }

    func run() throws {
        if !options.json {
            print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads; convolution algorithm \(algorithm); "
                  + "\(steps) steps per epoch, \(options.statistic.rawValue) of \(epochs) epochs after a warm-up epoch")
            print(NetworkTable.trainHeader)
        }
        var rows: [TrainBenchmarkRow] = []
        try ConvolutionKernels.$algorithm.withValue(ConvolutionAlgorithm(rawValue: algorithm)!) {
            for mode in modes {
                let row = try NetworkBenchmark.train(VGGConfiguration.Depth(rawValue: model)!, cached: mode == "cached",
                                                     imageSize: imageSize, batch: batch, steps: steps, epochs: epochs,
                                                     statistic: options.statistic)
                rows.append(row)
                if !options.json {
                    print(NetworkTable.line(row))
                    fflush(nil)
                }
            }
        }
        if options.json { print(String(decoding: try JSONEncoder.pretty.encode(rows), as: UTF8.self)) }
    }
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}

import Benchmark
import Dispatch
import KernelBench
import Layers
import Tensor
import Zoo

// VGG16 / VGG19 inference without the top (Keras include_top=False), random Glorot weights,
// random input in [0, 1), under withoutGradients: the cases `rubble bench vgg` prints. Besides
// wall-clock time each benchmark reports the effective GFLOP/s: the network's
// direct-convolution FLOP count (NetworkFLOPs.convolutions) over the time, so layers running
// Winograd count the multiplications they avoid.

let gflops = BenchmarkMetric.custom("GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, gflops, .peakMemoryResident],
        warmupIterations: 2,
        maxDuration: .seconds(10),
        maxIterations: 10)

    for depth in VGGConfiguration.Depth.allCases {
        for (size, batch) in [(150, 1), (150, 32), (224, 32)] {
            Benchmark(
                "\(depth.rawValue) \(size)x\(size) batch \(batch) forward",
                closure: { benchmark, setup in
                    let (model, input, flops) = setup
                    let start = DispatchTime.now().uptimeNanoseconds
                    benchmark.startMeasurement()
                    blackHole(try withoutGradients { try model(input, training: false) })
                    benchmark.stopMeasurement()
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                    benchmark.measurement(gflops, Int((flops / seconds / 1e9).rounded()))
                },
                setup: { () throws -> (Sequential, Tensor, Double) in
                    var rng = SeededGenerator(seed: 1)
                    let model = try VGG.make(VGGConfiguration(depth: depth, inputSize: size), rng: &rng)
                    let input = Tensor.uniform([batch, size, size, 3], low: 0, high: 1, using: &rng)
                    let flops = try NetworkFLOPs.convolutions(model, input: [size, size, 3]) * Double(batch)
                    return (model, input, flops)
                })
        }
    }
}

import Layers
import Tensor
import Train
import XCTest

/// A small convnet learns a separable synthetic image task with the real training loop:
/// `Sequential.logits` -> `SoftmaxCrossEntropy` -> `backward()` -> optimizer step.
final class EndToEndTrainingTests: XCTestCase {
    /// 16x16x3 images of uniform noise in [0, 0.5); class 1 also has a bright 4x4 square
    /// somewhere in the top-left 8x8 corner. Classes alternate.
    static func makeDataset(count: Int, seed: UInt64) -> (images: Tensor, labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        let size = 16, channels = 3
        var labels: [Int] = []
        let images = Tensor(shape: [count, size, size, channels]) { pixels in
            for n in 0..<count {
                let label = n % 2
                labels.append(label)
                let base = n * size * size * channels
                for i in 0..<(size * size * channels) { pixels[base + i] = 0.5 * rng.nextUnit() }
                guard label == 1 else { continue }
                let top = Int(rng.next() % 5), left = Int(rng.next() % 5)
                for y in top..<(top + 4) {
                    for x in left..<(left + 4) {
                        for c in 0..<channels { pixels[base + (y * size + x) * channels + c] = 0.9 + 0.1 * rng.nextUnit() }
                    }
                }
            }
        }
        return (images, labels)
    }

    static func makeModel(seed: UInt64) throws -> Sequential {
        var rng = SeededGenerator(seed: seed)
        return try Sequential([
            try Conv2D(name: "conv1", inputChannels: 3, filters: 8, activation: .relu, rng: &rng),
            MaxPool2D(name: "pool1"),
            try Conv2D(name: "conv2", inputChannels: 8, filters: 8, activation: .relu, rng: &rng),
            MaxPool2D(name: "pool2"),
            Flatten(),
            try Dense(name: "dense", inputSize: 4 * 4 * 8, outputSize: 2, activation: .softmax, rng: &rng),
        ])
    }

    /// The images `[start, end)` of a batch.
    static func slice(_ images: Tensor, _ range: Range<Int>) -> Tensor {
        let perImage = images.count / images.shape[0]
        var dims = images.shape.dims
        dims[0] = range.count
        return Tensor(shape: Shape(dims)) { out in
            images.withUnsafeBufferPointer { src in
                for i in 0..<(range.count * perImage) { out[i] = src[range.lowerBound * perImage + i] }
            }
        }
    }

    /// The fraction of `images` the model classifies as `labels` (inference mode, no graph).
    static func accuracy(_ model: Sequential, _ images: Tensor, _ labels: [Int]) throws -> Float {
        let predictions = try withoutGradients { try model(images).argmaxLastAxis() }
        return Float(zip(predictions, labels).filter { $0 == $1 }.count) / Float(labels.count)
    }

    struct Outcome {
        var losses: [Float]
        var initialAccuracy: Float
        var trainingAccuracy: Float
        var heldOutAccuracy: Float
    }

    /// Trains on 64 images for `epochs` in batches of 16; returns each epoch's mean loss (as
    /// Keras reports it: batch losses weighted by batch size) and the accuracies.
    func train(optimizer: any Optimizer, epochs: Int) throws -> Outcome {
        let (images, labels) = Self.makeDataset(count: 64, seed: 42)
        let (heldOut, heldOutLabels) = Self.makeDataset(count: 32, seed: 99)
        let model = try Self.makeModel(seed: 3)
        let initialAccuracy = try Self.accuracy(model, images, labels)
        let loss = SoftmaxCrossEntropy()
        let batch = 16
        var losses: [Float] = []
        for _ in 0..<epochs {
            var total: Float = 0
            for start in stride(from: 0, to: labels.count, by: batch) {
                let range = start..<min(start + batch, labels.count)
                let value = try loss(logits: model.logits(Self.slice(images, range), training: true),
                                     labels: Array(labels[range]))
                XCTAssertTrue(value.isFinite)
                value.backward()
                optimizer.step(model.parameters)
                for parameter in model.parameters { parameter.zeroGradient() }
                total += value.scalar * Float(range.count)
            }
            losses.append(total / Float(labels.count))
        }
        return Outcome(losses: losses, initialAccuracy: initialAccuracy,
                       trainingAccuracy: try Self.accuracy(model, images, labels),
                       heldOutAccuracy: try Self.accuracy(model, heldOut, heldOutLabels))
    }

    func assertLearned(_ outcome: Outcome, file: StaticString = #filePath, line: UInt = #line) {
        let info = "losses \(outcome.losses), accuracy before \(outcome.initialAccuracy)"
        XCTAssertLessThanOrEqual(outcome.initialAccuracy, 0.75, "untrained model already good: " + info,
                                 file: file, line: line)
        XCTAssertGreaterThanOrEqual(outcome.trainingAccuracy, 0.95, info, file: file, line: line)
        XCTAssertGreaterThanOrEqual(outcome.heldOutAccuracy, 0.9, info, file: file, line: line)
        XCTAssertLessThan(outcome.losses.last!, 0.3 * outcome.losses.first!, info, file: file, line: line)
    }

    func testConvNetLearnsWithRMSprop() throws {
        assertLearned(try train(optimizer: try RMSprop(), epochs: 20))
    }

    func testConvNetLearnsWithLegacyRMSprop() throws {
        assertLearned(try train(optimizer: try RMSprop(epsilonOutsideSquareRoot: true), epochs: 20))
    }

    func testConvNetLearnsWithAdamDeterministically() throws {
        let first = try train(optimizer: try Adam(), epochs: 20)
        assertLearned(first)
        let second = try train(optimizer: try Adam(), epochs: 20)
        XCTAssertEqual(first.losses, second.losses, "seeded training should repeat exactly")
    }
}

import Foundation
import Rubble

// Two classes of 16x16 RGB images: "dark" (values around 0.25) and "bright" (around 0.75).
var rng = SeededGenerator(seed: 42)
let count = 64, side = 16
let labels = (0..<count).map { $0 % 2 }
let images = Tensor(shape: [count, side, side, 3]) { pixels in
    for i in pixels.indices {
        let label = labels[i / (side * side * 3)]
        pixels[i] = (label == 1 ? 0.75 : 0.25) + 0.2 * (rng.nextUnit() - 0.5)
    }
}
let data = try TensorExamples(images: images, labels: labels, classNames: ["dark", "bright"])

// A small CNN with Keras layer names; Dense(softmax) last, as Keras builds classifiers.
let model = try Sequential(name: "sequential", [
    Conv2D(name: "conv2d", inputChannels: 3, filters: 8, activation: .relu, rng: &rng),
    MaxPool2D(name: "max_pooling2d"),
    Flatten(name: "flatten"),
    Dense(name: "dense", inputSize: 8 * 8 * 8, outputSize: 2, activation: .softmax, rng: &rng),
])

// Train with callbacks: print each epoch, stop once the training accuracy is perfect.
let trainer = Trainer(model: model, optimizer: try Adam(learningRate: 1e-2),
                      configuration: TrainingConfiguration(epochs: 20, batchSize: 16))
let report = EpochEndCallback { record, _ in
    print("epoch \(record.epoch): loss \(record.loss), accuracy \(record.accuracy)")
    return record.accuracy == 1 ? .stop : .continue
}
try trainer.fit(data, callbacks: [report])
let evaluation = try trainer.evaluate(data)
guard evaluation.accuracy >= 0.95 else { fail("the example model did not learn: accuracy \(evaluation.accuracy)") }

// Export to Keras' layout (tf_keras `model.load_weights` reads it) and read it back.
let file = FileManager.default.temporaryDirectory.appendingPathComponent("rubble-example-\(getpid()).h5")
defer { try? FileManager.default.removeItem(at: file) }
try KerasWeights.save(model, to: file, metadata: ModelMetadata(classNames: data.classNames))
var other = SeededGenerator(seed: 7)
let copy = try Sequential(name: "sequential", [
    Conv2D(name: "conv2d", inputChannels: 3, filters: 8, activation: .relu, rng: &other),
    MaxPool2D(name: "max_pooling2d"),
    Flatten(name: "flatten"),
    Dense(name: "dense", inputSize: 8 * 8 * 8, outputSize: 2, activation: .softmax, rng: &other),
])
try KerasWeights.load(file, into: copy)
let difference = try model(images).maxAbsDifference(try copy(images))
guard difference == 0 else { fail("the reloaded model differs by \(difference)") }
print("accuracy \(evaluation.accuracy); exported and reloaded \(file.lastPathComponent) exactly")

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("TrainInMemory: \(message)\n".utf8))
    exit(1)
}

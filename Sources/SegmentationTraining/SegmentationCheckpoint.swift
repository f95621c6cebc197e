import Segmentation
import Foundation
import HuggingFaceFiles
import Tensor
import Train

/// What a segmentation run must agree on to be continued: everything that changes the numbers.
public struct SegmentationRunSettings: Sendable, Codable, Equatable {
    /// The model's `config.json` fields (unmodelled keys left out), class names included.
    public var model: SegformerConfiguration
    /// The image processor, as ``SegmentationTrainer`` describes it (size, filter, backend,
    /// rescale and normalisation).
    public var processor: String
    public var batchSize: Int
    public var epochs: Int
    public var maxSteps: Int?
    /// Optimizer steps of the whole run (the schedule decays to 0 over them).
    public var totalSteps: Int
    /// Hexadecimal (JSON numbers lose UInt64 precision in some readers).
    public var seedHex: String
    public var validationFraction: Double
    public var classWeights: [Float]?
    public var augmentation: SegmentationAugmentation
    /// The optimizer and its schedule, described.
    public var optimizer: String
    public var schedule: String
    public var freezeEncoder: Bool
    /// Pairs in the training and validation parts, and a hash of their names.
    public var trainingPairs: Int
    public var validationPairs: Int
    public var dataFingerprint: String

    /// One line per setting that differs (`batch size 4 (checkpoint) vs 8 (now)`).
    public func differences(from checkpoint: SegmentationRunSettings) -> [String] {
        var lines: [String] = []
        func compare<T: Equatable>(_ name: String, _ old: T, _ new: T) {
            if old != new { lines.append("\(name) \(old) (checkpoint) vs \(new) (now)") }
        }
        var oldModel = checkpoint.model, newModel = model
        oldModel.otherKeys = [:]
        newModel.otherKeys = [:]
        compare("classes", oldModel.classNames, newModel.classNames)
        if oldModel.classNames == newModel.classNames && oldModel != newModel {
            lines.append("the model configuration differs from the checkpoint's")
        }
        compare("image processor", checkpoint.processor, processor)
        compare("batch size", checkpoint.batchSize, batchSize)
        compare("epochs", checkpoint.epochs, epochs)
        compare("step budget", checkpoint.maxSteps.map(String.init) ?? "none", maxSteps.map(String.init) ?? "none")
        compare("total steps", checkpoint.totalSteps, totalSteps)
        compare("seed", checkpoint.seedHex, seedHex)
        compare("validation fraction", checkpoint.validationFraction, validationFraction)
        compare("class weights", checkpoint.classWeights.map { "\($0)" } ?? "none", classWeights.map { "\($0)" } ?? "none")
        compare("augmentation", "\(checkpoint.augmentation)", "\(augmentation)")
        compare("optimizer", checkpoint.optimizer, optimizer)
        compare("learning-rate schedule", checkpoint.schedule, schedule)
        compare("frozen encoder", checkpoint.freezeEncoder, freezeEncoder)
        compare("training pairs", checkpoint.trainingPairs, trainingPairs)
        compare("validation pairs", checkpoint.validationPairs, validationPairs)
        if checkpoint.trainingPairs == trainingPairs && checkpoint.validationPairs == validationPairs {
            compare("data (names of the pairs)", checkpoint.dataFingerprint, dataFingerprint)
        }
        return lines
    }
}

/// Everything ``SegmentationTrainer`` needs to continue a run exactly: the model's tensors
/// (weights and BatchNorm statistics, in Rubble's layout, bit for bit), the AdamW moments and
/// step count, the BatchNorm's `num_batches_tracked`, the dropout / drop-path generators, the
/// steps taken, the history and the best epoch. The shuffles and augmentations are functions
/// of the seed and the epoch, so the completed epochs fix them.
///
/// One file, `checkpoint/segmenter.safetensors`, written atomically: tensors `model/<name>`
/// (PyTorch state-dict names) and `optimizer/<name>/<slot>`, the rest as JSON in the
/// `__metadata__` entry ``metadataKey``. Reading trusts nothing: the safetensors header is
/// validated by ``SafeTensorsFile``, every value must be finite, every field is range-checked.
public struct SegmentationCheckpoint: Sendable {
    public static let fileName = "segmenter.safetensors"
    public static let metadataKey = "rubble_segmentation_checkpoint"
    static let format = 1

    public var completedEpochs: Int
    /// Batches processed by the whole run so far (the step budget counts them).
    public var stepsTaken: Int
    public var settings: SegmentationRunSettings
    /// `model.torchStateDict` names and their values in Rubble's layout.
    public var tensors: [(name: String, value: Tensor)]
    public var optimizer: OptimizerSnapshot
    public var batchNormSteps: Int64
    /// Dropout layer names and generator states, in `flattenedLayers` order.
    public var dropoutGenerators: [(name: String, generator: SeededGenerator)]
    public var history: SegmentationHistory
    public var bestEpoch: Int?
    /// The confusion counts of the best and of the last epoch (for `metrics.json`).
    public var bestConfusion: [Int]?
    public var lastConfusion: [Int]?

    public static func url(in directory: URL) -> URL { directory.appendingPathComponent(fileName) }

    private struct Header: Codable {
        var format: Int
        var completedEpochs: Int
        var stepsTaken: Int
        var settings: SegmentationRunSettings
        var optimizerIterations: Int
        var learningRateBits: UInt32
        /// Per tensor of `tensors` (same order), the slot names stored for it.
        var tensorNames: [String]
        var slotNames: [[String]]
        var batchNormSteps: Int64
        var dropout: [String]
        var dropoutStates: [[String]]
        var history: SegmentationHistory
        var bestEpoch: Int?
        var bestConfusion: [Int]?
        var lastConfusion: [Int]?
    }

    /// Writes `directory/segmenter.safetensors` atomically (creating the directory).
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var slotNames: [[String]] = []
        var writer = SafeTensorsWriter(metadata: nil)
        for (index, tensor) in tensors.enumerated() {
            writer.add("model/\(tensor.name)", tensor.value)
            let state = index < optimizer.states.count ? optimizer.states[index] : [:]
            let names = state.keys.sorted()
            slotNames.append(names)
            for slot in names { if let value = state[slot] { writer.add("optimizer/\(tensor.name)/\(slot)", value) } }
        }
        let header = Header(
            format: Self.format, completedEpochs: completedEpochs, stepsTaken: stepsTaken, settings: settings,
            optimizerIterations: optimizer.iterations, learningRateBits: optimizer.learningRate.bitPattern,
            tensorNames: tensors.map(\.name), slotNames: slotNames, batchNormSteps: batchNormSteps,
            dropout: dropoutGenerators.map(\.name),
            dropoutStates: dropoutGenerators.map { $0.generator.state.map { String($0, radix: 16) } },
            history: history, bestEpoch: bestEpoch, bestConfusion: bestConfusion, lastConfusion: lastConfusion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(header), as: UTF8.self)
        writer.metadata = ["format": "rubble", Self.metadataKey: json]
        try writer.write(to: Self.url(in: directory))
    }

    /// The largest JSON header `read` accepts.
    public static let maximumHeaderCharacters = 16 << 20

    /// Reads `directory/segmenter.safetensors`, checking every field (see the type).
    public static func read(from directory: URL) throws -> SegmentationCheckpoint {
        let url = Self.url(in: directory)
        let path = url.path
        func damaged(_ field: String, _ reason: String) -> SegmentationTrainingError {
            .damagedCheckpoint(file: path, field: field, reason: reason)
        }
        let file = try SafeTensorsFile(contentsOf: url)
        guard let json = file.metadata[metadataKey] else {
            throw damaged("__metadata__", "no \(metadataKey) entry: not a segmentation checkpoint")
        }
        guard json.utf8.count <= maximumHeaderCharacters else {
            throw damaged(metadataKey, "\(json.utf8.count) bytes, more than \(maximumHeaderCharacters)")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(json.utf8))
        } catch {
            throw damaged(metadataKey, String("\(error)".prefix(400)))
        }
        try validate(header, damaged: damaged)

        var tensors: [(name: String, value: Tensor)] = []
        var states: [[String: Tensor]] = []
        var used = Set<String>()
        for (name, slots) in zip(header.tensorNames, header.slotNames) {
            let key = "model/\(name)"
            guard file.contains(key) else { throw damaged("tensors", "no tensor \(key)") }
            tensors.append((name, try file.floatTensor(key)))
            used.insert(key)
            var state: [String: Tensor] = [:]
            for slot in slots {
                let slotKey = "optimizer/\(name)/\(slot)"
                guard file.contains(slotKey) else { throw damaged("tensors", "no tensor \(slotKey)") }
                state[slot] = try file.floatTensor(slotKey)
                used.insert(slotKey)
            }
            states.append(state)
        }
        if let stray = file.names.sorted().first(where: { !used.contains($0) }) {
            throw damaged("tensors", "\(stray) is not listed in the header")
        }
        var generators: [(name: String, generator: SeededGenerator)] = []
        for (name, words) in zip(header.dropout, header.dropoutStates) {
            let state = words.compactMap { UInt64($0, radix: 16) }
            guard words.count == 4, state.count == 4, state.contains(where: { $0 != 0 }) else {
                throw damaged("dropoutStates", "the generator state of \(name) is \(words.prefix(8)), not four "
                              + "hexadecimal words that are not all zero")
            }
            generators.append((name, try restoredGenerator(state, file: path)))
        }
        return SegmentationCheckpoint(
            completedEpochs: header.completedEpochs, stepsTaken: header.stepsTaken, settings: header.settings,
            tensors: tensors,
            optimizer: OptimizerSnapshot(iterations: header.optimizerIterations,
                                         learningRate: Float(bitPattern: header.learningRateBits), states: states),
            batchNormSteps: header.batchNormSteps, dropoutGenerators: generators, history: header.history,
            bestEpoch: header.bestEpoch, bestConfusion: header.bestConfusion, lastConfusion: header.lastConfusion)
    }

    private static func validate(_ header: Header, damaged: (String, String) -> SegmentationTrainingError) throws {
        guard header.format == format else { throw damaged("format", "\(header.format) (this reader knows \(format))") }
        let epochs = header.completedEpochs
        guard epochs >= 0, epochs == header.history.records.count else {
            throw damaged("completedEpochs", "\(epochs), but the history holds \(header.history.records.count) epochs")
        }
        let settings = header.settings
        guard settings.batchSize >= 1, settings.epochs >= 1, settings.totalSteps >= 1,
              settings.trainingPairs >= 1, settings.validationPairs >= 1 else {
            throw damaged("settings", "batch size \(settings.batchSize), epochs \(settings.epochs), total steps "
                          + "\(settings.totalSteps), pairs \(settings.trainingPairs) / \(settings.validationPairs): each must be >= 1")
        }
        guard (0...settings.totalSteps).contains(header.stepsTaken) else {
            throw damaged("stepsTaken", "\(header.stepsTaken) is outside 0...\(settings.totalSteps)")
        }
        guard epochs <= settings.epochs else {
            throw damaged("completedEpochs", "\(epochs) of a run of \(settings.epochs) epochs")
        }
        let classes = settings.model.classNames
        guard header.history.classNames == classes else {
            throw damaged("history.classNames", "\(header.history.classNames.prefix(8)) differ from the model's \(classes.prefix(8))")
        }
        for (i, record) in header.history.records.enumerated() {
            guard record.epoch == i + 1 else { throw damaged("history", "record \(i) is for epoch \(record.epoch), not \(i + 1)") }
            guard record.perClassIoU.count == classes.count else {
                throw damaged("history", "epoch \(i + 1) has \(record.perClassIoU.count) IoUs for \(classes.count) classes")
            }
            guard [record.loss, record.validationLoss, record.learningRate, record.seconds].allSatisfy(\.isFinite),
                  record.steps >= 0 else {
                throw damaged("history", "epoch \(i + 1) holds a non-finite loss, rate or time, or negative steps")
            }
        }
        guard header.optimizerIterations >= 0, header.optimizerIterations <= header.stepsTaken else {
            throw damaged("optimizerIterations", "\(header.optimizerIterations) for \(header.stepsTaken) steps taken")
        }
        let rate = Float(bitPattern: header.learningRateBits)
        guard rate.isFinite, rate > 0 else { throw damaged("learningRateBits", "the learning rate \(rate) is not positive") }
        guard header.tensorNames.count == header.slotNames.count, !header.tensorNames.isEmpty,
              Set(header.tensorNames).count == header.tensorNames.count,
              header.tensorNames.count <= 1 << 20 else {
            throw damaged("tensorNames", "\(header.tensorNames.count) names (\(Set(header.tensorNames).count) distinct) for "
                          + "\(header.slotNames.count) slot lists")
        }
        guard header.slotNames.allSatisfy({ Set($0).count == $0.count && !$0.contains("") && !$0.contains { $0.contains("/") } }) else {
            throw damaged("slotNames", "optimizer slot names must be distinct, not empty, without '/'")
        }
        guard header.batchNormSteps >= 0 else { throw damaged("batchNormSteps", "\(header.batchNormSteps) is negative") }
        guard header.dropout.count == header.dropoutStates.count, Set(header.dropout).count == header.dropout.count else {
            throw damaged("dropout", "\(header.dropout.count) dropout layers for \(header.dropoutStates.count) generator states")
        }
        if let best = header.bestEpoch, !(1...max(epochs, 1)).contains(best) || epochs == 0 {
            throw damaged("bestEpoch", "\(best), but \(epochs) epochs are complete")
        }
    }

    /// A generator in the given state, through its `Codable` form.
    private static func restoredGenerator(_ state: [UInt64], file: String) throws -> SeededGenerator {
        struct Box: Codable { var state: [UInt64] }
        let generator = try JSONDecoder().decode(SeededGenerator.self, from: JSONEncoder().encode(Box(state: state)))
        guard generator.state == state else {
            throw SegmentationTrainingError.damagedCheckpoint(file: file, field: "dropoutStates",
                                                              reason: "a generator state does not round-trip")
        }
        return generator
    }
}

import AtomicFiles
import Foundation
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// Everything a `Trainer` needs to continue a run exactly where it stopped: the weights, the
/// optimizer state, the completed epochs (which fix the next epoch's shuffle and augmentation
/// seeds), the dropout generators, the history and the best-so-far / early-stopping counters.
///
/// Stored as one file, `checkpoint/trainer.ckpt`, written under a temporary name, flushed
/// and renamed into place: a crash leaves the previous checkpoint whole. Layout: the 8 bytes
/// `RUBBLECK`, a little-endian UInt64 header length, a JSON header (`Header`), then the
/// tensors as raw little-endian float32 in header order. Values round-trip bit for bit.
public struct TrainingCheckpoint: Sendable {
    public static let fileName = "trainer.ckpt"
    static let magic = Array("RUBBLECK".utf8)

    /// Epochs completed when it was taken.
    public var completedEpochs: Int
    /// The run's settings that change the numbers; a resumed run must use the same.
    public var settings: Settings
    /// Qualified parameter names (`vgg19/block5_conv1/kernel`), in `model.parameters` order.
    public var parameterNames: [String]
    public var parameters: [Tensor]
    /// The optimizer's class name and state for the same parameters.
    public var optimizerType: String
    public var optimizer: OptimizerSnapshot
    /// The description of the optimizer's learning-rate schedule (`String(describing:)`), or
    /// `nil` without one (and in checkpoints written before schedules existed). A run is only
    /// resumed with the same schedule.
    public var learningRateSchedule: String? = nil
    /// Dropout layer names and their generators, in `flattenedLayers` order.
    public var dropoutGenerators: [(name: String, generator: SeededGenerator)]
    public var history: History
    /// Best value of the monitored metric so far and its epoch.
    public var bestValue: Double?
    public var bestEpoch: Int?
    /// Epochs since the monitored metric last improved (early stopping).
    public var epochsWithoutImprovement: Int

    /// What must match between the interrupted run and its continuation.
    public struct Settings: Sendable, Codable, Equatable {
        public var batchSize: Int
        public var shuffle: Bool
        public var seed: UInt64
        public var classWeights: [Float]?
        public var augmentation: Augmentation?
        public var monitor: Monitor
        public var trainingCount: Int
        public var classNames: [String]
        public var inputShape: [Int]?
    }

    /// The file inside a checkpoint directory.
    public static func url(in directory: URL) -> URL { directory.appendingPathComponent(fileName) }

    // MARK: - File format

    private struct TensorEntry: Codable {
        var key: String
        var shape: [Int]
    }

    private struct Header: Codable {
        var format: Int
        var completedEpochs: Int
        var settings: Settings
        /// The seed as hex text (JSON numbers lose UInt64 precision in some decoders).
        var seedHex: String
        var optimizerType: String
        var optimizerIterations: Int
        var learningRateBits: UInt32
        /// Absent without a schedule (as in files written before schedules existed).
        var learningRateSchedule: String?
        var slotNames: [[String]]
        var dropout: [String]
        var dropoutStates: [[String]]
        var history: History
        var bestValue: Double?
        var bestEpoch: Int?
        var epochsWithoutImprovement: Int
        var tensors: [TensorEntry]
    }

    /// Writes the checkpoint to `directory/trainer.ckpt` atomically (creating the directory).
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tensors: [(String, Tensor)] = []
        for (name, value) in zip(parameterNames, parameters) { tensors.append((name, value)) }
        var slotNames: [[String]] = []
        for (i, state) in optimizer.states.enumerated() {
            let names = state.keys.sorted()
            slotNames.append(names)
            for slot in names { tensors.append(("optimizer/\(i)/\(slot)", state[slot]!)) }
        }
        var settings = self.settings
        let seed = settings.seed
        settings.seed = 0
        let header = Header(
            format: 1, completedEpochs: completedEpochs, settings: settings, seedHex: String(seed, radix: 16),
            optimizerType: optimizerType, optimizerIterations: optimizer.iterations,
            learningRateBits: optimizer.learningRate.bitPattern, learningRateSchedule: learningRateSchedule,
            slotNames: slotNames,
            dropout: dropoutGenerators.map(\.name),
            dropoutStates: dropoutGenerators.map { $0.generator.state.map { String($0, radix: 16) } },
            history: history, bestValue: bestValue, bestEpoch: bestEpoch,
            epochsWithoutImprovement: epochsWithoutImprovement,
            tensors: tensors.map { TensorEntry(key: $0.0, shape: $0.1.shape.dims) })
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                      negativeInfinity: "-inf", nan: "nan")
        let json = try encoder.encode(header)

        do {
            try AtomicFile.replace(Self.url(in: directory)) { temporary in
                let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw Self.ioError("cannot create \(temporary.path)") }
                defer { close(fd) }
                var prefix = Self.magic
                withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefix += $0 }
                try prefix.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: temporary.path) }
                try json.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: temporary.path) }
                for (_, tensor) in tensors {
                    try tensor.withUnsafeBufferPointer {
                        try AtomicFile.writeAll(fd, UnsafeRawBufferPointer($0), path: temporary.path)
                    }
                }
            }
        } catch let error as AtomicFileError {
            throw TrainingError.checkpoint(error.description)
        }
    }

    /// The largest JSON header `read` accepts (a run's history of a few thousand epochs takes
    /// well under 1 MiB).
    public static let maximumHeaderBytes = 64 << 20
    /// The most tensors (parameters and optimizer slots) a checkpoint may list.
    public static let maximumTensorCount = 1 << 20

    /// Reads `directory/trainer.ckpt`, trusting nothing in it (hostile input: Fuzz/README.md): every header
    /// field is range-checked (`CheckpointError.damaged` names the field and its value), every
    /// tensor shape passes `limits` before anything is allocated (`.invalidShape`: negative,
    /// huge or overflowing dimensions, more than `limits.maximumTensorBytes`), the data must be
    /// exactly as long as the header says (`.truncated` names the tensor), and every value must
    /// be finite (`.nonFinite` names the tensor and the first bad index).
    public static func read(from directory: URL, limits: TensorLimits = .default) throws -> TrainingCheckpoint {
        let url = Self.url(in: directory)
        let file = url.path
        guard FileManager.default.fileExists(atPath: file) else {
            throw TrainingError.checkpoint("no checkpoint at \(file)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw CheckpointError.unreadable(file: file, reason: "\(error.localizedDescription)")
        }
        func damaged(_ field: String, _ reason: String) -> CheckpointError {
            .damaged(file: file, field: field, reason: reason)
        }
        guard data.count >= 16, Array(data.prefix(8)) == magic else {
            throw damaged("magic", "the file does not start with RUBBLECK (\(data.count) bytes)")
        }
        let storedLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        guard storedLength > 0, storedLength <= UInt64(maximumHeaderBytes), storedLength <= UInt64(data.count - 16) else {
            throw damaged("header length", "\(storedLength) bytes, but the file has \(data.count - 16) after the prefix "
                          + "(at most \(maximumHeaderBytes) allowed)")
        }
        let headerLength = Int(storedLength)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf",
                                                                        negativeInfinity: "-inf", nan: "nan")
        let header: Header
        do {
            header = try decoder.decode(Header.self, from: data.subdata(in: 16..<(16 + headerLength)))
        } catch {
            throw damaged("header", String("\(error)".prefix(400)))
        }
        try validate(header, damaged: damaged)

        // Tensors: every shape checked before anything is allocated, every offset without overflow.
        var offset = 16 + headerLength
        var tensors: [String: Tensor] = [:]
        var order: [String] = []
        for entry in header.tensors {
            let shape: Shape
            switch limits.shape(entry.shape) {
            case .success(let valid): shape = valid
            case .failure(let problem): throw CheckpointError.invalidShape(file: file, tensor: entry.key, problem: problem)
            }
            let byteCount = shape.count * MemoryLayout<Float>.size   // within the budget: no overflow
            guard byteCount <= data.count - offset else {
                throw CheckpointError.truncated(file: file, tensor: entry.key, offset: offset, needed: byteCount,
                                                available: data.count - offset)
            }
            let start = offset
            let tensor = Tensor(unsafeUninitializedShape: shape) { out in
                data.withUnsafeBytes { raw in
                    guard byteCount > 0, let source = raw.baseAddress, let target = out.baseAddress else { return }
                    UnsafeMutableRawPointer(target).copyMemory(from: source + start, byteCount: byteCount)
                }
            }
            if let bad = TensorLimits.firstNonFinite(in: tensor) {
                throw CheckpointError.nonFinite(file: file, tensor: entry.key, index: bad.index, value: "\(bad.value)")
            }
            tensors[entry.key] = tensor
            order.append(entry.key)
            offset += byteCount
        }
        guard offset == data.count else {
            throw damaged("tensors", "\(data.count - offset) bytes after the last tensor (the header lists "
                          + "\(header.tensors.count) tensors ending at byte \(offset))")
        }
        let parameterNames = order.filter { !$0.hasPrefix("optimizer/") }
        var states: [[String: Tensor]] = []
        var slotKeys = Set<String>()
        for (i, names) in header.slotNames.enumerated() {
            var state: [String: Tensor] = [:]
            for slot in names {
                let key = "optimizer/\(i)/\(slot)"
                guard let t = tensors[key] else { throw damaged("slotNames", "no tensor \(key)") }
                state[slot] = t
                slotKeys.insert(key)
            }
            states.append(state)
        }
        if let stray = order.first(where: { $0.hasPrefix("optimizer/") && !slotKeys.contains($0) }) {
            throw damaged("tensors", "\(stray) is not an optimizer slot listed in slotNames")
        }
        guard let seed = UInt64(header.seedHex, radix: 16) else {
            throw damaged("seedHex", "'\(header.seedHex.prefix(40))' is not a hexadecimal UInt64")
        }
        var settings = header.settings
        settings.seed = seed
        var generators: [(name: String, generator: SeededGenerator)] = []
        for (name, words) in zip(header.dropout, header.dropoutStates) {
            let state = words.compactMap { UInt64($0, radix: 16) }
            guard state.count == 4, words.count == 4, state.contains(where: { $0 != 0 }) else {
                throw damaged("dropoutStates", "the generator state of \(name) is \(words.prefix(8)), not four "
                              + "hexadecimal words that are not all zero")
            }
            generators.append((name, try SeededGenerator.restoring(state)))
        }
        return TrainingCheckpoint(
            completedEpochs: header.completedEpochs, settings: settings, parameterNames: parameterNames,
            parameters: parameterNames.compactMap { tensors[$0] }, optimizerType: header.optimizerType,
            optimizer: OptimizerSnapshot(iterations: header.optimizerIterations,
                                         learningRate: Float(bitPattern: header.learningRateBits), states: states),
            learningRateSchedule: header.learningRateSchedule,
            dropoutGenerators: generators, history: header.history, bestValue: header.bestValue,
            bestEpoch: header.bestEpoch, epochsWithoutImprovement: header.epochsWithoutImprovement)
    }

    /// The header's fields other than the tensor shapes, each against what a run can write.
    private static func validate(_ header: Header, damaged: (String, String) -> CheckpointError) throws {
        guard header.format == 1 else { throw damaged("format", "unknown format \(header.format) (this reader knows 1)") }
        let epochs = header.completedEpochs
        guard epochs >= 0, epochs == header.history.records.count else {
            throw damaged("completedEpochs", "\(epochs), but the history holds \(header.history.records.count) epochs")
        }
        let settings = header.settings
        guard settings.batchSize >= 1 else { throw damaged("settings.batchSize", "\(settings.batchSize) is below 1") }
        guard settings.trainingCount >= 1 else {
            throw damaged("settings.trainingCount", "\(settings.trainingCount) is below 1")
        }
        let classes = settings.classNames
        guard classes.count >= 2, classes.count <= maximumTensorCount, Set(classes).count == classes.count else {
            throw damaged("settings.classNames", "\(classes.count) names (\(Set(classes).count) distinct); a run has at least 2, all different")
        }
        guard header.history.classNames == classes else {
            throw damaged("history.classNames", "\(header.history.classNames.prefix(8)) differ from the settings' \(classes.prefix(8))")
        }
        if let weights = settings.classWeights {
            guard weights.count == classes.count, weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw damaged("settings.classWeights", "\(weights.prefix(8)): one finite, non-negative weight a class is needed")
            }
        }
        if let shape = settings.inputShape {
            guard (1...TensorLimits.maximumRank).contains(shape.count), shape.allSatisfy({ (1...(1 << 16)).contains($0) }) else {
                throw damaged("settings.inputShape", "\(shape.prefix(9)): 1 to \(TensorLimits.maximumRank) sides of 1 to 65536")
            }
        }
        for (i, record) in header.history.records.enumerated() {
            let values = [record.loss, record.accuracy, record.seconds, record.imagesPerSecond]
                + [record.validationLoss, record.validationAccuracy].compactMap { $0 } + (record.precision ?? []) + (record.recall ?? [])
            guard record.epoch == i + 1 else {
                throw damaged("history", "record \(i) is for epoch \(record.epoch), not \(i + 1)")
            }
            guard values.allSatisfy(\.isFinite) else { throw damaged("history", "epoch \(i + 1) holds a non-finite value") }
            for (name, perClass) in [("precision", record.precision), ("recall", record.recall)] {
                if let perClass, perClass.count != classes.count {
                    throw damaged("history", "epoch \(i + 1) has \(perClass.count) \(name) values for \(classes.count) classes")
                }
            }
        }
        guard !header.optimizerType.isEmpty, header.optimizerType.count <= 200 else {
            throw damaged("optimizerType", "'\(header.optimizerType.prefix(40))' is not an optimizer's name")
        }
        guard header.optimizerIterations >= 0 else {
            throw damaged("optimizerIterations", "\(header.optimizerIterations) is negative")
        }
        if let schedule = header.learningRateSchedule, schedule.isEmpty || schedule.count > 1000 {
            throw damaged("learningRateSchedule", "'\(schedule.prefix(40))' is not a schedule's description (1 to 1000 characters)")
        }
        let learningRate = Float(bitPattern: header.learningRateBits)
        guard learningRate.isFinite, learningRate > 0 else {
            throw damaged("learningRateBits", "the learning rate \(learningRate) is not positive and finite")
        }
        guard header.tensors.count <= maximumTensorCount else {
            throw damaged("tensors", "\(header.tensors.count) tensors, more than \(maximumTensorCount)")
        }
        var keys = Set<String>()
        for entry in header.tensors {
            guard !entry.key.isEmpty, keys.insert(entry.key).inserted else {
                throw damaged("tensors", "the tensor name '\(entry.key.prefix(80))' is empty or listed twice")
            }
        }
        guard header.slotNames.count <= maximumTensorCount,
              header.slotNames.allSatisfy({ Set($0).count == $0.count && !$0.contains("") }) else {
            throw damaged("slotNames", "optimizer slot names must be distinct and not empty")
        }
        guard header.dropout.count == header.dropoutStates.count, Set(header.dropout).count == header.dropout.count else {
            throw damaged("dropout", "\(header.dropout.count) dropout layers (\(Set(header.dropout).count) distinct names) "
                          + "for \(header.dropoutStates.count) generator states")
        }
        if let best = header.bestValue, !best.isFinite { throw damaged("bestValue", "\(best) is not finite") }
        if let bestEpoch = header.bestEpoch, !(1...max(epochs, 1)).contains(bestEpoch) || epochs == 0 {
            throw damaged("bestEpoch", "\(bestEpoch), but \(epochs) epochs are complete")
        }
        guard (0...epochs).contains(header.epochsWithoutImprovement) else {
            throw damaged("epochsWithoutImprovement", "\(header.epochsWithoutImprovement), but \(epochs) epochs are complete")
        }
    }

    private static func ioError(_ what: String) -> TrainingError {
        .checkpoint("\(what): \(String(cString: strerror(errno)))")
    }
}

extension SeededGenerator {
    /// A generator in a given state (from `state`), via its `Codable` form.
    static func restoring(_ state: [UInt64]) throws -> SeededGenerator {
        struct Box: Codable { var state: [UInt64] }
        let data = try JSONEncoder().encode(Box(state: state.map { $0 }))
        let generator = try JSONDecoder().decode(SeededGenerator.self, from: data)
        guard generator.state == state else {
            throw TrainingError.checkpoint("generator state does not round-trip through JSON")
        }
        return generator
    }
}

/// Why `TrainingCheckpoint.read` refused a checkpoint file. Every case names the file.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// Not a Rubble checkpoint, or a header field holds a value no run writes: `field` names it,
    /// `reason` gives the value.
    case damaged(file: String, field: String, reason: String)
    /// A tensor's shape in the header is negative, huge, overflowing or over the tensor budget.
    case invalidShape(file: String, tensor: String, problem: TensorLimits.ShapeProblem)
    /// The file ends before `tensor`'s data does: it needs `needed` bytes at byte `offset`, the
    /// file has `available`.
    case truncated(file: String, tensor: String, offset: Int, needed: Int, available: Int)
    /// `tensor` holds `value` (NaN or an infinity) at `index`, its first non-finite element.
    case nonFinite(file: String, tensor: String, index: Int, value: String)

    public var file: String {
        switch self {
        case let .unreadable(file, _), let .damaged(file, _, _), let .invalidShape(file, _, _),
             let .truncated(file, _, _, _, _), let .nonFinite(file, _, _, _):
            return file
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read the checkpoint: \(reason)"
        case let .damaged(file, field, reason):
            return "\(file) is damaged: \(field): \(reason)"
        case let .invalidShape(file, tensor, problem):
            return "\(file) is damaged: tensor '\(tensor)': \(problem)"
        case let .truncated(file, tensor, offset, needed, available):
            return "\(file) is truncated: tensor '\(tensor)' needs \(needed) bytes at byte \(offset), "
                + "only \(available) remain"
        case let .nonFinite(file, tensor, index, value):
            return "\(file) is damaged: tensor '\(tensor)' holds \(value) at index \(index) (first non-finite element)"
        }
    }
}

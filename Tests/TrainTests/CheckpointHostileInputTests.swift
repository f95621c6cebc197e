import Foundation
import Layers
import Tensor
import TestSupport
import Train
import XCTest
import Zoo

/// Hostile checkpoints (issue 11): every header field of `trainer.ckpt` is range-checked, every
/// tensor shape passes `TensorLimits` before anything is allocated, truncated data and
/// non-finite values are named errors — never a trap (the red team's crash was a negative
/// dimension in a tensor header).
final class CheckpointHostileInputTests: XCTestCase {
    /// The parts of a checkpoint file: the JSON header (as JSON objects) and the tensor bytes.
    struct Parts {
        var header: [String: Any]
        var data: Data

        init(_ url: URL) throws {
            let bytes = try Data(contentsOf: url)
            let length = bytes.subdata(in: 8..<16).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 16..<(16 + length))) as! [String: Any]
            data = bytes.subdata(in: (16 + length)..<bytes.count)
        }

        var tensors: [(key: String, shape: [Int])] {
            (header["tensors"] as! [[String: Any]]).map { ($0["key"] as! String, ($0["shape"] as! [NSNumber]).map(\.intValue)) }
        }

        /// Byte offset of `key`'s data within `data`.
        func offset(of key: String) -> Int {
            var offset = 0
            for tensor in tensors {
                if tensor.key == key { return offset }
                offset += tensor.shape.reduce(1, *) * 4
            }
            fatalError("no tensor \(key)")
        }

        mutating func setShape(_ index: Int, _ shape: [Any]) {
            var list = header["tensors"] as! [[String: Any]]
            list[index]["shape"] = shape
            header["tensors"] = list
        }

        mutating func setFloat(_ value: Float, at byteOffset: Int) {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.replaceSubrange(byteOffset..<(byteOffset + 4), with: $0) }
        }

        func bytes(headerLength: UInt64? = nil) throws -> Data {
            let json = try JSONSerialization.data(withJSONObject: header)
            var out = Data("RUBBLECK".utf8)
            withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
            return out + json + data
        }

        func write(to url: URL, headerLength: UInt64? = nil) throws {
            try bytes(headerLength: headerLength).write(to: url)
        }
    }

    var directory: URL!
    var checkpointDirectory: URL { directory.appendingPathComponent("checkpoint") }
    var url: URL { TrainingCheckpoint.url(in: checkpointDirectory) }
    var file: String { url.path }
    var original: Data!

    /// One epoch of the small CNN with dropout and Adam (so there are optimizer slots and a
    /// dropout generator), written to `directory/checkpoint/trainer.ckpt`.
    override func setUpWithError() throws {
        directory = TrainerTestData.temporaryDirectory()
        let data = try TrainerTestData.squares(count: 8, seed: 71)
        let trainer = Trainer(model: try TrainerTestData.smallModel(dropoutRate: 0.5), optimizer: try Adam(learningRate: 1e-3),
                              configuration: TrainingConfiguration(epochs: 1, batchSize: 4, outputDirectory: directory,
                                                                   progress: .silent, saveWeights: TrainerTestData.saveWeights))
        try trainer.fit(data)
        original = try Data(contentsOf: url)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func readError(limits: TensorLimits = .default, file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
        do {
            _ = try TrainingCheckpoint.read(from: checkpointDirectory, limits: limits)
            XCTFail("expected a CheckpointError, the checkpoint was read", file: file, line: line)
        } catch let error as CheckpointError {
            XCTAssertEqual(error.file, self.file, file: file, line: line)
            XCTAssertTrue(error.description.contains(self.file), error.description, file: file, line: line)
            return error
        } catch {
            XCTFail("expected a CheckpointError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    func damagedField(file: StaticString = #filePath, line: UInt = #line) -> String? {
        guard case .damaged(_, let field, _)? = readError(file: file, line: line) else {
            XCTFail("expected .damaged", file: file, line: line)
            return nil
        }
        return field
    }

    func testRewrittenUntouchedCheckpointStillReads() throws {
        try Parts(url).write(to: url)
        let checkpoint = try TrainingCheckpoint.read(from: checkpointDirectory)
        XCTAssertEqual(checkpoint.completedEpochs, 1)
        XCTAssertEqual(checkpoint.parameterNames.first, "conv1/kernel")
        XCTAssertEqual(checkpoint.dropoutGenerators.map(\.name), ["dropout"])
    }

    // MARK: - Tensor headers

    func testNegativeDimensionIsAnErrorNotATrap() throws {
        var parts = try Parts(url)
        XCTAssertEqual(parts.tensors[0].key, "conv1/kernel")
        XCTAssertEqual(parts.tensors[0].shape, [3, 3, 3, 8])
        parts.setShape(0, [3, -3, 3, 8])
        try parts.write(to: url)
        XCTAssertEqual(readError(), .invalidShape(file: file, tensor: "conv1/kernel",
                                                  problem: .negativeDimension(axis: 1, value: -3)))
    }

    func testHugeAndOverflowingDimensionsAreRefusedBeforeAllocation() throws {
        let cases: [([Any], TensorLimits.ShapeProblem)] = [
            ([1 << 31, 4], .overBudget(dims: [1 << 31, 4], bytes: 1 << 35, maximum: 4 << 30)),
            ([1 << 40, 1 << 40], .elementCountOverflow(dims: [1 << 40, 1 << 40])),
            ([Int.max], .elementCountOverflow(dims: [Int.max])),
            ([1, 1, 1, 1, 1, 1, 1, 1, 1], .rank(9, maximum: 8)),
        ]
        let untouched = try Parts(url)
        for (shape, problem) in cases {
            var parts = untouched
            parts.setShape(2, shape)
            try parts.write(to: url)
            XCTAssertEqual(readError(), .invalidShape(file: file, tensor: parts.tensors[2].key, problem: problem), "\(shape)")
        }
        // Beyond Int64 the JSON itself does not decode: still a named error.
        var parts = untouched
        parts.setShape(0, [1e30])
        try parts.write(to: url)
        XCTAssertEqual(damagedField(), "header")
    }

    func testTensorBudgetIsConfigurable() throws {
        // conv1's kernel is 3 x 3 x 3 x 8 floats = 864 bytes.
        XCTAssertEqual(readError(limits: TensorLimits(maximumTensorBytes: 800)),
                       .invalidShape(file: file, tensor: "conv1/kernel",
                                     problem: .overBudget(dims: [3, 3, 3, 8], bytes: 864, maximum: 800)))
        XCTAssertNoThrow(try TrainingCheckpoint.read(from: checkpointDirectory, limits: TensorLimits(maximumTensorBytes: 1 << 20)))
    }

    func testTruncatedDataNamesTheTensor() throws {
        let parts = try Parts(url)
        let total = parts.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) * 4 }
        XCTAssertEqual(total, parts.data.count)
        for cut in [1, 10, 500, total - 4] {
            let length = original.count - cut
            try original.prefix(length).write(to: url)
            // The first tensor whose data does not fit any more.
            var start = original.count - total
            var expected: CheckpointError?
            for tensor in parts.tensors {
                let size = tensor.shape.reduce(1, *) * 4
                if start + size > length {
                    expected = .truncated(file: file, tensor: tensor.key, offset: start, needed: size, available: length - start)
                    break
                }
                start += size
            }
            XCTAssertNotNil(expected)
            XCTAssertEqual(readError(), expected, "cut \(cut)")
        }
        // Cut inside the header: the header length no longer fits.
        try original.prefix(40).write(to: url)
        XCTAssertEqual(damagedField(), "header length")
    }

    func testTrailingBytesAreRefused() throws {
        try (original + Data([1, 2, 3, 4])).write(to: url)
        XCTAssertEqual(damagedField(), "tensors")
    }

    func testNaNInAParameterNamesTensorAndIndex() throws {
        var parts = try Parts(url)
        parts.setFloat(.nan, at: parts.offset(of: "conv1/kernel") + 4 * 17)
        parts.setFloat(.nan, at: parts.offset(of: "conv1/kernel") + 4 * 100)
        try parts.write(to: url)
        XCTAssertEqual(readError(), .nonFinite(file: file, tensor: "conv1/kernel", index: 17, value: "nan"))
    }

    func testInfinityInAnOptimizerSlotIsRefused() throws {
        var parts = try Parts(url)
        let slot = try XCTUnwrap(parts.tensors.first { $0.key.hasPrefix("optimizer/") }?.key)
        parts.setFloat(-.infinity, at: parts.offset(of: slot) + 4 * 2)
        try parts.write(to: url)
        XCTAssertEqual(readError(), .nonFinite(file: file, tensor: slot, index: 2, value: "-inf"))
    }

    func testRestoringARefusedCheckpointLeavesTheTrainerAlone() throws {
        var parts = try Parts(url)
        parts.setFloat(.infinity, at: parts.offset(of: "dense/bias"))
        try parts.write(to: url)
        let model = try TrainerTestData.smallModel(seed: 9, dropoutRate: 0.5)
        let before = TrainerTestData.weights(of: model)
        let trainer = Trainer(model: model, optimizer: try Adam(learningRate: 1e-3), configuration: TrainingConfiguration(progress: .silent))
        XCTAssertThrowsError(try trainer.restoreCheckpoint(from: checkpointDirectory)) { error in
            XCTAssertEqual(error as? CheckpointError, .nonFinite(file: self.file, tensor: "dense/bias", index: 0, value: "inf"))
        }
        XCTAssertTrue(TrainerTestData.identical(TrainerTestData.weights(of: model), before))
        XCTAssertEqual(trainer.completedEpochs, 0)
    }

    // MARK: - Every other header field

    func testImpossibleHeaderLengths() throws {
        let parts = try Parts(url)
        for length: UInt64 in [0, UInt64.max, UInt64(Int.max), UInt64(TrainingCheckpoint.maximumHeaderBytes) + 1] {
            try parts.write(to: url, headerLength: length)
            XCTAssertEqual(damagedField(), "header length", "\(length)")
        }
        try Data("RUBBLEC".utf8).write(to: url)
        XCTAssertEqual(damagedField(), "magic")
        try Data(repeating: 0, count: 64).write(to: url)
        XCTAssertEqual(damagedField(), "magic")
    }

    func testEveryHeaderFieldIsRangeChecked() throws {
        let edits: [(String, (inout [String: Any]) -> Void)] = [
            ("format", { $0["format"] = 2 }),
            ("completedEpochs", { $0["completedEpochs"] = -1 }),
            ("completedEpochs", { $0["completedEpochs"] = 5 }),
            ("optimizerIterations", { $0["optimizerIterations"] = -5 }),
            ("learningRateBits", { $0["learningRateBits"] = 0x7FC0_0000 }),  // NaN
            ("learningRateBits", { $0["learningRateBits"] = 0 }),
            ("optimizerType", { $0["optimizerType"] = "" }),
            ("seedHex", { $0["seedHex"] = "not hex" }),
            ("dropout", { $0["dropoutStates"] = [[String]]() }),
            ("dropout", { $0["dropout"] = ["dropout", "dropout"]; $0["dropoutStates"] = [["1", "2", "3", "4"], ["1", "2", "3", "4"]] }),
            ("dropoutStates", { $0["dropoutStates"] = [["0", "0", "0", "0"]] }),
            ("dropoutStates", { $0["dropoutStates"] = [["1", "2", "zz", "4"]] }),
            ("bestEpoch", { $0["bestEpoch"] = 99 }),
            ("bestEpoch", { $0["bestEpoch"] = 0 }),
            ("bestValue", { $0["bestValue"] = "nan" }),
            ("epochsWithoutImprovement", { $0["epochsWithoutImprovement"] = -1 }),
            ("epochsWithoutImprovement", { $0["epochsWithoutImprovement"] = 3 }),
            ("slotNames", { $0["slotNames"] = [["m", "m"]] }),
            ("slotNames", { header in
                var slots = header["slotNames"] as! [[String]]
                slots[0].append("extra")
                header["slotNames"] = slots
            }),
            ("tensors", { header in
                var list = header["tensors"] as! [[String: Any]]
                list[1]["key"] = list[0]["key"]
                header["tensors"] = list
            }),
            ("tensors", { header in
                var list = header["tensors"] as! [[String: Any]]
                list[0]["key"] = "optimizer/99/m"
                header["tensors"] = list
            }),
            ("settings.batchSize", { Self.edit(&$0, "settings") { $0["batchSize"] = 0 } }),
            ("settings.trainingCount", { Self.edit(&$0, "settings") { $0["trainingCount"] = -8 } }),
            ("settings.classNames", { Self.edit(&$0, "settings") { $0["classNames"] = ["intact", "intact"] } }),
            ("settings.classWeights", { Self.edit(&$0, "settings") { $0["classWeights"] = [1.0] } }),
            ("settings.classWeights", { Self.edit(&$0, "settings") { $0["classWeights"] = [1.0, "nan"] } }),
            ("settings.inputShape", { Self.edit(&$0, "settings") { $0["inputShape"] = [16, -16, 3] } }),
            ("settings.inputShape", { Self.edit(&$0, "settings") { $0["inputShape"] = [16, 1 << 40, 3] } }),
            ("history.classNames", { Self.edit(&$0, "history") { $0["classNames"] = ["a", "b"] } }),
            ("history", { Self.editRecord(&$0) { $0["epoch"] = 7 } }),
            ("history", { Self.editRecord(&$0) { $0["loss"] = "nan" } }),
            ("history", { Self.editRecord(&$0) { $0["precision"] = [0.5] } }),
        ]
        let untouched = try Parts(url)
        for (field, edit) in edits {
            var parts = untouched
            edit(&parts.header)
            try parts.write(to: url)
            XCTAssertEqual(damagedField(), field, "edit of \(field)")
        }
    }

    static func edit(_ header: inout [String: Any], _ key: String, _ change: (inout [String: Any]) -> Void) {
        var inner = header[key] as! [String: Any]
        change(&inner)
        header[key] = inner
    }

    static func editRecord(_ header: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        edit(&header, "history") { history in
            var records = history["records"] as! [[String: Any]]
            change(&records[0])
            history["records"] = records
        }
    }

    /// Random damage (bytes flipped, overwritten, cut) is always a typed error or a checkpoint
    /// that passed every check, never a crash.
    func testRandomDamageIsAlwaysATypedError() throws {
        var rng = SeededGenerator(seed: 2024)
        let headerEnd = 16 + Int(original.subdata(in: 8..<16).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var outcomes: [String: Int] = [:]
        for round in 0..<300 {
            var bytes = original!
            switch round % 4 {
            case 0:  // flip bits in the header
                for _ in 0..<4 { bytes[Int(rng.next() % UInt64(headerEnd))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            case 1:  // a digit of the header becomes another character
                let digits = bytes.indices.filter { $0 < headerEnd && (48...57).contains(bytes[$0]) }
                let at = digits[Int(rng.next() % UInt64(digits.count))]
                bytes[at] = Array("-9e0.,\"]".utf8)[Int(rng.next() % 8)]
            case 2:  // cut anywhere
                bytes = bytes.prefix(Int(rng.next() % UInt64(bytes.count)))
            default:  // overwrite tensor bytes with any pattern (NaN and infinity included)
                for _ in 0..<8 {
                    let at = headerEnd + Int(rng.next() % UInt64(bytes.count - headerEnd))
                    bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            try bytes.write(to: url)
            do {
                let checkpoint = try TrainingCheckpoint.read(from: checkpointDirectory)
                XCTAssertTrue(checkpoint.parameters.allSatisfy(\.isFinite))
                outcomes["read", default: 0] += 1
            } catch let error as CheckpointError {
                outcomes[String("\(error)".split(separator: ":").dropFirst().first ?? ""), default: 0] += 1
            } catch let error as TrainingError {
                outcomes["TrainingError \(error)", default: 0] += 1
            }
        }
        XCTAssertEqual(outcomes.values.reduce(0, +), 300)
        XCTAssertGreaterThan(outcomes.count, 3, "\(outcomes)")
    }
}

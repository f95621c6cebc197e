import Foundation
import Layers
import Tensor
import TestSupport
import Train
import XCTest
import Zoo

/// The frozen-prefix cache gives the same numbers as computing the prefix every step.
final class FeatureCacheTests: XCTestCase {
    func testPrefixOfTheTransferModelIsBlocksOneToFour() throws {
        let split = try FrozenPrefix(try TrainerTestData.miniTransfer(.vgg19, loadWeights: false))
        XCTAssertEqual(split.prefix.first?.name, "block1_conv1")
        XCTAssertEqual(split.prefix.last?.name, "block4_pool")
        XCTAssertEqual(split.prefix.count, 12 + 4)  // 12 convolutions and 4 pools in blocks 1-4
        XCTAssertEqual(split.trainable.map(\.name),
                       ["block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4", "block5_pool",
                        "flatten", "dense", "dense_1"])
        XCTAssertTrue(split.isCacheable)

        let baseline = try Architecture.baseline.makeClassifier(imageSize: 64, hiddenUnits: 8, classes: 2)
        XCTAssertTrue(try FrozenPrefix(baseline).prefix.isEmpty)  // all trainable: the "features" are the inputs

        let withDropout = try Sequential([try Dropout(name: "dropout", rate: 0.5), TrainerTestData.smallModel()])
        XCTAssertFalse(try FrozenPrefix(withDropout).isCacheable)
    }

    /// The prefix of one image does not depend on the other images of its batch (so cached
    /// features, computed in example order, equal those of any shuffled batch).
    func testPrefixIsIndependentOfBatchComposition() throws {
        let split = try FrozenPrefix(try TrainerTestData.miniTransfer(.vgg19))
        let data = try TrainerTestData.fixtureExamples()
        let all = try split.features(try data.inputs(Array(0..<8)), training: true)
        let some = try split.features(try data.inputs([5, 2, 7]), training: true)
        let perImage = all.count / 8
        for (row, index) in [5, 2, 7].enumerated() {
            let a = Array(all.scalars[index * perImage..<(index + 1) * perImage]).map(\.bitPattern)
            let b = Array(some.scalars[row * perImage..<(row + 1) * perImage]).map(\.bitPattern)
            XCTAssertEqual(a, b, "image \(index)")
        }
    }

    /// Two shuffled epochs with validation, cached and uncached, end with the same weights and
    /// the same history.
    func testCachedAndUncachedTrainingAgree() throws {
        let data = try TrainerTestData.squares(count: 20, size: 64, seed: 12)
        let validation = try TrainerTestData.squares(count: 6, size: 64, seed: 13)
        func run(cache: Bool, budget: Int = 2 << 30) throws -> (Trainer, [String: Tensor]) {
            let model = try TrainerTestData.miniTransfer(.vgg19)
            let trainer = Trainer(model: model, optimizer: try RMSprop(learningRate: 1e-3), configuration: TrainingConfiguration(
                epochs: 2, batchSize: 6, seed: 8, classWeights: [0.8897, 1.1414], featureCache: cache,
                cacheMemoryBudget: budget, progress: .silent))
            try trainer.fit(data, validation: validation)
            return (trainer, TrainerTestData.weights(of: model))
        }
        let (cached, a) = try run(cache: true)
        let (uncached, b) = try run(cache: false)
        XCTAssertNotNil(cached.featureCache)
        XCTAssertNil(uncached.featureCache)
        XCTAssertLessThanOrEqual(TrainerTestData.maxDifference(a, b), 1e-6)
        XCTAssertTrue(TrainerTestData.identical(a, b), "cached and uncached weights differ (max \(TrainerTestData.maxDifference(a, b)))")
        XCTAssertEqual(cached.history.records.map(\.withoutTiming), uncached.history.records.map(\.withoutTiming))

        // Everything spilled to the file (budget 0), or half of it: still the same.
        let (spilled, c) = try run(cache: true, budget: 0)
        XCTAssertEqual(spilled.featureCache?.memoryBytes, 0)
        XCTAssertEqual(spilled.featureCache?.spilledBytes, (20 + 6) * 4 * 4 * 32 * 4)
        XCTAssertTrue(TrainerTestData.identical(a, c))
        let (half, d) = try run(cache: true, budget: 10 * 4 * 4 * 32 * 4)
        XCTAssertEqual(half.featureCache?.memoryBytes, 10 * 4 * 4 * 32 * 4)
        XCTAssertTrue(TrainerTestData.identical(a, d))
    }

    /// The spill file is created unlinked in the cache directory: nothing is left behind.
    func testSpillFileLeavesNothingBehind() throws {
        let directory = TrainerTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try Trainer(model: TrainerTestData.smallModel(), optimizer: try SGD(learningRate: 0.01),
                              configuration: TrainingConfiguration(epochs: 2, batchSize: 4, cacheMemoryBudget: 0,
                                                                   cacheDirectory: directory, progress: .silent))
        try trainer.fit(try TrainerTestData.squares(count: 10, seed: 3))
        XCTAssertGreaterThan(trainer.featureCache?.spilledBytes ?? 0, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }
}

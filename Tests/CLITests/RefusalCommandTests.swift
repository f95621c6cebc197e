import Foundation
import KerasFiles
import Layers
import Tensor
import TestSupport
import Vision
import XCTest
import Zoo

/// Flags and inputs that would give a confident wrong answer are refused with a plain message
/// and a non-zero exit status, never a trap (status 134/139) or a silent result.
final class RefusalCommandTests: XCTestCase {
    private let image = Fixtures.url("img_97x61.png").path

    private func assertRefused(_ arguments: [String], status: Int32 = 64, says expected: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try ToolRunner.run(arguments)
        XCTAssertEqual(outcome.status, status, "\(arguments): \(outcome.standardError)", file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains("rubble: error: "), outcome.standardError, file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains(expected), "expected '\(expected)' in: \(outcome.standardError)",
                      file: file, line: line)
        XCTAssertTrue(outcome.standardOutput.isEmpty, "no results: \(outcome.standardOutput)", file: file, line: line)
    }

    /// A folder of `counts[k]` small PNGs per class `names[k]`.
    private func imageFolder(_ names: [String], counts: [Int], in directory: URL) throws -> URL {
        let root = directory.appendingPathComponent("data")
        for (k, (name, count)) in zip(names, counts).enumerated() {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<count {
                let picture = RGBImage(width: 48, height: 48) { x, y in
                    k == 0 ? (40, 40, UInt8((x * 5 + i) % 256)) : (UInt8((y * 5 + i) % 256), 200, 200)
                }
                try ImageEncoder.writePNG(picture, to: folder.appendingPathComponent("\(i).png"))
            }
        }
        return root
    }

    func testInferenceWithoutWeightsIsRefusedUnlessAskedFor() throws {
        let directory = try temporaryDirectory(self)
        let commands: [[String]] = [
            ["predict", image],
            ["evaluate", "--data", directory.path, "--out", directory.appendingPathComponent("e").path],
            ["gradcam", "--out", directory.appendingPathComponent("g").path, image],
            ["screen", directory.path, "--out", directory.appendingPathComponent("s").path],
        ]
        for command in commands {
            try assertRefused(command, says: "no --weights given")
        }
        let random = try ToolRunner.run(["predict", "--random-weights", "--arch", "baseline", "--head", "4",
                                         "--image-size", "48", image])
        XCTAssertEqual(random.status, 0, random.standardError)
        XCTAssertEqual(random.standardOutput.split(separator: "\n").count, 2)
        try assertRefused(["predict", "--random-weights", "--weights", "x.h5", image], says: "not both")
    }

    func testFlagValuesOutOfRange() throws {
        let directory = try temporaryDirectory(self)
        let out = directory.appendingPathComponent("run").path
        let data = directory.path
        try assertRefused(["predict", "--random-weights", "--head=-1", image], says: "--head must be >= 1, got -1")
        try assertRefused(["predict", "--random-weights", "--classes=-2", image], says: "--classes must be >= 1, got -2")
        try assertRefused(["predict", "--random-weights", "--batch-size", "0", image], says: "--batch-size must be >= 1")
        try assertRefused(["predict", "--random-weights", "--image-size", "100000", image],
                          says: "--image-size must be in 1...4096, got 100000")
        try assertRefused(["predict", "--random-weights", "--arch", "baseline", "--image-size", "40", image],
                          says: "--image-size must be in 46...4096 for baseline, got 40")
        try assertRefused(["train", "--data", data, "--out", out, "--dropout", "1"], says: "--dropout must be in [0, 1)")
        try assertRefused(["train", "--data", data, "--out", out, "--head", "0"], says: "--head must be >= 1, got 0")
        try assertRefused(["train", "--data", data, "--out", out, "--batch-size", "0"], says: "--batch-size must be >= 1")
        try assertRefused(["train", "--data", data, "--out", out, "--lr=-1"], says: "--lr must be a positive number")
        try assertRefused(["train", "--data", data, "--out", out, "--image-size", "16"],
                          says: "--image-size must be in 32...4096 for vgg19, got 16")
    }

    func testInvalidKernelSettingsInTheEnvironmentAreRefused() throws {
        for (variable, value, says) in [("RUBBLE_THREADS", "two", "RUBBLE_THREADS is 'two'"),
                                        ("RUBBLE_THREADS", "0", "from 1 to 1024"),
                                        ("RUBBLE_THREADS", "100000", "RUBBLE_THREADS is '100000'"),
                                        ("OPENBLAS_CORETYPE", "Skylake-X", "OPENBLAS_CORETYPE is 'Skylake-X'")] {
            let outcome = try ToolRunner.run(["predict", "--random-weights", image], environment: [variable: value])
            XCTAssertEqual(outcome.status, 64, "\(variable)=\(value): \(outcome.standardError)")
            XCTAssertTrue(outcome.standardError.contains(says), "\(variable)=\(value): \(outcome.standardError)")
            XCTAssertEqual(outcome.standardOutput, "", "nothing is computed")
        }
        let fine = try ToolRunner.run(["predict", "--random-weights", image],
                                      environment: ["RUBBLE_THREADS": "1", "OPENBLAS_CORETYPE": "haswell"])
        XCTAssertEqual(fine.status, 0, "valid settings (case as OpenBLAS ignores it): \(fine.standardError)")
    }

    func testTrainingNeedsTwoClassesWithImages() throws {
        let directory = try temporaryDirectory(self)
        let one = try imageFolder(["damage"], counts: [4], in: directory.appendingPathComponent("one"))
        try assertRefused(["train", "--data", one.path, "--arch", "baseline", "--head", "4", "--image-size", "48",
                           "--epochs", "1", "--val-split", "0", "--out", directory.appendingPathComponent("r1").path],
                          status: 1, says: "1 class (damage)")
        let empty = try imageFolder(["damage", "no_damage"], counts: [4, 0], in: directory.appendingPathComponent("two"))
        try assertRefused(["train", "--data", empty.path, "--arch", "baseline", "--head", "4", "--image-size", "48",
                           "--epochs", "1", "--val-split", "0", "--out", directory.appendingPathComponent("r2").path],
                          status: 1, says: "no training examples of class no_damage")
    }

    func testWeightsDescribeTheirModelAndFlagsMustAgree() throws {
        let directory = try temporaryDirectory(self)
        let data = try imageFolder(["intact", "damage"], counts: [6, 6], in: directory)
        let run = directory.appendingPathComponent("run")
        let train = try ToolRunner.run(["train", "--data", data.path, "--arch", "baseline", "--head", "4",
                                        "--image-size", "48", "--preprocess", "caffe", "--epochs", "1",
                                        "--val-split", "0", "--lr", "1e-3", "--out", run.path])
        XCTAssertEqual(train.status, 0, train.standardError)
        let weights = run.appendingPathComponent("weights.h5")
        XCTAssertEqual(try KerasWeights.metadata(of: weights), ModelMetadata(
            classNames: ["damage", "intact"], inputShape: [48, 48, 3], architecture: "baseline", head: "4",
            preprocessing: "caffe", resize: "bilinear", positiveClass: "damage"))

        // --weights alone rebuilds the model and its input pipeline.
        let predict = try ToolRunner.run(["predict", "--weights", weights.path, image])
        XCTAssertEqual(predict.status, 0, predict.standardError)
        let row = predict.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(row.hasSuffix(",damage") || row.hasSuffix(",intact"), predict.standardOutput)

        try assertRefused(["predict", "--weights", weights.path, "--arch", "vgg19", image],
                          says: "--arch vgg19 does not match \(weights.path), which was saved with baseline")
        try assertRefused(["predict", "--weights", weights.path, "--image-size", "64", image],
                          says: "drop --image-size or give --image-size 48")
        try assertRefused(["predict", "--weights", weights.path, "--preprocess", "unit", image],
                          says: "--preprocess unit does not match")
        try assertRefused(["predict", "--weights", weights.path, "--head", "256", image], says: "give --head 4")
        try assertRefused(["predict", "--weights", weights.path, "--classes", "3", image], says: "give --classes 2")
    }

    func testCommandLineConsistency() throws {
        let version = try ToolRunner.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.standardOutput.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil,
                      version.standardOutput)
        try assertRefused(["tran"], says: "unknown command 'tran'; did you mean 'train'?")
        try assertRefused(["screeen"], says: "did you mean 'screen'?")
        try assertRefused(["zzzzzzzz"], says: "the commands are")
        let directory = try temporaryDirectory(self)
        let file = directory.appendingPathComponent("taken")
        try Data("x".utf8).write(to: file)
        try assertRefused(["evaluate", "--random-weights", "--data", directory.path, "--out", file.path],
                          says: "--out \(file.path) is an existing file, not a folder")
        try assertRefused(["gradcam", "--random-weights", "--out", file.path, image], says: "is an existing file")
    }

    func testNonFiniteOutputIsAnErrorNeverALabel() throws {
        let directory = try temporaryDirectory(self)
        // Finite weights whose logits overflow to infinity: the softmax is NaN.
        let model = try Architecture.baseline.makeClassifier(imageSize: 48, hiddenUnits: 4, classes: 2, seed: 2)
        for parameter in try model.layer(named: "dense_1").parameters {
            parameter.value = Tensor(repeating: 3e38, shape: parameter.shape)
        }
        for parameter in try model.layer(named: "dense").parameters {
            parameter.value = Tensor(repeating: 3e38, shape: parameter.shape)
        }
        let weights = directory.appendingPathComponent("overflow.h5")
        try KerasWeights.save(model, to: weights, metadata: ModelMetadata(
            classNames: ["intact", "damage"], inputShape: [48, 48, 3], architecture: "baseline", head: "4"))
        let predict = try ToolRunner.run(["predict", "--weights", weights.path, image])
        XCTAssertEqual(predict.status, 1, predict.standardError)
        XCTAssertTrue(predict.standardError.contains("the model's output is not finite"), predict.standardError)
        XCTAssertFalse(predict.standardOutput.contains("nan"), predict.standardOutput)
        XCTAssertFalse(predict.standardOutput.contains(image), "no row for the photo: \(predict.standardOutput)")

        let folder = directory.appendingPathComponent("data/damage")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: image, toPath: folder.appendingPathComponent("a.png").path)
        let other = directory.appendingPathComponent("data/intact")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: image, toPath: other.appendingPathComponent("b.png").path)
        try assertRefused(["evaluate", "--weights", weights.path, "--data", directory.appendingPathComponent("data").path,
                           "--out", directory.appendingPathComponent("eval").path],
                          status: 1, says: "the model's output is not finite")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("eval/metrics.json").path))
    }

    func testOperatingSystemErrorsAreOneSentence() throws {
        // /proc refuses new folders: Foundation's error must read as a sentence with the path.
        let outcome = try ToolRunner.run(["gradcam", "--random-weights", "--arch", "baseline", "--head", "4",
                                          "--image-size", "48", "--out", "/proc/rubble-cannot-be-here", image])
        XCTAssertEqual(outcome.status, 1, outcome.standardError)
        XCTAssertTrue(outcome.standardError.hasPrefix("rubble: error: /proc/rubble-cannot-be-here"), outcome.standardError)
        for dump in ["Error Domain", "UserInfo", "NSFilePath", "Code="] {
            XCTAssertFalse(outcome.standardError.contains(dump), outcome.standardError)
        }
    }

    func testResumeWithAnotherLearningRateIsRefused() throws {
        let directory = try temporaryDirectory(self)
        let data = try imageFolder(["intact", "damage"], counts: [4, 4], in: directory)
        let run = directory.appendingPathComponent("run").path
        let common = ["train", "--data", data.path, "--arch", "baseline", "--head", "4", "--image-size", "48",
                      "--val-split", "0", "--out", run]
        let first = try ToolRunner.run(common + ["--epochs", "1", "--lr", "1e-3"])
        XCTAssertEqual(first.status, 0, first.standardError)
        let history = try String(contentsOfFile: run + "/history.csv", encoding: .utf8)
        let refused = try ToolRunner.run(common + ["--epochs", "2", "--lr", "1e-2", "--resume"])
        XCTAssertEqual(refused.status, 64, refused.standardError)
        XCTAssertTrue(refused.standardError.contains("rubble: error: --lr 0.01 differs from the learning rate of the run"),
                      refused.standardError)
        XCTAssertTrue(refused.standardError.contains("resume with --lr 0.001"), refused.standardError)
        XCTAssertEqual(try String(contentsOfFile: run + "/history.csv", encoding: .utf8), history, "nothing trained")
        let resumed = try ToolRunner.run(common + ["--epochs", "2", "--lr", "1e-3", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.standardError)
    }
}


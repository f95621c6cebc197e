import Foundation
import TestSupport
import Vision
import XCTest

/// `rubble train-segmenter` as a user runs it: a tiny SegFormer (a `config.json` written here,
/// `--random-init`) on small image / mask pairs: it trains and writes its run, resumes only the
/// same run, never overwrites one, and refuses bad flags and bad masks with the file named.
final class TrainSegmenterCommandTests: XCTestCase {
    /// Hidden sizes 8/16/24/32, one block a stage, decoder 16, classes wall and crack.
    private static let config = """
        {"model_type": "segformer", "depths": [1, 1, 1, 1], "hidden_sizes": [8, 16, 24, 32],
         "num_attention_heads": [1, 1, 2, 2], "decoder_hidden_size": 16,
         "id2label": {"0": "wall", "1": "crack"}, "label2id": {"wall": 0, "crack": 1}}
        """

    /// `DIR/model/config.json` and `DIR/data/{images,masks}` with `count` 48 x 48 pairs: a
    /// wall (class 0) with a dark diagonal crack (class 1) and an ignored sky band (255).
    private func fixture(_ directory: URL, count: Int = 8) throws -> (model: URL, data: URL) {
        let model = directory.appendingPathComponent("model"), data = directory.appendingPathComponent("data")
        for folder in [model, data.appendingPathComponent("images"), data.appendingPathComponent("masks")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try Data(Self.config.utf8).write(to: model.appendingPathComponent("config.json"))
        for i in 0..<count {
            func label(_ x: Int, _ y: Int) -> UInt8 { y < 6 ? 255 : abs(x - y - i) < 4 ? 1 : 0 }
            let mask = try ClassMask(width: 48, height: 48) { x, y in label(x, y) }
            let image = RGBImage(width: 48, height: 48) { x, y in
                switch label(x, y) {
                case 255: return (120, 170, 230)
                case 1: return (30, 25, UInt8(20 + (x * 7 + i) % 30))
                default: return (200, UInt8(180 + (x + y) % 20), 160)
                }
            }
            let name = String(format: "pair_%02d", i)
            try ImageEncoder.writePNG(image, to: data.appendingPathComponent("images/\(name).png"))
            try mask.write(to: data.appendingPathComponent("masks/\(name).png"))
        }
        return (model, data)
    }

    private func assertRefused(_ arguments: [String], status: Int32 = 64, says expected: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try ToolRunner.run(arguments)
        XCTAssertEqual(outcome.status, status, "\(arguments): \(outcome.standardError)", file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains("rubble: error: "), outcome.standardError, file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains(expected), "expected '\(expected)' in: \(outcome.standardError)",
                      file: file, line: line)
    }

    func testTrainsWritesTheRunAndResumesOnlyTheSameRun() throws {
        let directory = try temporaryDirectory(self)
        let (model, data) = try fixture(directory)
        let run = directory.appendingPathComponent("run")
        let command = ["train-segmenter", "--data", data.path, "--model", model.path, "--random-init", "--out", run.path,
                       "--input-size", "32", "--batch-size", "3", "--learning-rate", "2e-3", "--validation-split", "0.25",
                       "--class-weights", "1,2", "--seed", "4"]
        let outcome = try ToolRunner.run(command + ["--epochs", "2"])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertTrue(outcome.standardOutput.contains("6 training, 2 validation; classes wall, crack"), outcome.standardOutput)
        XCTAssertTrue(outcome.standardOutput.contains("mean IoU"), outcome.standardOutput)
        XCTAssertTrue(outcome.standardError.contains("epoch 2/2"), outcome.standardError)
        for file in ["history.csv", "metrics.json", "best/config.json", "best/model.safetensors",
                     "best/preprocessor_config.json", "last/model.safetensors", "checkpoint/segmenter.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), file)
        }
        let history = try String(contentsOf: run.appendingPathComponent("history.csv"), encoding: .utf8)
        XCTAssertTrue(history.hasPrefix("epoch,loss,val_loss,pixel_accuracy,mean_iou,iou_wall,iou_crack,learning_rate,seconds\n"),
                      history)
        XCTAssertEqual(history.split(separator: "\n").count, 3)
        let processor = try String(contentsOf: run.appendingPathComponent("best/preprocessor_config.json"), encoding: .utf8)
        XCTAssertTrue(processor.contains("\"height\" : 32"), processor)
        let checkpoint = try Data(contentsOf: run.appendingPathComponent("checkpoint/segmenter.safetensors"))

        // Never over an existing run without --resume; --resume only with the same options.
        try assertRefused(command + ["--epochs", "2"], says: "already holds a run (checkpoint/)")
        try assertRefused(command + ["--epochs", "3", "--resume"], status: 1, says: "epochs 2 (checkpoint) vs 3 (now)")
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("checkpoint/segmenter.safetensors")), checkpoint,
                       "a refused run leaves the checkpoint as it was")
        let again = try ToolRunner.run(command + ["--epochs", "2", "--resume"])
        XCTAssertEqual(again.status, 0, again.standardError)
        XCTAssertTrue(again.standardOutput.contains("already complete (2 epochs)"), again.standardOutput)
        XCTAssertEqual(try String(contentsOf: run.appendingPathComponent("history.csv"), encoding: .utf8), history)
    }

    /// Fine-tuning a Hugging Face checkpoint (the fixture's 3-class SegFormer) for 2 other
    /// classes: the classifier starts fresh, everything else is loaded; the saved folders name
    /// the new classes and the processor's size is the fixture's 64 x 64.
    func testFineTunesAHuggingFaceFolderWithANewHead() throws {
        let directory = try temporaryDirectory(self)
        let (_, data) = try fixture(directory, count: 5)
        let run = directory.appendingPathComponent("run")
        let outcome = try ToolRunner.run([
            "train-segmenter", "--data", data.path, "--model", Fixtures.url("segformer/segformer").path,
            "--classes", "wall,crack", "--out", run.path, "--epochs", "1", "--batch-size", "2", "--freeze-encoder"])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertTrue(outcome.standardOutput.contains("new classifier for 2 classes; input 64x64; encoder frozen"),
                      outcome.standardOutput)
        let config = try String(contentsOf: run.appendingPathComponent("best/config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"crack\""), config)
        XCTAssertFalse(config.contains("debris"), config)
    }

    func testBadFlagsFoldersAndMasksAreRefused() throws {
        let directory = try temporaryDirectory(self)
        let (model, data) = try fixture(directory, count: 5)
        let out = directory.appendingPathComponent("run")
        let common = ["train-segmenter", "--data", data.path, "--model", model.path, "--random-init", "--out", out.path,
                      "--input-size", "32", "--epochs", "1"]
        try assertRefused(common + ["--validation-split", "1.5"], says: "--validation-split must be between 0 and 1")
        try assertRefused(common + ["--batch-size", "0"], says: "--batch-size must be >= 1")
        try assertRefused(common + ["--class-weights", "1,x"], says: "'x' is not a finite number >= 0")
        try assertRefused(common + ["--class-weights", "1,2,3"], says: "--class-weights has 3 values for 2 classes")
        try assertRefused(common + ["--classes", "a,a"], says: "distinct")
        try assertRefused(common + ["--input-size", "8"], says: "--input-size must be in 32...4096")
        try assertRefused(common + ["--resume"], says: "--resume: no checkpoint")
        try assertRefused(["train-segmenter", "--data", data.path, "--model", model.path, "--out", out.path],
                          status: 1, says: "model.safetensors")

        // A folder with other files is not a run to write into.
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: out.appendingPathComponent("notes.txt"))
        try assertRefused(common, says: "is not empty (notes.txt)")
        try FileManager.default.removeItem(at: out)

        // A class index the model does not have names the mask.
        let bad = data.appendingPathComponent("masks/pair_02.png")
        try ClassMask(width: 48, height: 48) { x, _ in x == 40 ? 5 : 0 }.write(to: bad)
        try assertRefused(common, status: 1, says: "\(bad.path): class index 5 at pixel (40, 0)")

        // Masks of one class only: refused unless allowed.
        for i in 0..<5 {
            try ClassMask(width: 48, height: 48) { _, y in y < 6 ? 255 : 0 }
                .write(to: data.appendingPathComponent(String(format: "masks/pair_%02d.png", i)))
        }
        try assertRefused(common, status: 1, says: "is of class wall")
        let allowed = try ToolRunner.run(common + ["--allow-single-class"])
        XCTAssertEqual(allowed.status, 0, allowed.standardError)
    }
}

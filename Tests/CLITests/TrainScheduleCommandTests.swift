import Foundation
import TestSupport
import Vision
import XCTest

/// `rubble train --optimizer adamw` and `--lr-schedule`: flags that do not belong together are
/// refused, a scheduled run trains, and it resumes only with the same schedule.
final class TrainScheduleCommandTests: XCTestCase {
    private func assertRefused(_ arguments: [String], says expected: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try ToolRunner.run(arguments)
        XCTAssertNotEqual(outcome.status, 0, "\(arguments)", file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains("rubble: error: "), outcome.standardError, file: file, line: line)
        XCTAssertTrue(outcome.standardError.contains(expected), "expected '\(expected)' in: \(outcome.standardError)",
                      file: file, line: line)
    }

    func testFlagsThatDoNotBelongAreRefused() throws {
        let directory = try temporaryDirectory(self)
        let common = ["train", "--data", directory.path, "--out", directory.appendingPathComponent("run").path]
        try assertRefused(common + ["--weight-decay", "0.01"], says: "--weight-decay is AdamW's")
        try assertRefused(common + ["--optimizer", "adamw", "--weight-decay=-1"], says: "--weight-decay must be a finite number >= 0")
        try assertRefused(common + ["--warmup-steps", "5"], says: "--warmup-steps belongs to --lr-schedule cosine")
        try assertRefused(common + ["--lr-schedule", "step", "--cosine-alpha", "0.1", "--lr-step-size", "3"],
                          says: "--cosine-alpha belongs to --lr-schedule cosine")
        try assertRefused(common + ["--lr-schedule", "cosine", "--lr-gamma", "0.5"], says: "--lr-gamma belongs to --lr-schedule step")
        try assertRefused(common + ["--lr-schedule", "step"], says: "--lr-schedule step needs --lr-step-size")
        try assertRefused(common + ["--lr-schedule", "step", "--lr-step-size", "0"], says: "--lr-step-size must be >= 1")
        try assertRefused(common + ["--lr-schedule", "cosine", "--decay-steps", "0"], says: "--decay-steps must be >= 1")
        try assertRefused(common + ["--lr-schedule", "cosine", "--cosine-alpha", "2"], says: "--cosine-alpha must be in [0, 1]")
        try assertRefused(common + ["--lr-schedule", "linear"], says: "linear")
    }

    func testScheduledAdamWRunResumesOnlyWithTheSameSchedule() throws {
        let directory = try temporaryDirectory(self)
        let data = directory.appendingPathComponent("data")
        for (k, name) in ["intact", "damage"].enumerated() {
            let folder = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<4 {
                let picture = RGBImage(width: 48, height: 48) { x, y in
                    k == 0 ? (40, 40, UInt8((x * 5 + i) % 256)) : (UInt8((y * 5 + i) % 256), 200, 200)
                }
                try ImageEncoder.writePNG(picture, to: folder.appendingPathComponent("\(i).png"))
            }
        }
        let run = directory.appendingPathComponent("run").path
        let common = ["train", "--data", data.path, "--arch", "baseline", "--head", "4", "--image-size", "48",
                      "--val-split", "0", "--batch-size", "4", "--lr", "1e-3", "--optimizer", "adamw",
                      "--lr-schedule", "cosine", "--warmup-steps", "1", "--out", run]
        // 8 images in batches of 4 for 2 epochs: 4 steps, 1 of warmup, 3 of decay.
        let first = try ToolRunner.run(common + ["--epochs", "1", "--decay-steps", "3"])
        XCTAssertEqual(first.status, 0, first.standardError)
        XCTAssertTrue(first.standardOutput.contains("learning rate: CosineDecay(initialLearningRate: 0.0, decaySteps: 3, "
                                                    + "alpha: 0.0, warmupTarget: 0.001, warmupSteps: 1)"), first.standardOutput)
        // Without --decay-steps, 2 epochs mean 3 decay steps too; 3 epochs would mean 5.
        try assertRefused(common + ["--epochs", "3", "--resume"], says: "learning-rate schedule")
        let resumed = try ToolRunner.run(common + ["--epochs", "2", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.standardError)
        let history = try String(contentsOfFile: run + "/history.csv", encoding: .utf8)
        XCTAssertEqual(history.split(separator: "\n").count, 3, history)
    }
}

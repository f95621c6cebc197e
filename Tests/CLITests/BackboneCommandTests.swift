import Foundation
import TestSupport
import XCTest

/// The pooled backbones through the tool as a user runs them: train, then predict, gradcam and
/// inspect with nothing but the weights file.
final class BackboneCommandTests: XCTestCase {
    /// Two class folders of four fixture pictures each.
    func makeData(in directory: URL) throws -> URL {
        let data = directory.appendingPathComponent("data")
        let pictures = [["img_97x61.png", "img_other.png", "img_dup_bright.png", "img_97x61_q90.jpg"],
                        ["img_hash_400x300.png", "img_hash_45x301.png", "img_97x61_gray.png", "img_dup_scaled.png"]]
        for (name, files) in zip(["damage", "no_damage"], pictures) {
            let folder = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in files {
                try FileManager.default.copyItem(at: Fixtures.url(file), to: folder.appendingPathComponent(file))
            }
        }
        return data
    }

    func testMobileNetV2TrainsAndTheFileDescribesIt() throws {
        let directory = try temporaryDirectory(self)
        let data = try makeData(in: directory)
        let run = directory.appendingPathComponent("run")
        let trained = try ToolRunner.run(["train", "--data", data.path, "--arch", "mobilenetv2", "--alpha", "0.35",
                                          "--image-size", "48", "--epochs", "1", "--batch-size", "4", "--val-split", "0.25",
                                          "--lr", "1e-3", "--optimizer", "adam", "--out", run.path])
        XCTAssertEqual(trained.status, 0, trained.standardError)
        XCTAssertTrue(trained.standardOutput.contains("model: mobilenetv2, 48x48, head gap"), trained.standardOutput)
        XCTAssertTrue(trained.standardOutput.contains("training from block_16_expand"), trained.standardOutput)
        XCTAssertTrue(trained.standardOutput.contains("output of block_15_add"), trained.standardOutput)
        let best = run.appendingPathComponent("best.h5").path

        // The file says arch, head, alpha, size and preprocessing: no other flag is needed.
        let photo = Fixtures.url("img_97x61.png").path
        let predicted = try ToolRunner.run(["predict", "--weights", best, photo])
        XCTAssertEqual(predicted.status, 0, predicted.standardError)
        let row = predicted.standardOutput.split(separator: "\n").dropFirst().first.map { $0.split(separator: ",") }
        XCTAssertEqual(row?.count, 4, predicted.standardOutput)
        if let row, row.count == 4, let p0 = Float(row[1]), let p1 = Float(row[2]) {
            XCTAssertEqual(p0 + p1, 1, accuracy: 1e-5)
        }
        // A flag that contradicts the file says which one.
        let wrong = try ToolRunner.run(["predict", "--weights", best, "--alpha", "1.0", photo])
        XCTAssertEqual(wrong.status, 64)
        XCTAssertTrue(wrong.standardError.contains("--alpha 1.0 does not match"), wrong.standardError)

        // Grad-CAM explains at the base's last layer by default.
        let cam = directory.appendingPathComponent("cam")
        let explained = try ToolRunner.run(["gradcam", "--weights", best, "--out", cam.path, photo])
        XCTAssertEqual(explained.status, 0, explained.standardError)
        XCTAssertTrue(explained.standardOutput.contains("out_relu"), explained.standardOutput)
    }

    func testInspectShowsTheGraph() throws {
        let outcome = try ToolRunner.run(["inspect", "--arch", "resnet50", "--image-size", "64"])
        XCTAssertEqual(outcome.status, 0, outcome.standardError)
        XCTAssertTrue(outcome.standardOutput.contains("conv2_block1_add (Add)"), outcome.standardOutput)
        XCTAssertTrue(outcome.standardOutput.contains("conv2_block1_0_bn, conv2_block1_3_bn"), "Add's inputs")
        XCTAssertTrue(outcome.standardOutput.contains("Total params:"))
        let refused = try ToolRunner.run(["inspect", "--arch", "efficientnetb0", "--image-size", "16"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.standardError.contains("--image-size must be in 32...4096 for efficientnetb0"), refused.standardError)
    }
}

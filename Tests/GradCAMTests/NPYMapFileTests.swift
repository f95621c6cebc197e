import Foundation
import GradCAM
import Tensor
import TestSupport
import XCTest

/// Heat maps leave as `.npy` files through Tensor's `NPYFile` (its own tests check the format),
/// written atomically, with failures as `GradCAMError.writeFailed`.
final class NPYMapFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gradcam-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testWritesAtomicallyAndReportsFailures() throws {
        let url = directory.appendingPathComponent("map.npy")
        try GradCAMReport.writeNPY(Tensor([1, 2], shape: [2]), to: url)
        try GradCAMReport.writeNPY(Tensor([3, 4, 5, 6], shape: [2, 2]), to: url)  // replaces
        let back = try NPYFile.read(url)
        XCTAssertEqual(back.shape, [2, 2])
        XCTAssertEqual(back.scalars, [3, 4, 5, 6])
        XCTAssertEqual(try Data(contentsOf: url), NPYFile.data(back))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["map.npy"],
                       "no temporary files left")
        let missing = directory.appendingPathComponent("no/such/folder/map.npy")
        XCTAssertThrowsError(try GradCAMReport.writeNPY(Tensor([1], shape: [1]), to: missing)) { error in
            guard case GradCAMError.writeFailed(let file, _) = error else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(file, missing.path)
        }
    }
}

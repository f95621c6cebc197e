import Foundation
import Layers
import Tensor
import XCTest
import Zoo
@testable import KerasFiles

/// Opt-in (`RUBBLE_HEAVY=1`): export a full-size VGG19 no-top (20M parameters, 80 MB) and
/// time loading it back. Target: under 1 s in release.
final class LoadPerformanceTests: XCTestCase {
    func testLoadingFullVGG19IsFast() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["RUBBLE_HEAVY"] == "1", "set RUBBLE_HEAVY=1")
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("vgg19_notop.h5")
        var rng = SeededGenerator(seed: 1)
        let model = try VGG.vgg19(rng: &rng)
        try KerasWeights.save(model, to: url)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        var other = SeededGenerator(seed: 2)
        let copy = try VGG.vgg19(rng: &other)
        var times: [Double] = []
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            try KerasWeights.load(url, into: copy)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let best = times.min()!
        print(String(format: "[rubble-heavy] VGG19 no-top: %.1f MB, %d parameters, load first %.3f s, best of 3 %.3f s",
                     Double(size) / 1e6, copy.parameters.reduce(0) { $0 + $1.value.count }, times[0], best))
        XCTAssertEqual(copy.parameters.last?.value.scalars, model.parameters.last?.value.scalars)
        XCTAssertLessThan(best, 1.0)
    }
}

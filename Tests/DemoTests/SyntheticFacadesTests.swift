import Demo
import Foundation
import Train
import Vision
import XCTest

/// Synthetic facade scenes: seeded, their masks the drawing (classes by texture and colour
/// statistics), class areas in plausible ranges, and the dataset files on disk.
final class SyntheticFacadesTests: XCTestCase {
    let classes: Set<UInt8> = [0, 1, 2, 255]

    func testScenesAreSeeded() throws {
        let a = try SyntheticFacades(width: 96, height: 64, seed: 3)
        let first = a.scene(index: 5)
        XCTAssertEqual(first.image.width, 96)
        XCTAssertEqual(first.image.height, 64)
        XCTAssertEqual(first.mask.count, 96 * 64)
        let again = try SyntheticFacades(width: 96, height: 64, seed: 3).scene(index: 5)
        XCTAssertEqual(again.image, first.image)
        XCTAssertEqual(again.mask, first.mask)
        XCTAssertNotEqual(a.scene(index: 6).image, first.image)
        XCTAssertNotEqual(try SyntheticFacades(width: 96, height: 64, seed: 4).scene(index: 5).image, first.image)
        XCTAssertEqual(a.name(index: 42), "facade_00042")
        XCTAssertEqual(SyntheticFacades.classNames, ["undamaged_structure", "damaged_structure", "debris"])
    }

    func testRefusesSizesAndCounts() {
        XCTAssertThrowsError(try SyntheticFacades(width: 8, height: 128)) { error in
            guard case DatasetError.invalidArgument(let message)? = error as? DatasetError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("8x128"), message)
        }
        XCTAssertThrowsError(try SyntheticFacades(width: 128, height: 5000))
        XCTAssertThrowsError(try SyntheticFacades().write(to: FileManager.default.temporaryDirectory, count: -1))
    }

    /// Per-class statistics over `count` scenes of seed 11 at 128x128.
    struct ClassStatistics {
        var pixels = [Int](repeating: 0, count: 256)
        /// Histograms of |I(x+1, y) - I(x, y)| (mean over the channels, rounded) over horizontal
        /// pairs of pixels of the same class: `[class][0...255]`.
        var gradients = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 256)
        var red = [Double](repeating: 0, count: 256), blue = [Double](repeating: 0, count: 256)
        var brightness = [Double](repeating: 0, count: 256)
        /// max - min channel, summed.
        var chroma = [Double](repeating: 0, count: 256)

        func mean(_ sums: [Double], _ c: Int) -> Double { sums[c] / Double(max(pixels[c], 1)) }

        /// The median neighbour difference within class `c` (robust to the window edges of class 0).
        func medianGradient(_ c: Int) -> Int {
            let histogram = gradients[c], half = histogram.reduce(0, +) / 2
            var seen = 0
            for (value, count) in histogram.enumerated() {
                seen += count
                if seen > half { return value }
            }
            return 0
        }
    }

    func statistics(of scene: (image: RGBImage, mask: [UInt8]), into s: inout ClassStatistics) {
        let (image, mask) = scene
        for y in 0..<image.height {
            for x in 0..<image.width {
                let c = Int(mask[y * image.width + x]), p = image[x: x, y: y]
                let (r, g, b) = (Double(p.r), Double(p.g), Double(p.b))
                s.pixels[c] += 1
                s.red[c] += r
                s.blue[c] += b
                s.brightness[c] += (r + g + b) / 3
                s.chroma[c] += max(r, g, b) - min(r, g, b)
                if x + 1 < image.width, Int(mask[y * image.width + x + 1]) == c {
                    let q = image[x: x + 1, y: y]
                    let d = (abs(Double(q.r) - r) + abs(Double(q.g) - g) + abs(Double(q.b) - b)) / 3
                    s.gradients[c][Int(d.rounded())] += 1
                }
            }
        }
    }

    func testMasksMatchTheDrawing() throws {
        let generator = try SyntheticFacades(width: 128, height: 128, seed: 11)
        var all = ClassStatistics()
        var darkerDamage = 0, scenesWithBoth = 0
        for index in 0..<30 {
            let scene = generator.scene(index: index)
            XCTAssertTrue(Set(scene.mask).isSubset(of: classes), "scene \(index): labels \(Set(scene.mask))")
            var one = ClassStatistics()
            statistics(of: scene, into: &one)
            for c in 0..<256 {
                all.pixels[c] += one.pixels[c]
                for d in 0..<256 { all.gradients[c][d] += one.gradients[c][d] }
                all.red[c] += one.red[c]
                all.blue[c] += one.blue[c]
                all.brightness[c] += one.brightness[c]
                all.chroma[c] += one.chroma[c]
            }
            if one.pixels[0] > 200 && one.pixels[1] > 200 {
                scenesWithBoth += 1
                if one.mean(one.brightness, 1) < one.mean(one.brightness, 0) { darkerDamage += 1 }
            }
            // The facade starts below the top row: sky.
            XCTAssertTrue(scene.mask.prefix(128).allSatisfy { $0 == 255 }, "scene \(index): top row")
        }
        // Debris is grainy, undamaged wall smooth (sensor noise; edges only at the windows).
        let (undamaged, damaged, debris) = (all.medianGradient(0), all.medianGradient(1), all.medianGradient(2))
        XCTAssertGreaterThan(Double(debris), 2.5 * Double(undamaged), "debris \(debris) vs undamaged \(undamaged)")
        XCTAssertGreaterThan(damaged, undamaged, "damaged \(damaged) vs undamaged \(undamaged)")
        // Debris is grey-brown: little chroma, red at least as strong as blue.
        XCTAssertLessThan(all.mean(all.chroma, 2), 55)
        XCTAssertGreaterThanOrEqual(all.mean(all.red, 2), all.mean(all.blue, 2))
        // Damage is darker than the intact wall of the same scene.
        XCTAssertGreaterThan(scenesWithBoth, 5)
        XCTAssertGreaterThanOrEqual(Double(darkerDamage), 0.9 * Double(scenesWithBoth))
        // Background above the facades is sky, blue over red.
        XCTAssertGreaterThan(all.mean(all.blue, 255), all.mean(all.red, 255))
    }

    func testClassAreasArePlausibleForEachKind() throws {
        let generator = try SyntheticFacades(width: 96, height: 96, seed: 2)
        var kinds: [SyntheticFacades.Kind: Int] = [:]
        var meanFractions = [Double](repeating: 0, count: 3)
        let n = 60
        for index in 0..<n {
            let kind = generator.kind(index: index)
            kinds[kind, default: 0] += 1
            let mask = generator.scene(index: index).mask
            let fraction = (0..<3).map { c in Double(mask.filter { $0 == UInt8(c) }.count) / Double(mask.count) }
            for c in 0..<3 { meanFractions[c] += fraction[c] / Double(n) }
            let structure = fraction.reduce(0, +)
            XCTAssertTrue((0.15...0.95).contains(structure), "scene \(index) (\(kind)): structure \(structure)")
            switch kind {
            case .intact:
                XCTAssertEqual(fraction[1], 0, "scene \(index): intact has no damage")
                XCTAssertEqual(fraction[2], 0, "scene \(index): intact has no debris")
                XCTAssertGreaterThan(fraction[0], 0.15)
            case .damaged:
                XCTAssertGreaterThan(fraction[1], 0.005, "scene \(index): damaged shows damage")
                XCTAssertLessThan(fraction[1], 0.4)
                XCTAssertLessThan(fraction[2], 0.3)
            case .collapsed:
                XCTAssertGreaterThan(fraction[2], 0.08, "scene \(index): collapsed has a pile")
            }
        }
        XCTAssertEqual(Set(kinds.keys), Set(SyntheticFacades.Kind.allCases), "\(kinds)")
        XCTAssertTrue((0.2...0.7).contains(meanFractions[0]), "undamaged \(meanFractions[0])")
        XCTAssertTrue((0.01...0.25).contains(meanFractions[1]), "damaged \(meanFractions[1])")
        XCTAssertTrue((0.03...0.35).contains(meanFractions[2]), "debris \(meanFractions[2])")
    }

    func testWritesImagesAndGrayMasks() throws {
        let folder = DemoTestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let generator = try SyntheticFacades(width: 64, height: 48, seed: 9)
        let names = try generator.write(to: folder, count: 5)
        XCTAssertEqual(names, (0..<5).map { generator.name(index: $0) })
        for (index, name) in names.enumerated() {
            let (image, mask) = generator.scene(index: index)
            let imageURL = folder.appendingPathComponent("images/\(name).png")
            let maskURL = folder.appendingPathComponent("masks/\(name).png")
            XCTAssertEqual(try ImageDecoder.decode(contentsOf: imageURL), image)
            let png = try Data(contentsOf: maskURL)
            XCTAssertEqual(png[24], 8, "8 bits a sample")
            XCTAssertEqual(png[25], 0, "colour type 0: grayscale")
            let decoded = try ImageDecoder.decode(contentsOf: maskURL)  // gray comes back as R = G = B
            XCTAssertEqual((0..<decoded.pixelCount).map { decoded.pixels[3 * $0] }, mask)
        }
        let listed = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("masks").path)
        XCTAssertEqual(listed.sorted(), names.map { $0 + ".png" })
    }
}

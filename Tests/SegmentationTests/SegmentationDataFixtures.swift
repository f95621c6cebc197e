import Foundation
import Tensor
import Vision
import XCTest

/// Tiny image / mask folders written for the data tests.
enum SegmentationDataFixtures {
    /// A fresh `DIR` with `images/` and `masks/`, removed when `test` ends.
    static func dataset(for test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rubble-segdata-\(UUID().uuidString)", isDirectory: true)
        for sub in ["images", "masks"] {
            try FileManager.default.createDirectory(at: url.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The colour of class `c` (and black for 255): far apart, so the class can be told from a
    /// pixel even after bilinear blending nearby.
    static func colour(of index: UInt8) -> (UInt8, UInt8, UInt8) {
        switch index {
        case 0: return (250, 10, 10)
        case 1: return (10, 250, 10)
        case 2: return (10, 10, 250)
        case 3: return (250, 250, 10)
        case 255: return (0, 0, 0)
        default: return (128, 128, 128)
        }
    }

    /// The class whose colour is nearest to `pixel`.
    static func nearestClass(_ pixel: (r: UInt8, g: UInt8, b: UInt8)) -> UInt8 {
        var best: UInt8 = 0, bestDistance = Int.max
        for c in [UInt8(0), 1, 2, 3, 255] {
            let (r, g, b) = colour(of: c)
            let d = abs(Int(r) - Int(pixel.r)) + abs(Int(g) - Int(pixel.g)) + abs(Int(b) - Int(pixel.b))
            if d < bestDistance { best = c; bestDistance = d }
        }
        return best
    }

    /// A mask of blocks whose class depends on the position (asymmetric, so a flip shows), and
    /// the image painting each class in its colour.
    static func pair(width: Int, height: Int, block: Int = 6) throws -> (RGBImage, ClassMask) {
        let mask = try ClassMask(width: width, height: height) { x, y in UInt8((x / block + 2 * (y / block) + x / (3 * block)) % 4) }
        let image = RGBImage(width: width, height: height) { x, y in colour(of: mask[x: x, y: y]) }
        return (image, mask)
    }

    /// Writes `image` (as `NAME.ext`, PNG or JPEG by extension) and `mask` (`NAME.png`).
    static func write(_ image: RGBImage, _ mask: ClassMask?, name: String, ext: String = "png", in dir: URL,
                      palette: [UInt8]? = nil) throws {
        try ImageEncoder.write(image, to: dir.appendingPathComponent("images/\(name).\(ext)"))
        if let mask { try mask.write(to: dir.appendingPathComponent("masks/\(name).png"), palette: palette) }
    }

    static let palette: [UInt8] = (0..<256).flatMap { i -> [UInt8] in
        let v = UInt8(truncatingIfNeeded: i &* 37)
        return [v, 255 &- v, UInt8(truncatingIfNeeded: i &* 11)]
    }
}

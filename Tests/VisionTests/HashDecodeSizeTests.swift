import Foundation
import TestSupport
@testable import Vision
import XCTest

/// Hashing from a reduced decode (`atLeast: PerceptualHash.decodeSide`): small photos hash
/// exactly as at full size, large ones through a thumbnail within 2 levels of the full-size one.
final class HashDecodeSizeTests: XCTestCase {
    private let side = PerceptualHash.decodeSide

    func testSmallPhotosHashExactlyAsAtFullSize() throws {
        for name in ["img_hash_400x300.png", "img_97x61.png", "img_hash_45x301.png", "img_dup_scaled.png",
                     "img_97x61_q90.jpg"] {
            let url = Fixtures.url(name)
            let full = try ImageDecoder.decode(contentsOf: url)
            let reduced = try ImageDecoder.decode(contentsOf: url, atLeast: (side, side))
            XCTAssertEqual(reduced, full, "\(name) is below twice \(side) on a side")
            for kind in PerceptualHashKind.allCases {
                XCTAssertEqual(PerceptualHash(kind, of: reduced), PerceptualHash(kind, of: full), "\(name) \(kind)")
            }
        }
    }

    func testLargePhotosKeepTheirThumbnail() throws {
        let smooth = VisionFixtures.smoothImage(width: 1600, height: 1200)
        let noise = VisionFixtures.noiseImage(width: 1600, height: 1200, seed: 5)
        let textured = RGBImage(width: 1600, height: 1200, pixels: zip(smooth.pixels, noise.pixels).map {
            UInt8(clamping: Int($0) + Int($1) / 8 - 16)
        })
        for (name, data) in [("smooth.png", try ImageEncoder.png(smooth)), ("textured.png", try ImageEncoder.png(textured)),
                             ("smooth.jpg", try ImageEncoder.jpeg(smooth))] {
            let full = try ImageDecoder.decode(data: data, name: name)
            let reduced = try ImageDecoder.decode(data: data, name: name, atLeast: (side, side))
            XCTAssertLessThan(reduced.width, full.width / 2, "\(name): reduced to \(reduced.width)x\(reduced.height)")
            XCTAssertGreaterThanOrEqual(min(reduced.width, reduced.height), side)
            let a = PerceptualHash.lanczos(GrayImage(full), width: 32, height: 32).pixels
            let b = PerceptualHash.lanczos(GrayImage(reduced), width: 32, height: 32).pixels
            XCTAssertLessThanOrEqual(maxAbsDifference(a, b), 2, name)
            XCTAssertLessThan(meanAbsDifference(a, b), 0.6, name)
            XCTAssertEqual(PerceptualHash(.ahash, of: reduced), PerceptualHash(.ahash, of: full), name)
            XCTAssertLessThanOrEqual(PerceptualHash(.phash, of: reduced).distance(to: PerceptualHash(.phash, of: full)), 8,
                                     name)
        }
    }
}

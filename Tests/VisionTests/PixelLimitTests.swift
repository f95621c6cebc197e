import Foundation
@testable import Vision
import XCTest

/// The per-photo pixel limit (``DecodeLimits``): headers that claim too many pixels are refused
/// with `ImageError.tooManyPixels`, naming the file, the size and the limit, before any pixel
/// buffer exists.
final class PixelLimitTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try VisionFixtures.temporaryDirectory(for: self)
    }

    /// Asserts `body` throws `tooManyPixels` for `width` x `height` and `limit`, naming `name`.
    private func assertTooManyPixels(_ name: String, width: Int, height: Int, limit: Int,
                                     line: UInt = #line, _ body: () throws -> RGBImage) {
        do {
            let image = try body()
            XCTFail("\(name): decoded \(image.width)x\(image.height), expected the pixel limit", line: line)
        } catch let error as ImageError {
            XCTAssertEqual(error, .tooManyPixels(file: error.file ?? "", width: width, height: height, limit: limit),
                           line: line)
            XCTAssertEqual(error.file.map { URL(fileURLWithPath: $0).lastPathComponent }, name, line: line)
            let text = error.description
            for part in [name, "\(width)x\(height)", "\(limit) pixels"] {
                XCTAssertTrue(text.contains(part), "\(text) does not contain \(part)", line: line)
            }
        } catch {
            XCTFail("\(name): not an ImageError: \(error)", line: line)
        }
    }

    func testDefaultIsFiftyMegapixels() {
        XCTAssertEqual(DecodeLimits.defaultMaximumPixels, 50_000_000)
        XCTAssertEqual(DecodeLimits().maximumPixels, 50_000_000)
        XCTAssertEqual(DecodeLimits.default, DecodeLimits(maximumPixels: 50_000_000))
    }

    func testCraftedPNGHeaderIsRefusedWithoutAllocating() throws {
        let data = CraftedImages.pngHeader(width: 60000, height: 60000)
        XCTAssertLessThan(data.count, 100)
        let url = directory.appendingPathComponent("bomb60k.png")
        try data.write(to: url)
        XCTAssertTrue(try ImageDecoder.size(contentsOf: url) == (60000, 60000), "the header is valid")
        // 60000 x 60000 x 3 = 10.8 GB if allocated; the refusal must cost (almost) nothing.
        let (_, memory) = ProcessMemory.measure {
            assertTooManyPixels("bomb60k.png", width: 60000, height: 60000, limit: 50_000_000) {
                try ImageDecoder.decode(contentsOf: url)
            }
            assertTooManyPixels("bomb60k.png", width: 60000, height: 60000, limit: 50_000_000) {
                try ImageDecoder.decode(data: data, name: "bomb60k.png", atLeast: (150, 150))
            }
            assertTooManyPixels("bomb60k.png", width: 60000, height: 60000, limit: 3_599_999_999) {
                try ImageDecoder.decode(contentsOf: url, limits: DecodeLimits(maximumPixels: 3_599_999_999))
            }
        }
        XCTAssertLessThan(memory.growth, 16 << 20, memory.description)
        // Over the limit (raised for it), a reduced decode streams: the IDAT ends at once, which is
        // an error of the data, still without a 10.8 GB buffer.
        let (_, streamed) = try ProcessMemory.measure {
            XCTAssertThrowsError(try ImageDecoder.decode(contentsOf: url, atLeast: (150, 150), limits: .unlimited)) {
                guard let error = $0 as? ImageError else { return XCTFail("\($0)") }
                switch error {
                case .corrupt, .truncated: XCTAssertTrue(error.description.contains("bomb60k.png"), "\(error)")
                default: XCTFail("\(error)")
                }
            }
        }
        XCTAssertLessThan(streamed.growth, 16 << 20, streamed.description)
    }

    func testCraftedJPEGHeaderIsRefused() throws {
        let small = try ImageEncoder.jpeg(VisionFixtures.smoothImage(width: 32, height: 24), quality: 90)
        let data = try XCTUnwrap(CraftedImages.jpeg(small, claiming: 60000, 60000))
        let url = directory.appendingPathComponent("bomb60k.jpg")
        try data.write(to: url)
        XCTAssertTrue(try ImageDecoder.size(contentsOf: url) == (60000, 60000))
        let (_, memory) = ProcessMemory.measure {
            assertTooManyPixels("bomb60k.jpg", width: 60000, height: 60000, limit: 50_000_000) {
                try ImageDecoder.decode(contentsOf: url)
            }
            assertTooManyPixels("bomb60k.jpg", width: 60000, height: 60000, limit: 50_000_000) {
                try ImageDecoder.decode(contentsOf: url, atLeast: (150, 150))  // even at 1/8 scale
            }
            assertTooManyPixels("bomb60k.jpg", width: 60000, height: 60000, limit: 1000) {
                try ImageDecoder.decode(data: data, name: "bomb60k.jpg", limits: DecodeLimits(maximumPixels: 1000))
            }
        }
        XCTAssertLessThan(memory.growth, 16 << 20, memory.description)
    }

    func testRealSixteenKilopixelPNGBombIsRefusedByDefault() throws {
        // What the red team found: 16384 x 16384 of one colour, under 1 MB, 805 MB as RGB.
        let data = try CraftedImages.solidPNG(width: 16384, height: 16384, color: (200, 190, 180))
        XCTAssertLessThan(data.count, 1 << 20, "a one-colour 16384^2 PNG compresses to under 1 MB")
        let url = directory.appendingPathComponent("bomb16k.png")
        try data.write(to: url)
        let (_, memory) = ProcessMemory.measure {
            for atLeast in [nil, (150, 150)] as [(Int, Int)?] {
                assertTooManyPixels("bomb16k.png", width: 16384, height: 16384, limit: 50_000_000) {
                    try ImageDecoder.decode(contentsOf: url, atLeast: atLeast)
                }
            }
        }
        XCTAssertLessThan(memory.growth, 16 << 20, memory.description)
    }

    func testLimitIsInclusiveAndSettable() throws {
        let image = VisionFixtures.noiseImage(width: 40, height: 25, seed: 4)  // 1000 pixels
        let png = try ImageEncoder.png(image), jpeg = try ImageEncoder.jpeg(image)
        for (data, name) in [(png, "a.png"), (jpeg, "a.jpg")] {
            let exact = try ImageDecoder.decode(data: data, name: name, limits: DecodeLimits(maximumPixels: 1000))
            XCTAssertEqual(exact.width, 40)
            assertTooManyPixels(name, width: 40, height: 25, limit: 999) {
                try ImageDecoder.decode(data: data, name: name, limits: DecodeLimits(maximumPixels: 999))
            }
            assertTooManyPixels(name, width: 40, height: 25, limit: 0) {
                try ImageDecoder.decode(data: data, name: name, limits: DecodeLimits(maximumPixels: 0))
            }
            assertTooManyPixels(name, width: 40, height: 25, limit: -5) {
                try ImageDecoder.decode(data: data, name: name, limits: DecodeLimits(maximumPixels: -5))
            }
            XCTAssertEqual(try ImageDecoder.decode(data: data, name: name, limits: .unlimited).width, 40)
        }
        XCTAssertEqual(try ImageDecoder.decode(data: png), image, "the default limit lets photos through")
    }

    func testCheckMatchesTheDecoder() throws {
        let limits = DecodeLimits()
        XCTAssertNoThrow(try limits.check(width: 7072, height: 7070, file: "a.jpg"))  // 49_999_040
        XCTAssertThrowsError(try limits.check(width: 7072, height: 7071, file: "a.jpg")) {  // 50_006_112
            XCTAssertEqual($0 as? ImageError, .tooManyPixels(file: "a.jpg", width: 7072, height: 7071, limit: 50_000_000))
        }
        // Overflowing width * height is over any limit, never a trap.
        XCTAssertThrowsError(try DecodeLimits.unlimited.check(width: Int.max, height: 2, file: "huge.png")) {
            XCTAssertEqual($0 as? ImageError, .tooManyPixels(file: "huge.png", width: Int.max, height: 2, limit: Int.max))
            XCTAssertTrue("\($0)".contains("\(Int.max)x2"), "\($0)")
        }
        XCTAssertThrowsError(try limits.check(width: -1, height: 10, file: "neg.png")) {
            guard case ImageError.corrupt(let file, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(file, "neg.png")
        }
    }
}

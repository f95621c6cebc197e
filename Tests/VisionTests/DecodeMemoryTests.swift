import Foundation
@testable import Vision
import XCTest

/// Peak memory of decoding huge PNGs with `atLeast:`: bounded by the requested size, not by the
/// photo's pixel count (process VmHWM from /proc/self/status, reset before each decode).
final class DecodeMemoryTests: XCTestCase {
    /// Decodes `data` (written to a file) and returns the image and the peak growth.
    private func measureDecode(_ data: Data, name: String, atLeast: (Int, Int)?) throws
        -> (image: RGBImage, memory: ProcessMemory.Measurement) {
        let url = try VisionFixtures.temporaryDirectory(for: self).appendingPathComponent(name)
        try data.write(to: url)
        let (image, memory) = try ProcessMemory.measure {
            try ImageDecoder.decode(contentsOf: url, atLeast: atLeast, limits: .unlimited)
        }
        print("\(name) \(atLeast.map { "at least \($0.0)x\($0.1)" } ?? "full size") -> "
              + "\(image.width)x\(image.height): \(memory.description)")
        return (image, memory)
    }

    func testSixteenKilopixelPNGDecodesInBoundedMemory() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/status"), "needs /proc")
        let data = try CraftedImages.stripedPNG(width: 16384, height: 16384)
        print("16384x16384 striped PNG: \(data.count) bytes")
        let (image, memory) = try measureDecode(data, name: "huge16k.png", atLeast: (150, 150))
        XCTAssertTrue((image.width, image.height) == (151, 151), "factor 109")
        // Full size would be 16384 * 16384 * 3 = 805 MB; the reduced decode needs the 68 KB
        // output, a 48 KB row and libpng/zlib state.
        XCTAssertLessThan(memory.growth, 64 << 20, memory.description)
        XCTAssertEqual(image[x: 150, y: 150].b, 77)
        XCTAssertEqual(image[x: 150, y: 0].r, 255)  // columns 16350... >> 6 = 255
    }

    func testInterlacedPNGDecodesInBoundedMemory() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/status"), "needs /proc")
        let data = try CraftedImages.stripedPNG(width: 8192, height: 8192, interlaced: true)
        let (image, memory) = try measureDecode(data, name: "huge8k_adam7.png", atLeast: (150, 150))
        XCTAssertTrue((image.width, image.height) == (152, 152), "factor 54")
        XCTAssertLessThan(memory.growth, 64 << 20, memory.description)  // full size: 201 MB
    }

    func testTheMeasurementSeesAFullSizeDecode() throws {
        // The meter itself: a full 4096 x 4096 decode (50 MB of RGB) must show up.
        try XCTSkipUnless(ProcessMemory.resetPeak(), "cannot reset the peak resident size")
        let data = try CraftedImages.stripedPNG(width: 4096, height: 4096)
        let (full, memory) = try measureDecode(data, name: "full4k.png", atLeast: nil)
        XCTAssertEqual(full.width, 4096)
        XCTAssertGreaterThan(memory.growth, 45 << 20, memory.description)
        XCTAssertLessThan(memory.growth, 75 << 20, "decoded straight into the image, no second copy: \(memory.description)")
        let (_, reduced) = try measureDecode(data, name: "reduced4k.png", atLeast: (150, 150))
        XCTAssertLessThan(reduced.growth, 16 << 20, reduced.description)
    }
}

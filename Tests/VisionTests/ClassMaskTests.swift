import Foundation
import TestSupport
@testable import Vision
import XCTest

/// Class masks and 16-bit maps: raw single-channel PNG samples (`rubble_png_decode_samples_*`),
/// PIL-compatible nearest resizing, writing, and the errors for files that are not masks.
final class ClassMaskTests: XCTestCase {
    private func bytes(_ name: String) throws -> [UInt8] {
        try Fixtures.tensor(name).scalars.map { UInt8($0) }
    }

    func testPaletteMaskReadsIndicesNotColours() throws {
        let mask = try ClassMask.read(contentsOf: Fixtures.url("segformer/mask_97x61_p.png"))
        XCTAssertEqual(mask.width, 97)
        XCTAssertEqual(mask.height, 61)
        XCTAssertEqual(mask.indices, try bytes("segformer/mask_97x61_p_indices"))
        XCTAssertEqual(mask[x: 0, y: 0], ClassMask.ignoreIndex)
        XCTAssertTrue(try ClassMask.size(contentsOf: Fixtures.url("segformer/mask_97x61_p.png")) == (97, 61))
    }

    func testNearestResizeMatchesPIL() throws {
        let mask = try ClassMask.read(contentsOf: Fixtures.url("segformer/mask_97x61_p.png"))
        for (w, h) in [(40, 25), (150, 211), (64, 64)] {
            XCTAssertEqual(try mask.resized(width: w, height: h).indices, try bytes("segformer/mask_nearest_\(w)x\(h)"),
                           "\(w)x\(h)")
        }
        XCTAssertThrowsError(try mask.resized(width: 0, height: 3))
    }

    /// torchvision's masks: PyTorch's nearest-exact, `min(floorf((dst + 0.5) * float(in / out)), in - 1)`.
    func testNearestExactForTheTorchvisionBackend() throws {
        let mask = try ClassMask(width: 7, height: 3) { x, y in UInt8(10 * y + x) }
        let resized = try mask.resized(width: 3, height: 5, backend: .torchvision)
        // x: scale 7/3 -> floor(0.5 * 2.333) = 1, floor(1.5 * 2.333) = 3, floor(2.5 * 2.333) = 5
        // y: scale 3/5 -> 0.3, 0.9, 1.5, 2.1, 2.7 -> 0, 0, 1, 2, 2
        XCTAssertEqual(resized.indices, [1, 3, 5, 1, 3, 5, 11, 13, 15, 21, 23, 25, 21, 23, 25])
        XCTAssertEqual(try mask.resized(width: 7, height: 3, backend: .torchvision), mask)
        let image = RGBImage(width: 7, height: 3) { x, y in (UInt8(10 * y + x), 0, 0) }
        let nearest = try PILResample.nearest.resize(image, width: 3, height: 5, backend: .torchvision)
        XCTAssertEqual(stride(from: 0, to: nearest.pixels.count, by: 3).map { nearest.pixels[$0] }, resized.indices)
    }

    func testGrayAndPaletteRoundTrips() throws {
        let dir = try VisionFixtures.temporaryDirectory(for: self)
        let mask = try ClassMask(width: 13, height: 7) { x, y in x == 0 ? 255 : UInt8((x * y) % 9) }
        let gray = dir.appendingPathComponent("gray.png")
        try mask.write(to: gray)
        XCTAssertEqual(try ClassMask.read(contentsOf: gray), mask)
        var palette: [UInt8] = []
        for i in 0..<256 { palette += [UInt8(i), UInt8(255 - i), UInt8(i * 3 % 256)] }
        let data = try mask.pngData(palette: palette)
        XCTAssertEqual(try ClassMask.decode(data: data, name: "p.png"), mask)
        XCTAssertThrowsError(try mask.pngData(palette: [1, 2, 3, 4, 5, 6])) { error in
            XCTAssertTrue("\(error)".contains("255"), "\(error)")
        }
        XCTAssertEqual(mask.indexCounts.reduce(0, +), 13 * 7)
        XCTAssertEqual(mask.indexCounts[255], 7)
    }

    /// 1, 2 and 4-bit gray samples come back as stored, unscaled; Adam7 is undone.
    func testLowBitDepthsAndInterlacingGiveRawValues() throws {
        let width = 11, height = 5
        for depth in [1, 2, 4] {
            let values = (0..<width * height).map { UInt8($0 * 7 % (1 << depth)) }
            var packed: [UInt8] = []
            for y in 0..<height {
                var byte = 0, bits = 0
                for x in 0..<width {
                    byte = byte << depth | Int(values[y * width + x])
                    bits += depth
                    if bits == 8 { packed.append(UInt8(byte)); byte = 0; bits = 0 }
                }
                if bits > 0 { packed.append(UInt8(byte << (8 - bits))) }
            }
            let data = try PNGCodec.encode(samples: packed, width: width, height: height, colorType: .gray, bitDepth: depth)
            XCTAssertEqual(try ClassMask.decode(data: data).indices, values, "depth \(depth)")
            let map = try GrayImage16.decode(data: data)
            XCTAssertEqual(map.bitDepth, depth)
            XCTAssertEqual(map.samples, values.map(UInt16.init))
        }
        let values = (0..<width * height).map { UInt8($0 % 6) }
        let interlaced = try PNGCodec.encode(samples: values, width: width, height: height, colorType: .gray,
                                             interlaced: true)
        XCTAssertEqual(try ClassMask.decode(data: interlaced).indices, values)
    }

    func testSixteenBitMapsAndMasks() throws {
        let map = try GrayImage16.read(contentsOf: Fixtures.url("segformer/depth_16bit.png"))
        XCTAssertEqual(map.bitDepth, 16)
        XCTAssertEqual(map.floats, try Fixtures.tensor("segformer/depth_16bit").scalars)
        XCTAssertEqual(map[x: 0, y: 0], 65535)
        XCTAssertEqual(try GrayImage16.decode(data: try map.pngData()), map)
        XCTAssertThrowsError(try ClassMask.read(contentsOf: Fixtures.url("segformer/depth_16bit.png"))) { error in
            guard case ImageError.invalidContent(let file, let detail)? = error as? ImageError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(file.hasSuffix("depth_16bit.png"))
            XCTAssertTrue(detail.contains("65535"), detail)
        }
        let small = try GrayImage16(width: 3, height: 1, samples: [0, 7, 255])
        XCTAssertEqual(try ClassMask.decode(data: try small.pngData()).indices, [0, 7, 255])
        XCTAssertThrowsError(try GrayImage16(width: 2, height: 1, samples: [1, 300], bitDepth: 8))
        XCTAssertThrowsError(try GrayImage16.read(contentsOf: Fixtures.url("segformer/mask_97x61_p.png")))
    }

    func testColourPNGsAndJPEGsAreNotMasks() throws {
        let dir = try VisionFixtures.temporaryDirectory(for: self)
        let rgb = Fixtures.url("img_97x61.png")
        for url in [rgb, Fixtures.url("img_97x61_rgba.png")] {
            XCTAssertThrowsError(try ClassMask.read(contentsOf: url)) { error in
                guard case ImageError.notSingleChannel(let file, let type)? = error as? ImageError else {
                    return XCTFail("\(error)")
                }
                XCTAssertEqual(file, url.path)
                XCTAssertTrue(type.hasPrefix("RGB"), type)
                XCTAssertTrue("\(error)".contains(url.lastPathComponent))
            }
            XCTAssertThrowsError(try ClassMask.size(contentsOf: url))
            XCTAssertThrowsError(try GrayImage16.read(contentsOf: url))
        }
        let grayAlpha = try PNGCodec.encode(samples: [1, 255, 2, 255], width: 2, height: 1, colorType: .grayAlpha)
        XCTAssertThrowsError(try ClassMask.decode(data: grayAlpha, name: "la.png")) { error in
            XCTAssertEqual(error as? ImageError, .notSingleChannel(file: "la.png", colorType: "gray + alpha"))
        }
        XCTAssertThrowsError(try ClassMask.read(contentsOf: Fixtures.url("img_97x61_q90.jpg"))) { error in
            guard case ImageError.invalidContent(_, let detail)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("JPEG"), detail)
        }
        let missing = dir.appendingPathComponent("missing.png")
        XCTAssertThrowsError(try ClassMask.read(contentsOf: missing)) { error in
            XCTAssertEqual((error as? ImageError)?.file, missing.path)
        }
    }

    func testDamagedMasksAndPixelLimit() throws {
        let mask = try ClassMask(width: 40, height: 30, filledWith: 3)
        let data = try mask.pngData(compressionLevel: 0)
        XCTAssertThrowsError(try ClassMask.decode(data: data.prefix(data.count / 2), name: "half.png")) { error in
            guard case ImageError.truncated(let file, _)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "half.png")
        }
        XCTAssertThrowsError(try ClassMask.decode(data: data, name: "big.png", limits: DecodeLimits(maximumPixels: 100))) {
            XCTAssertEqual($0 as? ImageError, .tooManyPixels(file: "big.png", width: 40, height: 30, limit: 100))
        }
        XCTAssertThrowsError(try ClassMask.decode(data: Data(), name: "empty.png"))
        XCTAssertThrowsError(try ClassMask(width: 3, height: 3, indices: [1, 2]))
    }

    func testCropAndFlipMoveImageAndMaskTogether() throws {
        let image = RGBImage(width: 5, height: 4) { x, y in (UInt8(x), UInt8(y), 7) }
        let mask = try ClassMask(width: 5, height: 4) { x, y in UInt8(10 * y + x) }
        let flipped = image.flippedHorizontally(), flippedMask = mask.flippedHorizontally()
        XCTAssertTrue(flipped[x: 0, y: 2] == (4, 2, 7))
        XCTAssertEqual(flippedMask[x: 0, y: 2], 24)
        let crop = try image.cropped(x: 3, y: -1, width: 4, height: 3, fill: (1, 1, 1))
        let maskCrop = try mask.cropped(x: 3, y: -1, width: 4, height: 3)
        XCTAssertTrue(crop[x: 0, y: 1] == (3, 0, 7))
        XCTAssertTrue(crop[x: 2, y: 1] == (1, 1, 1))
        XCTAssertTrue(crop[x: 0, y: 0] == (1, 1, 1))
        XCTAssertEqual(maskCrop[x: 1, y: 2], 14)
        XCTAssertEqual(maskCrop[x: 2, y: 2], ClassMask.ignoreIndex)
        XCTAssertEqual(maskCrop[x: 0, y: 0], ClassMask.ignoreIndex)
        XCTAssertThrowsError(try image.cropped(x: 0, y: 0, width: -1, height: 2))
    }
}

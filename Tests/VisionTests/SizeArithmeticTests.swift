import Foundation
@testable import Vision
import XCTest

/// Overflow-checked size arithmetic: absurd sizes are errors, never traps or small buffers.
final class SizeArithmeticTests: XCTestCase {
    func testProductsReportOverflow() {
        XCTAssertEqual(ImageSizeArithmetic.byteCount(width: 16384, height: 16384, channels: 3), 805_306_368)
        XCTAssertEqual(ImageSizeArithmetic.byteCount(width: 0, height: 5, channels: 3), 0)
        XCTAssertNil(ImageSizeArithmetic.byteCount(width: Int.max, height: 2, channels: 1))
        XCTAssertNil(ImageSizeArithmetic.byteCount(width: 1 << 31, height: 1 << 31, channels: 3))  // 1.4e19 > Int.max
        XCTAssertEqual(ImageSizeArithmetic.byteCount(width: 1 << 31, height: 1 << 30, channels: 3), 3 << 61)
        XCTAssertNil(ImageSizeArithmetic.byteCount(width: -1, height: 5, channels: 3))
        XCTAssertNil(ImageSizeArithmetic.product(Int.max / 2 + 1, 2))
        XCTAssertEqual(ImageSizeArithmetic.product(), 1)
        XCTAssertEqual(ImageSizeArithmetic.rowBytes(width: 13, channels: 1, bitDepth: 2), 4)  // 26 bits
        XCTAssertEqual(ImageSizeArithmetic.rowBytes(width: 13, channels: 4, bitDepth: 16), 104)
        XCTAssertNil(ImageSizeArithmetic.rowBytes(width: Int.max / 3, channels: 4, bitDepth: 16))
    }

    func testEncodersRefuseAbsurdSizesWithAnError() {
        XCTAssertThrowsError(try PNGCodec.encode(samples: [1, 2, 3], width: Int.max, height: Int.max, colorType: .rgb)) {
            guard case ImageError.encodingFailed = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try PNGCodec.encode(samples: [], width: 1 << 40, height: 1 << 40, colorType: .rgba,
                                                 bitDepth: 16)) {
            guard case ImageError.encodingFailed = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try JPEGCodec.encode(samples: [], width: Int.max / 2, height: 4, components: 3, quality: 90)) {
            guard case ImageError.encodingFailed = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try PNGCodec.encode(width: Int.max, height: 1, colorType: .rgb) { _, _ in }) {
            guard case ImageError.encodingFailed = $0 else { return XCTFail("\($0)") }
        }
        // Larger than libpng's 2^31 - 1 (the Int32 the shim takes would clamp: refused before).
        XCTAssertThrowsError(try PNGCodec.encode(width: 1 << 33, height: 1, colorType: .gray) { _, _ in }) {
            guard case ImageError.encodingFailed = $0 else { return XCTFail("\($0)") }
        }
    }

    func testHeadersAtThePNGMaximumAreRefusedCleanly() throws {
        // 2^31 - 1 on both sides: beyond libpng's default 10^6 limit (a corrupt file), and in any
        // case beyond every pixel limit; nothing is allocated either way.
        let data = CraftedImages.pngHeader(width: 0x7FFF_FFFF, height: 0x7FFF_FFFF)
        for limits in [DecodeLimits.default, .unlimited] {
            XCTAssertThrowsError(try ImageDecoder.decode(data: data, name: "max.png", atLeast: (150, 150), limits: limits)) {
                guard let error = $0 as? ImageError else { return XCTFail("\($0)") }
                switch error {
                case .corrupt, .tooManyPixels: XCTAssertEqual(error.file, "max.png")
                default: XCTFail("\(error)")
                }
            }
        }
        // A thin 1 x 10^6 header, over a limit of 999_999 pixels.
        let tall = CraftedImages.pngHeader(width: 1, height: 1_000_000)
        XCTAssertThrowsError(try ImageDecoder.decode(data: tall, name: "tall.png", limits: DecodeLimits(maximumPixels: 999_999))) {
            XCTAssertEqual($0 as? ImageError, .tooManyPixels(file: "tall.png", width: 1, height: 1_000_000, limit: 999_999))
        }
    }
}

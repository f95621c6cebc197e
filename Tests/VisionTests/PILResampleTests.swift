import Foundation
import TestSupport
@testable import Vision
import XCTest

/// Pillow's `Image.resize` reproduced bit for bit: every case against Pillow 13.0.0's own
/// output (`Tests/Fixtures/segformer/make_pil_resize_fixtures.py`), exact uint8 equality.
final class PILResampleTests: XCTestCase {
    private func source() throws -> RGBImage {
        try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
    }

    private func assertMatchesPIL(_ filter: PILResample, _ width: Int, _ height: Int,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let name = "segformer/pil_\(filter.rawValue)_\(width)x\(height)"
        let reference = try Fixtures.tensor(name)
        XCTAssertEqual(reference.shape.dims, [height, width, 3], name, file: file, line: line)
        let expected = reference.scalars.map { UInt8($0) }
        let resized = try filter.resize(try source(), width: width, height: height)
        XCTAssertEqual(resized.width, width, file: file, line: line)
        XCTAssertEqual(resized.height, height, file: file, line: line)
        let differing = zip(resized.pixels, expected).filter { $0 != $1 }.count
        XCTAssertEqual(differing, 0, "\(name): \(differing) values differ, max by "
                       + "\(maxAbsDifference(resized.pixels, expected))", file: file, line: line)
    }

    func testBilinearDownscaleIsAntialiasedLikePIL() throws {
        try assertMatchesPIL(.bilinear, 40, 25)
        try assertMatchesPIL(.bilinear, 64, 64)
    }

    func testBilinearUpscaleMatchesPIL() throws {
        try assertMatchesPIL(.bilinear, 150, 211)
    }

    /// One axis only (the other pass is skipped), and shapes where Pillow 13 runs the vertical
    /// pass first (the height shrinks by more than twice as many pixels as the width).
    func testBilinearSingleAxisAndVerticalFirstMatchPIL() throws {
        try assertMatchesPIL(.bilinear, 97, 30)
        try assertMatchesPIL(.bilinear, 50, 61)
        try assertMatchesPIL(.bilinear, 90, 20)
        try assertMatchesPIL(.bilinear, 150, 30)
    }

    func testPassOrderMattersForVerticalFirstShapes() throws {
        let image = try source()
        let horizontalFirst = PILResample.bilinear.resample(image.pixels, width: 97, height: 61, channels: 3,
                                                            toWidth: 90, toHeight: 20, flavor: .pillow(.horizontalFirst))
        let expected = try Fixtures.tensor("segformer/pil_bilinear_90x20").scalars.map { UInt8($0) }
        XCTAssertNotEqual(horizontalFirst, expected, "the fixture should tell the orders apart")
    }

    func testBicubicMatchesPIL() throws {
        try assertMatchesPIL(.bicubic, 40, 25)
        try assertMatchesPIL(.bicubic, 140, 98)
        try assertMatchesPIL(.bicubic, 90, 20)
        try assertMatchesPIL(.bicubic, 13, 200)
    }

    func testOtherFiltersMatchPIL() throws {
        try assertMatchesPIL(.lanczos, 50, 70)
        try assertMatchesPIL(.hamming, 33, 20)
        try assertMatchesPIL(.box, 30, 17)
        try assertMatchesPIL(.nearest, 40, 25)
        try assertMatchesPIL(.nearest, 150, 211)
    }

    func testGrayImageMatchesPIL() throws {
        let gray = GrayImage(try source())
        let resized = try PILResample.bilinear.resize(gray, width: 40, height: 25)
        let expected = try Fixtures.tensor("segformer/pil_gray_bilinear_40x25").scalars.map { UInt8($0) }
        XCTAssertEqual(resized.pixels, expected)
    }

    func testSameSizeIsIdentityAndBadSizesThrow() throws {
        let image = try source()
        for filter in PILResample.allCases {
            XCTAssertEqual(try filter.resize(image, width: 97, height: 61), image)
        }
        XCTAssertThrowsError(try PILResample.bilinear.resize(image, width: 0, height: 5)) { error in
            guard case ImageError.invalidArgument(let detail)? = error as? ImageError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(detail.contains("0x5"), detail)
        }
        XCTAssertThrowsError(try PILResample.bicubic.resize(RGBImage(width: 0, height: 0), width: 4, height: 4))
    }

    func testPillowCodes() {
        XCTAssertEqual(PILResample(pillowCode: 2), .bilinear)
        XCTAssertEqual(PILResample(pillowCode: 3), .bicubic)
        XCTAssertEqual(PILResample(pillowCode: 0), .nearest)
        XCTAssertNil(PILResample(pillowCode: 7))
        for filter in PILResample.allCases { XCTAssertEqual(PILResample(pillowCode: filter.pillowCode), filter) }
    }

    /// Bicubic overshoots at hard edges; Pillow clips to 0...255 (no wrap-around).
    func testBicubicClipsOvershoot() throws {
        let image = RGBImage(width: 8, height: 1) { x, _ in x < 4 ? (0, 0, 0) : (255, 255, 255) }
        let up = try PILResample.bicubic.resize(image, width: 32, height: 1)
        XCTAssertEqual(up.pixels.first, 0)
        XCTAssertEqual(up.pixels.last, 255)
    }
}

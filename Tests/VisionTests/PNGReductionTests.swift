import Foundation
@testable import Vision
import XCTest

/// The streaming box reduction of PNGs through `decode(atLeast:)`: the factor, and pixel
/// values against a box filter of the full decode, for every colour type and for Adam7.
final class PNGReductionTests: XCTestCase {
    /// The reference: box means of `factor` x `factor` blocks, edge blocks over the pixels that
    /// exist, rounded half up.
    static func boxReference(_ image: RGBImage, factor f: Int) -> RGBImage {
        let w = (image.width + f - 1) / f, h = (image.height + f - 1) / f
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for by in 0..<h {
            for bx in 0..<w {
                let ys = by * f..<min(by * f + f, image.height), xs = bx * f..<min(bx * f + f, image.width)
                let n = ys.count * xs.count
                for c in 0..<3 {
                    var sum = 0
                    for y in ys {
                        for x in xs { sum += Int(image.pixels[(y * image.width + x) * 3 + c]) }
                    }
                    pixels[(by * w + bx) * 3 + c] = UInt8((sum + n / 2) / n)
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }

    func testFactorIsTheLargestStillAtLeastTheRequest() {
        let cases: [(size: (Int, Int), request: (Int, Int), factor: Int)] = [
            ((16384, 16384), (150, 150), 109),  // ceil(16384 / 109) = 151; 1/110 would give 149
            ((97, 61), (20, 15), 4),             // height decides: ceil(61 / 4) = 16, 61 / 5 -> 13
            ((1600, 1200), (150, 150), 8),
            ((1600, 1200), (400, 100), 4),
            ((1600, 1200), (0, 100), 12),        // width unconstrained: ceil(1200 / 12) = 100
            ((1600, 1200), (-3, 0), 1),          // no constraint at all
            ((299, 299), (150, 150), 2),
            ((298, 298), (150, 150), 1),         // ceil(298 / 2) = 149 < 150
            ((100, 80), (200, 10), 1),           // already smaller than the request
            ((300, 200), (1, 1), 300),           // as far as the longer side: 1x1
            ((100_000, 3), (1, 1), 4096),        // capped so the 32-bit sums cannot overflow
        ]
        for (size, request, factor) in cases {
            XCTAssertEqual(PNGCodec.reductionFactor(width: size.0, height: size.1, atLeast: request), factor,
                           "\(size.0)x\(size.1) at least \(request)")
            let f = factor
            if request.0 > 0 { XCTAssertGreaterThanOrEqual((size.0 + f - 1) / f, min(request.0, size.0)) }
            if request.1 > 0 { XCTAssertGreaterThanOrEqual((size.1 + f - 1) / f, min(request.1, size.1)) }
        }
    }

    func testReductionEqualsABoxFilteredFullDecode() throws {
        let sizes: [(Int, Int)] = [(97, 61), (64, 64), (13, 7), (3, 2), (1, 9), (9, 1), (250, 37)]
        let requests: [(Int, Int)] = [(1, 1), (2, 2), (20, 15), (5, 0), (0, 4), (40, 30)]
        var checked = 0
        for (w, h) in sizes {
            let source = VisionFixtures.noiseImage(width: w, height: h, seed: UInt64(w * 1000 + h))
            for interlaced in [false, true] {
                let data = try PNGCodec.encode(samples: source.pixels, width: w, height: h, colorType: .rgb,
                                               interlaced: interlaced)
                XCTAssertEqual(try ImageDecoder.decode(data: data), source)
                for request in requests {
                    let f = PNGCodec.reductionFactor(width: w, height: h, atLeast: request)
                    let reduced = try ImageDecoder.decode(data: data, atLeast: request)
                    let reference = Self.boxReference(source, factor: f)
                    let label = "\(w)x\(h)\(interlaced ? " Adam7" : "") at least \(request), factor \(f)"
                    XCTAssertTrue((reduced.width, reduced.height) == (reference.width, reference.height),
                                  "\(label): \(reduced.width)x\(reduced.height)")
                    guard reduced.pixels.count == reference.pixels.count else { continue }
                    XCTAssertLessThanOrEqual(maxAbsDifference(reduced.pixels, reference.pixels), 1, label)
                    XCTAssertEqual(reduced, reference, "\(label): exact integer arithmetic")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, sizes.count * 2 * requests.count)
    }

    func testEveryColourTypeIsReducedAfterConversionToRGB() throws {
        let w = 45, h = 29, request = (10, 7)  // factor 4: 12x8, edge blocks of 1 column and 1 row
        XCTAssertEqual(PNGCodec.reductionFactor(width: w, height: h, atLeast: request), 4)
        let noise = VisionFixtures.noiseImage(width: w, height: h, seed: 11)
        let n = w * h
        var rgba16 = [UInt8](), grayAlpha = [UInt8]()
        for i in 0..<n {
            for c in 0..<3 { rgba16 += [noise.pixels[3 * i + c], UInt8(i % 251)] }
            rgba16 += [UInt8(i % 7), 0]
            grayAlpha += [noise.pixels[3 * i], UInt8(i % 256)]
        }
        let palette: [UInt8] = [10, 20, 30, 200, 100, 0, 0, 255, 255, 1, 2, 3]
        let indices = (0..<n).map { UInt8(noise.pixels[3 * $0] % 4) }
        let variants: [(String, Data)] = [
            ("rgba16", try PNGCodec.encode(samples: rgba16, width: w, height: h, colorType: .rgba, bitDepth: 16)),
            ("gray-alpha Adam7", try PNGCodec.encode(samples: grayAlpha, width: w, height: h, colorType: .grayAlpha,
                                                     interlaced: true)),
            ("gray", try PNGCodec.encode(samples: (0..<n).map { noise.pixels[3 * $0 + 1] }, width: w, height: h,
                                         colorType: .gray)),
            ("palette", try PNGCodec.encode(samples: indices, width: w, height: h, colorType: .palette,
                                            palette: palette)),
        ]
        for (label, data) in variants {
            let full = try ImageDecoder.decode(data: data, name: label)
            let reduced = try ImageDecoder.decode(data: data, name: label, atLeast: request)
            XCTAssertTrue((reduced.width, reduced.height) == (12, 8), "\(label): \(reduced.width)x\(reduced.height)")
            XCTAssertLessThanOrEqual(maxAbsDifference(reduced.pixels, Self.boxReference(full, factor: 4).pixels), 1,
                                     label)
        }
    }

    func testFileAndMemoryAgreeAndSmallImagesAreUntouched() throws {
        let source = VisionFixtures.smoothImage(width: 400, height: 300)
        let data = try ImageEncoder.png(source)
        let url = try VisionFixtures.temporaryDirectory(for: self).appendingPathComponent("photo.png")
        try data.write(to: url)
        let fromFile = try ImageDecoder.decode(contentsOf: url, atLeast: (150, 150))
        XCTAssertTrue((fromFile.width, fromFile.height) == (200, 150))
        XCTAssertEqual(try ImageDecoder.decode(data: data, atLeast: (150, 150)), fromFile)
        XCTAssertEqual(fromFile, Self.boxReference(source, factor: 2))
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url, atLeast: (500, 10)), source, "smaller than asked")
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url, atLeast: (0, 0)), source, "no constraint")
        // A reduced PNG feeds the model like a reduced JPEG: resized from about twice the input.
        let input = ModelInput.tensor(fromFile, size: 150), direct = ModelInput.tensor(source, size: 150)
        XCTAssertLessThan(maxAbsDifference(input.scalars, direct.scalars), 0.05)
    }

    func testLargeReductionMatchesTheStripesExactly() throws {
        // 2000 x 1500 of (x >> 6, y >> 6, 77) at least 150: factor 10 -> 200 x 150. Each block
        // of 10 columns has a known mean of x >> 6.
        let data = try CraftedImages.stripedPNG(width: 2000, height: 1500)
        for interlaced in [false, true] {
            let file = interlaced ? try CraftedImages.stripedPNG(width: 2000, height: 1500, interlaced: true) : data
            let image = try ImageDecoder.decode(data: file, atLeast: (150, 150))
            XCTAssertTrue((image.width, image.height) == (200, 150))
            func mean(_ range: Range<Int>) -> UInt8 {
                let n = range.count
                return UInt8((range.reduce(0) { $0 + ($1 >> 6) } + n / 2) / n)
            }
            for (x, y) in [(0, 0), (6, 6), (7, 3), (199, 149), (64, 100), (128, 31)] {
                let p = image[x: x, y: y]
                XCTAssertEqual(p.r, mean(x * 10..<x * 10 + 10), "(\(x), \(y))")
                XCTAssertEqual(p.g, mean(y * 10..<y * 10 + 10), "(\(x), \(y))")
                XCTAssertEqual(p.b, 77)
            }
        }
    }
}

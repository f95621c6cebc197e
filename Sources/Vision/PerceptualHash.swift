import Foundation

/// An 8-bit single-channel image (PIL mode "L"): `height` rows of `width` bytes, row-major.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "\(pixels.count) bytes for a \(width)x\(height) gray image")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// PIL's `convert("L")` of an RGB image: ITU-R 601-2 luma in integer arithmetic,
    /// `L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16` (exact, no float rounding).
    public init(_ image: RGBImage) {
        let count = image.pixelCount
        var gray = [UInt8](repeating: 0, count: count)
        image.pixels.withUnsafeBufferPointer { rgb in
            gray.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let r = UInt32(rgb[3 * i]), g = UInt32(rgb[3 * i + 1]), b = UInt32(rgb[3 * i + 2])
                    out[i] = UInt8((r &* 19595 &+ g &* 38470 &+ b &* 7471 &+ 0x8000) >> 16)
                }
            }
        }
        self.init(width: image.width, height: image.height, pixels: gray)
    }
}

/// Which perceptual hash, as the Python `imagehash` package computes it (all 8x8 = 64 bits).
public enum PerceptualHashKind: String, Sendable, CaseIterable, Codable {
    /// `imagehash.phash`: 32x32 Lanczos thumbnail, 2-D DCT-II, top-left 8x8 > median.
    case phash
    /// `imagehash.dhash`: 9x8 thumbnail, each pixel > its left neighbour.
    case dhash
    /// `imagehash.average_hash`: 8x8 thumbnail, each pixel > the mean.
    case ahash
}

/// A 64-bit perceptual hash, compatible with Python's `imagehash` (hash_size 8).
///
/// Bit order is imagehash's: the 8x8 boolean matrix in row-major order, the first bit the most
/// significant of ``bits``; ``hex`` is `str(imagehash.ImageHash)` (16 lowercase hex digits).
/// Similar pictures have hashes a small Hamming ``distance(to:)`` apart; the crisis-image
/// pipeline this project follows treats `<= 10` of 64 as a near-duplicate.
///
/// The computation matches imagehash (PIL 10-13, imagehash 4.3) step for step:
/// - grayscale: ``GrayImage/init(_:)`` (PIL's integer `convert("L")`);
/// - thumbnail: ``PerceptualHash/lanczos(_:width:height:order:)``, PIL's `resize(..., LANCZOS)`:
///   separable Lanczos-3 whose support widens by the scale factor when downsampling,
///   coefficients normalised to sum 1 and quantised to 22-bit fixed point, two passes each
///   rounded and clamped to 8 bits, in Pillow 13's order (vertical first for pictures whose
///   height shrinks more than twice as much as their width; Pillow <= 12 always went
///   horizontal first, which can move such tall pictures' hashes by a few bits);
/// - phash: `scipy.fftpack.dct(dct(x, axis=0), axis=1)` (type II, unnormalised:
///   `y[k] = 2 * sum_n x[n] cos(pi k (2n+1) / 2N)`) in double precision; bits `> median`
///   (the mean of the 32nd and 33rd smallest of the 64 low-frequency coefficients, DC included).
/// On the same 8-bit RGB pixels the hashes are bit-identical to imagehash's; a JPEG decoded
/// by a different libjpeg (or at a reduced DCT scale) can differ by a few bits.
public struct PerceptualHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var bits: UInt64

    public init(bits: UInt64) { self.bits = bits }

    /// Parses imagehash's hex string (16 hex digits, either case); `nil` otherwise.
    public init?(hex: String) {
        guard hex.count == 16, let value = UInt64(hex, radix: 16) else { return nil }
        bits = value
    }

    /// From imagehash's boolean matrix in row-major order (64 entries).
    public init(matrix: [Bool]) {
        precondition(matrix.count == 64, "a 64-bit hash needs 64 bits, got \(matrix.count)")
        var value: UInt64 = 0
        for bit in matrix { value = value << 1 | (bit ? 1 : 0) }
        bits = value
    }

    /// `str(imagehash.ImageHash)`: 16 lowercase hex digits.
    public var hex: String {
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { hex }

    /// The row-major boolean matrix (`hash.hash.flatten()` in imagehash).
    public var matrix: [Bool] { (0..<64).map { bits >> (63 - $0) & 1 == 1 } }

    /// Number of differing bits (imagehash's `h1 - h2`).
    @inline(__always)
    public func distance(to other: PerceptualHash) -> Int { (bits ^ other.bits).nonzeroBitCount }

    public static func < (a: PerceptualHash, b: PerceptualHash) -> Bool { a.bits < b.bits }

    // MARK: - Computing hashes

    /// The `kind` hash of `image`.
    public init(_ kind: PerceptualHashKind, of image: RGBImage) {
        self.init(kind, of: GrayImage(image))
    }

    /// The `kind` hash of a grayscale image.
    public init(_ kind: PerceptualHashKind, of gray: GrayImage) {
        switch kind {
        case .phash: self = Self.phash(gray)
        case .dhash: self = Self.dhash(gray)
        case .ahash: self = Self.averageHash(gray)
        }
    }

    /// Every kind at once, sharing the grayscale conversion.
    public static func all(of image: RGBImage) -> [PerceptualHashKind: PerceptualHash] {
        let gray = GrayImage(image)
        var result: [PerceptualHashKind: PerceptualHash] = [:]
        for kind in PerceptualHashKind.allCases { result[kind] = PerceptualHash(kind, of: gray) }
        return result
    }

    /// `imagehash.average_hash`: 8x8 thumbnail, bits `pixel > mean` (the mean in exact arithmetic).
    public static func averageHash(_ gray: GrayImage) -> PerceptualHash {
        let small = lanczos(gray, width: 8, height: 8).pixels
        let sum = small.reduce(0) { $0 + Int($1) }
        // pixel > sum / 64  <=>  64 * pixel > sum (numpy's float64 mean of 64 integers is exact)
        return PerceptualHash(matrix: small.map { 64 * Int($0) > sum })
    }

    /// `imagehash.dhash`: 9 wide x 8 high thumbnail, bits `pixel[y][x+1] > pixel[y][x]`.
    public static func dhash(_ gray: GrayImage) -> PerceptualHash {
        let small = lanczos(gray, width: 9, height: 8).pixels
        var matrix: [Bool] = []
        matrix.reserveCapacity(64)
        for y in 0..<8 {
            for x in 0..<8 { matrix.append(small[y * 9 + x + 1] > small[y * 9 + x]) }
        }
        return PerceptualHash(matrix: matrix)
    }

    /// `imagehash.phash`: 32x32 thumbnail, DCT-II on both axes, top-left 8x8 `> median`.
    public static func phash(_ gray: GrayImage) -> PerceptualHash {
        let n = 32, keep = 8
        let small = lanczos(gray, width: n, height: n).pixels
        let table = dctTable
        // First along axis 0 (down each column), keeping the 8 lowest frequencies...
        var columns = [Double](repeating: 0, count: keep * n)  // [k][x]
        for k in 0..<keep {
            for x in 0..<n {
                var s = 0.0
                for y in 0..<n { s += Double(small[y * n + x]) * table[k * n + y] }
                columns[k * n + x] = 2 * s
            }
        }
        // ...then along axis 1 (across each row).
        var low = [Double](repeating: 0, count: keep * keep)
        for k in 0..<keep {
            for j in 0..<keep {
                var s = 0.0
                for x in 0..<n { s += columns[k * n + x] * table[j * n + x] }
                low[k * keep + j] = 2 * s
            }
        }
        let sorted = low.sorted()
        let median = (sorted[31] + sorted[32]) / 2
        return PerceptualHash(matrix: low.map { $0 > median })
    }

    /// The side to decode photos at for hashing: `ImageDecoder.decode(contentsOf: url,
    /// atLeast: (decodeSide, decodeSide))` reduces large photos while decoding (JPEG DCT
    /// scaling, PNG box filter), so a batch of photos is hashed in bounded memory. Photos below
    /// twice this on a side decode at full size, with imagehash's exact hashes; from larger
    /// ones the 32x32 thumbnail of the pHash stays within 2 levels (mean about 0.4) of the
    /// full-size one, the same order as a JPEG decoded by another libjpeg, which moves a hash
    /// by a few bits at most on smooth pictures (`HashDecodeSizeTests`).
    public static let decodeSide = 256

    /// `cos(pi k (2n+1) / 64)` for k < 8, n < 32.
    private static let dctTable: [Double] = (0..<8).flatMap { k in
        (0..<32).map { n in cos(Double.pi * Double(k) * Double(2 * n + 1) / 64) }
    }

    // MARK: - PIL's Lanczos resampling

    /// Which pass of a two-pass resize Pillow runs first.
    public enum PassOrder: Sendable {
        /// Pillow 13: vertical first when the height shrinks by more than twice as many pixels
        /// as the width (`inH - outH > 0 && inH - outH > 2 * (inW - outW)`: tall pictures),
        /// else horizontal first.
        case pillow13
        /// Pillow up to 12: always horizontal first.
        case horizontalFirst
    }

    /// PIL's `Image.resize((width, height), Image.LANCZOS)` of an "L" image, bit for bit
    /// (Pillow's `libImaging/Resample.c`, 8 bits per channel; see ``PILResample``). Rounding
    /// between the passes makes the order matter by a unit here and there, so it follows
    /// Pillow's rule.
    public static func lanczos(_ gray: GrayImage, width: Int, height: Int,
                               order: PassOrder = .pillow13) -> GrayImage {
        precondition(width > 0 && height > 0 && gray.width > 0 && gray.height > 0,
                     "resize \(gray.width)x\(gray.height) to \(width)x\(height)")
        let pixels = PILResample.lanczos.resample(gray.pixels, width: gray.width, height: gray.height, channels: 1,
                                                  toWidth: width, toHeight: height,
                                                  flavor: .pillow(order == .pillow13 ? .pillow13 : .horizontalFirst))
        return GrayImage(width: width, height: height, pixels: pixels)
    }
}

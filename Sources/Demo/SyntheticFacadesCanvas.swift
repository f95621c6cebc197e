import Foundation
import Tensor
import Vision

/// A colour, float RGB on the 0-255 scale.
typealias FacadeColor = (r: Float, g: Float, b: Float)

/// A float RGB raster with a class label per pixel: every drawing operation paints both, so the
/// mask is exactly what was drawn (last writer wins). Pixel (x, y) is covered by a shape when
/// its centre (x + 0.5, y + 0.5) is inside it; no anti-aliasing, so no pixel is half a class.
struct FacadeCanvas {
    let width: Int
    let height: Int
    /// `height * width * 3` floats, row-major RGB.
    var pixels: [Float]
    /// `height * width` class indices.
    var labels: [UInt8]

    init(width: Int, height: Int, label: UInt8) {
        self.width = width
        self.height = height
        pixels = [Float](repeating: 0, count: width * height * 3)
        labels = [UInt8](repeating: label, count: width * height)
    }

    /// Paints pixel (x, y) (ignored outside the canvas); `label` nil keeps the pixel's class.
    mutating func set(_ x: Int, _ y: Int, _ c: FacadeColor, label: UInt8?) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = y * width + x
        pixels[3 * i] = c.r
        pixels[3 * i + 1] = c.g
        pixels[3 * i + 2] = c.b
        if let label { labels[i] = label }
    }

    /// Pixels whose centres lie in [x0, x1) x [y0, y1), coloured by `color(x, y)`.
    mutating func rectangle(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, label: UInt8?,
                            color: (Int, Int) -> FacadeColor) {
        let xs = max(0, Int((x0 - 0.5).rounded(.up))), xe = min(width, Int((x1 - 0.5).rounded(.up)))
        let ys = max(0, Int((y0 - 0.5).rounded(.up))), ye = min(height, Int((y1 - 0.5).rounded(.up)))
        guard xs < xe, ys < ye else { return }
        for y in ys..<ye { for x in xs..<xe { set(x, y, color(x, y), label: label) } }
    }

    /// Even-odd fill of a polygon (pixel centres), coloured by `color(x, y)`.
    mutating func polygon(_ points: [(Float, Float)], label: UInt8?, color: (Int, Int) -> FacadeColor) {
        PolygonFill.forEachSpan(points, rows: height) { y, x0, x1 in
            rectangle(x0, Float(y), x1, Float(y) + 1, label: label, color: color)
        }
    }

    /// A straight stroke `width` pixels wide.
    mutating func line(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, width w: Float, label: UInt8?,
                       color: (Int, Int) -> FacadeColor) {
        let dx = x1 - x0, dy = y1 - y0
        let length = max(1e-3, (dx * dx + dy * dy).squareRoot())
        let nx = -dy / length * w / 2, ny = dx / length * w / 2
        polygon([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)], label: label, color: color)
    }

    /// Multiplies the colour of every pixel by `factor(x, y)` (light and shadow; labels unchanged).
    mutating func shade(_ factor: (Int, Int) -> Float) {
        for y in 0..<height {
            for x in 0..<width {
                let f = factor(x, y), i = 3 * (y * width + x)
                pixels[i] *= f
                pixels[i + 1] *= f
                pixels[i + 2] *= f
            }
        }
    }

    /// Uniform noise in `[-amplitude, amplitude]` per channel (sensor noise; labels unchanged).
    mutating func addNoise(amplitude: Float, rng: inout SeededGenerator) {
        for i in pixels.indices { pixels[i] += amplitude * (2 * rng.nextUnit() - 1) }
    }

    /// The picture, rounded and clamped to 8 bits.
    func image() -> RGBImage {
        RGBImage(width: width, height: height, pixels: pixels.map { UInt8(max(0, min(255, $0.rounded()))) })
    }
}

/// Smooth seeded noise in about [-1, 1]: random values on a grid of `cell`-pixel squares,
/// interpolated bilinearly (blotches, stains and lighting).
struct ValueNoise {
    let cell: Float
    let columns: Int
    let values: [Float]

    init(width: Int, height: Int, cell: Float, rng: inout SeededGenerator) {
        self.cell = max(cell, 1)
        columns = Int(Float(width) / self.cell) + 2
        let rows = Int(Float(height) / self.cell) + 2
        values = (0..<(columns * rows)).map { _ in 2 * rng.nextUnit() - 1 }
    }

    func callAsFunction(_ x: Int, _ y: Int) -> Float {
        let fx = Float(x) / cell, fy = Float(y) / cell
        let cx = Int(fx), cy = Int(fy), tx = fx - Float(cx), ty = fy - Float(cy)
        let rows = values.count / columns
        let x0 = min(cx, columns - 2), y0 = min(cy, rows - 2)
        func v(_ i: Int, _ j: Int) -> Float { values[(y0 + j) * columns + x0 + i] }
        let top = v(0, 0) + (v(1, 0) - v(0, 0)) * tx, bottom = v(0, 1) + (v(1, 1) - v(0, 1)) * tx
        return top + (bottom - top) * ty
    }
}

/// Per-pixel hash noise in [-1, 1] (rubble grain), the same for the same (x, y, salt).
func facadeGrain(_ x: Int, _ y: Int, _ salt: UInt64) -> Float {
    var z = UInt64(truncatingIfNeeded: x) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: y) &* 0xC2B2_AE3D_27D4_EB4F
    z ^= salt
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Float(z >> 40) * 0x1p-23 - 1
}

extension SeededGenerator {
    mutating func facadeUniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextUnit() }

    mutating func facadeChance(_ p: Float) -> Bool { nextUnit() < p }

    mutating func facadeInt(_ low: Int, _ high: Int) -> Int { low + Int(next() % UInt64(max(high - low + 1, 1))) }

    mutating func facadePick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }

    /// `c` shifted by a shared amount and a little per channel.
    mutating func facadeJitter(_ c: FacadeColor, by amount: Float) -> FacadeColor {
        let shared = facadeUniform(-amount, amount)
        return (c.r + shared + facadeUniform(-amount, amount) / 3, c.g + shared + facadeUniform(-amount, amount) / 3,
                c.b + shared + facadeUniform(-amount, amount) / 3)
    }
}

/// An irregular polygon of 5-9 vertices around (cx, cy), flattened by up to half vertically.
func facadeBlob(_ cx: Float, _ cy: Float, _ r: Float, _ rng: inout SeededGenerator) -> [(Float, Float)] {
    let n = rng.facadeInt(5, 9)
    let start = rng.facadeUniform(0, 6.283), squash = rng.facadeUniform(0.5, 1)
    return (0..<n).map { i in
        let angle = start + Float(i) / Float(n) * 6.283 + rng.facadeUniform(-0.25, 0.25)
        let radius = r * rng.facadeUniform(0.55, 1.25)
        return (cx + radius * cos(angle), cy + radius * sin(angle) * squash)
    }
}

func facadeScaled(_ c: FacadeColor, _ f: Float) -> FacadeColor { (c.r * f, c.g * f, c.b * f) }

func facadeMixed(_ a: FacadeColor, _ b: FacadeColor, _ t: Float) -> FacadeColor {
    (a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
}

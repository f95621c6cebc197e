import Foundation
import Tensor
import Vision

/// Seeded synthetic street scenes for the demo and the tests: an **intact facade** (a flat
/// wall with a regular grid of windows) or **rubble** (a collapsed building: irregular debris
/// blobs piled up, a jagged wall stump with a few displaced windows, dark cracks).
///
/// Both kinds share the sky, the ground, the wall palette and the noise, so the model has to
/// look at structure (regular grid vs. irregular pieces and broken edges), not at colour.
/// The same `(kind, size, seed)` always draws the same picture.
public enum SyntheticScenes {
    public enum Kind: String, Sendable, CaseIterable {
        case intact, rubble
    }

    /// One scene, `size` x `size` pixels.
    public static func render(_ kind: Kind, size: Int, seed: UInt64) -> RGBImage {
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ (kind == .intact ? 1 : 2))
        var canvas = SceneCanvas(size: size)
        let s = Float(size)
        let horizon = s * rng.sceneUniform(0.12, 0.28)
        let groundTop = s * rng.sceneUniform(0.82, 0.92)
        canvas.sky(until: horizon, rng: &rng)
        canvas.fill(x0: 0, y0: horizon, x1: s, y1: s, color: rng.sceneJitter((120, 118, 110), by: 20))  // background haze
        let wall = rng.scenePick(wallColors)
        let wallColor = rng.sceneJitter(wall, by: 18)
        switch kind {
        case .intact:
            let left = s * rng.sceneUniform(0, 0.12), right = s * rng.sceneUniform(0.88, 1)
            canvas.facade(left: left, right: right, top: horizon, bottom: groundTop, color: wallColor,
                          missingWindows: rng.nextUnit() < 0.3 ? rng.sceneUniform(0.05, 0.3) : 0, rng: &rng)
            if rng.nextUnit() < 0.25 {  // a shadow across part of the wall
                let x0 = rng.sceneUniform(0, s), x1 = rng.sceneUniform(0, s)
                canvas.shade([(x0, horizon), (x0 + s * 0.6, horizon), (x1 + s * 0.6, groundTop), (x1, groundTop)],
                             factor: rng.sceneUniform(0.6, 0.8))
            }
        case .rubble:
            if rng.nextUnit() < 0.35 {
                // Partly collapsed: one side still stands, the other is a debris pile.
                let width = s * rng.sceneUniform(0.35, 0.6)
                let onLeft = rng.nextUnit() < 0.5
                let left = onLeft ? s * rng.sceneUniform(0, 0.1) : s - width
                canvas.facade(left: left, right: left + width, top: horizon + s * rng.sceneUniform(0, 0.15),
                              bottom: groundTop, color: wallColor, missingWindows: rng.sceneUniform(0, 0.4), rng: &rng)
                canvas.debris(count: Int(rng.sceneUniform(20, 45)), xRange: onLeft ? (left + width * 0.8, s * 1.05)
                                                                                     : (-0.05 * s, left + width * 0.2),
                              top: horizon, bottom: groundTop, wall: wallColor, rng: &rng)
            } else {
                // A jagged wall stump.
                let left = s * rng.sceneUniform(0, 0.3), right = left + s * rng.sceneUniform(0.3, 0.6)
                var outline: [(Float, Float)] = [(left, groundTop)]
                let teeth = Int(rng.sceneUniform(4, 9))
                for i in 0...teeth {
                    let x = left + (right - left) * Float(i) / Float(teeth)
                    outline.append((x, horizon + (groundTop - horizon) * rng.sceneUniform(0.15, 0.75)))
                }
                outline.append((right, groundTop))
                canvas.polygon(outline, color: wallColor)
                let glass = rng.sceneJitter((48, 60, 78), by: 12)
                for _ in 0..<Int(rng.sceneUniform(0, 3.99)) {  // displaced, tilted windows
                    let cx = rng.sceneUniform(left, right), cy = rng.sceneUniform(horizon + s * 0.2, groundTop)
                    let w = s * rng.sceneUniform(0.05, 0.1), h = s * rng.sceneUniform(0.06, 0.12)
                    canvas.polygon(rotatedRectangle(cx, cy, w, h, rng.sceneUniform(-0.6, 0.6)), color: glass)
                }
                canvas.debris(count: Int(rng.sceneUniform(30, 80)), xRange: (-0.05 * s, 1.05 * s), top: horizon,
                              bottom: groundTop, wall: wallColor, rng: &rng)
            }
            for _ in 0..<Int(rng.sceneUniform(1, 5)) {  // cracks and bent beams
                var x = rng.sceneUniform(0, s), y = rng.sceneUniform(horizon, groundTop)
                let color = rng.sceneJitter((35, 32, 30), by: 10)
                for _ in 0..<Int(rng.sceneUniform(3, 7)) {
                    let nx = x + rng.sceneUniform(-0.15, 0.15) * s, ny = y + rng.sceneUniform(-0.1, 0.15) * s
                    canvas.line(x, y, nx, ny, width: rng.sceneUniform(0.6, 1.6), color: color)
                    x = nx
                    y = ny
                }
            }
        }
        // Things in front of either kind: parked cars and bushes along the street, a tree.
        if rng.nextUnit() < 0.45 {
            for _ in 0..<Int(rng.sceneUniform(2, 7)) {
                let cx = rng.sceneUniform(0, s), cy = groundTop - s * rng.sceneUniform(0, 0.05)
                let color = rng.nextUnit() < 0.5 ? rng.sceneJitter((60, 110, 50), by: 20)
                                                 : rng.sceneJitter(rng.scenePick(carColors), by: 20)
                canvas.polygon(blob(cx, cy, s * rng.sceneUniform(0.03, 0.07), &rng), color: color)
            }
        }
        if rng.nextUnit() < 0.3 {
            let cx = rng.sceneUniform(0.1, 0.9) * s, cy = rng.sceneUniform(0.45, 0.7) * s
            canvas.fill(x0: cx - s * 0.012, y0: cy, x1: cx + s * 0.012, y1: groundTop, color: (70, 50, 35))
            for _ in 0..<Int(rng.sceneUniform(5, 12)) {
                let r = s * rng.sceneUniform(0.04, 0.08)
                canvas.polygon(blob(cx + rng.sceneUniform(-1, 1) * s * 0.08, cy + rng.sceneUniform(-1, 0.5) * s * 0.08, r, &rng),
                               color: rng.sceneJitter((55, 105, 45), by: 18))
            }
        }
        canvas.fill(x0: 0, y0: groundTop, x1: s, y1: s, color: rng.sceneJitter((95, 92, 88), by: 15))
        canvas.addNoise(amplitude: 10, rng: &rng)
        return canvas.image()
    }

    /// A labelled folder `directory/{intact,rubble}/<kind>_NNNN.png` of `count` scenes,
    /// `rubbleFraction` of them rubble (the paper's set is about 44 %). Returns the counts.
    @discardableResult
    public static func writeDataset(to directory: URL, count: Int, rubbleFraction: Double = 0.44, size: Int = 64,
                                    seed: UInt64 = 0) throws -> (intact: Int, rubble: Int) {
        let rubble = Int((Double(count) * rubbleFraction).rounded())
        let intact = count - rubble
        for (kind, n) in [(Kind.intact, intact), (Kind.rubble, rubble)] {
            let folder = directory.appendingPathComponent(kind.rawValue)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let jobs = UncheckedSendable(folder)
            let failure = ParallelFirstError()
            Parallel.forEachRange(n) { range in
                for i in range {
                    let image = render(kind, size: size, seed: seed &+ UInt64(i) &* 7919)
                    do {
                        try ImageEncoder.writePNG(image, to: jobs.value.appendingPathComponent(
                            "\(kind.rawValue)_\(String(format: "%04d", i)).png"))
                    } catch {
                        failure.record(error)
                    }
                }
            }
            if let error = failure.error { throw error }
        }
        return (intact, rubble)
    }

    static let carColors: [(Float, Float, Float)] = [(180, 30, 30), (30, 60, 150), (220, 220, 220), (30, 30, 30)]

    static let wallColors: [(Float, Float, Float)] = [
        (200, 182, 150), (165, 163, 160), (160, 95, 75), (220, 214, 200), (185, 150, 120),
    ]

    static func darker(_ c: (Float, Float, Float), _ f: Float) -> (Float, Float, Float) { (c.0 * f, c.1 * f, c.2 * f) }

    static func rotatedRectangle(_ cx: Float, _ cy: Float, _ w: Float, _ h: Float, _ a: Float) -> [(Float, Float)] {
        let c = cos(a), s = sin(a)
        return [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)].map { (x, y) in
            (cx + x * c - y * s, cy + x * s + y * c)
        }
    }

    /// An irregular polygon of 4-8 vertices around (cx, cy).
    static func blob(_ cx: Float, _ cy: Float, _ r: Float, _ rng: inout SeededGenerator) -> [(Float, Float)] {
        let n = Int(rng.sceneUniform(4, 8.99))
        let start = rng.sceneUniform(0, 6.283)
        return (0..<n).map { i in
            let angle = start + Float(i) / Float(n) * 6.283 + rng.sceneUniform(-0.3, 0.3)
            let radius = r * rng.sceneUniform(0.5, 1.3)
            return (cx + radius * cos(angle), cy + radius * sin(angle) * rng.sceneUniform(0.5, 1))
        }
    }
}


fileprivate extension SeededGenerator {
    mutating func sceneUniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextUnit() }

    mutating func scenePick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }

    mutating func sceneJitter(_ c: (Float, Float, Float), by amount: Float) -> (Float, Float, Float) {
        let shared = sceneUniform(-amount, amount)
        return (c.0 + shared + sceneUniform(-amount, amount) / 3, c.1 + shared + sceneUniform(-amount, amount) / 3,
                c.2 + shared + sceneUniform(-amount, amount) / 3)
    }
}

/// A float RGB raster with a few anti-aliasing-free drawing operations.
private struct SceneCanvas {
    let size: Int
    var pixels: [Float]

    init(size: Int) {
        self.size = size
        pixels = [Float](repeating: 0, count: size * size * 3)
    }

    mutating func set(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
        guard x >= 0, y >= 0, x < size, y < size else { return }
        let i = (y * size + x) * 3
        pixels[i] = c.0
        pixels[i + 1] = c.1
        pixels[i + 2] = c.2
    }

    /// Pixels whose centres lie in [x0, x1) x [y0, y1).
    mutating func fill(x0: Float, y0: Float, x1: Float, y1: Float, color: (Float, Float, Float)) {
        let xs = max(0, Int((x0 - 0.5).rounded(.up))), xe = min(size, Int((x1 - 0.5).rounded(.up)))
        let ys = max(0, Int((y0 - 0.5).rounded(.up))), ye = min(size, Int((y1 - 0.5).rounded(.up)))
        guard xs < xe, ys < ye else { return }
        for y in ys..<ye { for x in xs..<xe { set(x, y, color) } }
    }

    /// A vertical gradient from a deep to a pale blue above `horizon`.
    mutating func sky(until horizon: Float, rng: inout SeededGenerator) {
        let top = rng.sceneJitter((110, 150, 205), by: 15), bottom = rng.sceneJitter((185, 205, 225), by: 10)
        let rows = min(size, Int(horizon.rounded(.up)))
        for y in 0..<rows {
            let t = Float(y) / max(1, horizon)
            let c = (top.0 + (bottom.0 - top.0) * t, top.1 + (bottom.1 - top.1) * t, top.2 + (bottom.2 - top.2) * t)
            for x in 0..<size { set(x, y, c) }
        }
    }

    /// Even-odd fill of a polygon (pixel centres).
    mutating func polygon(_ points: [(Float, Float)], color: (Float, Float, Float)) {
        PolygonFill.forEachSpan(points, rows: size) { y, x0, x1 in
            fill(x0: x0, y0: Float(y), x1: x1, y1: Float(y) + 1, color: color)
        }
    }

    mutating func line(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, width: Float, color: (Float, Float, Float)) {
        let dx = x1 - x0, dy = y1 - y0
        let length = max(1e-3, (dx * dx + dy * dy).squareRoot())
        let nx = -dy / length * width / 2, ny = dx / length * width / 2
        polygon([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)], color: color)
    }

    /// A wall with a regular grid of framed windows (a fraction `missingWindows` boarded up).
    mutating func facade(left: Float, right: Float, top: Float, bottom: Float, color: (Float, Float, Float),
                         missingWindows: Float, rng: inout SeededGenerator) {
        fill(x0: left, y0: top, x1: right, y1: bottom, color: color)
        let rows = Int(rng.sceneUniform(3, 6.99)), columns = Int(rng.sceneUniform(2, 6.99))
        let cellW = (right - left) / Float(columns), cellH = (bottom - top) / Float(rows)
        let fw = rng.sceneUniform(0.38, 0.6), fh = rng.sceneUniform(0.4, 0.62)
        let glass = rng.sceneJitter((48, 60, 78), by: 12)
        let frame = rng.sceneJitter((225, 222, 215), by: 15)
        let boarded = SyntheticScenes.darker(color, 0.7)
        for r in 0..<rows {
            for c in 0..<columns {
                let cx = left + (Float(c) + 0.5) * cellW, cy = top + (Float(r) + 0.5) * cellH
                let w = fw * cellW, h = fh * cellH
                if rng.nextUnit() < missingWindows {
                    fill(x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, color: boarded)
                    continue
                }
                fill(x0: cx - w / 2 - 1, y0: cy - h / 2 - 1, x1: cx + w / 2 + 1, y1: cy + h / 2 + 1, color: frame)
                fill(x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, color: rng.sceneJitter(glass, by: 6))
            }
        }
        for r in 1..<rows {  // floor lines
            let y = top + Float(r) * cellH
            fill(x0: left, y0: y - 0.5, x1: right, y1: y + 0.5, color: SyntheticScenes.darker(color, 0.85))
        }
    }

    /// A pile of irregular blobs between `xRange`, denser and bigger near the ground.
    mutating func debris(count: Int, xRange: (Float, Float), top: Float, bottom: Float, wall: (Float, Float, Float),
                         rng: inout SeededGenerator) {
        let s = Float(size)
        for _ in 0..<count {
            let depth = rng.sceneUniform(0, 1)
            let cy = bottom - depth * depth * (bottom - top) * 0.9
            let cx = rng.sceneUniform(xRange.0, xRange.1)
            let radius = s * rng.sceneUniform(0.02, 0.09) * (1.2 - depth * 0.6)
            let color = rng.scenePick([wall, SyntheticScenes.darker(wall, rng.sceneUniform(0.5, 0.9)),
                                       rng.sceneJitter((105, 100, 95), by: 25), rng.sceneJitter((150, 120, 90), by: 25)])
            polygon(SyntheticScenes.blob(cx, cy, radius, &rng), color: color)
        }
    }

    /// Multiplies the pixels inside a polygon by `factor`.
    mutating func shade(_ points: [(Float, Float)], factor: Float) {
        var mask = SceneCanvas(size: size)
        mask.polygon(points, color: (1, 1, 1))
        for i in stride(from: 0, to: pixels.count, by: 3) where mask.pixels[i] > 0 {
            pixels[i] *= factor
            pixels[i + 1] *= factor
            pixels[i + 2] *= factor
        }
    }

    mutating func addNoise(amplitude: Float, rng: inout SeededGenerator) {
        for i in pixels.indices { pixels[i] += rng.sceneUniform(-amplitude, amplitude) }
    }

    func image() -> RGBImage {
        RGBImage(width: size, height: size, pixels: pixels.map { UInt8(max(0, min(255, $0.rounded()))) })
    }
}

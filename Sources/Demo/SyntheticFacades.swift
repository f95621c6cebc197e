import Foundation
import Tensor
import Train
import Vision

/// Seeded synthetic street scenes with exact per-pixel masks, for training and testing damage
/// segmentation without a dataset: a building facade (class 0, `undamaged_structure`: wall,
/// window grid, frames, floor lines), damage drawn into it (class 1, `damaged_structure`:
/// holes with broken rims, cracks with spalling, broken windows, a tilted displaced panel, a
/// missing chunk with a jagged edge), and debris piled at its base (class 2, `debris`: noisy
/// grey-brown blobs). Sky, ground, hazy background buildings, trees and cars are background,
/// labelled 255 (the ignore index).
///
/// Every shape paints the picture and the mask together (``FacadeCanvas``), so the mask is
/// exactly the drawing. What tells the classes apart is texture and context, not colour alone:
/// undamaged wall is smooth with a regular grid; damaged parts are darker, blotchy and
/// irregular; debris has a strong grain — but the ground is grainy too, debris reuses the wall's
/// colour, and lighting gradients, shadows and sensor noise cover all classes.
///
/// Scenes are ``Kind/intact`` (about 25 %: no class 1 or 2 at all), ``Kind/damaged`` (40 %)
/// or ``Kind/collapsed`` (35 %: a lower, broken facade behind a large pile). The same
/// `(width, height, seed, index)` always gives the same scene.
public struct SyntheticFacades: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case intact, damaged, collapsed
    }

    /// Class names in index order.
    public static let classNames = ["undamaged_structure", "damaged_structure", "debris"]
    public static let undamaged: UInt8 = 0
    public static let damaged: UInt8 = 1
    public static let debris: UInt8 = 2
    /// The label of background pixels (sky, ground, trees, cars): the ignore index.
    public static let background: UInt8 = 255
    /// Scene sides accepted by ``init(width:height:seed:)``.
    public static let sides = 32...4096

    public let width: Int
    public let height: Int
    public let seed: UInt64

    /// Scenes of `width` x `height` pixels (each in ``sides``).
    public init(width: Int = 128, height: Int = 128, seed: UInt64 = 0) throws {
        guard Self.sides.contains(width), Self.sides.contains(height) else {
            throw DatasetError.invalidArgument("synthetic facade size \(width)x\(height): each side must be in "
                                               + "\(Self.sides.lowerBound)...\(Self.sides.upperBound)")
        }
        self.width = width
        self.height = height
        self.seed = seed
    }

    /// The generator of scene `index`, one stream per purpose (`salt`).
    func generator(_ index: Int, salt: UInt64) -> SeededGenerator {
        SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
                            &+ salt &* 0x8CB9_2BA7_2F3D_8DD7 &+ 0x5FAC_ADE5)
    }

    /// What scene `index` shows.
    public func kind(index: Int) -> Kind {
        var rng = generator(index, salt: 0)
        let u = rng.nextUnit()
        return u < 0.25 ? .intact : u < 0.65 ? .damaged : .collapsed
    }

    /// The file stem of scene `index`: `facade_00042`.
    public func name(index: Int) -> String { String(format: "facade_%05d", index) }

    /// Scene `index`: the picture and its mask (`[height, width]` row-major, classes 0-2 and 255).
    public func scene(index: Int) -> (image: RGBImage, mask: [UInt8]) {
        let kind = kind(index: index)
        var rng = generator(index, salt: 1)
        var canvas = FacadeCanvas(width: width, height: height, label: Self.background)
        let w = Float(width), h = Float(height), s = min(w, h)
        let backdrop = Backdrop(width: width, height: height, rng: &rng)
        canvas.rectangle(0, 0, w, h, label: Self.background) { x, y in backdrop.color(x, y) }

        let wall = rng.facadeJitter(rng.facadePick(Self.wallColors), by: 14)
        var layout = FacadeLayout(left: w * rng.facadeUniform(0.02, 0.2), right: w * rng.facadeUniform(0.8, 0.98),
                                  top: max(h * 0.04, backdrop.horizon + h * rng.facadeUniform(-0.08, 0.08)),
                                  bottom: backdrop.groundTop, wall: wall)
        if kind == .collapsed {
            layout.top = layout.bottom - (layout.bottom - layout.top) * rng.facadeUniform(0.45, 0.8)
        }
        let damage = DamagePainter(scene: self, wall: wall, rng: &rng)
        drawFacade(&canvas, layout, broken: kind == .intact ? 0 : rng.facadeUniform(0.05, 0.25), damage: damage,
                   rng: &rng)

        switch kind {
        case .intact:
            break
        // Damage inside the wall first; a missing chunk then cuts through all of it; debris last.
        case .damaged:
            for _ in 0..<rng.facadeInt(1, 3) { damage.hole(&canvas, layout, radius: s * rng.facadeUniform(0.04, 0.09), rng: &rng) }
            for _ in 0..<rng.facadeInt(1, 4) { damage.crack(&canvas, layout, rng: &rng) }
            if rng.facadeChance(0.4) { damage.tiltedPanel(&canvas, layout, rng: &rng) }
            if rng.facadeChance(0.45) { damage.missingChunk(&canvas, layout, backdrop: backdrop, depth: 0.3, rng: &rng) }
            if rng.facadeChance(0.7) { damage.debrisPile(&canvas, layout, height: h * rng.facadeUniform(0.05, 0.14), rng: &rng) }
        case .collapsed:
            for _ in 0..<rng.facadeInt(1, 4) { damage.hole(&canvas, layout, radius: s * rng.facadeUniform(0.04, 0.1), rng: &rng) }
            for _ in 0..<rng.facadeInt(2, 5) { damage.crack(&canvas, layout, rng: &rng) }
            if rng.facadeChance(0.6) { damage.tiltedPanel(&canvas, layout, rng: &rng) }
            damage.missingChunk(&canvas, layout, backdrop: backdrop, depth: 0.55, rng: &rng)
            damage.debrisPile(&canvas, layout, height: h * rng.facadeUniform(0.2, 0.42), rng: &rng)
        }
        drawOccluders(&canvas, groundTop: backdrop.groundTop, rng: &rng)
        light(&canvas, rng: &rng)
        canvas.addNoise(amplitude: 6, rng: &rng)
        return (canvas.image(), canvas.labels)
    }

    /// Writes scenes `0..<count` as `folder/images/NAME.png` (RGB) and `folder/masks/NAME.png`
    /// (8-bit grayscale, the class index a pixel, 255 = background), NAME = ``name(index:)``,
    /// every file atomically. Returns the names in index order.
    @discardableResult
    public func write(to folder: URL, count: Int) throws -> [String] {
        guard count >= 0 else { throw DatasetError.invalidArgument("synthetic facade count \(count) is negative") }
        let images = folder.appendingPathComponent("images"), masks = folder.appendingPathComponent("masks")
        for directory in [images, masks] {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw DatasetError.unreadableFile(path: directory.path, reason: "cannot create the folder: \(error)")
            }
        }
        let failure = ParallelFirstError()
        Parallel.forEachRange(count) { range in
            for index in range {
                let (image, mask) = scene(index: index)
                let stem = name(index: index)
                do {
                    try ImageEncoder.writePNG(image, to: images.appendingPathComponent(stem + ".png"))
                    try ClassMask(width: width, height: height, indices: mask).write(to: masks.appendingPathComponent(stem + ".png"))
                } catch {
                    failure.record(error)
                }
            }
        }
        if let error = failure.error { throw error }
        return (0..<count).map(name(index:))
    }

    static let wallColors: [FacadeColor] = [
        (200, 182, 150), (168, 165, 160), (165, 98, 78), (222, 214, 198), (186, 150, 118), (140, 146, 150),
    ]

    /// The wall with its grid of framed windows (class 0), floor lines and a cornice; a
    /// fraction `broken` of the windows are smashed (class 1).
    private func drawFacade(_ canvas: inout FacadeCanvas, _ f: FacadeLayout, broken: Float, damage: DamagePainter,
                            rng: inout SeededGenerator) {
        let stain = ValueNoise(width: width, height: height, cell: Float(min(width, height)) / 6, rng: &rng)
        let wall = f.wall
        canvas.rectangle(f.left, f.top, f.right, f.bottom, label: Self.undamaged) { x, y in
            let v = 5 * stain(x, y)
            return (wall.r + v, wall.g + v, wall.b + v)
        }
        let cornice = facadeScaled(wall, 0.82)
        canvas.rectangle(f.left - 1, f.top, f.right + 1, f.top + max(2, (f.bottom - f.top) * 0.03),
                         label: Self.undamaged) { _, _ in cornice }
        let rows = rng.facadeInt(3, 6), columns = rng.facadeInt(3, 7)
        let cellW = (f.right - f.left) / Float(columns), cellH = (f.bottom - f.top) / Float(rows)
        let fw = rng.facadeUniform(0.35, 0.6), fh = rng.facadeUniform(0.4, 0.62)
        let glass = rng.facadeJitter((52, 64, 82), by: 12), frame = rng.facadeJitter((226, 222, 214), by: 14)
        for r in 0..<rows {
            for c in 0..<columns {
                let cx = f.left + (Float(c) + 0.5) * cellW, cy = f.top + (Float(r) + 0.55) * cellH
                let ww = fw * cellW, wh = fh * cellH
                let (x0, y0, x1, y1) = (cx - ww / 2, cy - wh / 2, cx + ww / 2, cy + wh / 2)
                if rng.facadeChance(broken) {
                    damage.brokenWindow(&canvas, x0, y0, x1, y1, rng: &rng)
                    continue
                }
                canvas.rectangle(x0 - 1, y0 - 1, x1 + 1, y1 + 1, label: Self.undamaged) { _, _ in frame }
                let pane = rng.facadeJitter(glass, by: 6)
                canvas.rectangle(x0, y0, x1, y1, label: Self.undamaged) { _, y in
                    facadeScaled(pane, 1 + 0.25 * (Float(y) - y0) / max(wh, 1))  // a sky reflection, lighter below
                }
            }
        }
        let line = facadeScaled(wall, 0.86)
        for r in 1..<rows {
            let y = f.top + Float(r) * cellH
            canvas.rectangle(f.left, y - 0.5, f.right, y + 0.5, label: Self.undamaged) { _, _ in line }
        }
    }

    /// Trees and cars in front (background, 255), sometimes.
    private func drawOccluders(_ canvas: inout FacadeCanvas, groundTop: Float, rng: inout SeededGenerator) {
        let w = Float(width), s = Float(min(width, height))
        if rng.facadeChance(0.3) {
            for _ in 0..<rng.facadeInt(1, 3) {
                let cx = rng.facadeUniform(0, w), cy = groundTop + s * rng.facadeUniform(0, 0.04), r = s * rng.facadeUniform(0.04, 0.08)
                let paint = rng.facadeJitter(rng.facadePick([(170, 35, 35), (35, 60, 140), (215, 215, 215), (30, 30, 32)]), by: 15)
                canvas.polygon(facadeBlob(cx, cy - r * 0.4, r, &rng), label: Self.background) { _, _ in paint }
            }
        }
        if rng.facadeChance(0.25) {
            let cx = rng.facadeUniform(0.05, 0.95) * w, cy = groundTop - s * rng.facadeUniform(0.2, 0.35)
            canvas.rectangle(cx - s * 0.012, cy, cx + s * 0.012, groundTop + 2, label: Self.background) { _, _ in (70, 50, 35) }
            for _ in 0..<rng.facadeInt(5, 10) {
                let leaf = rng.facadeJitter((58, 104, 46), by: 16)
                canvas.polygon(facadeBlob(cx + s * rng.facadeUniform(-0.08, 0.08), cy + s * rng.facadeUniform(-0.08, 0.04),
                                          s * rng.facadeUniform(0.04, 0.07), &rng), label: Self.background) { x, y in
                    facadeScaled(leaf, 1 + 0.15 * facadeGrain(x, y, 7))
                }
            }
        }
    }

    /// A left-right lighting gradient, large soft variations and sometimes a cast shadow.
    private func light(_ canvas: inout FacadeCanvas, rng: inout SeededGenerator) {
        let gradient = rng.facadeUniform(-0.25, 0.25), w = Float(width), h = Float(height)
        let soft = ValueNoise(width: width, height: height, cell: Float(min(width, height)) / 2, rng: &rng)
        let shadowed = rng.facadeChance(0.3)
        let x0 = rng.facadeUniform(-0.2, 1) * w, x1 = x0 + rng.facadeUniform(-0.4, 0.4) * w
        let depth = rng.facadeUniform(0.62, 0.8), span = rng.facadeUniform(0.25, 0.6) * w
        canvas.shade { x, y in
            var f = 1 + gradient * (Float(x) / w - 0.5) + 0.06 * soft(x, y)
            if shadowed {
                let edge = x0 + (x1 - x0) * Float(y) / h
                if Float(x) >= edge && Float(x) < edge + span { f *= depth }
            }
            return f
        }
    }
}

/// Where the facade stands and its wall colour.
struct FacadeLayout {
    var left: Float
    var right: Float
    var top: Float
    var bottom: Float
    var wall: FacadeColor
}

/// Sky (a vertical gradient), hazy background buildings and the ground, all background.
struct Backdrop {
    let horizon: Float
    let groundTop: Float
    let skyTop: FacadeColor
    let skyBottom: FacadeColor
    let haze: FacadeColor
    let ground: FacadeColor
    /// Roof heights of the background buildings, one per `blockWidth` columns.
    let skyline: [Float]
    let blockWidth: Int

    init(width: Int, height: Int, rng: inout SeededGenerator) {
        let h = Float(height)
        horizon = h * rng.facadeUniform(0.12, 0.3)
        groundTop = h * rng.facadeUniform(0.8, 0.92)
        skyTop = rng.facadeJitter((108, 148, 204), by: 14)
        skyBottom = rng.facadeJitter((186, 204, 224), by: 10)
        haze = rng.facadeJitter((150, 156, 166), by: 14)
        ground = rng.facadeJitter((98, 94, 90), by: 14)
        blockWidth = max(4, width / rng.facadeInt(3, 7))
        let horizon = self.horizon
        skyline = (0...(width / blockWidth + 1)).map { _ in horizon - h * rng.facadeUniform(-0.02, 0.1) }
    }

    func sky(_ y: Int) -> FacadeColor {
        facadeMixed(skyTop, skyBottom, min(1, Float(y) / max(horizon, 1)))
    }

    func color(_ x: Int, _ y: Int) -> FacadeColor {
        let fy = Float(y) + 0.5
        if fy >= groundTop { return facadeScaled(ground, 1 + 0.12 * facadeGrain(x, y, 3)) }
        if fy >= skyline[min(x / blockWidth, skyline.count - 1)] { return facadeMixed(haze, sky(y), 0.35) }
        return sky(y)
    }
}


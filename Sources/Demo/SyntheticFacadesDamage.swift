import Foundation
import Tensor

/// Draws the damage of a ``SyntheticFacades`` scene: class 1 (`damaged_structure`) in darker,
/// blotchy, irregular textures, and class 2 (`debris`) as grainy grey-brown piles.
struct DamagePainter {
    let width: Int
    let height: Int
    let wall: FacadeColor
    /// Blotches of the damaged textures (about a twelfth of the scene a cell).
    let blotch: ValueNoise
    let salt: UInt64

    init(scene: SyntheticFacades, wall: FacadeColor, rng: inout SeededGenerator) {
        width = scene.width
        height = scene.height
        self.wall = wall
        blotch = ValueNoise(width: width, height: height, cell: max(3, Float(min(width, height)) / 12), rng: &rng)
        salt = rng.next()
    }

    var side: Float { Float(min(width, height)) }

    // MARK: Textures

    /// Cracked, stained, weathered wall.
    func damagedWall(_ x: Int, _ y: Int) -> FacadeColor {
        let base = facadeMixed(facadeScaled(wall, 0.68), (120, 84, 60), 0.25)
        let v = 22 * blotch(x, y) + 9 * facadeGrain(x, y, salt)
        return (base.r + v, base.g + v, base.b + v)
    }

    /// The dark inside of a hole or gap.
    func cavity(_ x: Int, _ y: Int) -> FacadeColor {
        let v = 14 * blotch(x, y) + 10 * facadeGrain(x, y, salt &+ 1)
        return (40 + v, 36 + v, 34 + v)
    }

    /// Broken brick or concrete around a hole.
    func rim(_ x: Int, _ y: Int) -> FacadeColor {
        let v = 16 * facadeGrain(x, y, salt &+ 2) + 8 * blotch(x, y)
        return (148 + v, 92 + v, 70 + v)
    }

    /// Rubble: `base` with a strong grain.
    func rubble(_ base: FacadeColor, _ x: Int, _ y: Int) -> FacadeColor {
        let v = 28 * facadeGrain(x, y, salt &+ 3) + 10 * blotch(x, y)
        return (base.r + v, base.g + v * 0.95, base.b + v * 0.9)
    }

    // MARK: Class 1

    /// A hole: a broken rim around a dark cavity, inside the facade.
    func hole(_ canvas: inout FacadeCanvas, _ f: FacadeLayout, radius r: Float, rng: inout SeededGenerator) {
        let margin = r * 1.6
        guard f.right - f.left > 2 * margin, f.bottom - f.top > 2 * margin else { return }
        let cx = rng.facadeUniform(f.left + margin, f.right - margin), cy = rng.facadeUniform(f.top + margin, f.bottom - margin)
        canvas.polygon(facadeBlob(cx, cy, r * 1.3, &rng), label: SyntheticFacades.damaged) { x, y in rim(x, y) }
        canvas.polygon(facadeBlob(cx, cy, r, &rng), label: SyntheticFacades.damaged) { x, y in cavity(x, y) }
    }

    /// A crack: a dark zig-zag line 1-2 px wide with spalled patches along it, inside the facade.
    func crack(_ canvas: inout FacadeCanvas, _ f: FacadeLayout, rng: inout SeededGenerator) {
        let s = side
        func inside(_ x: Float, _ y: Float) -> (Float, Float) {
            (min(max(x, f.left + 2), f.right - 2), min(max(y, f.top + 2), f.bottom - 2))
        }
        guard f.right - f.left > 6, f.bottom - f.top > 6 else { return }
        var (x, y) = inside(rng.facadeUniform(f.left, f.right), rng.facadeUniform(f.top, f.bottom))
        let width = rng.facadeUniform(1, 2.2)
        for _ in 0..<rng.facadeInt(3, 7) {
            let (nx, ny) = inside(x + s * rng.facadeUniform(-0.1, 0.1), y + s * rng.facadeUniform(-0.04, 0.12))
            if rng.facadeChance(0.5) {  // spalling: a rough patch where the crack bends
                canvas.polygon(facadeBlob(x, y, s * rng.facadeUniform(0.012, 0.03), &rng),
                               label: SyntheticFacades.damaged) { px, py in damagedWall(px, py) }
            }
            canvas.line(x, y, nx, ny, width: width, label: SyntheticFacades.damaged) { px, py in
                let v = 6 * facadeGrain(px, py, salt &+ 4)
                return (36 + v, 33 + v, 31 + v)
            }
            (x, y) = (nx, ny)
        }
    }

    /// A smashed window: a damaged frame, a dark opening and a few glass shards.
    func brokenWindow(_ canvas: inout FacadeCanvas, _ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float,
                      rng: inout SeededGenerator) {
        canvas.rectangle(x0 - 1, y0 - 1, x1 + 1, y1 + 1, label: SyntheticFacades.damaged) { x, y in damagedWall(x, y) }
        canvas.rectangle(x0, y0, x1, y1, label: SyntheticFacades.damaged) { x, y in
            let v = 6 * facadeGrain(x, y, salt &+ 5)
            return (22 + v, 22 + v, 26 + v)
        }
        let glass = rng.facadeJitter((90, 104, 122), by: 12)
        for _ in 0..<rng.facadeInt(1, 3) {
            let ax = rng.facadeUniform(x0, x1), bx = rng.facadeUniform(x0, x1)
            let tip = (rng.facadeUniform(x0, x1), rng.facadeUniform(y0, y1))
            let edge = rng.facadeChance(0.5) ? y0 : y1
            canvas.polygon([(ax, edge), (bx, edge), tip], label: SyntheticFacades.damaged) { _, _ in glass }
        }
    }

    /// A panel of the wall knocked askew: the dark gap it left, then the tilted panel (with a
    /// tilted window) drawn slightly displaced over it.
    func tiltedPanel(_ canvas: inout FacadeCanvas, _ f: FacadeLayout, rng: inout SeededGenerator) {
        let pw = (f.right - f.left) * rng.facadeUniform(0.15, 0.3), ph = (f.bottom - f.top) * rng.facadeUniform(0.12, 0.28)
        guard f.right - f.left > pw * 1.5, f.bottom - f.top > ph * 1.5 else { return }
        let cx = rng.facadeUniform(f.left + pw, f.right - pw), cy = rng.facadeUniform(f.top + ph, f.bottom - ph)
        canvas.rectangle(cx - pw / 2, cy - ph / 2, cx + pw / 2, cy + ph / 2, label: SyntheticFacades.damaged) { x, y in
            cavity(x, y)
        }
        let angle = rng.facadeUniform(0.12, 0.4) * (rng.facadeChance(0.5) ? 1 : -1)
        let dx = pw * rng.facadeUniform(-0.2, 0.2), dy = ph * rng.facadeUniform(0.05, 0.3)
        let panel = facadeMixed(wall, damagedWall(Int(cx), Int(cy)), 0.5)
        canvas.polygon(rotatedRectangle(cx + dx, cy + dy, pw, ph, angle), label: SyntheticFacades.damaged) { x, y in
            let v = 14 * blotch(x, y) + 7 * facadeGrain(x, y, salt &+ 6)
            return (panel.r + v, panel.g + v, panel.b + v)
        }
        let glass = rng.facadeJitter((44, 52, 66), by: 8)
        canvas.polygon(rotatedRectangle(cx + dx, cy + dy, pw * 0.45, ph * 0.5, angle), label: SyntheticFacades.damaged) { _, _ in
            glass
        }
    }

    /// A piece of the building gone: the region above a jagged line shows the backdrop again
    /// (255), and the broken edge along the line is class 1. `depth` is how far down (as a
    /// fraction of the facade height) the cut may go; at 0.5 or more the whole top is broken.
    func missingChunk(_ canvas: inout FacadeCanvas, _ f: FacadeLayout, backdrop: Backdrop, depth: Float,
                      rng: inout SeededGenerator) {
        let fw = f.right - f.left, fh = f.bottom - f.top
        var edge: [(Float, Float)] = []
        var outline: [(Float, Float)]
        let teeth = rng.facadeInt(4, 9)
        if depth >= 0.5 {  // the whole top, jagged from right to left
            for i in 0...teeth {
                let x = f.right + 2 - (fw + 4) * Float(i) / Float(teeth)
                edge.append((x, f.top + fh * rng.facadeUniform(0, depth * 0.6)))
            }
            outline = [(f.left - 2, f.top - 3), (f.right + 2, f.top - 3)] + edge
        } else {
            let fromLeft = rng.facadeChance(0.5)
            let cutX = fw * rng.facadeUniform(0.2, 0.5), cutY = fh * rng.facadeUniform(0.15, depth + 0.15)
            let corner: (Float, Float) = fromLeft ? (f.left - 2, f.top - 3) : (f.right + 2, f.top - 3)
            let start: (Float, Float) = (fromLeft ? f.left + cutX : f.right - cutX, f.top - 3)
            let end: (Float, Float) = (corner.0, f.top + cutY)
            for i in 0...teeth {
                let t = Float(i) / Float(teeth)
                let jitter = t > 0 && t < 1 ? fw * rng.facadeUniform(-0.04, 0.04) : 0
                edge.append((start.0 + (end.0 - start.0) * t + jitter, start.1 + (end.1 - start.1) * t + jitter))
            }
            outline = [corner] + edge
        }
        canvas.polygon(outline, label: SyntheticFacades.background) { x, y in backdrop.color(x, y) }
        let rimWidth = rng.facadeUniform(2.5, 4.5)
        for (a, b) in zip(edge, edge.dropFirst()) {
            canvas.line(a.0, a.1, b.0, b.1, width: rimWidth, label: SyntheticFacades.damaged) { x, y in damagedWall(x, y) }
        }
    }

    // MARK: Class 2

    /// A debris pile on the ground at the facade's base, `pileHeight` pixels high: a jagged mound
    /// and many blobs over it, in the wall's colour and in greys and browns, with a strong grain.
    /// It spills a little onto the ground in front.
    func debrisPile(_ canvas: inout FacadeCanvas, _ f: FacadeLayout, height pileHeight: Float, rng: inout SeededGenerator) {
        let s = side
        let half = (f.right - f.left) * rng.facadeUniform(0.25, 0.6) * (pileHeight > 0.18 * Float(height) ? 1.4 : 1)
        let cx = rng.facadeUniform(f.left + half * 0.5, f.right - half * 0.5)
        let base = f.bottom + s * rng.facadeUniform(0.01, 0.04)
        let palette: [FacadeColor] = [wall, facadeScaled(wall, rng.facadeUniform(0.55, 0.85)),
                                      rng.facadeJitter((112, 106, 100), by: 20), rng.facadeJitter((142, 116, 90), by: 20),
                                      rng.facadeJitter((70, 64, 58), by: 12)]
        let mound = rng.facadePick(palette)
        var outline: [(Float, Float)] = [(cx - half, base)]
        let steps = rng.facadeInt(6, 12)
        for i in 1..<steps {
            let t = Float(i) / Float(steps), bump = 1 - abs(2 * t - 1)
            outline.append((cx - half + 2 * half * t, base - pileHeight * (0.35 + 0.65 * bump) * rng.facadeUniform(0.75, 1.1)))
        }
        outline.append((cx + half, base))
        canvas.polygon(outline, label: SyntheticFacades.debris) { x, y in rubble(mound, x, y) }
        let count = min(400, max(12, Int(2 * half * pileHeight / (s * s * 0.0016))))
        for _ in 0..<count {
            let t = rng.facadeUniform(0, 1)
            let x = cx + rng.facadeUniform(-1, 1) * half * (1 - 0.55 * t)
            let y = base - t * pileHeight * 0.95
            let r = s * rng.facadeUniform(0.01, 0.04) * (1.2 - 0.5 * t)
            let color = facadeScaled(rng.facadePick(palette), rng.facadeUniform(0.8, 1.1))
            canvas.polygon(facadeBlob(x, y, r, &rng), label: SyntheticFacades.debris) { px, py in rubble(color, px, py) }
        }
    }
}

/// The corners of a `w` x `h` rectangle centred on (cx, cy), turned by `a` radians.
func rotatedRectangle(_ cx: Float, _ cy: Float, _ w: Float, _ h: Float, _ a: Float) -> [(Float, Float)] {
    let c = cos(a), s = sin(a)
    return [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)].map { (x, y) in
        (cx + x * c - y * s, cy + x * s + y * c)
    }
}

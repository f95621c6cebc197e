import Foundation
import Vision

/// Class colours of segmentation overlays and legends. The damage label set's three classes
/// have fixed colours (undamaged green, damaged orange, debris red); classes 3 and up get
/// hues spread by the golden angle (deterministic, neighbours far apart), for other label sets.
public enum SegmentationPalette {
    /// undamaged_structure, damaged_structure, debris.
    public static let damage: [PanelColor] = [PanelColor(67, 170, 85), PanelColor(255, 150, 20), PanelColor(220, 30, 40)]

    /// The colour of class `index` (>= 0).
    public static func color(forClass index: Int) -> PanelColor {
        if index >= 0 && index < damage.count { return damage[index] }
        // HSV with hue stepping by the golden ratio of a turn, saturation 0.75, value 0.95.
        let hue = (Double(index) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1) * 6
        let s = 0.75, v = 0.95
        let sector = Int(hue) % 6, f = hue - Double(Int(hue))
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch sector {
        case 0: (r, g, b) = (v, t, p)
        case 1: (r, g, b) = (q, v, p)
        case 2: (r, g, b) = (p, v, t)
        case 3: (r, g, b) = (p, q, v)
        case 4: (r, g, b) = (t, p, v)
        default: (r, g, b) = (v, p, q)
        }
        func byte(_ x: Double) -> UInt8 { UInt8((x * 255).rounded()) }
        return PanelColor(byte(r), byte(g), byte(b))
    }

    /// `count` colours: `given` first, the default for the classes it does not cover.
    public static func colors(count: Int, given: [PanelColor]? = nil) -> [PanelColor] {
        (0..<max(count, 0)).map { c in
            if let given, c < given.count { return given[c] }
            return color(forClass: c)
        }
    }
}

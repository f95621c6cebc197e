import Foundation

/// An axis-aligned rectangle in SVG pixels (y grows downwards).
struct PixelBox: Sendable, Equatable {
    var x0: Double
    var y0: Double
    var x1: Double
    var y1: Double

    func intersects(_ other: PixelBox) -> Bool {
        x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1
    }

    func contains(_ other: PixelBox) -> Bool {
        other.x0 >= x0 && other.x1 <= x1 && other.y0 >= y0 && other.y1 <= y1
    }

    /// Whether any part of the segment from `a` to `b` lies inside the box (Liang-Barsky clipping).
    func intersects(segmentFrom a: (x: Double, y: Double), to b: (x: Double, y: Double)) -> Bool {
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        for (p, q) in [(-dx, a.x - x0), (dx, x1 - a.x), (-dy, a.y - y0), (dy, y1 - a.y)] {
            if p == 0 {
                if q < 0 { return false }  // parallel to this edge and outside it
            } else {
                let r = q / p
                if p < 0 { t0 = max(t0, r) } else { t1 = min(t1, r) }
                if t0 > t1 { return false }
            }
        }
        return true
    }
}

/// Where the text of a chart's marker label goes, computed so that it covers no curve.
///
/// A label sits beside its marker line (4 px to the right, or to the left when it does not
/// fit or the marker is in the right 30 % of the plot). Candidate baselines run from the top
/// of the plot area downwards in 2 px steps; the first one whose text box (estimated from
/// DejaVu Sans' character widths at 12 px, 2 px of padding around) stays inside the plot and
/// touches no series segment, dot, highlighted point, other marker line or earlier label wins,
/// so labels go into the highest free band. When no position in the plot is free the label is
/// listed in the legend instead (``LineChart`` then widens the legend for it).
struct MarkerLabelLayout {
    /// A placed label: text anchor point and SVG `text-anchor`.
    struct Placement: Equatable {
        var x: Double
        var baseline: Double
        /// "start" (text to the right of `x`) or "end" (to the left).
        var anchor: String
        var box: PixelBox
    }

    static let fontSize = 12.0
    static let ascent = 10.0, descent = 3.0, padding = 2.0, gap = 4.0, step = 2.0

    /// Advance widths (in em) of DejaVu Sans, the first and widest of the fonts the SVG asks
    /// for; other characters count as 0.7 em (wider than any lowercase letter).
    static let advance: [Character: Double] = {
        var table: [Character: Double] = [" ": 0.318, ".": 0.318, ",": 0.318, ":": 0.337, ";": 0.337, "-": 0.361,
                                          "_": 0.5, "/": 0.337, "(": 0.39, ")": 0.39, "[": 0.39, "]": 0.39,
                                          "=": 0.838, "+": 0.838, "<": 0.838, ">": 0.838, "%": 0.95, "'": 0.275,
                                          "\"": 0.46, "#": 0.838, "&": 0.78, "!": 0.4, "?": 0.531]
        for digit in "0123456789" { table[digit] = 0.636 }
        let lower: [Double] = [0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974,
                               0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525]
        let upper: [Double] = [0.684, 0.686, 0.698, 0.770, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863,
                               0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685]
        for (i, ch) in "abcdefghijklmnopqrstuvwxyz".enumerated() { table[ch] = lower[i] }
        for (i, ch) in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".enumerated() { table[ch] = upper[i] }
        return table
    }()

    /// Estimated width of `text` at font size 12, 5 % more than DejaVu Sans needs.
    static func textWidth(_ text: String) -> Double {
        text.reduce(0) { $0 + (advance[$1] ?? 0.7) } * fontSize * 1.05
    }

    /// Segments (pixel coordinates) and boxes nothing may cover.
    var segments: [((x: Double, y: Double), (x: Double, y: Double))] = []
    var boxes: [PixelBox] = []
    let plot: PixelBox

    init(plot: PixelBox) { self.plot = plot }

    /// The first free position for `text` beside the vertical line at pixel `x`, or `nil`.
    /// A placed label becomes an obstacle for the next ones.
    mutating func place(_ text: String, atX x: Double) -> Placement? {
        let width = Self.textWidth(text)
        let preferEnd = x > plot.x0 + (plot.x1 - plot.x0) * 0.7
        let anchors = preferEnd ? ["end", "start"] : ["start", "end"]
        var baseline = plot.y0 + Self.ascent + Self.padding + 2
        while baseline + Self.descent + Self.padding <= plot.y1 {
            for anchor in anchors {
                let textX = anchor == "start" ? x + Self.gap : x - Self.gap
                let left = anchor == "start" ? textX : textX - width
                let box = PixelBox(x0: left - Self.padding, y0: baseline - Self.ascent - Self.padding,
                                   x1: left + width + Self.padding, y1: baseline + Self.descent + Self.padding)
                guard plot.contains(box), isFree(box) else { continue }
                boxes.append(box)
                return Placement(x: textX, baseline: baseline, anchor: anchor, box: box)
            }
            baseline += Self.step
        }
        return nil
    }

    func isFree(_ box: PixelBox) -> Bool {
        !boxes.contains(where: box.intersects) && !segments.contains(where: { box.intersects(segmentFrom: $0.0, to: $0.1) })
    }
}

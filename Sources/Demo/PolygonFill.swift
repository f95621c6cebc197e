/// The even-odd fill of a polygon over pixel rows, sampled at pixel centres: the one scan both
/// synthetic-scene canvases draw polygons with.
enum PolygonFill {
    /// Calls `span(y, x0, x1)` for every run of row `y` (`0..<rows`) inside `points`.
    static func forEachSpan(_ points: [(Float, Float)], rows: Int, _ span: (Int, Float, Float) -> Void) {
        guard points.count >= 3, let top = points.map(\.1).min(), let bottom = points.map(\.1).max() else { return }
        let minY = max(0, Int(top.rounded(.down))), maxY = min(rows - 1, Int(bottom.rounded(.up)))
        guard minY <= maxY else { return }
        for y in minY...maxY {
            let py = Float(y) + 0.5
            var crossings: [Float] = []
            for i in points.indices {
                let (ax, ay) = points[i], (bx, by) = points[(i + 1) % points.count]
                if (ay <= py && by > py) || (by <= py && ay > py) {
                    crossings.append(ax + (py - ay) / (by - ay) * (bx - ax))
                }
            }
            crossings.sort()
            var k = 0
            while k + 1 < crossings.count {
                span(y, crossings[k], crossings[k + 1])
                k += 2
            }
        }
    }
}

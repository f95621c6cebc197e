import Foundation
import Markup

/// How a ``LineChart`` is laid out and drawn as SVG elements.
extension LineChart {
    /// The plot area of a chart in pixels and the data-to-pixel mapping.
    struct Geometry {
        var plot: PixelBox
        var xTicks: Ticks
        var yTicks: Ticks
        /// Data sit `pad` pixels inside the frame (as matplotlib's margins), so lines and dots
        /// at the ends of the ranges are not cut by the frame.
        static let pad = 8.0

        func px(_ x: Double) -> Double {
            plot.x0 + Self.pad + (x - xTicks.low) / (xTicks.high - xTicks.low) * (plot.x1 - plot.x0 - 2 * Self.pad)
        }

        func py(_ y: Double) -> Double {
            plot.y1 - Self.pad - (y - yTicks.low) / (yTicks.high - yTicks.low) * (plot.y1 - plot.y0 - 2 * Self.pad)
        }
    }

    /// The geometry and where each marker's label goes (`nil`: listed in the legend).
    struct Layout {
        var geometry: Geometry
        var labels: [MarkerLabelLayout.Placement?]
    }

    /// Colour of series `i`.
    func color(ofSeries i: Int) -> String { series[i].color ?? Self.palette[i % Self.palette.count] }

    /// The plot area when the legend holds `legendTexts`.
    func geometry(left: Double, top: Double, legendTexts: [String]) -> Geometry {
        let legendWidth = legendTexts.isEmpty ? 0 : 36 + Double(legendTexts.map(\.count).max() ?? 0) * 7.2
        let x0 = left + 66, y0 = top + 40
        let w = max(40, width - 66 - 18 - legendWidth), h = max(40, height - 40 - 56)
        let allX = series.flatMap(\.x).filter(\.isFinite) + markers.map(\.x) + points.map(\.x)
            + spans.flatMap { [$0.x0, $0.x1] }
        let allY = series.flatMap(\.y).filter(\.isFinite) + points.map(\.y)
        let xTicks = xRange.map { Ticks(range: $0, fixed: true, integer: integerX) }
            ?? Ticks(range: (allX.min() ?? 0)...(allX.max() ?? 1), fixed: false, integer: integerX)
        let yTicks = yRange.map { Ticks(range: $0, fixed: true, integer: false) }
            ?? Ticks(range: (allY.min() ?? 0)...(allY.max() ?? 1), fixed: false, integer: false)
        return Geometry(plot: PixelBox(x0: x0, y0: y0, x1: x0 + w, y1: y0 + h), xTicks: xTicks, yTicks: yTicks)
    }

    /// Each series' runs of finite points in pixels (a non-finite value ends a run).
    func pixelRuns(_ g: Geometry) -> [[[(x: Double, y: Double)]]] {
        series.map { s in
            var runs: [[(x: Double, y: Double)]] = []
            var current: [(x: Double, y: Double)] = []
            for (x, y) in zip(s.x, s.y) {
                if x.isFinite && y.isFinite {
                    current.append((g.px(x), g.py(y)))
                } else if !current.isEmpty {
                    runs.append(current)
                    current = []
                }
            }
            if !current.isEmpty { runs.append(current) }
            return runs
        }
    }

    /// Places the marker labels in the plot where they cover nothing drawn; the labels that
    /// find no room go to the legend, which then grows (and the plot shrinks, so the others
    /// are placed again).
    func layout(left: Double, top: Double) -> Layout {
        var inLegend = Set<Int>()
        while true {
            let texts = series.map(\.name) + spans.map(\.label) + inLegend.sorted().map { markers[$0].label }
            let g = geometry(left: left, top: top, legendTexts: texts)
            var placer = MarkerLabelLayout(plot: g.plot)
            for (s, runs) in zip(series, pixelRuns(g)) {
                for run in runs {
                    if run.count == 1 { placer.segments.append((run[0], run[0])) }
                    for (a, b) in zip(run, run.dropFirst()) { placer.segments.append((a, b)) }
                    if s.dots {
                        placer.boxes += run.map { PixelBox(x0: $0.x - 3, y0: $0.y - 3, x1: $0.x + 3, y1: $0.y + 3) }
                    }
                }
            }
            for point in points {
                let x = g.px(point.x), y = g.py(point.y)
                placer.boxes.append(PixelBox(x0: x - 6, y0: y - 6, x1: x + 6, y1: y + 6))
            }
            for marker in markers {
                let x = g.px(marker.x)
                placer.segments.append(((x, g.plot.y0), (x, g.plot.y1)))
            }
            var labels: [MarkerLabelLayout.Placement?] = []
            var failed: [Int] = []
            for (i, marker) in markers.enumerated() {
                guard !inLegend.contains(i) else { labels.append(nil); continue }
                let placement = placer.place(marker.label, atX: g.px(marker.x))
                labels.append(placement)
                if placement == nil { failed.append(i) }
            }
            if failed.isEmpty { return Layout(geometry: g, labels: labels) }
            inLegend.formUnion(failed)
        }
    }

    /// SVG elements drawing the chart with its top-left corner at (`left`, `top`).
    func elements(left: Double, top: Double) -> String {
        let layout = layout(left: left, top: top)
        let g = layout.geometry
        let plot = (x: g.plot.x0, y: g.plot.y0, w: g.plot.x1 - g.plot.x0, h: g.plot.y1 - g.plot.y0)
        let xTicks = g.xTicks, yTicks = g.yTicks
        let px = g.px, py = g.py
        let n = svgNumber

        var out: [String] = []
        out.append("<g class=\"chart\">")
        out.append(#"<rect x="\#(n(left))" y="\#(n(top))" width="\#(n(width))" height="\#(n(height))" fill="white"/>"#)
        // Centred over the plot, moved sideways (as far as the chart allows) rather than cut off.
        let titleWidth = Double(title.count) * 9.6
        let titleX = min(max(plot.x + plot.w / 2, left + titleWidth / 2 + 4), max(left + width - titleWidth / 2 - 4, left + width / 2))
        out.append(#"<text x="\#(n(titleX))" y="\#(n(top + 24))" text-anchor="middle" font-size="16" font-weight="bold">\#(markupEscape(title))</text>"#)
        // grid and ticks
        out.append("<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">")
        for t in xTicks.values { out.append(#"<line x1="\#(n(px(t)))" y1="\#(n(plot.y))" x2="\#(n(px(t)))" y2="\#(n(plot.y + plot.h))"/>"#) }
        for t in yTicks.values { out.append(#"<line x1="\#(n(plot.x))" y1="\#(n(py(t)))" x2="\#(n(plot.x + plot.w))" y2="\#(n(py(t)))"/>"#) }
        out.append("</g>")
        out.append("<g class=\"ticks\" stroke=\"#333333\" stroke-width=\"1\">")
        for t in xTicks.values { out.append(#"<line x1="\#(n(px(t)))" y1="\#(n(plot.y + plot.h))" x2="\#(n(px(t)))" y2="\#(n(plot.y + plot.h + 5))"/>"#) }
        for t in yTicks.values { out.append(#"<line x1="\#(n(plot.x - 5))" y1="\#(n(py(t)))" x2="\#(n(plot.x))" y2="\#(n(py(t)))"/>"#) }
        out.append("</g>")
        out.append("<g class=\"tick-labels\" font-size=\"12\" fill=\"#333333\">")
        for t in xTicks.values {
            out.append(#"<text x="\#(n(px(t)))" y="\#(n(plot.y + plot.h + 19))" text-anchor="middle">\#(xTicks.label(t))</text>"#)
        }
        for t in yTicks.values {
            out.append(#"<text x="\#(n(plot.x - 8))" y="\#(n(py(t) + 4))" text-anchor="end">\#(yTicks.label(t))</text>"#)
        }
        out.append("</g>")
        // axis titles
        out.append(#"<text class="x-title" x="\#(n(plot.x + plot.w / 2))" y="\#(n(plot.y + plot.h + 42))" text-anchor="middle" font-size="13">\#(markupEscape(xLabel))</text>"#)
        let yTitleX = left + 16, yTitleY = plot.y + plot.h / 2
        out.append(#"<text class="y-title" x="\#(n(yTitleX))" y="\#(n(yTitleY))" text-anchor="middle" font-size="13" transform="rotate(-90 \#(n(yTitleX)) \#(n(yTitleY)))">\#(markupEscape(yLabel))</text>"#)
        // data, clipped to the plot area
        let clip = "clip\(Int(left))x\(Int(top))"
        out.append(#"<clipPath id="\#(clip)"><rect x="\#(n(plot.x))" y="\#(n(plot.y))" width="\#(n(plot.w))" height="\#(n(plot.h))"/></clipPath>"#)
        out.append("<g clip-path=\"url(#" + clip + ")\">")
        for span in spans {
            let x0 = px(span.x0), x1 = max(px(span.x1), x0 + 2)
            out.append(#"<rect class="span" data-name="\#(markupEscape(span.label))" x="\#(n(x0))" y="\#(n(plot.y))" width="\#(n(x1 - x0))" height="\#(n(plot.h))" fill="\#(span.color)" fill-opacity="0.3"/>"#)
        }
        for marker in markers {
            out.append(#"<line class="marker" x1="\#(n(px(marker.x)))" y1="\#(n(plot.y))" x2="\#(n(px(marker.x)))" y2="\#(n(plot.y + plot.h))" stroke="\#(marker.color)" stroke-width="1.5" stroke-dasharray="2,3"/>"#)
        }
        for (i, (s, runs)) in zip(series, pixelRuns(g)).enumerated() {
            let color = color(ofSeries: i)
            let d = runs.map { run in
                run.enumerated().map { ($0.offset == 0 ? "M" : "L") + n($0.element.x) + "," + n($0.element.y) }
                    .joined(separator: " ")
            }.joined(separator: " ")
            let dash = s.dashed ? #" stroke-dasharray="7,4""# : ""
            out.append(#"<path class="series" data-name="\#(markupEscape(s.name))" d="\#(d)" fill="none" stroke="\#(color)" stroke-width="2" stroke-linejoin="round"\#(dash)/>"#)
            if s.dots {
                for point in runs.joined() {
                    out.append(#"<circle cx="\#(n(point.x))" cy="\#(n(point.y))" r="3" fill="\#(color)"/>"#)
                }
            }
        }
        for point in points {
            out.append(#"<circle class="point" cx="\#(n(px(point.x)))" cy="\#(n(py(point.y)))" r="5" fill="white" stroke="\#(point.color)" stroke-width="2"/>"#)
        }
        out.append("</g>")
        for (marker, placement) in zip(markers, layout.labels) {
            guard let placement else { continue }
            out.append(#"<text class="marker-label" data-placement="plot" x="\#(n(placement.x))" y="\#(n(placement.baseline))" text-anchor="\#(placement.anchor)" font-size="12" fill="\#(marker.color)" stroke="white" stroke-width="4" stroke-linejoin="round" paint-order="stroke">\#(markupEscape(marker.label))</text>"#)
        }
        out.append(#"<rect x="\#(n(plot.x))" y="\#(n(plot.y))" width="\#(n(plot.w))" height="\#(n(plot.h))" fill="none" stroke="\#("#333333")" stroke-width="1"/>"#)
        out.append(contentsOf: legend(layout, x: plot.x + plot.w + 14, top: plot.y))
        out.append("</g>")
        return out.joined(separator: "\n")
    }

    /// The legend: the marker labels that found no room in the plot, the series, the shaded spans.
    private func legend(_ layout: Layout, x lx: Double, top: Double) -> [String] {
        let n = svgNumber
        let legendMarkers = zip(markers, layout.labels).filter { $0.1 == nil }.map(\.0)
        guard !series.isEmpty || !spans.isEmpty || !legendMarkers.isEmpty else { return [] }
        var out = ["<g class=\"legend\" font-size=\"12\">"]
        var y = top + 10
        for marker in legendMarkers {  // first, so that they stay in view however many series follow
            out.append(#"<line x1="\#(n(lx))" y1="\#(n(y))" x2="\#(n(lx + 24))" y2="\#(n(y))" stroke="\#(marker.color)" stroke-width="1.5" stroke-dasharray="2,3"/>"#)
            out.append(#"<text class="marker-label" data-placement="legend" x="\#(n(lx + 30))" y="\#(n(y + 4))" fill="\#(marker.color)">\#(markupEscape(marker.label))</text>"#)
            y += 20
        }
        for (i, s) in series.enumerated() {
            let dash = s.dashed ? #" stroke-dasharray="7,4""# : ""
            out.append(#"<line x1="\#(n(lx))" y1="\#(n(y))" x2="\#(n(lx + 24))" y2="\#(n(y))" stroke="\#(color(ofSeries: i))" stroke-width="2"\#(dash)/>"#)
            out.append(#"<text x="\#(n(lx + 30))" y="\#(n(y + 4))">\#(markupEscape(s.name))</text>"#)
            y += 20
        }
        for span in spans {
            out.append(#"<rect x="\#(n(lx))" y="\#(n(y - 6))" width="24" height="12" fill="\#(span.color)" fill-opacity="0.3"/>"#)
            out.append(#"<text x="\#(n(lx + 30))" y="\#(n(y + 4))">\#(markupEscape(span.label))</text>"#)
            y += 20
        }
        out.append("</g>")
        return out
    }
}

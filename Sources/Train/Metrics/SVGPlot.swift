import AtomicFiles
import Foundation
import Markup

/// A line chart drawn as SVG: frame, grid, "nice" ticks with labels, axis titles, a title, a
/// legend to the right of the plot, any number of series, optional vertical markers (their
/// labels placed where they cover no curve, see ``MarkerLabelLayout``) and shaded x ranges.
/// Several charts can share one file side by side (``SVGFigure``). Drawing: `LineChartDrawing.swift`.
public struct LineChart: Sendable {
    /// One line.
    public struct Series: Sendable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        /// CSS colour; `nil` takes the next of the palette.
        public var color: String?
        public var dashed: Bool
        /// Draw a dot at every point (useful for a few epochs).
        public var dots: Bool

        /// Non-finite values break the line instead of being drawn.
        public init(name: String, x: [Double], y: [Double], color: String? = nil, dashed: Bool = false, dots: Bool = false) {
            precondition(x.count == y.count, "series '\(name)': \(x.count) x values for \(y.count) y values")
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.dashed = dashed
            self.dots = dots
        }
    }

    /// A vertical line at `x` with a label, e.g. the chosen threshold.
    public struct Marker: Sendable {
        public var x: Double
        public var label: String
        public var color: String
        public init(x: Double, label: String, color: String = "#444444") {
            self.x = x
            self.label = label
            self.color = color
        }
    }

    /// A shaded band over `x0...x1` across the plot's height, listed in the legend, e.g. the
    /// thresholds that share the best F1.
    public struct Span: Sendable {
        public var x0: Double
        public var x1: Double
        public var label: String
        public var color: String
        public init(x0: Double, x1: Double, label: String, color: String = "#bbbbbb") {
            self.x0 = min(x0, x1)
            self.x1 = max(x0, x1)
            self.label = label
            self.color = color
        }
    }

    /// A labelled dot, e.g. a curve's value at the chosen threshold.
    public struct Point: Sendable {
        public var x: Double
        public var y: Double
        public var color: String
        public init(x: Double, y: Double, color: String) {
            self.x = x
            self.y = y
            self.color = color
        }
    }

    /// matplotlib's "tab10" colours.
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed axis ranges; `nil` fits the data (rounded out to ticks).
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var markers: [Marker]
    public var spans: [Span]
    public var points: [Point]
    /// Force integer ticks on x (epochs).
    public var integerX: Bool
    /// Size of this chart in pixels.
    public var width: Double
    public var height: Double

    public init(title: String, xLabel: String, yLabel: String, series: [Series] = [],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                markers: [Marker] = [], spans: [Span] = [], points: [Point] = [], integerX: Bool = false,
                width: Double = 640, height: Double = 420) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.markers = markers
        self.spans = spans
        self.points = points
        self.integerX = integerX
        self.width = width
        self.height = height
    }

    /// A complete SVG document of this chart.
    public var svg: String { SVGFigure(charts: [self]).svg }

    /// Writes ``svg`` atomically.
    public func write(to url: URL) throws { try AtomicFile.write(svg, to: url) }
}

/// Charts side by side in one SVG file, with an optional overall title and a subtitle line
/// under it (e.g. which losses are class-weighted).
public struct SVGFigure: Sendable {
    public var charts: [LineChart]
    public var title: String?
    public var subtitle: String?

    public init(charts: [LineChart], title: String? = nil, subtitle: String? = nil) {
        self.charts = charts
        self.title = title
        self.subtitle = subtitle
    }

    public var svg: String {
        let titleHeight = title == nil ? 0.0 : 34
        let header = titleHeight + (subtitle == nil ? 0 : 22)
        let width = charts.map(\.width).reduce(0, +)
        let height = (charts.map(\.height).max() ?? 0) + header
        var out = [#"<?xml version="1.0" encoding="UTF-8"?>"#,
                   #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\#(n(width))" height="\#(n(height))" viewBox="0 0 \#(n(width)) \#(n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"#,
                   #"<rect width="100%" height="100%" fill="white"/>"#]
        if let title {
            out.append(#"<text x="\#(n(width / 2))" y="24" text-anchor="middle" font-size="18" font-weight="bold">\#(markupEscape(title))</text>"#)
        }
        if let subtitle {
            out.append(#"<text class="subtitle" x="\#(n(width / 2))" y="\#(n(titleHeight + 16))" text-anchor="middle" font-size="13" fill="\#("#333333")">\#(markupEscape(subtitle))</text>"#)
        }
        var left = 0.0
        for chart in charts {
            out.append(chart.elements(left: left, top: header))
            left += chart.width
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Writes ``svg`` atomically.
    public func write(to url: URL) throws { try AtomicFile.write(svg, to: url) }
}

/// "Nice" axis ticks (steps of 1, 2, 2.5 or 5 times a power of ten, about 5-10 of them).
struct Ticks {
    let low: Double
    let high: Double
    let step: Double
    let values: [Double]

    init(range: ClosedRange<Double>, fixed: Bool, integer: Bool) {
        var lo = range.lowerBound, hi = range.upperBound
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi - lo < 1e-12 * max(1, abs(lo)) {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        let raw = (hi - lo) / 6
        let power = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        if integer { step = max(1, step.rounded(.up)) }
        if !fixed {
            lo = (lo / step).rounded(.down) * step
            hi = (hi / step).rounded(.up) * step
        }
        self.low = lo
        self.high = hi
        self.step = step
        let first = (lo / step - 1e-9).rounded(.up)
        var values: [Double] = []
        var k = first
        while k * step <= hi + step * 1e-9 && values.count < 100 {
            values.append(k * step)
            k += 1
        }
        self.values = values
    }

    /// The tick's text with as many decimals as the step needs.
    func label(_ value: Double) -> String {
        var decimals = 0
        while decimals < 6 && abs(step * pow(10, Double(decimals)) - (step * pow(10, Double(decimals))).rounded()) > 1e-6 {
            decimals += 1
        }
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

private func n(_ value: Double) -> String { svgNumber(value) }

/// A coordinate with at most 2 decimals.
func svgNumber(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
}

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Train
import XCTest

/// Every element of an SVG document with its attributes and own text.
private final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }
    var elements: [Element] = []
    private var open: [Int] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        open.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let last = open.last { elements[last].text += string }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    static func parse(_ svg: String) throws -> SVGElements {
        let collector = SVGElements()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? NSError(domain: "xml", code: 1) }
        return collector
    }

    func with(class name: String) -> [Element] { elements.filter { $0.attributes["class"] == name } }
    func series(_ name: String) -> Element? { with(class: "series").first { $0.attributes["data-name"] == name } }
}

/// The runs of a path's `d` ("M x,y L x,y ... M ..."): one array of points per `M`.
private func runs(_ d: String) -> [[(x: Double, y: Double)]] {
    var result: [[(x: Double, y: Double)]] = []
    for token in d.split(separator: " ") {
        let xy = token.dropFirst().split(separator: ",").compactMap { Double($0) }
        guard xy.count == 2 else { continue }
        if token.hasPrefix("M") { result.append([]) }
        result[result.count - 1].append((xy[0], xy[1]))
    }
    return result
}

/// The box a marker label's text covers, as ``MarkerLabelLayout`` estimates it.
private func labelBox(_ label: SVGElements.Element) -> PixelBox {
    let x = Double(label.attributes["x"]!)!, y = Double(label.attributes["y"]!)!
    let width = MarkerLabelLayout.textWidth(label.text)
    let left = label.attributes["text-anchor"] == "end" ? x - width : x
    return PixelBox(x0: left, y0: y - MarkerLabelLayout.ascent, x1: left + width, y1: y + MarkerLabelLayout.descent)
}

private func assertCoversNoCurve(_ svg: SVGElements, file: StaticString = #filePath, line: UInt = #line) {
    let labels = svg.with(class: "marker-label").filter { $0.attributes["data-placement"] == "plot" }
    XCTAssertFalse(labels.isEmpty, "no label in the plot", file: file, line: line)
    for label in labels {
        let box = labelBox(label)
        for path in svg.with(class: "series") {
            for run in runs(path.attributes["d"]!) {
                for (a, b) in zip(run, run.dropFirst()) where box.intersects(segmentFrom: a, to: b) {
                    XCTFail("'\(label.text)' at \(box) covers \(path.attributes["data-name"]!) \(a)-\(b)", file: file, line: line)
                }
            }
        }
    }
}

final class PlotMarkerTests: XCTestCase {
    /// 4 damage (positive) and 4 no-damage photos: nothing is predicted damage above 0.95.
    let sweep = try! ThresholdSweep(
        probabilities: [[0.95, 0.05], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8], [0.1, 0.9], [0.05, 0.95]],
        labels: [0, 0, 0, 0, 1, 1, 1, 1], classNames: ["damage", "no_damage"], positive: 0)

    func testUndefinedPrecisionIsAGapNotADropToZero() throws {
        let chart = Plots.thresholdSweep(sweep)
        let g = chart.layout(left: 0, top: 0).geometry
        let svg = try SVGElements.parse(chart.svg)
        // precision (damage) is defined for t = 0.00 ... 0.95 only: one run of 96 points ending at 0.95
        let positive = runs(try XCTUnwrap(svg.series("precision (damage)")).attributes["d"]!)
        XCTAssertEqual(positive.count, 1)
        XCTAssertEqual(positive[0].count, 96)
        XCTAssertEqual(positive[0].last!.x, g.px(0.95), accuracy: 0.01)
        XCTAssertEqual(positive[0].last!.y, g.py(1), accuracy: 0.01)   // precision 1 at 0.95, then nothing
        XCTAssertFalse(positive[0].contains { abs($0.y - g.py(0)) < 0.01 }, "drawn at 0")
        // precision (no_damage) is undefined up to t = 0.05 (nothing scores below it): the line starts at 0.06
        let negative = runs(try XCTUnwrap(svg.series("precision (no_damage)")).attributes["d"]!)
        XCTAssertEqual(negative.count, 1)
        XCTAssertEqual(negative[0].count, 95)
        XCTAssertEqual(negative[0].first!.x, g.px(0.06), accuracy: 0.01)
        // recall is always defined: 101 points
        XCTAssertEqual(runs(svg.series("recall (damage)")!.attributes["d"]!).first?.count, 101)

        // A precision that is undefined inside the range (a hand-made series) splits the line.
        var gapped = chart
        gapped.series[2].y[50] = .nan
        let split = runs(try SVGElements.parse(gapped.svg).series("precision (damage)")!.attributes["d"]!)
        XCTAssertEqual(split.map(\.count), [50, 45])
    }

    func testSuggestedThresholdLabelCoversNoCurve() throws {
        let chart = Plots.thresholdSweep(sweep)
        let svg = try SVGElements.parse(chart.svg)
        let labels = svg.with(class: "marker-label")
        XCTAssertEqual(labels.map(\.text), ["suggested t = 0.25"])
        XCTAssertEqual(labels[0].attributes["data-placement"], "plot")
        assertCoversNoCurve(svg)
        // beside its marker line, at the suggested threshold
        let g = chart.layout(left: 0, top: 0).geometry
        let marker = try XCTUnwrap(svg.with(class: "marker").first)
        XCTAssertEqual(Double(marker.attributes["x1"]!)!, g.px(0.25), accuracy: 0.01)
        XCTAssertEqual(abs(Double(labels[0].attributes["x"]!)! - g.px(0.25)), MarkerLabelLayout.gap, accuracy: 0.01)
        // the plateau is shaded over 0.21 ... 0.30
        let span = try XCTUnwrap(svg.with(class: "span").first)
        XCTAssertEqual(Double(span.attributes["x"]!)!, g.px(0.21), accuracy: 0.01)
        XCTAssertEqual(Double(span.attributes["width"]!)!, g.px(0.30) - g.px(0.21), accuracy: 0.02)
    }

    func testLabelMovesBelowACurveAtTheTopAndToTheLegendWhenThePlotIsFull() throws {
        // A flat line at y = 1 runs through the top band: the label goes below it.
        let x = stride(from: 0.0, through: 1.0, by: 0.1).map { $0 }
        var chart = LineChart(title: "t", xLabel: "x", yLabel: "y",
                              series: [.init(name: "top", x: x, y: x.map { _ in 1 })],
                              xRange: 0...1, yRange: 0...1, markers: [.init(x: 0.5, label: "marker")])
        let g = chart.layout(left: 0, top: 0).geometry
        var svg = try SVGElements.parse(chart.svg)
        var label = try XCTUnwrap(svg.with(class: "marker-label").first)
        XCTAssertEqual(label.attributes["data-placement"], "plot")
        XCTAssertGreaterThan(labelBox(label).y0, g.py(1))
        XCTAssertLessThan(labelBox(label).y0, g.py(0.8), "the highest free band")
        assertCoversNoCurve(svg)

        // Lines every 0.05 leave no room: the label is listed in the legend, the plot shrinks for it.
        chart.series = (0...20).map { i in .init(name: "s\(i)", x: x, y: x.map { _ in Double(i) / 20 }) }
        chart.markers = [.init(x: 0.5, label: "a rather long marker label")]
        svg = try SVGElements.parse(chart.svg)
        label = try XCTUnwrap(svg.with(class: "marker-label").first)
        XCTAssertEqual(label.attributes["data-placement"], "legend")
        XCTAssertEqual(label.text, "a rather long marker label")
        let plotRight = chart.layout(left: 0, top: 0).geometry.plot.x1
        XCTAssertGreaterThan(Double(label.attributes["x"]!)!, plotRight)
        XCTAssertLessThanOrEqual(Double(label.attributes["x"]!)! + MarkerLabelLayout.textWidth(label.text), chart.width)
    }

    func testBestEpochMarkerInEveryPanel() throws {
        let history: [String: [Double]] = [
            "loss": [0.69, 0.52, 0.41, 0.35, 0.31], "val_loss": [0.61, 0.50, 0.45, 0.44, 0.46],
            "accuracy": [0.55, 0.74, 0.81, 0.85, 0.87], "val_accuracy": [0.66, 0.76, 0.79, 0.80, 0.79],
        ]
        let figure = Plots.trainingCurves(history, title: "run", bestEpoch: 4, monitor: "val_loss",
                                          subtitle: "training loss class-weighted")
        let svg = try SVGElements.parse(figure.svg)
        XCTAssertEqual(svg.with(class: "marker-label").map(\.text), ["best epoch 4 (val_loss)", "best epoch 4 (val_loss)"])
        XCTAssertEqual(svg.with(class: "subtitle").map(\.text), ["training loss class-weighted"])
        let markers = svg.with(class: "marker")
        XCTAssertEqual(markers.count, 2)
        // each marker line goes through the 4th epoch's point of that panel's validation curve
        for (marker, name) in zip(markers, ["val_loss", "val_accuracy"]) {
            let fourth = runs(svg.series(name)!.attributes["d"]!)[0][3]
            XCTAssertEqual(Double(marker.attributes["x1"]!)!, fourth.x, accuracy: 0.01, name)
            XCTAssertEqual(marker.attributes["x1"], marker.attributes["x2"])
        }
        assertCoversNoCurve(svg)
        // no best epoch, no marker
        XCTAssertTrue(try SVGElements.parse(Plots.trainingCurves(history).svg).with(class: "marker").isEmpty)
    }

    func testTrainingCurvesFileSaysWhichLossesAreClassWeighted() throws {
        var history = History(classNames: ["intact", "rubble"])
        for (epoch, (loss, validation)) in zip([0.7, 0.5, 0.45], [0.65, 0.48, 0.5]).enumerated() {
            history.records.append(EpochRecord(epoch: epoch + 1, loss: loss, accuracy: 0.6 + 0.1 * Double(epoch),
                                               validationLoss: validation, validationAccuracy: 0.7))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("curves-\(getpid()).svg")
        defer { try? FileManager.default.removeItem(at: url) }
        func written(_ classWeighted: Bool?) throws -> SVGElements {
            try RunReports.writeTrainingCurves(history, to: url, title: "t", bestEpoch: history.bestEpoch(by: .validationLoss),
                                               monitor: "val_loss", classWeighted: classWeighted)
            return try SVGElements.parse(String(contentsOf: url, encoding: .utf8))
        }
        let weighted = try written(true)
        XCTAssertEqual(weighted.with(class: "subtitle").map(\.text),
                       ["training loss class-weighted; validation loss (val_loss) unweighted, as in Keras"])
        XCTAssertEqual(weighted.with(class: "marker-label").first?.text, "best epoch 2 (val_loss)")
        XCTAssertEqual(try written(false).with(class: "subtitle").map(\.text),
                       ["no class weights: training and validation losses unweighted"])
        XCTAssertEqual(try written(nil).with(class: "subtitle").first?.text,
                       "training loss class-weighted when class weights are used; validation loss (val_loss) unweighted, as in Keras")
    }
}

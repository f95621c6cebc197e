import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Train
import XCTest

/// Collects element names and text of an XML document; fails on malformed XML.
private final class XMLCollector: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var text = ""
    var attributes: [[String: String]] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(name)
        self.attributes.append(attributes)
    }
    /// Text of each element followed by a newline (the parser may deliver it in pieces).
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if !text.hasSuffix("\n") { text += "\n" }
    }

    static func parse(_ svg: String) throws -> XMLCollector {
        let collector = XMLCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? NSError(domain: "xml", code: 1) }
        return collector
    }
}

final class PlotTests: XCTestCase {
    let history: [String: [Double]] = [
        "loss": [0.69, 0.52, 0.41, 0.35, 0.31], "val_loss": [0.61, 0.50, 0.45, 0.44, 0.46],
        "accuracy": [0.55, 0.74, 0.81, 0.85, 0.87], "val_accuracy": [0.66, 0.76, 0.79, 0.80, 0.79],
    ]

    func testTrainingCurvesAreWellFormedSVGWithAllSeries() throws {
        let figure = Plots.trainingCurves(history, title: "VGG19 fine-tuning")
        XCTAssertEqual(figure.charts.map(\.title), ["Loss", "Accuracy"])
        let xml = try XMLCollector.parse(figure.svg)
        XCTAssertEqual(xml.elements.first, "svg")
        for name in ["loss", "val_loss", "accuracy", "val_accuracy", "epoch", "VGG19 fine-tuning"] {
            XCTAssertTrue(xml.text.contains(name + "\n"), "missing text '\(name)'")
        }
        // 4 series paths with data, each with 5 points
        let paths = xml.attributes.filter { $0["class"] == "series" }
        XCTAssertEqual(paths.compactMap { $0["data-name"] }, ["loss", "val_loss", "accuracy", "val_accuracy"])
        for path in paths { XCTAssertEqual(path["d"]!.filter { $0 == "L" }.count, 4) }
        // x ticks are the epochs 1..5
        for epoch in 1...5 { XCTAssertTrue(xml.text.contains("\n\(epoch)\n")) }
        // the accuracy panel fits its data (0.55-0.87 -> 0.5-0.9 in steps of 0.1)
        XCTAssertEqual(figure.charts[1].yRange, 0.5...0.9)
        for tick in ["0.5", "0.6", "0.7", "0.8", "0.9"] { XCTAssertTrue(xml.text.contains("\n\(tick)\n"), tick) }
    }

    func testThresholdSweepPlot() throws {
        let probabilities: [[Float]] = [[0.95, 0.05], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8], [0.1, 0.9], [0.05, 0.95]]
        let sweep = try ThresholdSweep(probabilities: probabilities, labels: [0, 0, 0, 0, 1, 1, 1, 1],
                                       classNames: ["damage", "no_damage"], positive: 0)
        let chart = Plots.thresholdSweep(sweep)
        let xml = try XMLCollector.parse(chart.svg)
        for name in ["precision (damage)", "recall (damage)", "precision (no_damage)", "recall (no_damage)",
                     "suggested t = 0.25", "best F1 0.889 for t = 0.21-0.30", "threshold on p(damage)"] {
            XCTAssertTrue(xml.text.contains(name), "missing '\(name)'")
        }
        XCTAssertEqual(xml.attributes.filter { $0["class"] == "marker" }.count, 1)
        XCTAssertEqual(xml.attributes.filter { $0["class"] == "point" }.count, 2)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(getpid()).svg")
        defer { try? FileManager.default.removeItem(at: url) }
        try chart.write(to: url)
        XCTAssertNoThrow(try XMLCollector.parse(String(contentsOf: url, encoding: .utf8)))
    }

    func testSpecialCharactersNonFiniteValuesAndTicks() throws {
        var chart = LineChart(title: "a < b & \"c\"", xLabel: "x's", yLabel: "y", series: [
            .init(name: "<series & co>", x: [0, 1, 2, 3], y: [1, .nan, 3, .infinity]),
        ])
        chart.markers = [.init(x: 1.5, label: "m > 1")]
        let xml = try XMLCollector.parse(chart.svg)
        XCTAssertTrue(xml.text.contains("a < b & \"c\""))
        XCTAssertTrue(xml.text.contains("<series & co>"))
        let d = xml.attributes.first { $0["class"] == "series" }!["d"]!
        XCTAssertEqual(d.filter { $0 == "M" }.count, 2)   // the NaN breaks the line
        XCTAssertFalse(d.contains("nan") || d.contains("inf"))

        XCTAssertEqual(Ticks(range: 0...1, fixed: true, integer: false).values, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        let loss = Ticks(range: 0.31...0.69, fixed: false, integer: false)
        XCTAssertEqual(loss.step, 0.1, accuracy: 1e-12)
        XCTAssertEqual(loss.low, 0.3, accuracy: 1e-12)
        XCTAssertEqual(loss.high, 0.7, accuracy: 1e-12)
        XCTAssertEqual(loss.label(0.30000000000000004), "0.3")
        XCTAssertEqual(Ticks(range: 1...30, fixed: true, integer: true).values.first, 5)   // step 5, first tick 5
        XCTAssertEqual(Ticks(range: 1...3, fixed: true, integer: true).values, [1, 2, 3])
    }
}

import Foundation
import GradCAM
import Inference
import Screening
import Vision
import XCTest

/// A ``DamageAssessor`` that records what it is given: severity from the photo's width (so a
/// test knows each photo's value), no structure in view for one width, a panel for even widths,
/// a failure for the widths in `failing`, an out-of-range value for `outOfRange`.
private final class RecordingAssessor: DamageAssessor {
    struct Failure: Error, CustomStringConvertible { var description: String { "the fake assessor failed on purpose" } }

    var imageSide: Int?
    var noStructureWidth: Int?
    var failing: Set<Int> = []
    var outOfRange: Int?
    /// The sizes of the photos of each call.
    private(set) var calls: [[[Int]]] = []

    init(imageSide: Int? = nil) { self.imageSide = imageSide }

    static func severity(width: Int) -> Double { Double(width % 100) / 100 }

    func assess(_ photos: [RGBImage]) throws -> [DamageAssessment] {
        calls.append(photos.map { [$0.width, $0.height] })
        if photos.contains(where: { failing.contains($0.width) }) { throw Failure() }
        return photos.map { photo in
            let severity: Double? = photo.width == noStructureWidth ? nil
                : photo.width == outOfRange ? 1.5 : Self.severity(width: photo.width)
            let panel = photo.width % 2 == 0 ? RGBImage(width: 12, height: 6) { x, y in (UInt8(x * 20), UInt8(y * 40), 7) } : nil
            return DamageAssessment(severity: severity, summary: "width <b>\(photo.width)</b>", panel: panel)
        }
    }
}

/// The screen's severity stage with a fake assessor: only flagged photos are assessed, the
/// `severity` column comes last and only with an assessor, panels go to `segment/`, and a
/// failing assessment costs only its photo's severity.
final class ScreenSeverityTests: XCTestCase {
    static let oldHeader = ["path", "digest", "phash", "duplicate_of", "p_damage", "p_no_damage", "label", "milliseconds", "error"]
    /// Appended by the store's export after every earlier column.
    static let exifColumns = ["latitude", "longitude", "taken_at"]

    /// Six distinct JPEGs of distinct widths (200, 210, ..., 250; one in a sub-folder), an exact
    /// copy, a small photo and a corrupt file.
    private func makePhotos(in folder: URL) throws -> [String: Int] {
        var widths: [String: Int] = [:]
        for i in 0..<6 {
            let width = 200 + 10 * i, name = i == 3 ? "street/s\(i).jpg" : "s\(i).jpg"
            try write(syntheticPhoto(width: width, height: 150 + 6 * i, seed: i * 17 + 3), to: folder.appendingPathComponent(name),
                      jpegQuality: 90)
            widths[name] = width
        }
        try FileManager.default.copyItem(at: folder.appendingPathComponent("s1.jpg"), to: folder.appendingPathComponent("s1_copy.jpg"))
        try write(syntheticPhoto(width: 90, height: 60, seed: 5), to: folder.appendingPathComponent("small.jpg"), jpegQuality: 90)
        try Data("not a photo".utf8).write(to: folder.appendingPathComponent("corrupt.jpg"))
        return widths
    }

    private func screener(out: URL, modelFolder: URL, threshold: Float, assessor: (any DamageAssessor)?,
                          overwrite: Bool = false) throws -> Screener {
        let (model, _) = try tinyModel(in: modelFolder)
        var options = ScreenOptions(classNames: screeningClassNames, positive: 0)
        options.threshold = threshold
        options.batchSize = 4
        options.minimumSide = 100
        options.overwrite = overwrite
        return try storeScreener(model: model, pipeline: ImagePipeline(imageSize: 48), options: options, output: out, assessor: assessor)
    }

    func testOnlyFlaggedPhotosAreAssessedAndTheColumnComesLast() throws {
        let root = try temporaryFolder(self, "severity")
        let photos = root.appendingPathComponent("photos")
        let widths = try makePhotos(in: photos)
        func name(_ path: String) -> String { String(path.dropFirst(photos.relativePath.count + 1)) }

        // Without an assessor: the columns are exactly the old ones, the cards carry no severity.
        let plainOut = root.appendingPathComponent("plain")
        let plain = try screener(out: plainOut, modelFolder: root, threshold: 0, assessor: nil)
        let plainSummary = try plain.run(directory: photos)
        let (plainHeader, plainRows) = try readResults(plainOut)
        XCTAssertEqual(plainHeader, Self.oldHeader + Self.exifColumns)
        XCTAssertFalse(plainSummary.assessesSeverity)
        XCTAssertFalse(plainSummary.line.contains("severity"))
        XCTAssertNil(plainSummary.times["severity"], "no severity stage without an assessor")
        XCTAssertFalse(FileManager.default.fileExists(atPath: plainOut.appendingPathComponent("segment").path))
        let plainHTML = try String(contentsOf: plainOut.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertFalse(plainHTML.contains("data-severity"))
        XCTAssertFalse(plainHTML.contains("<option value=\"s-desc\">"), "no sorting by severity")

        // Flag about half of the classified photos.
        let scores = plainRows.compactMap { Float($0["p_damage"]!) }.sorted()
        XCTAssertEqual(scores.count, 6)
        let threshold = scores[scores.count / 2]
        let assessor = RecordingAssessor()
        assessor.noStructureWidth = plainRows.first { Float($0["p_damage"]!).map { $0 >= threshold } ?? false }
            .flatMap { widths[name($0["path"]!)] }
        let out = root.appendingPathComponent("out")
        let screen = try screener(out: out, modelFolder: root, threshold: threshold, assessor: assessor)
        var warnings: [String] = []
        screen.warn = { warnings.append($0) }
        let summary = try screen.run(directory: photos)

        let (header, rows) = try readResults(out)
        XCTAssertEqual(header, Self.oldHeader + ["severity"] + Self.exifColumns, "severity appended at the end, the other columns unchanged")
        XCTAssertEqual(rows.count, 9)
        let flagged = rows.filter { Float($0["p_damage"]!).map { $0 >= threshold } ?? false }
        XCTAssertTrue(flagged.count > 0 && flagged.count < 6, "\(flagged.count) flagged")
        XCTAssertEqual(summary.flagged, flagged.count)

        // The assessor saw the flagged photos only, each once, at full size (imageSide nil).
        let seen = assessor.calls.flatMap { $0 }
        XCTAssertEqual(seen.map { $0[0] }.sorted(), flagged.map { widths[name($0["path"]!)]! }.sorted())
        XCTAssertTrue(seen.allSatisfy { $0[1] >= 150 }, "full size: \(seen)")
        XCTAssertTrue(assessor.calls.allSatisfy { !$0.isEmpty }, "never called for an empty batch")

        for row in rows {
            let width = widths[name(row["path"]!)]
            let isFlagged = flagged.contains { $0["path"] == row["path"] }
            if isFlagged, let width, width != assessor.noStructureWidth {
                let expected = String(format: "%.6f", RecordingAssessor.severity(width: width))
                XCTAssertEqual(row["severity"], expected, row["path"]!)
                let value = try XCTUnwrap(Double(row["severity"]!))
                XCTAssertTrue((0...1).contains(value))
            } else {
                XCTAssertEqual(row["severity"], "", "\(row["path"]!): not flagged, or no structure in view")
            }
        }
        XCTAssertEqual(warnings.filter { !$0.hasSuffix("/corrupt.jpg: not a JPEG or PNG image (content looks like text)") }, [],
                       "only the corrupt photo's warning")

        // Panels: segment/<stem>_segment.png for flagged photos with an even width, sharing
        // the Grad-CAM panel's stem; nothing for the others.
        let flaggedRows = screen.rows.filter(\.flagged)
        XCTAssertEqual(flaggedRows.count, flagged.count)
        var expectedPanels: Set<String> = []
        for row in flaggedRows {
            let width = widths[name(row.path)]!
            let stem = GradCAMStem.of(name(row.path))
            XCTAssertEqual(row.panel, "gradcam/\(stem)_gradcam.png")
            if width % 2 == 0 {
                XCTAssertEqual(row.severityPanel, "segment/\(stem)_segment.png")
                let panel = try ImageDecoder.decode(contentsOf: out.appendingPathComponent("segment/\(stem)_segment.png"))
                XCTAssertEqual([panel.width, panel.height], [12, 6])
                expectedPanels.insert("\(stem)_segment.png")
            } else {
                XCTAssertNil(row.severityPanel)
            }
            XCTAssertEqual(row.severitySummary, "width <b>\(width)</b>")
        }
        for row in screen.rows where !row.flagged {
            XCTAssertNil(row.severity)
            XCTAssertNil(row.severitySummary)
            XCTAssertNil(row.severityPanel)
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("segment").path)
        XCTAssertEqual(Set(written), expectedPanels)

        // Summary and stage times.
        XCTAssertTrue(summary.assessesSeverity)
        XCTAssertEqual(summary.assessed, flagged.count)
        XCTAssertEqual(summary.scored, flagged.count - 1, "one had no structure in view")
        XCTAssertEqual(summary.severityPanels, expectedPanels.count)
        let scored = flagged.compactMap { Double($0["severity"]!) }
        XCTAssertEqual(summary.meanSeverity ?? -1, scored.reduce(0, +) / Double(scored.count), accuracy: 1e-6)
        XCTAssertEqual(summary.times["severity"]?.items, flagged.count)
        XCTAssertTrue(summary.line.contains("\(flagged.count - 1) of \(flagged.count) flagged scored for severity (mean "),
                      summary.line)

        // The report: severity on every card (empty for the one without structure), the
        // summary escaped, the panels linked, sorting by severity offered.
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        let severities = reportSeverities(html)
        XCTAssertEqual(Set(severities.keys), Set(flagged.map { $0["path"]! }))
        for row in flagged { XCTAssertEqual(severities[row["path"]!], row["severity"]) }
        XCTAssertEqual(Set(reportCards(html).map(\.path)), Set(flagged.map { $0["path"]! }), "the card pattern still matches")
        XCTAssertFalse(html.contains("width <b>"), "the assessor's summary is escaped")
        XCTAssertTrue(html.contains("width &lt;b&gt;"))
        for panel in expectedPanels { XCTAssertTrue(html.contains("src=\"./segment/\(panel)\""), panel) }
        XCTAssertTrue(html.contains("<option value=\"s-desc\">severity, high first</option>"))
        XCTAssertTrue(html.contains("flagged scored for severity"))

        // --overwrite removes the earlier run's segment panels with its Grad-CAM panels.
        let again = try screener(out: out, modelFolder: root, threshold: 1, assessor: RecordingAssessor(), overwrite: true)
        let nothing = try again.run(directory: photos)
        XCTAssertEqual(nothing.flagged, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("segment").path), [])
        XCTAssertTrue(try readResults(out).rows.allSatisfy { $0["severity"] == "" })
    }

    /// A batch the assessor throws on is asked again photo by photo: only the photo it fails on
    /// loses its severity (a warning naming it); a value outside [0, 1] is refused; with an
    /// image side the photos come decoded at the scale just above it.
    func testFailuresCostOnlyTheirPhotoAndTheImageSideIsHonoured() throws {
        let root = try temporaryFolder(self, "severity-fail")
        let photos = root.appendingPathComponent("photos")
        let widths = try makePhotos(in: photos)
        let big = syntheticPhoto(width: 1200, height: 900, seed: 8)
        try write(big, to: photos.appendingPathComponent("zbig.jpg"), jpegQuality: 90)
        let assessor = RecordingAssessor(imageSide: 100)
        // At side 100 the 200-250 px JPEGs decode at full size, the 1200x900 one at 1/8 (150x113).
        assessor.failing = [widths["s2.jpg"]!]
        assessor.outOfRange = widths["s4.jpg"]!
        let out = root.appendingPathComponent("out")
        let screen = try screener(out: out, modelFolder: root, threshold: 0, assessor: assessor)
        var warnings: [String] = []
        screen.warn = { warnings.append($0) }
        let summary = try screen.run(directory: photos)
        XCTAssertEqual(summary.flagged, 7, "threshold 0 flags every classified photo")

        let rows = try readResults(out).rows
        func row(_ name: String) -> [String: String] { rows.first { $0["path"]!.hasSuffix("/" + name) }! }
        XCTAssertEqual(row("s2.jpg")["severity"], "", "the photo the assessor failed on")
        XCTAssertEqual(row("s4.jpg")["severity"], "", "severity 1.5 is refused")
        XCTAssertEqual(row("s5.jpg")["severity"], String(format: "%.6f", RecordingAssessor.severity(width: 250)),
                       "the rest of the failing batch is still assessed")
        XCTAssertEqual(row("s0.jpg")["severity"], String(format: "%.6f", RecordingAssessor.severity(width: 200)))
        XCTAssertEqual(row("s1_copy.jpg")["severity"], "", "a duplicate is never assessed")
        XCTAssertEqual(row("corrupt.jpg")["severity"], "")
        XCTAssertEqual(row("small.jpg")["severity"], "")
        XCTAssertEqual(warnings.filter { $0.contains("s2.jpg") && $0.contains("failed on purpose") }.count, 1, "\(warnings)")
        XCTAssertEqual(warnings.filter { $0.contains("s4.jpg") && $0.contains("not a number in [0, 1]") }.count, 1, "\(warnings)")
        XCTAssertEqual(summary.assessed, 5)
        XCTAssertEqual(summary.scored, 5)

        let seen = assessor.calls.flatMap { $0 }
        XCTAssertTrue(seen.contains([150, 113]), "the big JPEG at the DCT scale just above 100 px: \(seen)")
        XCTAssertTrue(seen.allSatisfy { min($0[0], $0[1]) >= 100 }, "\(seen)")
        XCTAssertTrue(assessor.calls.contains([[widths["s2.jpg"]!, 162]]), "the failing photo asked alone: \(assessor.calls)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertEqual(reportSeverities(html).count, 7)
        XCTAssertTrue(html.contains("not assessed"))
    }

    func testResultsLineWithTheSeverityColumn() throws {
        let folder = try temporaryFolder(self, "severity-results")
        var results = ScreenResults(directory: folder, classNames: ["damage", "no_damage"], severityColumn: true)
        var scored = ScreenRow(path: "a.jpg")
        scored.probabilities = [0.75, 0.25]
        scored.label = "damage"
        scored.flagged = true
        scored.severity = 0.4213
        var unscored = scored
        unscored.path = "b.jpg"
        unscored.severity = nil
        results.append(scored)
        results.append(unscored)
        results.append(ScreenRow(path: "c.jpg"))
        try results.flush(force: true)
        let text = try String(contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], (Self.oldHeader + ["severity"]).joined(separator: ","))
        XCTAssertTrue(lines[1].hasSuffix(",0.421300"), lines[1])
        XCTAssertTrue(lines[2].hasSuffix(",,"), "empty error, empty severity: \(lines[2])")
        XCTAssertEqual(CSVFormat.parse(text).map(\.count), [10, 10, 10, 10])
        XCTAssertEqual(ScreenResults.line(scored, classCount: 2), ScreenResults.line(scored, classCount: 2, severity: false))
        XCTAssertFalse(ScreenResults.line(scored, classCount: 2).contains("0.4213"), "no severity field without the column")
    }
}

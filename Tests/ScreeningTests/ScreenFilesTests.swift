import Foundation
import Screening
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// results.csv and report.html on their own: columns, quoting, escaping.
final class ScreenFilesTests: XCTestCase {
    func testResultsColumnsAndQuoting() throws {
        let folder = try temporaryFolder(self, "results")
        var results = ScreenResults(directory: folder, classNames: ["damage", "no damage"])
        var classified = ScreenRow(path: "photos/a, \"b\".jpg")
        classified.digest = String(repeating: "ab", count: 32)
        classified.phash = "8e0939212b5fdb66"
        classified.probabilities = [0.25, 0.75]
        classified.label = "no damage"
        classified.milliseconds = 12.34
        var duplicate = ScreenRow(path: "photos/c.jpg")
        duplicate.duplicateOf = "photos/a, \"b\".jpg"
        var broken = ScreenRow(path: "photos/d.jpg")
        broken.error = "photos/d.jpg: truncated image, the data ends early\n(JPEG)"
        for row in [classified, duplicate, broken] { results.append(row) }
        try results.flush(force: true)

        let (header, rows) = try readResults(folder)
        XCTAssertEqual(header, ["path", "digest", "phash", "duplicate_of", "p_damage", "p_no damage", "label", "milliseconds", "error"])
        XCTAssertEqual(ScreenResults.header(classNames: ["x"]), ["path", "digest", "phash", "duplicate_of", "p_x", "label", "milliseconds", "error"])
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0]["path"], "photos/a, \"b\".jpg")
        XCTAssertEqual(rows[0]["p_damage"], "0.250000")
        XCTAssertEqual(rows[0]["p_no damage"], "0.750000")
        XCTAssertEqual(rows[0]["label"], "no damage")
        XCTAssertEqual(rows[0]["milliseconds"], "12.3")
        XCTAssertEqual(rows[1]["duplicate_of"], "photos/a, \"b\".jpg")
        XCTAssertEqual(rows[1]["p_damage"], "")
        XCTAssertEqual(rows[1]["label"], "")
        XCTAssertEqual(rows[2]["error"], broken.error)
        XCTAssertEqual(results.rows.count, 3)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "atomic writes leave no temporary files")
    }

    func testRowReplacement() throws {
        let folder = try temporaryFolder(self, "replace")
        var results = ScreenResults(directory: folder, classNames: ["a", "b"])
        var failed = ScreenRow(path: "p/x.png")
        failed.error = "p/x.png: empty file (0 bytes)"
        results.append(failed)
        results.append(ScreenRow(path: "p/y.png"))
        try results.flush(force: true)
        var classified = ScreenRow(path: "p/x.png")
        classified.probabilities = [0.5, 0.5]
        classified.label = "a"
        results.replace(at: 0, with: classified)
        try results.flush(force: true)
        let rows = try readResults(folder).rows
        XCTAssertEqual(rows.map { $0["path"]! }, ["p/x.png", "p/y.png"], "one row per photo, in place")
        XCTAssertEqual(rows[0]["error"], "")
        XCTAssertEqual(rows[0]["p_a"], "0.500000")
    }

    func testReportEscapesAndListsItems() throws {
        var report = ScreenReport(directory: "photos", classNames: ["damage", "no_damage"], positive: 0, threshold: 0.5,
                                  model: "vgg19 150x150")
        report.items = [
            ScreenReport.Item(path: "photos/<b>&\"x\".jpg", probabilities: [0.9, 0.1], label: "damage", score: 0.9,
                              panel: "gradcam/<b>&\"x\"_gradcam.png", original: ScreenReport.link(toPath: "../photos/<b>&\"x\".jpg")),
            ScreenReport.Item(path: "photos/y.jpg", probabilities: [0.6, 0.4], label: "damage", score: 0.6,
                              panel: nil, original: ScreenReport.link(toPath: "/abs/photos/y.jpg")),
        ]
        report.summary.flagged = 2
        report.summary.images = 5
        let html = report.html()
        let cards = reportCards(html)
        XCTAssertEqual(cards.map(\.path), ["photos/<b>&\"x\".jpg", "photos/y.jpg"])
        XCTAssertEqual(cards.map(\.p), [0.9, 0.6])
        XCTAssertFalse(html.contains("<b>&"), "markup in names is escaped")
        XCTAssertTrue(html.contains("src=\"./gradcam/%3Cb%3E%26%22x%22_gradcam.png\""), "paths are percent-encoded in src")
        XCTAssertTrue(html.contains("href=\"../photos/%3Cb%3E%26%22x%22.jpg\""))
        XCTAssertTrue(html.contains("src=\"file:///abs/photos/y.jpg\""), "without a panel the photo itself is shown")
        XCTAssertTrue(html.contains("id=\"threshold\" min=\"0.50\""))
        XCTAssertTrue(html.contains("download=\"verified_labels.csv\""))
        XCTAssertTrue(html.contains("path,predicted,verified_label"))
        XCTAssertTrue(html.contains("<script type=\"application/json\" id=\"classes\">[\"damage\",\"no_damage\"]</script>"))
    }

    /// Links are relative paths or file: URLs, never a scheme a name or a caller supplies.
    func testLinksNeverCarryASchemeFromANameOrCaller() {
        XCTAssertEqual(ScreenReport.link(toPath: "javascript:alert(1).jpg"), "./javascript%3Aalert%281%29.jpg")
        XCTAssertEqual(ScreenReport.link(toPath: "../day 1/a#b?.jpg"), "../day%201/a%23b%3F.jpg")
        XCTAssertEqual(ScreenReport.link(toPath: [0x63, 0xE9, 0x2E, 0x6A]), "./c%E9.j", "raw bytes, not UTF-8")
        XCTAssertEqual(ScreenReport.link(toPath: "/srv/photos/a.jpg"), "file:///srv/photos/a.jpg")
        var report = ScreenReport(directory: "p", classNames: ["damage", "intact"], positive: 0, threshold: 0.5, model: "m")
        report.items = [
            ScreenReport.Item(path: "p/javascript:x.jpg", probabilities: [0.9, 0.1], label: "damage", score: 0.9,
                              panel: "javascript:alert(1)", original: "javascript:alert(1)"),
            ScreenReport.Item(path: "p/y.jpg", probabilities: [0.9, 0.1], label: "damage", score: 0.9,
                              panel: "gradcam/../../etc/x.png", original: "data:text/html,<script>"),
        ]
        let html = report.html()
        XCTAssertEqual(attributeValues(html, "href").filter { !$0.hasPrefix("#") }, [], "nothing unsafe is linked")
        XCTAssertEqual(attributeValues(html, "src"), [])
        XCTAssertEqual(reportCards(html).count, 2, "the cards are still there")
    }

    /// Class names (from a weights file) cannot end the script element, open a comment or
    /// break JavaScript: the embedded JSON parses back to exactly the names.
    func testScriptJSONSurvivesHostileClassNames() throws {
        let names = ["<!--<script>", "</script><script>alert(1)</script>", "a\u{2028}b\u{2029}&>"]
        let report = ScreenReport(directory: "p", classNames: names, positive: 0, threshold: 0.5, model: "m")
        let html = report.html()
        let embedded = try XCTUnwrap(scriptJSON(html))
        XCTAssertFalse(embedded.contains("<") || embedded.contains(">") || embedded.contains("&"))
        XCTAssertFalse(embedded.unicodeScalars.contains { $0 == "\u{2028}" || $0 == "\u{2029}" })
        let parsed = try JSONSerialization.jsonObject(with: Data(embedded.utf8)) as? [String]
        XCTAssertEqual(parsed, names)
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2, "only the page's two script elements")
        XCTAssertEqual(html.components(separatedBy: "</script>").count - 1, 2)
        XCTAssertFalse(html.contains("<!--"))
        XCTAssertEqual(ScriptJSON.escape("\"</x>&\u{2028}\""), "\"\\u003c/x\\u003e\\u0026\\u2028\"")
        XCTAssertEqual(ScriptJSON.encode(["k": "<"]), "{\"k\":\"\\u003c\"}")
    }

    /// The page carries a CSP whose script hash is that of its one inline script.
    func testContentSecurityPolicy() throws {
        let html = ScreenReport(directory: "p", classNames: ["a", "b"], positive: 0, threshold: 0.5, model: "m").html()
        let pattern = #"<meta http-equiv="Content-Security-Policy" content="([^"]*)">"#
        let regex = try NSRegularExpression(pattern: pattern)
        let ns = html as NSString
        let matches = regex.matches(in: html, range: NSRange(location: 0, length: ns.length))
        XCTAssertEqual(matches.count, 1)
        let policy = unescapeHTML(ns.substring(with: try XCTUnwrap(matches.first).range(at: 1)))
        XCTAssertTrue(policy.hasPrefix("default-src 'none'; script-src 'sha256-"), policy)
        XCTAssertTrue(policy.contains("base-uri 'none'") && policy.contains("form-action 'none'"), policy)
        XCTAssertFalse(policy.contains("unsafe-eval") || policy.contains("script-src 'unsafe-inline'"))
        let metaEnd = ns.range(of: "<meta http-equiv").location
        XCTAssertLessThan(metaEnd, ns.range(of: "<style>").location, "before anything it governs")
        // The hash covers exactly the inline script's text.
        let open = ns.range(of: "<script>"), close = ns.range(of: "</script>", options: .backwards)
        let body = ns.substring(with: NSRange(location: open.location + open.length, length: close.location - open.location - open.length))
        let hash = Data(SHA256.hash(Data(body.utf8)).bytes).base64EncodedString()
        XCTAssertTrue(policy.contains("script-src 'sha256-\(hash)'"), "\(policy) vs \(hash)")
    }

    func testLeftoverTemporariesAreRecognised() throws {
        XCTAssertEqual(OutputLeftovers.parse(".results.csv.123.4567.tmp")?.target, "results.csv")
        XCTAssertEqual(OutputLeftovers.parse(".a.b_gradcam.png.99.0.tmp")?.pid, 99)
        XCTAssertNil(OutputLeftovers.parse("results.csv.123.4567.tmp"), "not hidden")
        XCTAssertNil(OutputLeftovers.parse(".results.csv.x.4567.tmp"), "no pid")
        XCTAssertNil(OutputLeftovers.parse(".keep"))
        let folder = try temporaryFolder(self, "leftovers")
        let dead = ".results.csv.2147483646.17.tmp", live = ".report.html.\(getpid()).18.tmp"
        for name in [dead, live, ".notes.txt.2147483646.1.tmp", ".keep", "results.csv"] {
            try Data("x".utf8).write(to: folder.appendingPathComponent(name))
        }
        let removed = OutputLeftovers.remove(in: [folder])
        XCTAssertEqual(removed, [folder.appendingPathComponent(dead).path])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)),
                       [live, ".notes.txt.2147483646.1.tmp", ".keep", "results.csv"])
    }
}

/// Every value of `attribute` in `html`, entities decoded.
func attributeValues(_ html: String, _ attribute: String) -> [String] {
    let regex = try! NSRegularExpression(pattern: "\\s\(attribute)=\"([^\"]*)\"")
    let ns = html as NSString
    return regex.matches(in: html, range: NSRange(location: 0, length: ns.length)).map { unescapeHTML(ns.substring(with: $0.range(at: 1))) }
}

/// The text of `<script type="application/json" id="classes">`.
func scriptJSON(_ html: String) -> String? {
    let marker = "<script type=\"application/json\" id=\"classes\">"
    guard let start = html.range(of: marker), let end = html.range(of: "</script>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.upperBound..<end.lowerBound])
}

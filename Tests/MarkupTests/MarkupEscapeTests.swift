import Markup
import XCTest

/// The escaper every SVG and HTML file goes through.
final class MarkupEscapeTests: XCTestCase {
    func testTheFiveSpecialCharactersAreEscapedAndNothingElse() {
        XCTAssertEqual(markupEscape(#"<a href="x">Tom & Jerry's</a>"#),
                       "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        XCTAssertEqual(markupEscape("débris_01 \\xFF.jpg"), "débris_01 \\xFF.jpg")
        XCTAssertEqual(markupEscape(""), "")
        XCTAssertEqual(markupEscape("&amp;"), "&amp;amp;", "escaping is not idempotent: escape once")
    }

    func testScriptAndAttributeBreakoutsAreInert() {
        let hostile = #""><script>alert('x')</script><img src=x onerror="#
        let escaped = markupEscape(hostile)
        XCTAssertFalse(escaped.contains("<") || escaped.contains(">") || escaped.contains("\"") || escaped.contains("'"))
    }
}

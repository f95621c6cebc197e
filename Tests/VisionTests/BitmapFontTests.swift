import Vision
import XCTest

/// The panel font's one glyph beyond ASCII, the middle dot of title separators
/// (`severity 0.42 · damaged 18%`); the ASCII glyphs are checked by GradCAMTests' PanelTests.
final class BitmapFontTests: XCTestCase {
    func testMiddleDotIsACentredDotNotAQuestionMark() {
        let dot = BitmapFont.glyph("\u{B7}")
        XCTAssertNotEqual(dot, BitmapFont.glyph("?"))
        let lit = (0..<5).flatMap { x in (0..<8).compactMap { y in BitmapFont.isLit("\u{B7}", x: x, y: y) ? [x, y] : nil } }
        XCTAssertEqual(lit, [[1, 3], [1, 4], [2, 3], [2, 4]])
        XCTAssertEqual(BitmapFont.glyph("é"), BitmapFont.glyph("?"))
        XCTAssertEqual(BitmapFont.width(of: "a · b", scale: 1), 5 * 6 - 1)
    }

    func testCanvasDrawsTheDot() {
        var canvas = Canvas(width: 12, height: 10, background: .black)
        canvas.drawText("\u{B7}", x: 0, y: 0, scale: 1, color: PanelColor(255, 255, 255))
        XCTAssertEqual(canvas.image[x: 1, y: 3].r, 255)
        XCTAssertEqual(canvas.image[x: 0, y: 3].r, 0)
    }
}

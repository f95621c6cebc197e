import Foundation
@testable import GradCAM
import Tensor
import TestSupport
@testable import Vision
import XCTest

/// Overlays and panels: the right size, coloured where the map is hot, untouched heat-wise
/// where it is zero, and legible titles.
final class PanelTests: XCTestCase {
    /// A 4x4 map hot (1) in its top-left 2x2 cells, zero elsewhere.
    let map: [Float] = [1, 1, 0, 0,
                        1, 1, 0, 0,
                        0, 0, 0, 0,
                        0, 0, 0, 0]

    /// What `Overlay` makes of a pixel under zero heat: jet(0) = (0, 0, 127.5) blended at alpha.
    func zeroHeat(_ v: UInt8, channel: Int, alpha: Float = 0.4) -> UInt8 {
        let jet: [Float] = [0, 0, 127.5]
        return UInt8(((1 - alpha) * Float(v) + alpha * jet[channel]).rounded())
    }

    func testOverlayAtFullSizeIsHotOnlyWhereTheMapIs() throws {
        let image = RGBImage(width: 97, height: 61) { x, y in (UInt8(x * 2), UInt8(y * 4), 90) }
        let overlay = GradCAMPanel.overlay(image, map: map, mapWidth: 4, mapHeight: 4)
        XCTAssertEqual(overlay.width, 97)
        XCTAssertEqual(overlay.height, 61)
        let decoded = try ImageDecoder.decode(data: try ImageEncoder.png(overlay))
        XCTAssertEqual(decoded, overlay)
        // Hot corner (top-left fifth): jet(1) = dark red pulls red up and blue down.
        for (x, y) in [(3, 3), (10, 8), (15, 12)] {
            let before = image[x: x, y: y], after = overlay[x: x, y: y]
            XCTAssertGreaterThan(Int(after.r), Int(before.r) + 20, "(\(x), \(y)) reddened")
            XCTAssertLessThan(Int(after.b), Int(before.b), "(\(x), \(y))")
        }
        // The half away from the hot cells gets zero heat: only the constant jet(0) tint.
        for (x, y) in [(96, 60), (70, 40), (60, 59), (96, 0)] {
            let before = image[x: x, y: y], after = overlay[x: x, y: y]
            XCTAssertEqual(after.r, zeroHeat(before.r, channel: 0), "(\(x), \(y))")
            XCTAssertEqual(after.g, zeroHeat(before.g, channel: 1), "(\(x), \(y))")
            XCTAssertEqual(after.b, zeroHeat(before.b, channel: 2), "(\(x), \(y))")
        }
    }

    func testPanelLayoutTilesAndTitles() throws {
        let image = try ImageDecoder.decode(contentsOf: Fixtures.url("img_97x61.png"))
        let layout = GradCAMPanel()
        let (tw, th) = layout.tileSize(for: image)
        XCTAssertEqual(th, 224)
        XCTAssertEqual(tw, Int((97.0 * 224 / 61).rounded()))
        let maps = [ClassHeatMap(classIndex: 0, values: [Float](repeating: 0, count: 16), width: 4, height: 4, probability: 0.07),
                    ClassHeatMap(classIndex: 1, values: map, width: 4, height: 4, probability: 0.93)]
        let (panel, origins) = layout.renderLaidOut(image: image, maps: maps, classNames: ["no_damage", "damage"],
                                                    predicted: 1, truth: "damage", header: "img_97x61.png")
        XCTAssertEqual(panel, layout.render(image: image, maps: maps, classNames: ["no_damage", "damage"], predicted: 1,
                                            truth: "damage", header: "img_97x61.png"))
        let decoded = try ImageDecoder.decode(data: try ImageEncoder.png(panel))
        XCTAssertEqual(decoded, panel)
        // Three tiles side by side in one row, titles above them, a sensible size.
        XCTAssertEqual(origins.count, 3)
        XCTAssertTrue(origins.allSatisfy { $0.y == origins[0].y && $0.y > 40 })
        XCTAssertGreaterThanOrEqual(origins[1].x, origins[0].x + tw + GradCAMPanel.gap)
        XCTAssertGreaterThanOrEqual(origins[2].x, origins[1].x + tw + GradCAMPanel.gap)
        XCTAssertGreaterThanOrEqual(panel.width, origins[2].x + tw + GradCAMPanel.margin)
        XCTAssertLessThan(panel.width, 3 * tw + 100)
        XCTAssertGreaterThan(panel.height, origins[0].y + th)
        XCTAssertLessThan(panel.height, th + 160)

        // The thumbnail appears unchanged as the first tile.
        let thumbnail = Resize.resized(image, width: tw, height: th)
        let y0 = origins[0].y
        XCTAssertEqual(crop(panel, x: origins[0].x, y: y0, width: tw, height: th), thumbnail)
        let x1 = origins[1].x, x2 = origins[2].x
        // Class 0's map is zero: its tile is the zero-heat tint of the thumbnail everywhere.
        let tile0 = crop(panel, x: x1, y: y0, width: tw, height: th)
        XCTAssertEqual(tile0, Overlay.blend(thumbnail, heat: [Float](repeating: 0, count: tw * th)))
        // Class 1 is hot at the top-left only.
        let tile1 = crop(panel, x: x2, y: y0, width: tw, height: th)
        XCTAssertEqual(tile1, Overlay.blend(thumbnail, heat: map, heatWidth: 4, heatHeight: 4))
        XCTAssertNotEqual(tile1[x: 20, y: 20].r, tile0[x: 20, y: 20].r)
        XCTAssertEqual(tile1[x: tw - 5, y: th - 5].r, tile0[x: tw - 5, y: th - 5].r)
        // The predicted class's title bar is highlighted; the other's is not.
        let titleY = y0 - GradCAMPanel.frameWidth - 3
        XCTAssertEqual(color(panel, x2 + tw - 3, titleY), .highlight)
        XCTAssertEqual(color(panel, x1 + tw - 3, titleY), .background)
        // The header's first letter ('i', its dot at glyph pixel (2, 0)) is drawn at the margin, scale 2.
        XCTAssertTrue(BitmapFont.isLit("i", x: 2, y: 0))
        XCTAssertEqual(color(panel, GradCAMPanel.margin + 4, GradCAMPanel.margin), .text)
        XCTAssertEqual(color(panel, GradCAMPanel.margin, GradCAMPanel.margin), .background)
    }

    func testTallAndWideImagesKeepTheirAspectWithinLimits() {
        let layout = GradCAMPanel()
        let tall = layout.tileSize(for: RGBImage(width: 61, height: 97))
        XCTAssertEqual(tall.height, 224)
        XCTAssertEqual(tall.width, Int((61.0 * 224 / 97).rounded()))
        let wide = layout.tileSize(for: RGBImage(width: 4000, height: 500))
        XCTAssertEqual(wide.width, 448)
        XCTAssertEqual(wide.height, 56)
        // A narrow tile's column widens for its title instead of cutting it.
        let panel = layout.render(image: RGBImage(width: 20, height: 200), maps: [], header: nil)
        XCTAssertGreaterThanOrEqual(panel.width, BitmapFont.width(of: "original", scale: 2))
    }

    func testFontCoversPrintableASCII() {
        XCTAssertEqual(BitmapFont.columns.count, 95 * 5)
        for code in 33...126 {
            let character = Character(UnicodeScalar(UInt8(code)))
            let lit = (0..<5).flatMap { x in (0..<8).map { y in BitmapFont.isLit(character, x: x, y: y) } }
            XCTAssertTrue(lit.contains(true), "'\(character)' has pixels")
            let descends = BitmapFont.glyph(character).contains { $0 & 0x80 != 0 }
            XCTAssertEqual(descends, "gjpqy,;".contains(character), "'\(character)': only descenders use row 7")
        }
        XCTAssertEqual(BitmapFont.glyph("é"), BitmapFont.glyph("?"))
        XCTAssertEqual(BitmapFont.width(of: "p=0.93", scale: 2), (6 * 6 - 1) * 2)
        // Distinct glyphs for the characters titles use most.
        let used = Array("abcdefghijklmnopqrstuvwxyz0123456789=.:_")
        XCTAssertEqual(Set(used.map { Array(BitmapFont.glyph($0)) }).count, used.count)
    }

    func testTextIsDrawnWhereAsked() {
        var canvas = Canvas(width: 40, height: 24, background: .black)
        canvas.drawText("H", x: 2, y: 3, scale: 2, color: PanelColor(255, 255, 255))
        let image = canvas.image
        // 'H': its left column is lit in rows 0-6 (not the descender row), scaled 2x from (2, 3).
        for row in 0..<14 { XCTAssertEqual(image[x: 2, y: 3 + row].r, 255, "row \(row)") }
        XCTAssertEqual(image[x: 2, y: 3 + 14].r, 0)
        XCTAssertEqual(image[x: 4, y: 3].r, 0, "column 1 of 'H' is lit only in the middle row")
        XCTAssertEqual(image[x: 4, y: 3 + 6].r, 255)
        XCTAssertEqual(image[x: 30, y: 10].r, 0)
        XCTAssertEqual(GradCAMPanel.fit("class no_damage_at_all", width: BitmapFont.width(of: "class no..", scale: 2), scale: 2),
                       "class no..")
    }

    func color(_ image: RGBImage, _ x: Int, _ y: Int) -> PanelColor {
        let p = image[x: x, y: y]
        return PanelColor(p.r, p.g, p.b)
    }

    func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        RGBImage(width: width, height: height) { cx, cy in image[x: x + cx, y: y + cy] }
    }
}

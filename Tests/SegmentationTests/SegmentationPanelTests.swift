import Segmentation
import Vision
import XCTest

/// The segmentation panel: its size, the photo tile, overlay colours where the mask says,
/// transparency for ignored pixels, legend swatches and the title.
final class SegmentationPanelTests: XCTestCase {
    let names = SeverityWeights.damageClassNames
    let grey = PanelColor(100, 100, 100)

    func color(_ image: RGBImage, _ x: Int, _ y: Int) -> PanelColor {
        let p = image[x: x, y: y]
        return PanelColor(p.r, p.g, p.b)
    }

    /// `round(0.5 * grey + 0.5 * c)`, the overlay of a class over the grey photo.
    func blended(_ c: PanelColor) -> PanelColor {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((0.5 * Float(a) + 0.5 * Float(b)).rounded()) }
        return PanelColor(mix(grey.r, c.r), mix(grey.g, c.g), mix(grey.b, c.b))
    }

    func testPixelsWhereTheLayoutSaysTheyAre() throws {
        let photo = RGBImage(width: 4, height: 2) { _, _ in (100, 100, 100) }
        // debris | damaged | ignore | undamaged  (top row);  bottom row all debris.
        let mask = TestMask(width: 4, height: 2, indices: [2, 1, 255, 0, 2, 2, 2, 2])
        let panel = SegmentationPanel(tileSide: 40, alpha: 0.5)
        let title = "severity 0.42 \u{B7} damaged 18% \u{B7} debris 7%"
        let image = try panel.render(photo: photo, mask: mask, classNames: names, title: title)
        let layout = panel.layout(photoWidth: 4, photoHeight: 2, classNames: names, title: title)
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        XCTAssertEqual(layout.tileWidth, 40)
        XCTAssertEqual(layout.tileHeight, 20)
        XCTAssertEqual(layout.width, 2 * 40 + SegmentationPanel.gap + 2 * SegmentationPanel.margin)

        // Each mask pixel covers a 10x10 block of the 40x20 tiles (nearest).
        let (ox, oy) = layout.overlay
        XCTAssertEqual(color(image, ox + 5, oy + 5), blended(SegmentationPalette.damage[2]), "debris")
        XCTAssertEqual(color(image, ox + 15, oy + 5), blended(SegmentationPalette.damage[1]), "damaged")
        XCTAssertEqual(color(image, ox + 25, oy + 5), grey, "ignored pixels are transparent")
        XCTAssertEqual(color(image, ox + 35, oy + 5), blended(SegmentationPalette.damage[0]), "undamaged")
        XCTAssertEqual(color(image, ox + 25, oy + 15), blended(SegmentationPalette.damage[2]))
        XCTAssertEqual(blended(SegmentationPalette.damage[2]), PanelColor(160, 65, 70))
        XCTAssertEqual(color(image, layout.photo.x + 25, layout.photo.y + 5), grey, "the photo tile is the photo")
        XCTAssertEqual(color(image, layout.photo.x + 39, layout.photo.y + 19), grey)

        XCTAssertEqual(layout.swatches.count, 3)
        for (c, corner) in layout.swatches.enumerated() {
            let side = SegmentationPanel.swatchSide
            XCTAssertEqual(color(image, corner.x + side / 2, corner.y + side / 2), SegmentationPalette.damage[c], "swatch \(c)")
            XCTAssertEqual(color(image, corner.x, corner.y), SegmentationPalette.damage[c])
            XCTAssertGreaterThanOrEqual(corner.y, oy + layout.tileHeight, "legend under the tiles")
        }
        XCTAssertGreaterThan(layout.swatches[1].y, layout.swatches[0].y, "90 px are too narrow for two entries a row")
        // Some title pixel is lit with the text colour.
        let titleRows = layout.title.y..<(layout.title.y + BitmapFont.height(scale: layout.title.scale))
        let lit = titleRows.contains { y in (0..<image.width).contains { x in color(image, x, y) == .text } }
        XCTAssertTrue(lit)
    }

    func testAMaskAtLowerResolutionGivenColoursAndAWideLegend() throws {
        let photo = RGBImage(width: 8, height: 8) { _, _ in (100, 100, 100) }
        let mask = TestMask(width: 2, height: 2, indices: [0, 1, 7, 255])  // 7: no class name -> transparent
        let colors = [PanelColor(0, 0, 0), PanelColor(200, 200, 200)]
        let panel = SegmentationPanel(tileSide: 256, alpha: 0.5)
        let image = try panel.render(photo: photo, mask: mask, classNames: ["a", "b"], colors: colors, title: "t")
        let layout = panel.layout(photoWidth: 8, photoHeight: 8, classNames: ["a", "b"], title: "t")
        XCTAssertEqual(image.width, 2 * 256 + SegmentationPanel.gap + 2 * SegmentationPanel.margin)
        let (ox, oy) = layout.overlay
        XCTAssertEqual(color(image, ox + 10, oy + 10), PanelColor(50, 50, 50))
        XCTAssertEqual(color(image, ox + 200, oy + 10), PanelColor(150, 150, 150))
        XCTAssertEqual(color(image, ox + 10, oy + 200), grey)
        XCTAssertEqual(color(image, ox + 200, oy + 200), grey)
        XCTAssertEqual(layout.swatches[0].y, layout.swatches[1].y, "one legend row")
        XCTAssertEqual(color(image, layout.swatches[1].x + 3, layout.swatches[1].y + 3), colors[1])
        // The static form uses the default tile size and alpha.
        XCTAssertEqual(try SegmentationPanel.render(photo: photo, mask: mask, classNames: ["a", "b"], colors: colors,
                                                    title: "t"), image)
    }

    func testPaletteIsDeterministicAndDistinct() {
        XCTAssertEqual(SegmentationPalette.colors(count: 3), SegmentationPalette.damage)
        let many = SegmentationPalette.colors(count: 40)
        XCTAssertEqual(many, SegmentationPalette.colors(count: 40))
        XCTAssertEqual(Set(many.map { [$0.r, $0.g, $0.b] }).count, 40)
        XCTAssertEqual(SegmentationPalette.colors(count: 4, given: [.black]).first, .black)
        XCTAssertEqual(SegmentationPalette.colors(count: 4, given: [.black])[3], SegmentationPalette.color(forClass: 3))
    }

    func testRefusesMasksThatDoNotAddUp() {
        let photo = RGBImage(width: 2, height: 2)
        XCTAssertThrowsError(try SegmentationPanel.render(photo: photo, mask: TestMask(width: 2, height: 2, indices: [0]),
                                                          classNames: names, title: "")) { error in
            XCTAssertEqual(error as? SegmentationPanelError, .maskSize(width: 2, height: 2, indices: 1))
        }
        XCTAssertThrowsError(try SegmentationPanel.render(photo: RGBImage(width: 0, height: 0),
                                                          mask: TestMask(width: 1, height: 1, indices: [0]),
                                                          classNames: names, title: ""))
    }
}

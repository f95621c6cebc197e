import Foundation
import Vision

/// One class's heat map, at the resolution it was computed at (row-major, values in [0, 1]).
public struct ClassHeatMap: Sendable, Equatable {
    public var classIndex: Int
    public var values: [Float]
    public var width: Int
    public var height: Int
    /// The model's probability for this class (shown in the title).
    public var probability: Float

    public init(classIndex: Int, values: [Float], width: Int, height: Int, probability: Float) {
        precondition(values.count == width * height, "\(values.count) values for a \(width)x\(height) map")
        self.classIndex = classIndex
        self.values = values
        self.width = width
        self.height = height
        self.probability = probability
    }
}

/// The paper's Grad-CAM figures: the photo, then one jet overlay per class, side by side, each
/// with a title ("original" / "truth: damage"; "class damage" / "p=0.93"), the predicted
/// class's title and frame highlighted, an optional header line and a colour-bar legend.
///
/// Every tile is the photo scaled (aspect kept) to `tileHeight` pixels high, narrowed further
/// if it would be wider than `maxTileWidth`; each map is upsampled bilinearly onto its tile,
/// coloured with jet and blended with weight `alpha` (Vision's ``Overlay``).
public struct GradCAMPanel: Sendable {
    public var tileHeight: Int
    public var maxTileWidth: Int
    public var alpha: Float

    public init(tileHeight: Int = 224, maxTileWidth: Int = 448, alpha: Float = 0.4) {
        precondition(tileHeight > 0 && maxTileWidth > 0, "tile size \(maxTileWidth)x\(tileHeight)")
        self.tileHeight = tileHeight
        self.maxTileWidth = maxTileWidth
        self.alpha = alpha
    }

    /// `image` at full size with `map` (`mapWidth` x `mapHeight`) upsampled bilinearly to it,
    /// coloured with jet and blended with weight `alpha`.
    public static func overlay(_ image: RGBImage, map: [Float], mapWidth: Int, mapHeight: Int,
                               alpha: Float = 0.4) -> RGBImage {
        Overlay.blend(image, heat: map, heatWidth: mapWidth, heatHeight: mapHeight, alpha: alpha)
    }

    /// The size `image` is shown at: `tileHeight` high with the aspect ratio kept, narrowed to
    /// `maxTileWidth` if needed (then lower), never below 1x1.
    public func tileSize(for image: RGBImage) -> (width: Int, height: Int) {
        let w = Double(max(image.width, 1)), h = Double(max(image.height, 1))
        let scale = min(Double(tileHeight) / h, Double(maxTileWidth) / w)
        return (max(1, Int((w * scale).rounded())), max(1, Int((h * scale).rounded())))
    }

    /// The panel for `image` and its class maps. `classNames[k]` names class `k` (the index is
    /// used where missing); `predicted` is highlighted; `truth` (a class name) titles the photo.
    public func render(image: RGBImage, maps: [ClassHeatMap], classNames: [String] = [], predicted: Int? = nil,
                       truth: String? = nil, header: String? = nil) -> RGBImage {
        renderLaidOut(image: image, maps: maps, classNames: classNames, predicted: predicted, truth: truth,
                      header: header).image
    }

    /// ``render(image:maps:classNames:predicted:truth:header:)`` and the top-left corner of each
    /// tile in the panel (the photo first).
    func renderLaidOut(image: RGBImage, maps: [ClassHeatMap], classNames: [String], predicted: Int?,
                       truth: String?, header: String?) -> (image: RGBImage, origins: [(x: Int, y: Int)]) {
        let (tw, th) = tileSize(for: image)
        let thumbnail = image.width == tw && image.height == th ? image
            : Resize.resized(image, width: tw, height: th, method: .bilinear)
        func name(_ k: Int) -> String { k >= 0 && k < classNames.count ? classNames[k] : String(k) }
        var tiles = [Tile(image: thumbnail, lines: ["original", truth.map { "truth: \($0)" } ?? ""], highlighted: false)]
        for map in maps {
            let overlay = Overlay.blend(thumbnail, heat: map.values, heatWidth: map.width, heatHeight: map.height,
                                        alpha: alpha)
            let isPredicted = map.classIndex == predicted
            let p = String(format: "p=%.2f", map.probability)
            tiles.append(Tile(image: overlay, lines: ["class \(name(map.classIndex))", isPredicted ? p + " predicted" : p],
                              highlighted: isPredicted))
        }
        return compose(tiles, header: header)
    }

    /// A titled picture in a panel.
    struct Tile {
        var image: RGBImage
        var lines: [String]
        var highlighted: Bool
    }

    // Layout, in pixels.
    static let margin = 12, gap = 14, frameWidth = 3, textPad = 6
    static var legendHeight: Int { BitmapFont.height(scale: 2) }

    /// Lays out `tiles` left to right under their titles; returns the panel and each tile's origin.
    func compose(_ tiles: [Tile], header: String?) -> (image: RGBImage, origins: [(x: Int, y: Int)]) {
        let m = Self.margin
        // Each column is as wide as its tile, widened (up to maxTileWidth) for its title text;
        // text that still does not fit drops to scale 1 and is then cut.
        let columns = tiles.map { tile -> (width: Int, scale: Int) in
            let widest = tile.lines.map { BitmapFont.width(of: $0, scale: 2) }.max() ?? 0
            let width = max(tile.image.width, min(widest + 2 * Self.textPad, max(maxTileWidth, tile.image.width)))
            return (width, widest + 2 * Self.textPad <= width ? 2 : 1)
        }
        let lineHeight = BitmapFont.height(scale: 2) + 5
        let titleHeight = tiles.map(\.lines.count).max().map { $0 * lineHeight + Self.textPad } ?? 0
        let tileAreaHeight = tiles.map(\.image.height).max() ?? 0
        let contentWidth = columns.map(\.width).reduce(0, +) + Self.gap * max(columns.count - 1, 0)
        let panelWidth = contentWidth + 2 * m
        let headerHeight = header == nil ? 0 : BitmapFont.height(scale: 2) + 10
        let legendHeight = Self.legendHeight
        let panelHeight = m + headerHeight + titleHeight + Self.frameWidth * 2 + tileAreaHeight + 10 + legendHeight + m
        var canvas = Canvas(width: panelWidth, height: panelHeight)

        if let header {
            // Scale 2 if it fits, else scale 1 (vertically centred), cut only if even that is too wide.
            let scale = BitmapFont.width(of: header, scale: 2) <= contentWidth ? 2 : 1
            let fitted = Self.fit(header, width: contentWidth, scale: scale)
            canvas.drawText(fitted, x: m, y: m + (BitmapFont.height(scale: 2) - BitmapFont.height(scale: scale)) / 2,
                            scale: scale, color: .text)
        }
        var x = m
        var origins: [(x: Int, y: Int)] = []
        let titleTop = m + headerHeight
        let tileTop = titleTop + titleHeight + Self.frameWidth
        for (tile, column) in zip(tiles, columns) {
            let textColor: PanelColor = tile.highlighted ? .black : .text
            if tile.highlighted {
                canvas.fill(x: x - Self.frameWidth, y: titleTop, width: column.width + 2 * Self.frameWidth,
                            height: titleHeight, color: .highlight)
            }
            for (i, line) in tile.lines.enumerated() {
                let scale = column.scale
                let text = Self.fit(line, width: column.width - 2 * Self.textPad, scale: scale)
                let y = titleTop + Self.textPad / 2 + i * lineHeight + (lineHeight - BitmapFont.height(scale: scale)) / 2
                canvas.drawText(text, x: x + Self.textPad, y: y, scale: scale, color: i == 0 ? textColor
                                    : (tile.highlighted ? .black : .dimText))
            }
            let left = x + (column.width - tile.image.width) / 2
            if tile.highlighted {
                canvas.frame(x: left - Self.frameWidth, y: tileTop - Self.frameWidth,
                             width: tile.image.width + 2 * Self.frameWidth,
                             height: tile.image.height + 2 * Self.frameWidth, thickness: Self.frameWidth,
                             color: .highlight)
            }
            canvas.draw(tile.image, x: left, y: tileTop)
            origins.append((left, tileTop))
            x += column.width + Self.gap
        }
        drawLegend(on: &canvas, x: m, y: tileTop + tileAreaHeight + Self.frameWidth + 10, maxWidth: contentWidth)
        return (canvas.image, origins)
    }

    /// "low [jet colour bar] high heat": how heat reads (maps are normalised per image and class).
    private func drawLegend(on canvas: inout Canvas, x: Int, y: Int, maxWidth: Int) {
        let low = "low", high = "high heat"
        canvas.drawText(low, x: x, y: y, scale: 2, color: .dimText)
        let barX = x + BitmapFont.width(of: low, scale: 2) + 8
        let barWidth = max(0, min(200, maxWidth - (barX - x) - BitmapFont.width(of: high, scale: 2) - 8))
        for i in 0..<barWidth {
            let index = ColorMap.jetIndex(Float(i) / Float(max(barWidth - 1, 1))) * 3
            let color = PanelColor(UInt8(ColorMap.jetTable[index].rounded()), UInt8(ColorMap.jetTable[index + 1].rounded()),
                                   UInt8(ColorMap.jetTable[index + 2].rounded()))
            canvas.fill(x: barX + i, y: y, width: 1, height: Self.legendHeight - 2, color: color)
        }
        canvas.drawText(high, x: barX + barWidth + 8, y: y, scale: 2, color: .dimText)
    }

    /// `text`, cut and ended with ".." if it is wider than `width` at `scale`.
    static func fit(_ text: String, width: Int, scale: Int) -> String {
        BitmapFont.fitted(text, width: width, scale: scale)
    }
}

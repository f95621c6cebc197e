import Foundation
import Vision

/// A segmentation result as one picture: a title line (e.g. ``SeverityScore/summary(classNames:weights:)``:
/// `severity 0.42 · damaged 18% · debris 7%`), the photo beside its class overlay (and, with a
/// depth map, a third tile of the depth), and a legend (a colour swatch and the name of every class).
///
/// Both pictures are the photo scaled (aspect kept, bilinear) so that its longer side is
/// `tileSide` pixels; the mask is scaled to the same size with the nearest filter (PIL's
/// rule), so it may come at the model's resolution. Overlay pixels of class `c` are
/// `round((1 - alpha) * photo + alpha * colors[c])`; pixels of the ignore index 255, or of any
/// index without a class name, are left as the photo (transparent). The depth tile colours
/// inverse depth with jet, `(1/d - 1/d_max) / (1/d_min - 1/d_max)`: red is the nearest, dark
/// blue the farthest (the map resampled bilinearly to the tile).
///
/// ```
/// +------------------------------------------+
/// | title                                    |
/// | +--------+  +--------+  +--------+       |
/// | | photo  |  | overlay|  | depth  |       |   (the depth tile only with a depth map)
/// | +--------+  +--------+  +--------+       |
/// | [#] undamaged  [#] damaged  [#] debris   |   (legend rows wrap)
/// +------------------------------------------+
/// ```
public struct SegmentationPanel: Sendable {
    /// The longer side of the photo and overlay tiles, in pixels.
    public var tileSide: Int
    /// The weight of the class colour in the overlay.
    public var alpha: Float

    public init(tileSide: Int = 256, alpha: Float = 0.5) {
        self.tileSide = tileSide
        self.alpha = alpha
    }

    // Layout constants, in pixels.
    public static let margin = 10, gap = 10, swatchSide = 14, swatchTextGap = 6, legendEntryGap = 18
    public static let textScale = 2
    static var lineHeight: Int { BitmapFont.height(scale: textScale) + 6 }

    /// Where everything goes in a panel; the tiles' top-left corners and each legend swatch's.
    public struct Layout: Sendable, Equatable {
        public let width: Int
        public let height: Int
        public let tileWidth: Int
        public let tileHeight: Int
        public let title: (x: Int, y: Int, scale: Int)
        public let photo: (x: Int, y: Int)
        public let overlay: (x: Int, y: Int)
        /// The depth tile's corner, `nil` without a depth map.
        public let depth: (x: Int, y: Int)?
        /// Top-left corner of class `c`'s swatch (`swatchSide` square); its name follows.
        public let swatches: [(x: Int, y: Int)]

        public static func == (a: Layout, b: Layout) -> Bool {
            a.width == b.width && a.height == b.height && a.tileWidth == b.tileWidth && a.tileHeight == b.tileHeight
                && a.title == b.title && a.photo == b.photo && a.overlay == b.overlay
                && a.depth.map { [$0.x, $0.y] } == b.depth.map { [$0.x, $0.y] }
                && a.swatches.elementsEqual(b.swatches, by: ==)
        }
    }

    /// The layout for a photo of `photoWidth` x `photoHeight` and these classes and title (and
    /// a depth tile when `depth`).
    public func layout(photoWidth: Int, photoHeight: Int, classNames: [String], title: String, depth: Bool = false) -> Layout {
        let m = Self.margin
        let longer = Double(max(photoWidth, photoHeight, 1)), side = Double(max(tileSide, 1))
        let tileWidth = max(1, Int((Double(max(photoWidth, 1)) * side / longer).rounded()))
        let tileHeight = max(1, Int((Double(max(photoHeight, 1)) * side / longer).rounded()))
        let contentWidth = (depth ? 3 : 2) * tileWidth + (depth ? 2 : 1) * Self.gap
        let titleScale = BitmapFont.width(of: title, scale: Self.textScale) <= contentWidth ? Self.textScale : 1
        let tilesTop = m + Self.lineHeight
        // Legend entries left to right, wrapping when a row is full.
        var swatches: [(x: Int, y: Int)] = []
        var x = m, y = tilesTop + tileHeight + m
        for name in classNames {
            let entry = Self.swatchSide + Self.swatchTextGap + BitmapFont.width(of: name, scale: Self.textScale)
            if x > m && x + entry > m + contentWidth {
                x = m
                y += Self.lineHeight
            }
            swatches.append((x, y + (Self.lineHeight - 6 - Self.swatchSide) / 2))
            x += entry + Self.legendEntryGap
        }
        let legendRows = classNames.isEmpty ? 0 : (y - (tilesTop + tileHeight + m)) / Self.lineHeight + 1
        let height = tilesTop + tileHeight + m + legendRows * Self.lineHeight + m
        return Layout(width: contentWidth + 2 * m, height: height, tileWidth: tileWidth, tileHeight: tileHeight,
                      title: (m, m + (BitmapFont.height(scale: Self.textScale) - BitmapFont.height(scale: titleScale)) / 2,
                              titleScale),
                      photo: (m, tilesTop), overlay: (m + tileWidth + Self.gap, tilesTop),
                      depth: depth ? (m + 2 * (tileWidth + Self.gap), tilesTop) : nil, swatches: swatches)
    }

    /// The panel for `photo` and its `mask` (any size; class indices, 255 = ignore), with a
    /// third tile for `depth` (any size) when given.
    /// `classNames[c]` names class `c`; `colors` (default ``SegmentationPalette``) colours them.
    /// - Throws: ``SegmentationPanelError`` for an empty photo or a mask whose index count is
    ///   not its width times its height.
    public func render(photo: RGBImage, mask: some ClassMaskLike, classNames: [String], colors: [PanelColor]? = nil,
                       title: String, depth: DepthMap? = nil) throws -> RGBImage {
        guard photo.width > 0, photo.height > 0 else { throw SegmentationPanelError.emptyPhoto }
        let (count, overflow) = mask.width.multipliedReportingOverflow(by: mask.height)
        guard mask.width > 0, mask.height > 0, !overflow, count == mask.indices.count else {
            throw SegmentationPanelError.maskSize(width: mask.width, height: mask.height, indices: mask.indices.count)
        }
        let layout = layout(photoWidth: photo.width, photoHeight: photo.height, classNames: classNames, title: title,
                            depth: depth != nil)
        let (w, h) = (layout.tileWidth, layout.tileHeight)
        let tile = photo.width == w && photo.height == h ? photo : Resize.resized(photo, width: w, height: h, method: .bilinear)
        let labels = Self.nearest(mask.indices, width: mask.width, height: mask.height, toWidth: w, toHeight: h)
        let palette = SegmentationPalette.colors(count: classNames.count, given: colors)

        var canvas = Canvas(width: layout.width, height: layout.height)
        let titleWidth = layout.width - 2 * Self.margin
        canvas.drawText(BitmapFont.fitted(title, width: titleWidth, scale: layout.title.scale), x: layout.title.x,
                        y: layout.title.y, scale: layout.title.scale, color: .text)
        canvas.draw(tile, x: layout.photo.x, y: layout.photo.y)
        canvas.draw(Self.overlay(tile, labels: labels, colors: palette, alpha: alpha), x: layout.overlay.x, y: layout.overlay.y)
        if let depth, let corner = layout.depth {
            canvas.draw(Self.depthTile(depth, width: w, height: h), x: corner.x, y: corner.y)
        }
        for (c, corner) in layout.swatches.enumerated() {
            canvas.fill(x: corner.x, y: corner.y, width: Self.swatchSide, height: Self.swatchSide, color: palette[c])
            let textY = corner.y + (Self.swatchSide - BitmapFont.height(scale: Self.textScale)) / 2 + 1
            canvas.drawText(classNames[c], x: corner.x + Self.swatchSide + Self.swatchTextGap, y: textY,
                            scale: Self.textScale, color: .text)
        }
        return canvas.image
    }

    /// ``render(photo:mask:classNames:colors:title:depth:)`` with the default tile size and alpha.
    public static func render(photo: RGBImage, mask: some ClassMaskLike, classNames: [String],
                              colors: [PanelColor]? = nil, title: String, depth: DepthMap? = nil) throws -> RGBImage {
        try SegmentationPanel().render(photo: photo, mask: mask, classNames: classNames, colors: colors, title: title, depth: depth)
    }

    /// `depth` at `width` x `height` (bilinear), its inverse depth normalised to [0, 1] and
    /// coloured with jet: 1 (red) at the nearest depth, 0 (dark blue) at the farthest; a map of
    /// one depth is all 0.5.
    public static func depthTile(_ depth: DepthMap, width: Int, height: Int) -> RGBImage {
        let values = Resize.resizeMap(depth.values, width: depth.width, height: depth.height, toWidth: width, toHeight: height,
                                      method: .bilinear)
        let inverse = values.map { 1 / max($0, Float.leastNormalMagnitude) }
        let (low, high) = (inverse.min() ?? 0, inverse.max() ?? 0)
        let heat = inverse.map { high > low ? ($0 - low) / (high - low) : 0.5 }
        return ColorMap.colorize(heat, width: width, height: height)
    }

    /// `image` with each pixel of a class blended with its colour; `labels` (`[height, width]`,
    /// the image's size) at or beyond `colors.count` (255 = ignore) leave the pixel as it is.
    public static func overlay(_ image: RGBImage, labels: [UInt8], colors: [PanelColor], alpha: Float) -> RGBImage {
        var pixels = image.pixels
        let a = min(max(alpha, 0), 1)
        for (p, label) in labels.prefix(image.pixelCount).enumerated() where Int(label) < colors.count {
            let color = colors[Int(label)]
            for (k, channel) in [color.r, color.g, color.b].enumerated() {
                let value = (1 - a) * Float(pixels[3 * p + k]) + a * Float(channel)
                pixels[3 * p + k] = UInt8(min(max(value, 0), 255).rounded())
            }
        }
        return RGBImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// `labels` resized with PIL's nearest rule: output (x, y) reads source
    /// `(floor((x + 0.5) * w / toW), floor((y + 0.5) * h / toH))`.
    static func nearest(_ labels: [UInt8], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [UInt8] {
        if width == toWidth && height == toHeight { return labels }
        let xs = (0..<toWidth).map { min(width - 1, Int((Double($0) + 0.5) * Double(width) / Double(toWidth))) }
        var out = [UInt8](repeating: 0, count: toWidth * toHeight)
        for y in 0..<toHeight {
            let sy = min(height - 1, Int((Double(y) + 0.5) * Double(height) / Double(toHeight)))
            for x in 0..<toWidth { out[y * toWidth + x] = labels[sy * width + xs[x]] }
        }
        return out
    }
}

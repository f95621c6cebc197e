/// An 8-bit RGB colour.
public struct PanelColor: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    public static let background = PanelColor(24, 24, 28)
    public static let text = PanelColor(235, 235, 235)
    public static let dimText = PanelColor(170, 170, 178)
    /// The predicted class's title bar and frame.
    public static let highlight = PanelColor(255, 190, 0)
    public static let black = PanelColor(0, 0, 0)
}

/// A mutable RGB picture to compose panels on (Grad-CAM panels, segmentation panels):
/// rectangles, pasted images and bitmap text. Everything is clipped to the canvas.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes, row-major RGB, as in ``RGBImage``.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: PanelColor = .background) {
        precondition(width >= 0 && height >= 0, "negative canvas size \(width)x\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, color: background)
    }

    /// The picture drawn so far.
    public var image: RGBImage { RGBImage(width: width, height: height, pixels: pixels) }

    /// Fills a rectangle.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: PanelColor) {
        let x0 = max(x, 0), x1 = min(x + w, width), y0 = max(y, 0), y1 = min(y + h, height)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            var i = (row * width + x0) * 3
            for _ in x0..<x1 {
                pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b
                i += 3
            }
        }
    }

    /// Draws a frame `thickness` pixels wide just inside the rectangle.
    public mutating func frame(x: Int, y: Int, width w: Int, height h: Int, thickness: Int, color: PanelColor) {
        fill(x: x, y: y, width: w, height: thickness, color: color)
        fill(x: x, y: y + h - thickness, width: w, height: thickness, color: color)
        fill(x: x, y: y, width: thickness, height: h, color: color)
        fill(x: x + w - thickness, y: y, width: thickness, height: h, color: color)
    }

    /// Copies `image` with its top-left corner at (`x`, `y`).
    public mutating func draw(_ image: RGBImage, x: Int, y: Int) {
        let x0 = max(x, 0), x1 = min(x + image.width, width)
        guard x0 < x1 else { return }
        image.pixels.withUnsafeBufferPointer { src in
            for row in max(y, 0)..<min(y + image.height, height) {
                let from = ((row - y) * image.width + (x0 - x)) * 3
                let to = (row * width + x0) * 3
                for i in 0..<((x1 - x0) * 3) { pixels[to + i] = src[from + i] }
            }
        }
    }

    /// Draws `text` in the 5x8 ``BitmapFont``, each font pixel a `scale` x `scale` square, with
    /// the glyphs' top-left at (`x`, `y`).
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 2, color: PanelColor = .text) {
        var left = x
        for character in text {
            let glyph = BitmapFont.glyph(character)
            for (column, bits) in glyph.enumerated() where bits != 0 {
                for row in 0..<BitmapFont.glyphHeight where bits & (1 << UInt8(row)) != 0 {
                    fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
            left += BitmapFont.advance * scale
        }
    }
}

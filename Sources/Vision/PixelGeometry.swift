/// Exact geometric copies (no resampling) of images and masks, for augmenting an image and its
/// mask together: a crop moves both by the same whole pixels, a flip mirrors both.
extension RGBImage {
    /// The image mirrored left-right: pixel (x, y) becomes (width - 1 - x, y).
    public func flippedHorizontally() -> RGBImage {
        RGBImage(width: width, height: height,
                 pixels: PixelGeometry.flip(pixels, width: width, height: height, channels: 3))
    }

    /// The `width` x `height` window whose top-left corner is (`x`, `y`) of this image (either
    /// may be negative, and the window may reach past the image): output pixel (i, j) is pixel
    /// (x + i, y + j), or `fill` where that lies outside.
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for a negative or overflowing size.
    public func cropped(x: Int, y: Int, width: Int, height: Int,
                        fill: (r: UInt8, g: UInt8, b: UInt8) = (0, 0, 0)) throws -> RGBImage {
        let out = try PixelGeometry.crop(pixels, width: self.width, height: self.height, channels: 3,
                                         x: x, y: y, toWidth: width, toHeight: height, fill: [fill.r, fill.g, fill.b])
        return RGBImage(width: width, height: height, pixels: out)
    }
}

extension ClassMask {
    /// The mask mirrored left-right: pixel (x, y) becomes (width - 1 - x, y).
    public func flippedHorizontally() -> ClassMask {
        // The count is unchanged, so the initialiser cannot fail.
        (try? ClassMask(width: width, height: height,
                        indices: PixelGeometry.flip(indices, width: width, height: height, channels: 1))) ?? self
    }

    /// The `width` x `height` window whose top-left corner is (`x`, `y`) of this mask, as
    /// ``RGBImage/cropped(x:y:width:height:fill:)``; outside the mask, `fill` (by default
    /// ``ignoreIndex``, so padding is never counted as a class).
    /// - Throws: ``ImageError/invalidArgument(detail:)`` for a negative or overflowing size.
    public func cropped(x: Int, y: Int, width: Int, height: Int, fill: UInt8 = ClassMask.ignoreIndex) throws -> ClassMask {
        let out = try PixelGeometry.crop(indices, width: self.width, height: self.height, channels: 1,
                                         x: x, y: y, toWidth: width, toHeight: height, fill: [fill])
        return try ClassMask(width: width, height: height, indices: out)
    }
}

/// Flips and crops of interleaved 8-bit pixels.
enum PixelGeometry {
    static func flip(_ pixels: [UInt8], width: Int, height: Int, channels: Int) -> [UInt8] {
        var out = pixels
        let row = width * channels
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    for x in 0..<width {
                        let from = y * row + x * channels, to = y * row + (width - 1 - x) * channels
                        for c in 0..<channels { dst[to + c] = src[from + c] }
                    }
                }
            }
        }
        return out
    }

    static func crop(_ pixels: [UInt8], width: Int, height: Int, channels: Int, x: Int, y: Int,
                     toWidth: Int, toHeight: Int, fill: [UInt8]) throws -> [UInt8] {
        let bound = Int(Int32.max)
        guard toWidth >= 0, toHeight >= 0, toWidth <= bound, toHeight <= bound, (-bound...bound).contains(x), (-bound...bound).contains(y),
              let count = ImageSizeArithmetic.product(toWidth, toHeight, channels) else {
            throw ImageError.invalidArgument(detail: "crop of \(toWidth)x\(toHeight) at (\(x), \(y))")
        }
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<toWidth * toHeight {
            for c in 0..<channels { out[i * channels + c] = fill[c] }
        }
        // The overlap of the window with the image, in image coordinates.
        let left = max(x, 0), right = min(x + toWidth, width)
        let top = max(y, 0), bottom = min(y + toHeight, height)
        guard left < right, top < bottom else { return out }
        let length = (right - left) * channels
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for row in top..<bottom {
                    let from = src.baseAddress! + (row * width + left) * channels
                    let to = dst.baseAddress! + ((row - y) * toWidth + (left - x)) * channels
                    to.update(from: from, count: length)
                }
            }
        }
        return out
    }
}

import Foundation
import Tensor
import Vision

/// Random training-time changes to preprocessed model input, off by default (every field zero).
///
/// Applied per image to a `[n, h, w, c]` NHWC float tensor *after* preprocessing: the tensor's
/// values are mapped back to pixel space (RGB, 0-255) with the ``Preprocessing`` that produced
/// them, changed, clipped to 0-255 where a step says so, and mapped forward again, so the same
/// augmentation means the same thing for `.unit`, `.raw`, `.tf` and `.caffe` input.
///
/// Each image `i` of a batch draws from its own ``SeededGenerator`` seeded from `(seed, i)`, so a
/// batch is reproducible from its seed and images can be augmented in parallel. Steps, in order:
/// 1. **flip** — mirror left-right with probability 1/2.
/// 2. **shift + rotate** — one resampling: shift `dx = round(u * shift * w)`, `dy = round(u * shift * h)`
///    pixels (`u` uniform in [-1, 1], independently) and rotation by `u * rotate` degrees about the
///    image centre, inverse-mapped with bilinear sampling (a pure integer shift copies exactly).
///    Outside the source: ``Fill/zero`` (a black pixel) or ``Fill/edge`` (nearest border pixel).
/// 3. **brightness** — pixels times `f`, `f` uniform in `[1 - brightness, 1 + brightness]`
///    (Keras `ImageDataGenerator(brightness_range=...)`), clipped to 0-255.
/// 4. **contrast** — per channel `x -> m + f (x - m)`, `m` the channel mean of the image, `f`
///    uniform in `[1 - contrast, 1 + contrast]` (`tf.image.adjust_contrast`), clipped to 0-255.
/// 5. **night** — with probability `night`, the photo is made to look taken at dusk/night. On
///    RGB scaled to [0, 1]: `d` uniform in [0.15, 0.35] (brightness kept),
///    `r' = d*0.70*r`, `g' = d*0.85*g`, `b' = d*1.15*b + 0.02` (a blue-ish cast and a faint sky glow),
///    then Gaussian noise `N(0, 0.02)` added to every value (sensor noise), clipped to [0, 1].
///    Images with a channel count other than 3 get the darkening, glow and noise without the tint.
public struct Augmentation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What fills pixels a shift or rotation brings in from outside the image.
    public enum Fill: String, Sendable, Hashable, Codable, CaseIterable {
        /// Black (pixel value 0; `0` in `.unit`/`.raw` tensors, `-mean` in `.caffe` tensors).
        case zero
        /// The nearest border pixel (Keras `fill_mode="nearest"`).
        case edge
    }

    /// Mirror left-right with probability 1/2.
    public var flip: Bool
    /// Largest shift as a fraction of width (x) and height (y), in [0, 0.5].
    public var shift: Float
    /// Fill for shifts and rotations.
    public var fill: Fill
    /// Largest rotation in degrees, in [0, 180].
    public var rotate: Float
    /// Brightness factor range half-width, in [0, 1).
    public var brightness: Float
    /// Contrast factor range half-width, in [0, 1).
    public var contrast: Float
    /// Probability of the night transform, in [0, 1].
    public var night: Float

    public init(flip: Bool = false, shift: Float = 0, fill: Fill = .zero, rotate: Float = 0,
                brightness: Float = 0, contrast: Float = 0, night: Float = 0) {
        self.flip = flip
        self.shift = shift
        self.fill = fill
        self.rotate = rotate
        self.brightness = brightness
        self.contrast = contrast
        self.night = night
    }

    /// True when nothing would change.
    public var isIdentity: Bool {
        !flip && shift == 0 && rotate == 0 && brightness == 0 && contrast == 0 && night == 0
    }

    /// Parses the CLI form, e.g. `flip,shift=0.1,rotate=10,brightness=0.2,contrast=0.2,night=0.3`
    /// (also `fill=edge|zero`). Items may come in any order; an unknown item, a missing or
    /// out-of-range value is an ``AugmentationError``. See ``parseOptional(_:)`` for "none".
    public init(parsing text: String) throws {
        self.init()
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for item in items {
            if item.isEmpty { throw AugmentationError.invalid(text, "empty item") }
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0].lowercased()
            let value = parts.count == 2 ? parts[1] : nil
            func number(_ range: ClosedRange<Float>, open: Bool = false) throws -> Float {
                guard let value, let x = Float(value), x.isFinite else {
                    throw AugmentationError.invalid(text, "'\(key)' needs a number, e.g. \(key)=0.1")
                }
                guard range.contains(x), !(open && x == range.upperBound) else {
                    throw AugmentationError.invalid(text, "'\(key)=\(value)' is outside \(open ? "[\(range.lowerBound), \(range.upperBound))" : "\(range)")")
                }
                return x
            }
            switch key {
            case "flip":
                switch value?.lowercased() {
                case nil, "true", "1", "yes": flip = true
                case "false", "0", "no": flip = false
                default: throw AugmentationError.invalid(text, "'flip' takes no value (or true/false)")
                }
            case "shift": shift = try number(0...0.5)
            case "rotate", "rotation": rotate = try number(0...180)
            case "brightness": brightness = try number(0...1, open: true)
            case "contrast": contrast = try number(0...1, open: true)
            case "night": night = try number(0...1)
            case "fill":
                guard let value, let mode = Fill(rawValue: value.lowercased()) else {
                    throw AugmentationError.invalid(text, "'fill' is zero or edge")
                }
                fill = mode
            default:
                throw AugmentationError.invalid(text, "unknown item '\(key)' (known: flip, shift, rotate, brightness, contrast, night, fill)")
            }
        }
    }

    /// `nil` for `""`, `none` or `off`; otherwise ``init(parsing:)``.
    public static func parseOptional(_ text: String) throws -> Augmentation? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty || trimmed == "none" || trimmed == "off" { return nil }
        let parsed = try Augmentation(parsing: text)
        return parsed.isIdentity ? nil : parsed
    }

    /// The CLI form (parses back to an equal value); `none` when nothing is on.
    public var description: String {
        var items: [String] = []
        if flip { items.append("flip") }
        if shift > 0 { items.append("shift=\(shift)") }
        if (shift > 0 || rotate > 0) && fill != .zero { items.append("fill=\(fill.rawValue)") }
        if rotate > 0 { items.append("rotate=\(rotate)") }
        if brightness > 0 { items.append("brightness=\(brightness)") }
        if contrast > 0 { items.append("contrast=\(contrast)") }
        if night > 0 { items.append("night=\(night)") }
        return items.isEmpty ? "none" : items.joined(separator: ",")
    }

    // MARK: Applying

    /// Augments every image of `batch` (`[n, h, w, c]`, produced with `preprocessing`) in place.
    public func apply(to batch: inout Tensor, seed: UInt64, preprocessing: Preprocessing = .unit) {
        precondition(batch.rank == 4, "augmentation needs [n, h, w, c], got \(batch.shape)")
        guard !isIdentity else { return }
        let n = batch.shape[0], h = batch.shape[1], w = batch.shape[2], c = batch.shape[3]
        let length = h * w * c
        guard n > 0, length > 0 else { return }
        let augmentation = self
        batch.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            Parallel.forEachRange(n) { range in
                var scratch = [Float](repeating: 0, count: length)
                for i in range {
                    var rng = Augmentation.generator(seed: seed, image: i)
                    let image = UnsafeMutableBufferPointer(start: base.value + i * length, count: length)
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        augmentation.apply(image: image, height: h, width: w, channels: c,
                                           preprocessing: preprocessing, scratch: scratch, using: &rng)
                    }
                }
            }
        }
    }

    /// A copy of `batch` augmented (see ``apply(to:seed:preprocessing:)``).
    public func applied(to batch: Tensor, seed: UInt64, preprocessing: Preprocessing = .unit) -> Tensor {
        var copy = batch
        apply(to: &copy, seed: seed, preprocessing: preprocessing)
        return copy
    }

    /// The generator image `image` of a batch seeded with `seed` uses.
    static func generator(seed: UInt64, image: Int) -> SeededGenerator {
        SeededGenerator(seed: SeededGenerator.mixing(seed, UInt64(truncatingIfNeeded: image)))
    }

    /// Augments one `h x w x c` image in place; `scratch` holds at least `h*w*c` floats.
    /// Random numbers are drawn in a fixed order whatever is enabled.
    func apply(image: UnsafeMutableBufferPointer<Float>, height h: Int, width w: Int, channels c: Int,
               preprocessing: Preprocessing, scratch: UnsafeMutableBufferPointer<Float>,
               using rng: inout SeededGenerator) {
        let space = PixelSpace(preprocessing, channels: c)
        let flipDraw = rng.nextUnit()
        let shiftX = rng.nextUnit() * 2 - 1, shiftY = rng.nextUnit() * 2 - 1
        let angleDraw = rng.nextUnit() * 2 - 1
        let brightnessDraw = rng.nextUnit() * 2 - 1
        let contrastDraw = rng.nextUnit() * 2 - 1
        let nightDraw = rng.nextUnit()
        let darknessDraw = rng.nextUnit()

        if flip && flipDraw < 0.5 { Geometry.flipHorizontally(image, height: h, width: w, channels: c) }
        let dx = shift > 0 ? (shiftX * shift * Float(w)).rounded() : 0
        let dy = shift > 0 ? (shiftY * shift * Float(h)).rounded() : 0
        let angle = rotate > 0 ? angleDraw * rotate : 0
        if dx != 0 || dy != 0 || angle != 0 {
            let fillValues = (0..<c).map { space.toModel(0, channel: $0) }
            Geometry.affine(image, height: h, width: w, channels: c, dx: dx, dy: dy, degrees: angle,
                            fill: fill, fillValues: fillValues, scratch: scratch)
        }
        if brightness > 0 {
            let factor = 1 + brightnessDraw * brightness
            space.map(image) { value, _ in min(max(value * factor, 0), 1) }
        }
        if contrast > 0 {
            let factor = 1 + contrastDraw * contrast
            var means = [Float](repeating: 0, count: c)
            space.map(image) { value, k in means[k] += value; return value }
            let pixels = Float(h * w)
            means = means.map { $0 / pixels }
            space.map(image) { value, k in min(max(means[k] + factor * (value - means[k]), 0), 1) }
        }
        if night > 0 && nightDraw < night {
            let d = 0.15 + 0.20 * darknessDraw
            let tint: [Float] = c == 3 ? [0.70, 0.85, 1.15] : [Float](repeating: 1, count: c)
            let glow: [Float] = c == 3 ? [0, 0, 0.02] : [Float](repeating: 0.02, count: c)
            space.map(image) { value, k in
                let rgb = space.rgbChannel(k)
                let noisy = d * tint[rgb] * value + glow[rgb] + 0.02 * rng.nextNormal()
                return min(max(noisy, 0), 1)
            }
        }
    }
}

/// A malformed augmentation string.
public enum AugmentationError: Error, CustomStringConvertible, Equatable {
    case invalid(String, String)

    public var description: String {
        switch self {
        case .invalid(let text, let reason):
            return "augmentation '\(text)': \(reason)"
        }
    }
}

/// Maps preprocessed model values to RGB in [0, 1] and back, per model channel.
struct PixelSpace {
    /// unit = (model + offset[k]) * scale
    let scale: Float
    let offsets: [Float]
    /// The RGB channel model channel `k` holds (BGR for caffe).
    let rgb: [Int]

    init(_ preprocessing: Preprocessing, channels: Int) {
        switch preprocessing {
        case .unit:
            scale = 1; offsets = [Float](repeating: 0, count: channels); rgb = Array(0..<channels)
        case .raw:
            scale = 1 / 255; offsets = [Float](repeating: 0, count: channels); rgb = Array(0..<channels)
        case .tf:
            scale = 0.5; offsets = [Float](repeating: 1, count: channels); rgb = Array(0..<channels)
        case .caffe where channels == 3:
            let (b, g, r) = Preprocessing.caffeMeanBGR
            scale = 1 / 255; offsets = [b, g, r]; rgb = [2, 1, 0]
        case .caffe:
            scale = 1 / 255; offsets = [Float](repeating: 0, count: channels); rgb = Array(0..<channels)
        }
    }

    @inline(__always) func toUnit(_ x: Float, channel k: Int) -> Float { (x + offsets[k]) * scale }
    @inline(__always) func toModel(_ u: Float, channel k: Int) -> Float { u / scale - offsets[k] }
    @inline(__always) func rgbChannel(_ k: Int) -> Int { rgb[k] }

    /// Replaces every value by `transform(unitValue, modelChannel)`, in memory order.
    func map(_ image: UnsafeMutableBufferPointer<Float>, _ transform: (Float, Int) -> Float) {
        let c = offsets.count
        var k = 0
        for i in 0..<image.count {
            image[i] = toModel(transform(toUnit(image[i], channel: k), k), channel: k)
            k += 1
            if k == c { k = 0 }
        }
    }
}

import Vision

extension DepthMap {
    /// The range a model's depth is mapped into for the area weights: `1` (the nearest pixel)
    /// to `100` (a hundred times as far, and anything farther: the sky, whose disparity is 0).
    /// Only ratios matter to the score, so the unit is "distance of the nearest pixel".
    public static let relativeDepthRange: ClosedRange<Float> = 1...100

    /// The relative depth of a relative-inverse-depth (disparity) map, as Depth Anything's
    /// relative models predict it (larger is nearer, 0 for the sky):
    ///
    ///     depth(p) = min(100, max_q disparity(q) / disparity(p))
    ///
    /// `1/disparity` scaled so the nearest pixel is at 1 and clipped at 100 (a disparity below
    /// 1 % of the largest, 0 included, counts as 100). A map whose disparities are all 0 has no
    /// depth information: every pixel is 1 (the weights are then uniform). Depth Anything's
    /// disparity is known only up to scale and shift; taking it as proportional to `1/depth` is
    /// the method's approximation.
    /// - Throws: ``SeverityError`` for a size mismatch or a negative or non-finite value
    ///   (naming the pixel and `file`).
    public static func relative(disparity: [Float], width: Int, height: Int, file: String? = nil) throws -> DepthMap {
        let map = try DepthMap(width: width, height: height, values: disparity, file: file)
        let far = relativeDepthRange.upperBound
        let largest = map.values.max() ?? 0
        guard largest > 0 else {
            return try DepthMap(width: width, height: height, values: [Float](repeating: 1, count: disparity.count), file: file)
        }
        let floor = largest / far
        return try DepthMap(width: width, height: height,
                            values: map.values.map { min(far, largest / max($0, floor)) }, file: file)
    }

    /// The relative depth of a metric depth map (metres, larger is farther), as Depth
    /// Anything's metric models predict it: each depth divided by the nearest, the nearest
    /// taken as at least 1 % of the farthest, clipped into ``relativeDepthRange``. All zeros
    /// give 1 everywhere.
    /// - Throws: ``SeverityError`` for a size mismatch or a negative or non-finite value.
    public static func relative(metricDepth: [Float], width: Int, height: Int, file: String? = nil) throws -> DepthMap {
        let map = try DepthMap(width: width, height: height, values: metricDepth, file: file)
        let range = relativeDepthRange
        let farthest = map.values.max() ?? 0
        guard farthest > 0 else {
            return try DepthMap(width: width, height: height, values: [Float](repeating: 1, count: metricDepth.count), file: file)
        }
        let nearest = max(map.values.min() ?? 0, farthest / range.upperBound)
        return try DepthMap(width: width, height: height,
                            values: map.values.map { min(range.upperBound, max(range.lowerBound, $0 / nearest)) }, file: file)
    }

    /// This map resampled bilinearly (half-pixel centres) to `width` x `height` whatever its
    /// aspect ratio: for a map that covers the whole photo by construction, as a depth model's
    /// output on the resized photo does (whose sides were rounded to whole patches).
    /// ``fitted(toWidth:height:)`` is the checked form for maps from files.
    public func resampled(toWidth newWidth: Int, height newHeight: Int) throws -> DepthMap {
        if newWidth == width && newHeight == height { return self }
        guard newWidth >= 1, newHeight >= 1 else {
            throw SeverityError.size(what: "resampled depth map", width: newWidth, height: newHeight, values: 0)
        }
        let values = Resize.resizeMap(self.values, width: width, height: height, toWidth: newWidth, toHeight: newHeight,
                                      method: .bilinear)
        return try DepthMap(width: newWidth, height: newHeight, values: values, file: file)
    }
}

import Foundation

/// How badly the structure in one photo is damaged, from a predicted segmentation mask and,
/// optionally, a depth map.
///
/// **Definition.** Let `c(p)` be the predicted class of pixel `p` and `v(c)` its damage value
/// from ``SeverityWeights`` (by default `v(undamaged_structure) = 0`, `v(damaged_structure) =
/// 0.5`, `v(debris) = 1`). Pixels whose class has a value are **structure**; the others
/// (background, sky, the ignore index 255) are left out. Each pixel has an area weight `a(p)`:
/// `1` without a depth map, or `depth(p)²` with one — under a pinhole camera a pixel at depth `d`
/// covers an area of the scene proportional to `d²`, so a far pixel counts for more. Then
///
///     score = Σ_{p ∈ structure} a(p) · v(c(p))  /  Σ_{p ∈ structure} a(p)   ∈ [0, 1]
///
/// 0 means all visible structure is intact, 1 that it is all debris. When there is no structure
/// (no structure pixel, or all of them at depth 0) the score is 0 and ``hasStructure`` is
/// `false`: report that instead of a severity.
///
/// **Area fractions.** ``classFractions``: the pixel fraction of each class over the whole mask
/// (`count(c) / (width · height)`, ignored pixels included in the denominator);
/// ``depthWeightedClassFractions`` (only with a depth map): `Σ_{c(p) = c} a(p) / Σ_p a(p)` over
/// the whole mask.
public struct SeverityScore: Sendable, Equatable {
    /// The severity in `[0, 1]`; 0 when ``hasStructure`` is `false`.
    public let score: Double
    /// Pixels of a structure class.
    public let structurePixels: Int
    /// `Σ a(p)` over structure pixels (`structurePixels` without a depth map).
    public let structureArea: Double
    /// All pixels of the mask (`width * height`).
    public let pixels: Int
    /// `[classCount]`: each class's share of all pixels.
    public let classFractions: [Double]
    /// `[classCount]`: each class's share of `Σ a(p)` over all pixels; `nil` without a depth map
    /// (all zeros when every depth is 0).
    public let depthWeightedClassFractions: [Double]?

    /// Whether there was any structure (with positive area) to score.
    public var hasStructure: Bool { structurePixels > 0 && structureArea > 0 }

    /// Whether the area weights came from a depth map.
    public var isDepthWeighted: Bool { depthWeightedClassFractions != nil }

    /// The score of `mask` (`[height, width]` row-major class indices, 255 = ignore) for a model
    /// of `classCount` classes (1...255); `depth`, when given, holds `[height, width]` depths
    /// (finite, >= 0) of the same size.
    /// - Throws: ``SeverityError`` for a size mismatch, a mask value that is neither a class nor
    ///   255, a weight for a class beyond `classCount`, or a negative / non-finite depth.
    public static func compute(mask: [UInt8], width: Int, height: Int, classCount: Int,
                               weights: SeverityWeights = .damage, depth: [Float]? = nil) throws -> SeverityScore {
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard width >= 1, height >= 1, !overflow, count == mask.count else {
            throw SeverityError.size(what: "mask", width: width, height: height, values: mask.count)
        }
        guard (1...255).contains(classCount) else { throw SeverityError.classCount(classCount) }
        for (c, v) in weights.values.sorted(by: { $0.key < $1.key }) where c >= classCount {
            throw SeverityError.weight(classIndex: c, value: v, classes: classCount)
        }
        if let depth {
            guard depth.count == mask.count else {
                throw SeverityError.size(what: "depth map", width: width, height: height, values: depth.count)
            }
            _ = try DepthMap(width: width, height: height, values: depth)  // finite and >= 0
        }
        // v(c) per mask value, NaN for values that are not structure.
        var value = [Double](repeating: .nan, count: 256)
        for (c, v) in weights.values { value[c] = v }
        var pixelCounts = [Int](repeating: 0, count: 256)
        var areas = [Double](repeating: 0, count: 256)
        var weightedSum = 0.0, structureArea = 0.0, structurePixels = 0
        for (i, label) in mask.enumerated() {
            let c = Int(label)
            guard c < classCount || c == PixelConfusionMatrix.defaultIgnoreIndex else {
                throw SeverityError.maskValue(label, x: i % width, y: i / width, classes: classCount)
            }
            let a: Double
            if let depth { a = Double(depth[i]) * Double(depth[i]) } else { a = 1 }
            pixelCounts[c] += 1
            areas[c] += a
            let v = value[c]
            if !v.isNaN {
                structurePixels += 1
                structureArea += a
                weightedSum += a * v
            }
        }
        let totalArea = areas.reduce(0, +)
        let hasArea = structurePixels > 0 && structureArea > 0
        return SeverityScore(
            score: hasArea ? min(1, max(0, weightedSum / structureArea)) : 0,
            structurePixels: structurePixels, structureArea: structureArea, pixels: mask.count,
            classFractions: (0..<classCount).map { Double(pixelCounts[$0]) / Double(mask.count) },
            depthWeightedClassFractions: depth == nil ? nil
                : (0..<classCount).map { totalArea > 0 ? areas[$0] / totalArea : 0 })
    }

    /// The score of a mask, with an optional depth map fitted to it (same size, or resampled
    /// bilinearly when the aspect ratios agree within 1 %: ``DepthMap/fitted(toWidth:height:)``).
    public static func compute(mask: some ClassMaskLike, classCount: Int, weights: SeverityWeights = .damage,
                               depth: DepthMap? = nil) throws -> SeverityScore {
        let fitted = try depth?.fitted(toWidth: mask.width, height: mask.height)
        return try compute(mask: mask.indices, width: mask.width, height: mask.height, classCount: classCount,
                           weights: weights, depth: fitted?.values)
    }

    /// A one-line summary for panels and logs: `severity 0.42 · damaged 18% · debris 7%` — the
    /// score, then each class with a positive damage value and its area share (depth-weighted
    /// when there was a depth map), named by `classNames` (index order; missing names print as
    /// `class K`). Without structure: `no structure in view`.
    public func summary(classNames: [String], weights: SeverityWeights = .damage) -> String {
        guard hasStructure else { return "no structure in view" }
        let fractions = depthWeightedClassFractions ?? classFractions
        var parts = [String(format: "severity %.2f", score)]
        for c in weights.structureClasses where (weights.value(ofClass: c) ?? 0) > 0 && c < fractions.count {
            let name = c < classNames.count ? classNames[c] : "class \(c)"
            parts.append("\(name) \(Int((fractions[c] * 100).rounded()))%")
        }
        return parts.joined(separator: " \u{B7} ")
    }
}

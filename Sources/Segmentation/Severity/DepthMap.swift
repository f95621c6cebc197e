import Foundation
import Tensor
import Vision

/// A per-pixel depth map for the area weighting of a ``SeverityScore``: `values[y * width + x]`
/// (`[height, width]` row-major), finite and >= 0, in any unit (only ratios matter: the score
/// divides by the total weight). Usually read from a `.npy` a monocular depth model wrote.
public struct DepthMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `[height, width]` depths, row-major.
    public let values: [Float]
    /// The file it was read from, for error messages.
    public let file: String?

    /// The most a depth map's aspect ratio (width / height) may differ, relatively, from the
    /// mask's for it to be resampled to the mask: 1 %.
    public static let aspectTolerance = 0.01

    /// A map over `values`; every value finite and >= 0, `values.count == width * height`,
    /// both sides at least 1.
    public init(width: Int, height: Int, values: [Float], file: String? = nil) throws {
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard width >= 1, height >= 1, !overflow, count == values.count else {
            throw SeverityError.size(what: file.map { "depth map \($0)" } ?? "depth map", width: width, height: height,
                                     values: values.count)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            let (x, y) = (bad % width, bad / width)
            throw values[bad].isFinite ? SeverityError.depthNegative(value: values[bad], x: x, y: y, file: file)
                                       : SeverityError.depthNotFinite(value: values[bad], x: x, y: y, file: file)
        }
        self.width = width
        self.height = height
        self.values = values
        self.file = file
    }

    /// Reads a depth map: a `.npy` 2-D `[height, width]` array of a float (or integer) dtype
    /// (``NPYFile``: every header field checked), or a single-channel PNG (16-bit as depth tools
    /// write them, or 8-bit) whose samples are the depths; every value finite and >= 0.
    /// - Throws: `NPYError` for a malformed or unsupported file, ``SeverityError`` for another
    ///   rank, an empty map or a bad value — each naming the file.
    public static func read(_ url: URL) throws -> DepthMap {
        if url.pathExtension.lowercased() == "png" {
            // A 16-bit (or 8-bit) single-channel PNG: its samples are the depths.
            let image = try GrayImage16.read(contentsOf: url)
            return try DepthMap(width: image.width, height: image.height, values: image.floats, file: url.path)
        }
        let tensor = try NPYFile.read(url)
        guard tensor.rank == 2 else { throw SeverityError.depthRank(shape: tensor.shape.dims, file: url.path) }
        return try DepthMap(width: tensor.shape[1], height: tensor.shape[0], values: tensor.scalars, file: url.path)
    }

    /// This map at the mask's size: itself when the sizes agree; otherwise resampled bilinearly
    /// (half-pixel centres, as `tf.image.resize`; Vision's `Resize.resizeMap`) when the aspect
    /// ratios agree within ``aspectTolerance``, else ``SeverityError/depthAspect(depthWidth:depthHeight:maskWidth:maskHeight:file:)``
    /// naming both sizes and the file. Bilinear blends of depths >= 0 stay >= 0.
    public func fitted(toWidth maskWidth: Int, height maskHeight: Int) throws -> DepthMap {
        if maskWidth == width && maskHeight == height { return self }
        guard maskWidth >= 1, maskHeight >= 1 else {
            throw SeverityError.size(what: "mask", width: maskWidth, height: maskHeight, values: 0)
        }
        let depthAspect = Double(width) / Double(height), maskAspect = Double(maskWidth) / Double(maskHeight)
        guard abs(depthAspect / maskAspect - 1) <= Self.aspectTolerance else {
            throw SeverityError.depthAspect(depthWidth: width, depthHeight: height, maskWidth: maskWidth,
                                            maskHeight: maskHeight, file: file)
        }
        return try resampled(toWidth: maskWidth, height: maskHeight)
    }
}

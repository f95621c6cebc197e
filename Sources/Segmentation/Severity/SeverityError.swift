/// Why a severity score or a depth map was refused. Every case names the value, the sizes and,
/// where there is one, the file.
public enum SeverityError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A mask (or map) whose value count is not `width * height`, or a size below 1.
    case size(what: String, width: Int, height: Int, values: Int)
    /// A class count outside `1...255` (255 is the ignore index of a `[UInt8]` mask).
    case classCount(Int)
    /// A weight for a class outside `0..<classes`, or a value outside `[0, 1]` / not finite.
    case weight(classIndex: Int, value: Double, classes: Int?)
    /// A mask value that is neither a class nor the ignore index 255, at pixel (x, y).
    case maskValue(UInt8, x: Int, y: Int, classes: Int)
    /// A depth map whose aspect ratio differs from the mask's by more than 1 %: resampling
    /// would stretch it.
    case depthAspect(depthWidth: Int, depthHeight: Int, maskWidth: Int, maskHeight: Int, file: String?)
    /// A depth `.npy` that is not a 2-D `[height, width]` array.
    case depthRank(shape: [Int], file: String?)
    /// A NaN or infinite depth at pixel (x, y).
    case depthNotFinite(value: Float, x: Int, y: Int, file: String?)
    /// A negative depth at pixel (x, y).
    case depthNegative(value: Float, x: Int, y: Int, file: String?)

    public var description: String {
        func from(_ file: String?) -> String { file.map { "\($0): " } ?? "" }
        switch self {
        case let .size(what, width, height, values):
            return "\(what) of \(values) values is not \(width)x\(height) (width x height, both at least 1)"
        case let .classCount(n):
            return "a severity score needs 1...255 classes (255 is the ignore index), not \(n)"
        case let .weight(classIndex, value, classes):
            let range = classes.map { " (classes 0...\($0 - 1))" } ?? ""
            return "severity weight \(value) for class \(classIndex)\(range): weights are finite values in [0, 1] "
                + "for classes of the mask"
        case let .maskValue(value, x, y, classes):
            return "mask value \(value) at pixel (\(x), \(y)) is not a class (0...\(classes - 1)) nor the ignore index 255"
        case let .depthAspect(dw, dh, mw, mh, file):
            return "\(from(file))depth map is \(dw)x\(dh), the mask \(mw)x\(mh) (width x height): their aspect ratios "
                + "differ by more than 1 %, so the depth map cannot be resampled to the mask"
        case let .depthRank(shape, file):
            return "\(from(file))depth map has shape \(shape); it must be a 2-D float array [height, width]"
        case let .depthNotFinite(value, x, y, file):
            return "\(from(file))depth \(value) at pixel (\(x), \(y)) is not finite"
        case let .depthNegative(value, x, y, file):
            return "\(from(file))depth \(value) at pixel (\(x), \(y)) is negative"
        }
    }
}

/// A per-pixel class mask: `indices[y * width + x]` (`[height, width]` row-major), 255 the
/// ignore / background index. Vision's `ClassMask` (a mask PNG read from disk) has exactly these
/// members, so it conforms with an empty extension; any other mask type can too.
public protocol ClassMaskLike {
    var width: Int { get }
    var height: Int { get }
    /// `width * height` class indices, row-major.
    var indices: [UInt8] { get }
}

/// Why a segmentation panel could not be drawn.
public enum SegmentationPanelError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyPhoto
    case maskSize(width: Int, height: Int, indices: Int)

    public var description: String {
        switch self {
        case .emptyPhoto: return "segmentation panel: the photo has no pixels"
        case let .maskSize(width, height, indices):
            return "segmentation panel: a mask of \(indices) class indices is not \(width)x\(height) (both at least 1)"
        }
    }
}

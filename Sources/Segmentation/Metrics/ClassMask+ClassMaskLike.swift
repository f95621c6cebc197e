import Vision

/// Vision's decoded masks are what the metrics, the severity score and the panel read.
extension ClassMask: ClassMaskLike {}

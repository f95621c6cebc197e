import Vision

/// Scores how badly the structure in a flagged photo is damaged: the screen's optional stage
/// after classification and Grad-CAM (`rubble screen --segmenter` implements it with a
/// SegFormer; Screening itself knows no segmentation model, and does not depend on one).
///
/// The ``Screener`` calls ``assess(_:)`` once per batch with the photos of that batch that
/// were flagged, decoded anew from their files (the bytes must still have the digest the row
/// shows) at the smallest scale with both sides at least ``imageSide``. A photo that cannot be
/// re-read, an assessment that throws or returns an unusable answer, is a warning and leaves
/// that photo's severity empty: it never fails the run.
public protocol DamageAssessor {
    /// The smallest side, in pixels, the photos should be decoded at (JPEG DCT scaling and PNG
    /// box reduction stop at the smallest scale that keeps both sides at least this); nil:
    /// full size.
    var imageSide: Int? { get }

    /// One assessment per photo, in order. When it throws for a batch of several photos, the
    /// screen asks again photo by photo, so one bad photo costs only its own severity.
    func assess(_ photos: [RGBImage]) throws -> [DamageAssessment]
}

/// The damage in one flagged photo, as a ``DamageAssessor`` sees it.
public struct DamageAssessment: Sendable {
    /// In [0, 1]: 0 = all structure in view intact, 1 = all debris; nil when no structure is in
    /// view (nothing to score). A value outside [0, 1] or not finite is refused (warning, empty).
    public var severity: Double?
    /// One line for the report, shown after the severity (e.g. `damaged_structure 18% · debris
    /// 7%`, or `no structure in view`); may be empty.
    public var summary: String
    /// A picture of the assessment (e.g. the photo beside its segmentation), written as
    /// `segment/<stem>_segment.png` in the output folder and shown in the report; nil: none.
    public var panel: RGBImage?

    public init(severity: Double?, summary: String, panel: RGBImage? = nil) {
        self.severity = severity
        self.summary = summary
        self.panel = panel
    }
}

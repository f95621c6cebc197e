import Screening

/// What `rubble serve` is started with: where it listens, the model whose answers it shows,
/// and the limits every request is held to.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed once listening).
    public var port = 8080
    /// The model photos are queued for and answered by.
    public var modelID: Int
    public var runID: Int
    public var classNames: [String]
    /// Index of the class whose probability flags a photo.
    public var positive: Int
    public var threshold: Float
    public var modelDescription: String
    /// Largest accepted upload, in bytes (checked before the body is read: `Content-Length`,
    /// and while it is read).
    public var maximumBodyBytes = 20_000_000
    /// Largest accepted `width * height`, read from the image's header before any decoding.
    public var maximumPixels = 50_000_000
    /// Requests per minute one token may make (a burst of a tenth of it at once, at least 10).
    public var requestsPerMinute = 6000
    /// Store connections for request handlers.
    public var storeConnections = 4

    public init(modelID: Int, runID: Int, classNames: [String], positive: Int, threshold: Float, modelDescription: String) {
        self.modelID = modelID
        self.runID = runID
        self.classNames = classNames
        self.positive = positive
        self.threshold = threshold
        self.modelDescription = modelDescription
    }
}

import ArgumentParser

/// How photos are answered, shared by `rubble screen` and `rubble serve`: the flag threshold,
/// the positive class, the duplicate radius, the size below which photos are skipped, the batch
/// size and the Grad-CAM panels.
struct ScreenAnswerOptions: ParsableArguments {
    @Option(help: "Flag photos whose positive-class probability is at least this.")
    var threshold: Float = 0.5

    @Option(help: "Positive class name (default: 'damage' or 'damaged' if present, else the last class).")
    var positive: String?

    @Option(help: "Near-duplicate radius: largest pHash Hamming distance (of 64 bits; must equal the store's, set by its first run).")
    var duplicateThreshold: Int = 10

    @Option(help: "Skip photos smaller than this many pixels on either side (0 keeps all).")
    var minSize: Int = 150

    @Option(help: "Photos per forward pass.")
    var batchSize: Int = 32

    @Option(help: "Grad-CAM layer (default: the last convolution).")
    var layer: String?

    @Flag(help: "Do not draw Grad-CAM panels (the report then shows the photos themselves).")
    var noGradcam = false

    /// The index of ``positive`` in `classNames` (the default rule when not given); a bad name is a usage error.
    func positiveIndex(of loaded: LoadedModel, classNames: [String]) throws -> Int {
        do {
            return try loaded.positiveIndex(requested: positive, classNames: classNames)
        } catch {
            throw ValidationError("--positive: \(error)")
        }
    }

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if !threshold.isFinite || !(0...1).contains(threshold) { throw ValidationError("--threshold must be in [0, 1]") }
        if duplicateThreshold < 0 || duplicateThreshold > 64 { throw ValidationError("--duplicate-threshold must be in 0...64") }
        if minSize < 0 { throw ValidationError("--min-size must be >= 0") }
    }
}

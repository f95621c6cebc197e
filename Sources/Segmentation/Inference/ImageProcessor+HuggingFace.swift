import HuggingFaceFiles
import Vision

extension ImageProcessor {
    /// The processor a Hugging Face `preprocessor_config.json` describes (``ImageProcessorConfiguration``):
    /// its size (`{"height", "width"}`, or `shortest_edge` as a square), resampling filter,
    /// rescale and normalisation; `inputSize` (`--input-size`) replaces the size with a square.
    /// Resizing follows transformers 5's processors (torchvision's uint8 resize).
    public init(configuration: ImageProcessorConfiguration, inputSize: Int? = nil) throws {
        let (height, width): (Int, Int)
        if let inputSize {
            (height, width) = (inputSize, inputSize)
        } else {
            switch configuration.size {
            case let .exact(h, w): (height, width) = (h, w)
            case let .shortestEdge(edge, _): (height, width) = (edge, edge)
            }
        }
        guard let resample = PILResample(pillowCode: configuration.resample.rawValue) else {
            throw ImageError.invalidArgument(detail: "preprocessor resample \(configuration.resample.rawValue) is not a PIL filter")
        }
        try self.init(height: height, width: width, resample: resample, backend: .torchvision,
                      doResize: configuration.doResize, doRescale: configuration.doRescale,
                      rescaleFactor: configuration.rescaleFactor, doNormalize: configuration.doNormalize,
                      mean: configuration.imageMean, std: configuration.imageStd)
    }
}

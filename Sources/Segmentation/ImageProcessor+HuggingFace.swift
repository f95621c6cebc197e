import HuggingFaceFiles
import Vision

extension ImageProcessor {
    /// The processor a model folder's `preprocessor_config.json` describes (transformers'
    /// `SegformerImageProcessor` and friends), with Vision's exact-size pipeline:
    ///
    /// - **size**: `{"height": h, "width": w}` is used as it is; `inputSize` (e.g. `--input-size`)
    ///   replaces it by `inputSize` x `inputSize`. `{"shortest_edge": ...}`, `keep_aspect_ratio`,
    ///   `ensure_multiple_of` > 1 and `do_pad` describe resizes this pipeline does not do: they are
    ///   an error without `inputSize`, and are not applied with it (an exact square is asked for).
    /// - **resample**: Pillow's code (0-5) as ``PILResample``; with the `.torchvision` backend only
    ///   nearest, bilinear and bicubic exist (transformers 5 refuses the others too).
    /// - **do_resize**, **do_rescale** / **rescale_factor**, **do_normalize** / **image_mean** /
    ///   **image_std** as in the file; a mean or std of one value applies to all three channels.
    ///
    /// - Parameters:
    ///   - file: the file the configuration came from, for error messages.
    /// - Throws: `HuggingFaceError.invalidConfig(file:key:reason:)` naming the key for what cannot
    ///   be mapped (a mean or std that is not 1 or 3 values, an unsupported resize, a filter the
    ///   backend lacks, an `inputSize` outside 1...65536).
    public init(configuration: ImageProcessorConfiguration, inputSize: Int? = nil,
                backend: ResizeBackend = .torchvision,
                file: String = ImageProcessorConfiguration.fileName) throws {
        func fail(_ key: String, _ reason: String) -> HuggingFaceError {
            .invalidConfig(file: file, key: key, reason: reason)
        }
        try configuration.validate(file: file)
        let height: Int, width: Int
        if let inputSize {
            guard (1...ImageProcessorConfiguration.maximumSize).contains(inputSize) else {
                throw fail("size", "the input size \(inputSize) that replaces it is outside 1...\(ImageProcessorConfiguration.maximumSize)")
            }
            (height, width) = (inputSize, inputSize)
        } else {
            switch configuration.size {
            case let .exact(h, w):
                (height, width) = (h, w)
            case let .shortestEdge(shortest, _):
                throw fail("size", "shortest_edge \(shortest) keeps the aspect ratio; this pipeline resizes to an exact "
                           + "height x width: give an input size")
            }
            if configuration.keepAspectRatio == true {
                throw fail("keep_aspect_ratio", "true is not supported (exact height x width only): give an input size")
            }
            if let multiple = configuration.ensureMultipleOf, multiple > 1 {
                throw fail("ensure_multiple_of", "\(multiple) is not supported (exact height x width only): give an input size")
            }
            if configuration.doPad == true {
                throw fail("do_pad", "true is not supported: give an input size")
            }
        }
        guard let resample = PILResample(pillowCode: configuration.resample.rawValue) else {
            throw fail("resample", "\(configuration.resample.rawValue) is not one of Pillow's filters 0...5")
        }
        func perChannel(_ key: String, _ values: [Double]) throws -> [Double] {
            switch values.count {
            case 1: return [Double](repeating: values[0], count: 3)
            case 3: return values
            default: throw fail(key, "has \(values.count) values; an RGB pipeline needs 1 or 3")
            }
        }
        let mean = try perChannel("image_mean", configuration.imageMean)
        let std = try perChannel("image_std", configuration.imageStd)
        do {
            try self.init(height: height, width: width, resample: resample, backend: backend,
                          doResize: configuration.doResize, doRescale: configuration.doRescale,
                          rescaleFactor: configuration.rescaleFactor, doNormalize: configuration.doNormalize,
                          mean: mean, std: std)
        } catch let error as ImageError {
            throw fail("resample", "\(error)")
        }
    }
}

extension ImageProcessorConfiguration {
    /// This configuration describing `processor`'s pipeline: the exact size, filter, rescale and
    /// normalisation of `processor`, other keys kept. What a model trained with `processor` saves
    /// as its `preprocessor_config.json`. `do_reduce_labels` becomes `false` (the masks the
    /// trainer reads hold the class indices themselves), and the aspect-ratio / padding keys of
    /// other processors are cleared.
    public func describing(_ processor: ImageProcessor) -> ImageProcessorConfiguration {
        var copy = self
        copy.size = .exact(height: processor.height, width: processor.width)
        copy.doResize = processor.doResize
        copy.resample = Resample(rawValue: processor.resample.pillowCode) ?? .bilinear
        copy.doRescale = processor.doRescale
        copy.rescaleFactor = processor.rescaleFactor
        copy.doNormalize = processor.doNormalize
        copy.imageMean = processor.mean
        copy.imageStd = processor.std
        if copy.doReduceLabels != nil || copy.imageProcessorType.hasPrefix("Segformer") { copy.doReduceLabels = false }
        copy.keepAspectRatio = nil
        copy.ensureMultipleOf = nil
        copy.doPad = nil
        copy.sizeDivisor = nil
        return copy
    }
}

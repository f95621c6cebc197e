import AtomicFiles
import Foundation
import Tensor
import Vision

/// What Grad-CAM says about one image: its probabilities and one map per explained class.
public struct ImageExplanation: Sendable {
    public let layer: String
    public let options: GradCAMOptions
    /// One per class of the model.
    public let probabilities: [Float]
    /// The class with the largest probability.
    public let predicted: Int
    /// The explained classes' maps, in the order they were asked for.
    public let maps: [ClassHeatMap]
    /// The differentiated score (logit or probability) of each map's class, as `maps`.
    public let scores: [Float]
}

/// One image (or a batch) end to end: maps for each class, the panel, and the output file
/// names other tools rely on (`<stem>_class<K>.npy`, `<stem>_gradcam.png`).
public enum GradCAMReport {
    /// `<stem>_class<K>.npy`: class `K`'s map at the layer's resolution (float32 `[h, w]`).
    public static func mapFileName(stem: String, classIndex: Int) -> String { "\(stem)_class\(classIndex).npy" }

    /// `<stem>_gradcam.png`: the side-by-side panel.
    public static func panelFileName(stem: String) -> String { "\(stem)_gradcam.png" }

    /// The file name without its last extension (`photos/a.b.jpg` -> `a.b`).
    public static func stem(of url: URL) -> String { url.deletingPathExtension().lastPathComponent }

    /// Maps of `classes` (every class when `nil`) for each image of `input`, one explanation per
    /// image. The prefix of the model runs once; each class costs one pass through the rest.
    public static func explain(_ input: Tensor, with gradCAM: GradCAM, classes: [Int]? = nil,
                               options: GradCAMOptions = GradCAMOptions()) throws -> [ImageExplanation] {
        let results = try classes.map { list in try gradCAM.explain(input, targets: list.map { .class($0) }, options: options) }
            ?? gradCAM.explainEveryClass(input, options: options)
        return perImage(results)
    }

    /// Regroups results that each hold one class for the whole batch into one explanation per image.
    public static func perImage(_ results: [GradCAMResult]) -> [ImageExplanation] {
        guard let first = results.first else { return [] }
        return (0..<first.batch).map { n in
            let probabilities = first.probabilities(n)
            let predicted = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            let maps = results.map { r in
                ClassHeatMap(classIndex: r.targets[n], values: r.map(n), width: r.width, height: r.height,
                             probability: probabilities[r.targets[n]])
            }
            return ImageExplanation(layer: first.layer, options: first.options, probabilities: probabilities,
                                    predicted: predicted, maps: maps, scores: results.map { $0.scores[n] })
        }
    }

    /// The header line of a panel: `<title>  Grad-CAM at <layer>, <score> score`.
    public static func header(title: String?, explanation: ImageExplanation) -> String {
        let method = explanation.options.method == .gradCAM ? "Grad-CAM" : "Grad-CAM++"
        let what = "\(method) at \(explanation.layer), \(explanation.options.score.rawValue) score"
        return title.map { "\($0)  \(what)" } ?? what
    }

    /// The panel picture for `image` (the photo as decoded, any size) and its explanation.
    public static func panel(for image: RGBImage, explanation: ImageExplanation, classNames: [String] = [],
                             truth: String? = nil, title: String? = nil,
                             layout: GradCAMPanel = GradCAMPanel()) -> RGBImage {
        layout.render(image: image, maps: explanation.maps, classNames: classNames, predicted: explanation.predicted,
                      truth: truth, header: header(title: title, explanation: explanation))
    }

    /// Explains one photo and writes its panel as a PNG to `url` (atomically): what a demo or
    /// screening tool calls per image. `input` is the photo as model input (`[1, h, w, 3]`, e.g.
    /// Inference's `ImagePipeline.tensor([image])`); `image` is what the panel shows.
    @discardableResult
    public static func writePanel(image: RGBImage, input: Tensor, gradCAM: GradCAM, classNames: [String] = [],
                                  classes: [Int]? = nil, truth: String? = nil, title: String? = nil,
                                  options: GradCAMOptions = GradCAMOptions(), layout: GradCAMPanel = GradCAMPanel(),
                                  to url: URL) throws -> ImageExplanation {
        guard input.rank == 4, input.shape[0] == 1 else { throw GradCAMError.badInput(input.shape) }
        let explanation = try explain(input, with: gradCAM, classes: classes, options: options)[0]
        let picture = panel(for: image, explanation: explanation, classNames: classNames, truth: truth, title: title,
                            layout: layout)
        try ImageEncoder.writePNG(picture, to: url)  // throws Vision's ImageError, naming the file
        return explanation
    }

    /// Writes each map of `explanation` to `directory/<stem>_class<K>.npy` (float32 `[h, w]`,
    /// atomically) and returns the files in map order.
    @discardableResult
    public static func writeMaps(_ explanation: ImageExplanation, stem: String, to directory: URL) throws -> [URL] {
        try explanation.maps.map { map in
            let url = directory.appendingPathComponent(mapFileName(stem: stem, classIndex: map.classIndex))
            try writeNPY(Tensor(map.values, shape: [map.height, map.width]), to: url)
            return url
        }
    }

    /// Writes `tensor` to `url` as a float32 `.npy` file (``NPYFile/data(_:)``: format 1.0, as
    /// `numpy.save`), atomically; a failure is ``GradCAMError/writeFailed(file:reason:)``.
    public static func writeNPY(_ tensor: Tensor, to url: URL) throws {
        do {
            try AtomicFile.write(NPYFile.data(tensor), to: url)
        } catch let error as AtomicFileError {
            throw GradCAMError.writeFailed(file: error.path, reason: error.reason)
        }
    }
}

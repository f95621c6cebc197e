import ArgumentParser
import AtomicFiles
import Depth
import Foundation
import HuggingFaceFiles
import Segmentation
import Tensor
import Vision

/// `rubble segment`: per-pixel damage classes and the severity score of photos. The file names
/// and the `segments.csv` columns are read by other tools: keep them.
struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment photos into undamaged structure, damaged structure and debris, and score the damage.",
        discussion: """
            --model is a Hugging Face SegFormer folder (config.json, model.safetensors and, when \
            present, preprocessor_config.json, whose size and statistics are used; else \
            SegformerImageProcessor's defaults, 512x512). For each IMAGE, OUT gets:
              <stem>_logits.npy   float32 [classes, h/4, w/4]: the model's output for the \
            preprocessed photo (NCHW, as transformers returns it)
              <stem>_mask.png     the class index of every pixel at the photo's size (8-bit gray; \
            logits resized bilinearly, align_corners=False, then argmax, as \
            post_process_semantic_segmentation)
              <stem>_segment.png  the photo beside a coloured class overlay, a legend, and the \
            score in the title
            With --depth-model DIR (a Hugging Face Depth Anything folder: config.json, \
            model.safetensors and, when present, preprocessor_config.json; else Depth Anything's \
            DPTImageProcessor defaults, 518 with the aspect ratio kept in multiples of 14) it also gets
              <stem>_depth.npy    float32 [h, w]: the depth model's output (relative inverse depth, \
            transformers' predicted_depth) at its input resolution
            and the panel gets a third tile, the depth (red near, blue far).
            OUT/segments.csv gets one row per photo: \
            path,fraction_<class>...,severity,milliseconds,severity_depth_weighted (area fractions \
            of the whole photo; a severity is empty when no structure is in view, \
            severity_depth_weighted also when no depth was given; milliseconds covers both models).

            Severity: v(undamaged_structure)=0, v(damaged_structure)=0.5, v(debris)=1 (other \
            label sets: --class-values); score = sum over structure pixels of a(p) v(c(p)) / sum \
            of a(p), in [0, 1]. `severity` weighs every pixel alike (a(p)=1); \
            `severity_depth_weighted` uses a(p)=depth(p)^2 (a far pixel covers more of the scene). \
            --depth takes one map per image, in order (.npy float32 HxW or a 16-bit PNG), resampled \
            to the photo when the aspect ratios agree within 1%. --depth-model computes it: the \
            model's disparity d becomes the relative depth min(100, max(d) / d) (the nearest pixel \
            at 1, anything 100 times farther or more, the sky included, at 100), resampled \
            bilinearly to the photo. --depth and --depth-model cannot be combined.

            Two images with the same stem get -2, -3, ... appended. Every file is written \
            atomically. An image that cannot be read (or that the depth model cannot take: a side \
            that rounds to 0) is reported on standard error with its path and the reason; the \
            others are still segmented and the exit status is 1.
            """)

    @Option(help: "A SegFormer folder (config.json + model.safetensors).")
    var model: String

    @Option(parsing: .upToNextOption, help: "Depth maps, one per image in order (.npy float32 HxW or 16-bit PNG).")
    var depth: [String] = []

    @Option(help: "A Depth Anything folder (config.json + model.safetensors): depth for every photo, weighting severity_depth_weighted.")
    var depthModel: String?

    @Option(help: "Output folder.")
    var out = "segments"

    @Option(help: "Square input size for the model (overrides preprocessor_config.json).")
    var inputSize: Int?

    @Option(help: "Damage value of each structure class, name=value (0...1), comma-separated; default: the damage label set.")
    var classValues: String?

    @Option(help: "Photos per forward pass.")
    var batchSize = 4

    @Argument(help: "JPEG or PNG photos.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard depth.isEmpty || depthModel == nil else {
            throw ValidationError("--depth and --depth-model both give depth: use the maps of --depth or the model of --depth-model, not both")
        }
        guard depth.isEmpty || depth.count == images.count else {
            throw ValidationError("--depth gives \(depth.count) maps for \(images.count) images: give one per image, in order")
        }
        guard (1...256).contains(batchSize) else { throw ValidationError("--batch-size \(batchSize) must be in 1...256") }
        if let inputSize, !(32...4096).contains(inputSize) {
            throw ValidationError("--input-size \(inputSize) must be in 32...4096")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: model, isDirectory: true)
        let loadedModel = try SegformerFolder.load(folder)
        let weights = try classValues.map { try Self.parseClassValues($0, classNames: loadedModel.classNames) }
        let processor = try ImageProcessor(configuration: ImageProcessorConfiguration.load(folder: folder), inputSize: inputSize)
        let segmenter = try Segmenter(model: loadedModel, processor: processor, weights: weights)
        let estimator = try depthModel.map { try DepthEstimator(folder: URL(fileURLWithPath: $0, isDirectory: true)) }
        let outDirectory = try OutputFolder.url(out)
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        let depths = try depth.map { try DepthMap.read(URL(fileURLWithPath: $0)) }
        let stems = Self.uniqueStems(images)
        let classNames = loadedModel.classNames
        var rows: [String] = []
        defer {
            let header = (["path"] + classNames.map { "fraction_\($0)" } + ["severity", "milliseconds", "severity_depth_weighted"])
                .joined(separator: ",")
            try? AtomicFile.write(([header] + rows).joined(separator: "\n") + "\n",
                                        to: outDirectory.appendingPathComponent("segments.csv"))
        }
        var failures = 0
        for start in stride(from: 0, to: images.count, by: batchSize) {
            var indices: [Int] = [], photos: [RGBImage] = []
            for index in start..<min(start + batchSize, images.count) {
                do {
                    let photo = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: images[index]))
                    // A photo the depth model cannot take (an extreme aspect ratio) is reported like an unreadable one.
                    do {
                        if let estimator { _ = try estimator.preprocessor.outputSize(photoWidth: photo.width, photoHeight: photo.height) }
                    } catch {
                        failures += 1
                        warn("\(images[index]): \(error)")
                        continue
                    }
                    photos.append(photo)
                    indices.append(index)
                } catch {
                    failures += 1
                    warn("\(error)")
                }
            }
            let predictions = try estimator?.predict(photos)
            var maps: [DepthMap?]? = depths.isEmpty ? nil : indices.map { depths[$0] }
            if let predictions {
                maps = try zip(predictions, zip(indices, photos)).map { prediction, item in
                    try prediction.relativeDepth(file: images[item.0]).resampled(toWidth: item.1.width, height: item.1.height)
                }
            }
            let results = try segmenter.segment(photos, depths: maps)
            for (offset, result) in results.enumerated() {
                let index = indices[offset]
                let stem = outDirectory.appendingPathComponent(stems[index])
                try AtomicFile.write(NPYFile.data(result.logits), to: URL(fileURLWithPath: stem.path + "_logits.npy"))
                if let prediction = predictions?[offset] {
                    try AtomicFile.write(NPYFile.data(prediction.values), to: URL(fileURLWithPath: stem.path + "_depth.npy"))
                }
                try result.mask.write(to: URL(fileURLWithPath: stem.path + "_mask.png"))
                let summary = Self.summary(result, classNames: classNames, weights: segmenter.weights)
                let depthMap = try maps?[offset].map { try $0.fitted(toWidth: photos[offset].width, height: photos[offset].height) }
                let panel = try SegmentationPanel.render(photo: photos[offset], mask: result.mask, classNames: classNames,
                                                         title: summary, depth: depthMap)
                try ImageEncoder.writePNG(panel, to: URL(fileURLWithPath: stem.path + "_segment.png"))
                let fractions = result.severity.classFractions.map { String(format: "%.6f", $0) }
                func score(_ s: SeverityScore?) -> String { s.map { $0.hasStructure ? String(format: "%.6f", $0.score) : "" } ?? "" }
                let milliseconds = result.milliseconds + (predictions?[offset].milliseconds ?? 0)
                rows.append(([CSV.field(images[index])] + fractions
                             + [score(result.severity), String(format: "%.1f", milliseconds), score(result.depthWeightedSeverity)])
                    .joined(separator: ","))
                print("\(images[index]): \(summary)")
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    /// `severity 0.42 · depth-weighted 0.51 · damaged_structure 18% · debris 7%`: the unweighted
    /// score, the depth-weighted one when there is one, then the class shares (depth-weighted
    /// when there is a depth map).
    static func summary(_ result: SegmentationResult, classNames: [String], weights: SeverityWeights) -> String {
        guard let weighted = result.depthWeightedSeverity, weighted.hasStructure else {
            return result.severity.summary(classNames: classNames, weights: weights)
        }
        var parts = weighted.summary(classNames: classNames, weights: weights).components(separatedBy: " \u{B7} ")
        parts[0] = String(format: "severity %.2f \u{B7} depth-weighted %.2f", result.severity.score, weighted.score)
        return parts.joined(separator: " \u{B7} ")
    }

    /// `wall=0,crack=0.5,rubble=1` by the model's class names.
    static func parseClassValues(_ text: String, classNames: [String]) throws -> SeverityWeights {
        var values: [Int: Double] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard pieces.count == 2, let value = Double(pieces[1]) else {
                throw ValidationError("--class-values: '\(part)' is not name=value")
            }
            guard let index = classNames.firstIndex(of: pieces[0]) else {
                throw ValidationError("--class-values: '\(pieces[0])' is not one of the model's classes \(classNames)")
            }
            values[index] = value
        }
        return try SeverityWeights(values)
    }

    /// File stems, made unique in order (`a/x.jpg`, `b/x.jpg` -> `x`, `x-2`).
    static func uniqueStems(_ paths: [String]) -> [String] {
        var seen: [String: Int] = [:]
        return paths.map { path in
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let count = (seen[stem] ?? 0) + 1
            seen[stem] = count
            return count == 1 ? stem : "\(stem)-\(count)"
        }
    }
}

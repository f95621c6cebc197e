import ArgumentParser
import AtomicFiles
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
            and OUT/segments.csv gets one row per photo: path,fraction_<class>...,severity,milliseconds \
            (area fractions of the whole photo; severity empty when no structure is in view).

            Severity: v(undamaged_structure)=0, v(damaged_structure)=0.5, v(debris)=1 (other \
            label sets: --class-values); area weight a(p)=1, or depth(p)^2 with a depth map; \
            score = sum over structure pixels of a(p) v(c(p)) / sum of a(p), in [0, 1]. --depth \
            takes one map per image, in order (.npy float32 HxW or a 16-bit PNG), resampled to \
            the photo when the aspect ratios agree within 1%.

            Two images with the same stem get -2, -3, ... appended. Every file is written \
            atomically. An image that cannot be read is reported on standard error with its path \
            and the reason; the others are still segmented and the exit status is 1.
            """)

    @Option(help: "A SegFormer folder (config.json + model.safetensors).")
    var model: String

    @Option(parsing: .upToNextOption, help: "Depth maps, one per image in order (.npy float32 HxW or 16-bit PNG).")
    var depth: [String] = []

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
        let outDirectory = try OutputFolder.url(out)
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        let depths = try depth.map { try DepthMap.read(URL(fileURLWithPath: $0)) }
        let stems = Self.uniqueStems(images)
        let classNames = loadedModel.classNames
        var rows: [String] = []
        defer {
            let header = (["path"] + classNames.map { "fraction_\($0)" } + ["severity", "milliseconds"]).joined(separator: ",")
            try? AtomicFile.write(([header] + rows).joined(separator: "\n") + "\n",
                                        to: outDirectory.appendingPathComponent("segments.csv"))
        }
        var failures = 0
        for start in stride(from: 0, to: images.count, by: batchSize) {
            var indices: [Int] = [], photos: [RGBImage] = []
            for index in start..<min(start + batchSize, images.count) {
                do {
                    photos.append(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: images[index])))
                    indices.append(index)
                } catch {
                    failures += 1
                    warn("\(error)")
                }
            }
            let results = try segmenter.segment(photos, depths: depths.isEmpty ? nil : indices.map { depths[$0] })
            for (offset, result) in results.enumerated() {
                let index = indices[offset]
                let stem = outDirectory.appendingPathComponent(stems[index])
                try AtomicFile.write(NPYFile.data(result.logits), to: URL(fileURLWithPath: stem.path + "_logits.npy"))
                try result.mask.write(to: URL(fileURLWithPath: stem.path + "_mask.png"))
                let panel = try SegmentationPanel.render(photo: photos[offset], mask: result.mask, classNames: classNames,
                                                         title: result.severity.summary(classNames: classNames, weights: segmenter.weights))
                try ImageEncoder.writePNG(panel, to: URL(fileURLWithPath: stem.path + "_segment.png"))
                let fractions = result.severity.classFractions.map { String(format: "%.6f", $0) }
                let severity = result.severity.hasStructure ? String(format: "%.6f", result.severity.score) : ""
                rows.append(([CSV.field(images[index])] + fractions + [severity, String(format: "%.1f", result.milliseconds)])
                    .joined(separator: ","))
                print("\(images[index]): \(result.severity.summary(classNames: classNames, weights: segmenter.weights))")
            }
        }
        if failures > 0 { throw ExitCode.failure }
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

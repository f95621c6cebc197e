import ArgumentParser
import Foundation
import HuggingFaceFiles
import Screening
import Segmentation
import Vision

/// `rubble screen --segmenter`: the screen's ``DamageAssessor`` as a SegFormer. Each flagged
/// photo is segmented (masks at the photo's size, as `rubble segment`), scored with the severity
/// weights, and drawn as the photo beside its class overlay with the score in the title.
struct SegmenterAssessor: DamageAssessor {
    let segmenter: Segmenter
    /// Photos per forward pass (the flagged photos of one screen batch are split into these).
    var batchSize = 4

    var classNames: [String] { segmenter.model.classNames }

    /// The larger side of the model input: decoding stops at the scale that still covers it.
    var imageSide: Int? { max(segmenter.processor.height, segmenter.processor.width) }

    /// Loads and checks everything before any photo is read: the folder's config.json (a
    /// SegFormer), weights and preprocessing; `classValues` (`name=value,...`, as `rubble
    /// segment --class-values`) when the model's classes are not the damage label set.
    init(folder path: String, inputSize: Int?, classValues: String?) throws {
        let folder = URL(fileURLWithPath: path, isDirectory: true)
        let model = try SegformerFolder.load(folder)
        let weights = try classValues.map { try SegmentCommand.parseClassValues($0, classNames: model.classNames) }
        let processor = try ImageProcessor(configuration: ImageProcessorConfiguration.load(folder: folder), inputSize: inputSize)
        segmenter = try Segmenter(model: model, processor: processor, weights: weights)
    }

    func assess(_ photos: [RGBImage]) throws -> [DamageAssessment] {
        var assessments: [DamageAssessment] = []
        assessments.reserveCapacity(photos.count)
        for start in stride(from: 0, to: photos.count, by: max(1, batchSize)) {
            let chunk = Array(photos[start..<min(start + max(1, batchSize), photos.count)])
            let results = try segmenter.segment(chunk)
            for (photo, result) in zip(chunk, results) {
                // The panel's title: `severity 0.42 · damaged_structure 18% · debris 7%`; the
                // report shows the score itself, then the rest.
                let title = result.severity.summary(classNames: classNames, weights: segmenter.weights)
                let panel = try SegmentationPanel.render(photo: photo, mask: result.mask, classNames: classNames, title: title)
                let severity = result.severity.hasStructure ? result.severity.score : nil
                let summary = severity == nil ? title
                    : title.components(separatedBy: " \u{B7} ").dropFirst().joined(separator: " \u{B7} ")
                assessments.append(DamageAssessment(severity: severity, summary: summary, panel: panel))
            }
        }
        return assessments
    }

    /// What the report's model line says of the segmenter.
    var description: String {
        "SegFormer \(segmenter.processor.width)x\(segmenter.processor.height), classes \(classNames.joined(separator: "/"))"
    }
}

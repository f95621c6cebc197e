import Segmentation
import AtomicFiles
import Foundation

/// One epoch of a segmentation run.
public struct SegmentationEpochRecord: Sendable, Codable, Equatable {
    /// 1-based.
    public var epoch: Int
    /// Mean of the epoch's batch losses (class-weighted as trained, computed before each
    /// update) weighted by batch size.
    public var loss: Double
    /// Unweighted per-pixel cross-entropy over every labelled validation pixel, logits
    /// upsampled to each mask's own size.
    public var validationLoss: Double
    /// Correct labelled validation pixels over labelled validation pixels.
    public var pixelAccuracy: Double
    /// Mean over classes of the validation IoU (classes with an empty union left out).
    public var meanIoU: Double
    /// Per class, in class order; NaN where the class was neither labelled nor predicted.
    public var perClassIoU: [Double]
    /// The rate of the epoch's last update.
    public var learningRate: Double
    /// Optimizer steps taken in the epoch (batches with no labelled pixel are skipped).
    public var steps: Int
    /// Wall time of the epoch (training and validation).
    public var seconds: Double

    public init(epoch: Int, loss: Double, validationLoss: Double, pixelAccuracy: Double, meanIoU: Double,
                perClassIoU: [Double], learningRate: Double, steps: Int, seconds: Double) {
        self.epoch = epoch
        self.loss = loss
        self.validationLoss = validationLoss
        self.pixelAccuracy = pixelAccuracy
        self.meanIoU = meanIoU
        self.perClassIoU = perClassIoU
        self.learningRate = learningRate
        self.steps = steps
        self.seconds = seconds
    }

    /// The record without its timing, to compare runs.
    public var withoutTiming: SegmentationEpochRecord {
        var copy = self
        copy.seconds = 0
        return copy
    }

    // NaN is a legitimate per-class IoU: encoded as a string, not as a number JSON lacks.
    enum CodingKeys: String, CodingKey {
        case epoch, loss, validationLoss, pixelAccuracy, meanIoU, perClassIoU, learningRate, steps, seconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        loss = try c.decode(Double.self, forKey: .loss)
        validationLoss = try c.decode(Double.self, forKey: .validationLoss)
        pixelAccuracy = try Self.decodeOptional(c, .pixelAccuracy)
        meanIoU = try Self.decodeOptional(c, .meanIoU)
        perClassIoU = try c.decode([Double?].self, forKey: .perClassIoU).map { $0 ?? .nan }
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        steps = try c.decode(Int.self, forKey: .steps)
        seconds = try c.decode(Double.self, forKey: .seconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func finite(_ x: Double) -> Double? { x.isNaN ? nil : x }
        try c.encode(epoch, forKey: .epoch)
        try c.encode(loss, forKey: .loss)
        try c.encode(validationLoss, forKey: .validationLoss)
        try c.encode(finite(pixelAccuracy), forKey: .pixelAccuracy)
        try c.encode(finite(meanIoU), forKey: .meanIoU)
        try c.encode(perClassIoU.map(finite), forKey: .perClassIoU)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(steps, forKey: .steps)
        try c.encode(seconds, forKey: .seconds)
    }

    private static func decodeOptional(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Double {
        try c.decode(Double?.self, forKey: key) ?? .nan
    }
}

/// Every completed epoch of a segmentation run, written as `history.csv`.
public struct SegmentationHistory: Sendable, Codable, Equatable {
    public var classNames: [String]
    public var records: [SegmentationEpochRecord]

    public init(classNames: [String], records: [SegmentationEpochRecord] = []) {
        self.classNames = classNames
        self.records = records
    }

    /// The epoch with the highest validation mIoU (the first of equals; NaN never counts).
    public var bestEpoch: Int? {
        var best: SegmentationEpochRecord?
        for record in records where !record.meanIoU.isNaN {
            if best.map({ record.meanIoU > $0.meanIoU }) ?? true { best = record }
        }
        return best?.epoch
    }

    /// `epoch,loss,val_loss,pixel_accuracy,mean_iou,iou_<class>...,learning_rate,seconds`.
    public var csvHeader: [String] {
        ["epoch", "loss", "val_loss", "pixel_accuracy", "mean_iou"] + classNames.map { "iou_\($0)" }
            + ["learning_rate", "seconds"]
    }

    /// A header line and one line per epoch; metrics as float32 in shortest round-trip form,
    /// an IoU that is undefined (NaN) as an empty cell.
    public var csv: String {
        func metric(_ value: Double) -> String { value.isNaN ? "" : "\(Float(value))" }
        var lines = [csvHeader.map(Self.csvField).joined(separator: ",")]
        for record in records {
            var cells = [String(record.epoch), metric(record.loss), metric(record.validationLoss),
                         metric(record.pixelAccuracy), metric(record.meanIoU)]
            cells += record.perClassIoU.map(metric)
            cells.append("\(Float(record.learningRate))")
            cells.append(String(format: "%.3f", record.seconds))
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes ``csv`` to `url` atomically.
    public func writeCSV(to url: URL) throws {
        try AtomicFile.write(csv, to: url)
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

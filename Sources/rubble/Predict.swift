import ArgumentParser
import Foundation
import Inference
import Train

/// `rubble predict`: class probabilities for photos.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify photos with a trained model.",
        discussion: """
            Prints CSV `path,p0,p1,...,label` (one probability column per class, in class order; \
            label is the class name when the weights file stores them, else the class index), or \
            JSON with --format json. An image that cannot be read is reported on standard error \
            with its path and the reason; the others are still predicted and the exit status is 1.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, json }

    @OptionGroup var model: ModelOptions

    @Option(help: "Output format: csv or json.")
    var format: Format = .csv

    @Option(help: "Images per forward pass.")
    var batchSize: Int = 32

    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
    }

    func run() throws {
        let loaded = try model.load()
        let classNames = loaded.classNames
        let predictor = ImagePredictor(model: loaded.network, pipeline: loaded.pipeline, batchSize: batchSize)
        var failures = 0
        var rows: [[String: Any]] = []
        var headerWritten = false
        try predictor.predict(images.map { URL(fileURLWithPath: $0) }) { prediction in
            let path = prediction.file.path
            switch prediction.probabilities {
            case .failure(let error):
                failures += 1
                warn("\(error)")
            case .success(let probabilities):
                let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
                let label = classNames.map { $0[best] } ?? String(best)
                switch format {
                case .csv:
                    if !headerWritten {
                        print((["path"] + probabilities.indices.map { "p\($0)" } + ["label"]).joined(separator: ","))
                        headerWritten = true
                    }
                    let values = probabilities.map { String(format: "%.6f", $0) }
                    print(([CSV.field(path)] + values + [CSV.field(label)]).joined(separator: ","))
                case .json:
                    rows.append(["path": path, "probabilities": probabilities.map(Double.init), "label": label])
                }
            }
        }
        if format == .json {
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failures > 0 { throw ExitCode.failure }
    }
}

/// RFC 4180 quoting for CSV fields.
enum CSV {
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

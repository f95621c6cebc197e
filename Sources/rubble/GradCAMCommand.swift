import AtomicFiles
import ArgumentParser
import Foundation
import GradCAM
import Inference
import Layers
import Tensor
import Train
import Vision

extension GradCAMScore: ExpressibleByArgument {}
extension GradCAMMethod: ExpressibleByArgument {}
extension HeatMapNormalization: ExpressibleByArgument {}

/// `rubble gradcam`: heat maps of why the model scored each photo as it did.
struct GradCAMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam",
        abstract: "Grad-CAM heat maps for photos: one map per class, and a side-by-side panel per photo.",
        discussion: """
            For each IMAGE, writes into --out DIR (created if missing; every file written atomically):
              <stem>_class<K>.npy  float32 [h, w] map of class K at the layer's resolution (e.g. 4x4 \
            for block5_conv4 at 150x150), after the ReLU and --normalize; NumPy .npy format 1.0
              <stem>_gradcam.png   the photo and one jet overlay (alpha 0.4) per class side by side, \
            titled with the class and its probability, the predicted class highlighted
              gradcam.csv          one row per image and class, in input order, columns
                                   path,class,score,p0,p1,...,label,map_file,panel_file
            where class is K, score the differentiated score of class K (its logit, or its \
            probability with --score softmax), p0... the class probabilities, label the predicted \
            class (its name when the weights file stores class names, else its index), and \
            map_file / panel_file the file names inside DIR. <stem> is the image's file name \
            without its extension; a stem seen before gets -2, -3, ... appended.

            Grad-CAM: alpha_k = mean over (h, w) of d score / d A_k, map = ReLU(sum_k alpha_k A_k) \
            at --layer (default: the last convolution), divided by its maximum (--normalize max, \
            as Keras' example) or min-max scaled. The score is the class logit by default.

            An image that cannot be read (or whose outputs cannot be written) is reported on \
            standard error with its path and the reason; the others are still processed and the \
            exit status is 1.
            """)

    /// `--class K` or `--class all`.
    enum ClassChoice: ExpressibleByArgument, Equatable {
        case all
        case one(Int)

        init?(argument: String) {
            if argument == "all" { self = .all; return }
            guard let k = Int(argument), k >= 0 else { return nil }
            self = .one(k)
        }

        var defaultValueDescription: String { "all" }
    }

    @OptionGroup var model: ModelOptions

    @Option(help: "Layer to explain (default: the model's last convolution, e.g. block5_conv4 for VGG19).")
    var layer: String?

    @Option(name: .customLong("class"), help: "Class index to explain, or all.")
    var classChoice: ClassChoice = .all

    @Option(help: "Score to differentiate: logit (pre-softmax) or softmax (the class probability).")
    var score: GradCAMScore = .logit

    @Option(help: "gradcam or gradcam++.")
    var method: GradCAMMethod = .gradCAM

    @Option(help: "Map scaling: max (divide by the maximum), minmax, or none.")
    var normalize: HeatMapNormalization = .max

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Images per forward pass.")
    var batchSize: Int = 8

    @Flag(help: "Title the photo with its true class when its folder is named like a class (data/damage/x.jpg).")
    var truthFromFolder = false

    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let directory = try OutputFolder.url(out)
        let loaded = try model.load()
        let network = loaded.network, pipeline = loaded.pipeline
        let gradCAM: GradCAM
        do {
            gradCAM = try GradCAM(model: network, layer: layer ?? loaded.architecture.defaultGradCAMLayer)
        } catch let error as GradCAMError {
            CommandLineMessages.error(ErrorSentence.describe(error))
            throw ExitCode.failure
        }
        let classCount = loaded.classCount
        let classNames = loaded.classNames ?? (0..<classCount).map(String.init)
        if case .one(let k) = classChoice, k >= classCount {
            warn("--class \(k): the model has \(classCount) classes (0..<\(classCount))")
            throw ExitCode.validationFailure
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let options = GradCAMOptions(score: score, method: method, normalization: normalize)
        let classes: [Int]? = if case .one(let k) = classChoice { [k] } else { nil }

        var writer = GradCAMRunWriter(directory: directory, classNames: classNames, classCount: classCount,
                                      truthFromFolder: truthFromFolder)
        let files = images.map { URL(fileURLWithPath: $0) }
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let batch = Array(files[start..<min(start + batchSize, files.count)])
            var decoded: [(url: URL, image: RGBImage)] = []
            for (url, result) in zip(batch, pipeline.decode(batch)) {
                switch result {
                case .success(let image): decoded.append((url, image))
                case .failure(let error): writer.fail("\(error)")
                }
            }
            guard !decoded.isEmpty else { continue }
            let explanations: [ImageExplanation]
            do {
                explanations = try GradCAMReport.explain(pipeline.tensor(decoded.map(\.image)), with: gradCAM,
                                                         classes: classes, options: options)
            } catch {
                for item in decoded { writer.fail("\(item.url.path): Grad-CAM failed (\(error))") }
                continue
            }
            for (item, explanation) in zip(decoded, explanations) {
                let values = explanation.probabilities + explanation.maps.flatMap(\.values)
                guard values.allSatisfy(\.isFinite) else {
                    writer.fail("\(InferenceError.nonFiniteOutput(file: item.url.path))")
                    continue
                }
                writer.write(item.image, from: item.url, explanation: explanation)
            }
        }
        try writer.finish()
        print("rubble gradcam: \(writer.written) of \(files.count) images explained at \(gradCAM.layer); "
              + "\(directory.appendingPathComponent(GradCAMRunWriter.csvName).path)")
        if writer.failures > 0 { throw ExitCode.failure }
    }
}

/// The files of one `rubble gradcam` run: maps, panels and the CSV, with unique stems.
struct GradCAMRunWriter {
    static let csvName = "gradcam.csv"
    let directory: URL
    let classNames: [String]
    let classCount: Int
    let truthFromFolder: Bool
    private(set) var failures = 0
    private(set) var written = 0
    private var stems = Set<String>()
    private var rows: [String] = []

    init(directory: URL, classNames: [String], classCount: Int, truthFromFolder: Bool) {
        self.directory = directory
        self.classNames = classNames
        self.classCount = classCount
        self.truthFromFolder = truthFromFolder
    }

    mutating func fail(_ message: String) {
        failures += 1
        warn(message)
    }

    /// A stem not used yet in this run (`a`, then `a-2`, `a-3`, ...).
    private mutating func uniqueStem(for url: URL) -> String {
        let base = GradCAMReport.stem(of: url)
        var stem = base, n = 1
        while stems.contains(stem) {
            n += 1
            stem = "\(base)-\(n)"
        }
        if stem != base { warn("\(url.path): another image is also named \(base); its files use \(stem)") }
        stems.insert(stem)
        return stem
    }

    /// Writes one image's maps and panel and records its CSV rows.
    mutating func write(_ image: RGBImage, from url: URL, explanation: ImageExplanation) {
        let stem = uniqueStem(for: url)
        let folder = url.deletingLastPathComponent().lastPathComponent
        let truth = truthFromFolder && classNames.contains(folder) ? folder : nil
        let panelName = GradCAMReport.panelFileName(stem: stem)
        do {
            try GradCAMReport.writeMaps(explanation, stem: stem, to: directory)
            let panel = GradCAMReport.panel(for: image, explanation: explanation, classNames: classNames, truth: truth,
                                            title: url.lastPathComponent)
            try ImageEncoder.writePNG(panel, to: directory.appendingPathComponent(panelName))
        } catch {
            fail("\(error)")
            return
        }
        let label = explanation.predicted < classNames.count ? classNames[explanation.predicted] : String(explanation.predicted)
        let probabilities = explanation.probabilities.map { String(format: "%.6f", $0) }
        for (map, score) in zip(explanation.maps, explanation.scores) {
            let fields = [CSV.field(url.path), String(map.classIndex), String(format: "%.6f", score)] + probabilities
                + [CSV.field(label), CSV.field(GradCAMReport.mapFileName(stem: stem, classIndex: map.classIndex)),
                   CSV.field(panelName)]
            rows.append(fields.joined(separator: ","))
        }
        written += 1
    }

    /// Writes `gradcam.csv` (header and every row so far) atomically.
    func finish() throws {
        let header = (["path", "class", "score"] + (0..<classCount).map { "p\($0)" } + ["label", "map_file", "panel_file"])
            .joined(separator: ",")
        let text = ([header] + rows).joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(text.utf8), to: directory.appendingPathComponent(Self.csvName))
    }
}

import ArgumentParser
import Foundation
import KerasFiles
import Layers
import Zoo

/// `rubble inspect FILE.h5`: what a Keras weights file holds; `rubble inspect --arch NAME`:
/// the graph of a model the tool builds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a Keras weights file's layout, layers, weight shapes and parameter counts, or a model's graph.",
        discussion: """
            Reads Keras 1 / 2 / 3 .h5 files (save_weights, model.save) and Keras 3 .weights.h5 \
            without loading a model. Exits with status 1 and a message on a file it cannot read. \
            With --arch (and no file), prints that architecture's graph as Keras' model.summary() \
            does: every layer with its Keras class, output shape, parameters and inputs, frozen as \
            `rubble train` freezes it by default.
            """)

    @Argument(help: "The weights file (.h5 or .weights.h5).")
    var file: String?

    @Option(help: "Show the graph of this architecture (vgg16, vgg19, baseline, resnet50, mobilenetv2, efficientnetb0).")
    var arch: Architecture?

    @Option(help: "Input height and width for --arch (default 224).")
    var imageSize: Int = 224

    @Option(help: "MobileNetV2's width multiplier for --arch mobilenetv2.")
    var alpha: Double = 1.0

    func validate() throws {
        guard (file == nil) != (arch == nil) else { throw ValidationError("give a weights file or --arch, not both or neither") }
        if let arch { try ModelOptions.validateImageSize(imageSize, arch: arch) }
        try ModelOptions.validateAlpha(alpha)
    }

    func run() throws {
        if let arch {
            let model = try arch.makeClassifier(imageSize: imageSize, head: arch.defaultHead, classes: 2,
                                                freezeThrough: arch.defaultFreezeThrough,
                                                backbone: BackboneOptions(alpha: alpha))
            print(try ModelSummary(model, inputShape: [imageSize, imageSize, 3]))
            return
        }
        do {
            print(try KerasWeights.inspect(URL(fileURLWithPath: file ?? "")).summary)
        } catch let error as WeightsError {
            FileHandle.standardError.write(Data("rubble inspect: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

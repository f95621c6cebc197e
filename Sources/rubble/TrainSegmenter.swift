import ArgumentParser
import Foundation
import HuggingFaceFiles
import Segmentation
import SegmentationTraining
import Tensor
import Train
import Vision

/// `rubble train-segmenter`: fine-tune a SegFormer (Hugging Face folder) on image / mask pairs.
struct TrainSegmenterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-segmenter",
        abstract: "Train (fine-tune) a SegFormer semantic-segmentation model on images and class masks.",
        discussion: """
            DIR holds images/NAME.jpg|jpeg|png and masks/NAME.png (8-bit, one class index a pixel, \
            255 = ignore). --model is a Hugging Face SegFormer folder (config.json, model.safetensors, \
            preprocessor_config.json), e.g. nvidia/mit-b0 or an ADE20K checkpoint: when --classes \
            differs from its labels the decode head's classifier starts fresh (and a missing decode \
            head too), everything else is fine-tuned. Every mask is read first: a class index >= the \
            number of classes (other than 255) is an error naming the file, and masks that label one \
            class only are refused unless --allow-single-class.

            The recipe is SegFormer's: AdamW (lr 6e-5, weight decay 0.01, betas 0.9/0.999, eps 1e-8 \
            added to sqrt(v) as PyTorch does) with the learning rate decaying linearly to 0 over the \
            run's steps; a seeded --validation-split; each epoch a seeded shuffle, random scale \
            0.5-2.0, crop to --input-size and left-right flip (mmseg); validation images plainly \
            resized. The loss is Hugging Face's: logits upsampled bilinearly to the label size, then \
            per-pixel cross-entropy over the pixels not labelled 255, reduced as PyTorch's weighted \
            mean: loss = sum(w_y * l) / sum(w_y), with w_y the --class-weights entry of the pixel's \
            class (1 without weights). Validation loss is unweighted, over every labelled pixel.

            RUN receives history.csv (epoch, loss, val_loss, pixel_accuracy, mean_iou, \
            iou_<class>..., learning_rate, seconds), metrics.json (the best epoch's and the last \
            epoch's validation metrics), best/ (the epoch with the highest validation mIoU) and \
            last/ as Hugging Face folders, and checkpoint/ (every epoch): after an interruption run \
            the same command with --resume; it continues exactly (same weights as an uninterrupted \
            run). A NaN loss stops training with an error; files of finished epochs stay intact.
            """)

    @Option(help: "Data folder with images/ and masks/.")
    var data: String

    @Option(help: "Hugging Face SegFormer folder to start from (config.json, model.safetensors, preprocessor_config.json).")
    var model: String

    @Option(help: "Run folder (new or empty; or a run to continue with --resume).")
    var out: String

    @Option(help: "Epochs of the whole run (a resumed run counts the epochs done).")
    var epochs: Int = 10

    @Option(help: "Stop after this many steps (batches) in all, even before --epochs (the last epoch is then shorter).")
    var maxSteps: Int?

    @Option(help: "Images per step.")
    var batchSize: Int = 8

    @Option(help: "Model input height and width (default: the size in --model's preprocessor_config.json).")
    var inputSize: Int?

    @Option(help: "AdamW's peak learning rate (decays linearly to 0).")
    var learningRate: Float = 6e-5

    @Option(help: "AdamW's decoupled weight decay.")
    var weightDecay: Float = 0.01

    @Option(help: "Fraction of the pairs held out for validation (seeded), in (0, 1).")
    var validationSplit: Double = 0.2

    @Option(help: "Seed of the split, the shuffles, the augmentation and dropout.")
    var seed: UInt64 = 0

    @Option(help: "One loss weight per class, comma-separated (e.g. 1,2.5,2.5).")
    var classWeights: String?

    @Option(help: "Class names in index order, comma-separated (default: --model's labels); a different list trains a new classifier.")
    var classes: String?

    @Option(help: "Training augmentation: mmseg (scale 0.5-2, crop, flip) or crop (cover the input, random crop, no flip).")
    var augment: AugmentChoice = .mmseg

    @Flag(help: "Train the decode head only (the encoder's weights stay as loaded).")
    var freezeEncoder = false

    @Flag(help: "Allow training masks that label a single class (the model then predicts it everywhere).")
    var allowSingleClass = false

    @Flag(help: "Start from random weights with --model's config.json (no model.safetensors needed): training from scratch.")
    var randomInit = false

    @Flag(help: "Continue the run in --out from its checkpoint (same data and options).")
    var resume = false

    enum AugmentChoice: String, ExpressibleByArgument, CaseIterable {
        case mmseg, crop
        var augmentation: SegmentationAugmentation { self == .mmseg ? .mmseg : .coverAndCrop }
    }

    func validate() throws {
        for (flag, value) in [("--epochs", epochs), ("--batch-size", batchSize)] where value < 1 {
            throw ValidationError("\(flag) must be >= 1, got \(value)")
        }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be >= 1, got \(maxSteps)") }
        if let inputSize, !(32...4096).contains(inputSize) {
            throw ValidationError("--input-size must be in 32...4096, got \(inputSize)")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw ValidationError("--weight-decay must be a finite number >= 0, got \(weightDecay)")
        }
        guard validationSplit > 0, validationSplit < 1 else {
            throw ValidationError("--validation-split must be between 0 and 1 (exclusive), got \(validationSplit)")
        }
        _ = try parsedClassWeights()
        _ = try parsedClasses()
    }

    func parsedClassWeights() throws -> [Float]? {
        guard let classWeights else { return nil }
        let cells = classWeights.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let values = cells.map { Float($0) }
        guard let bad = cells.indices.first(where: { values[$0] == nil || !values[$0]!.isFinite || values[$0]! < 0 }) else {
            let weights = values.compactMap { $0 }
            guard weights.contains(where: { $0 > 0 }) else { throw ValidationError("--class-weights \(classWeights): all are 0") }
            return weights
        }
        throw ValidationError("--class-weights \(classWeights): '\(cells[bad])' is not a finite number >= 0")
    }

    func parsedClasses() throws -> [String]? {
        guard let classes else { return nil }
        let names = classes.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.contains(""), Set(names).count == names.count, (1...255).contains(names.count) else {
            throw ValidationError("--classes \(classes): give 1 to 255 distinct, non-empty names separated by commas")
        }
        return names
    }

    func run() throws {
        let runDirectory = try OutputFolder.url(out)
        let hasCheckpoint = SegmentationTrainer.hasCheckpoint(in: runDirectory)
        if resume && !hasCheckpoint {
            throw ValidationError("--resume: no checkpoint in \(runDirectory.appendingPathComponent("checkpoint").path)")
        }
        if !resume {
            if hasCheckpoint {
                throw ValidationError("\(runDirectory.path) already holds a run (checkpoint/); continue it with --resume "
                                      + "and the same options, or choose another --out")
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory.path)) ?? []
            if let first = entries.sorted().first {
                throw ValidationError("--out \(runDirectory.path) is not empty (\(first)\(entries.count > 1 ? ", ..." : "")): "
                                      + "give a new or empty folder, so that no earlier results are overwritten")
            }
        }

        // Model and its processor.
        let modelFolder = URL(fileURLWithPath: model, isDirectory: true)
        let stored = try SegformerConfiguration.load(folder: modelFolder)
        let classNames = try parsedClasses() ?? stored.classNames
        let newHead = classNames != stored.classNames
        let segformer: Segformer
        if randomInit {
            var configuration = stored
            configuration.classNames = classNames
            segformer = try Segformer(configuration: configuration, seed: seed)
        } else {
            segformer = try SegformerFolder.load(modelFolder, heads: newHead ? .newHead : .exact) {
                $0.classNames = classNames
            }
        }
        let preprocessorFile = modelFolder.appendingPathComponent(ImageProcessorConfiguration.fileName).path
        let preprocessing = try ImageProcessorConfiguration.load(folder: modelFolder)
        let processor = try ImageProcessor(configuration: preprocessing, inputSize: inputSize, file: preprocessorFile)
        if preprocessing.doReduceLabels == true {
            warn("\(preprocessorFile) has do_reduce_labels true; the masks in --data are read as class indices as they "
                 + "are, and the saved folders say do_reduce_labels false")
        }
        let weights = try parsedClassWeights()
        if let weights, weights.count != classNames.count {
            throw ValidationError("--class-weights has \(weights.count) values for \(classNames.count) classes "
                                  + "(\(classNames.joined(separator: ", ")))")
        }

        // Data.
        let dataset = try SegmentationDataset(directory: URL(fileURLWithPath: data, isDirectory: true),
                                              numLabels: classNames.count)
        if let first = dataset.skipped.first {
            warn("skipped \(dataset.skipped.count) file(s) in \(data), e.g. \(first.path): \(first.reason)")
        }
        let split = try dataset.split(validationFraction: validationSplit, seed: seed)
        RunOutput.line("data: \(dataset.count) pairs in \(data): \(split.training.count) training, "
                       + "\(split.validation.count) validation; classes \(classNames.joined(separator: ", "))")
        let parameterCount = segformer.weights.reduce(0) { $0 + $1.value.count }
        let start = randomInit ? "random weights (--random-init)"
            : newHead ? "\(model), new classifier for \(classNames.count) classes" : "\(model)"
        RunOutput.line("model: SegFormer, hidden sizes \(segformer.configuration.hiddenSizes.map(String.init).joined(separator: "/")), "
                       + "\(parameterCount) weights, from \(start); input \(processor.width)x\(processor.height)"
                       + (freezeEncoder ? "; encoder frozen" : ""))

        let configuration = SegmentationTrainingConfiguration(
            epochs: epochs, maxSteps: maxSteps, batchSize: batchSize, learningRate: learningRate, weightDecay: weightDecay,
            validationFraction: validationSplit, seed: seed, classWeights: weights, augmentation: augment.augmentation,
            freezeEncoder: freezeEncoder, allowSingleClass: allowSingleClass, outputDirectory: runDirectory,
            resume: resume, progress: .automatic)
        let trainer = try SegmentationTrainer(model: segformer, processor: processor, preprocessing: preprocessing,
                                              configuration: configuration)
        let result = try trainer.fit(dataset)
        let absent = zip(classNames, result.trainingClassPixels).filter { $0.1 == 0 }.map(\.0)
        if !absent.isEmpty {
            warn("no training pixel of class \(absent.joined(separator: ", ")): the model cannot learn it")
        }
        if result.skippedBatches > 0 {
            warn("\(result.skippedBatches) batch(es) had only ignored pixels after the crop and were skipped")
        }
        if result.resumedEpochs == result.history.records.count {
            RunOutput.line("the run in \(runDirectory.path) was already complete (\(result.resumedEpochs) epochs)")
        }
        if let best = result.bestMetrics, let epoch = result.bestEpoch {
            RunOutput.line("\nvalidation, best epoch \(epoch) of \(result.history.records.count) (mean IoU):")
            RunOutput.line(String(format: "  pixel accuracy %.4f, mean IoU %.4f", best.pixelAccuracy, best.meanIoU))
            let width = max(12, classNames.map(\.count).max() ?? 0)
            for (name, iou) in zip(classNames, best.perClassIoU) {
                let value = iou.isNaN ? "-" : String(format: "%.4f", iou)
                RunOutput.line("  IoU \(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(value)")
            }
        }
        RunOutput.line("\nwrote \(runDirectory.path)/: best/ and last/ (Hugging Face folders), history.csv, metrics.json, checkpoint/")
    }
}

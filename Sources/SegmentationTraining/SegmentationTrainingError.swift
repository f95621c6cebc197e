import Segmentation
import Foundation

/// Why ``SegmentationTrainer`` refused to start, stopped, or could not resume. Every case names
/// the value and, where there is one, the file.
public enum SegmentationTrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A setting out of range: `name` is the setting, `value` what was given.
    case invalidSetting(name: String, value: String, requirement: String)
    /// The data and the model disagree (class counts, no labelled pixels, ...).
    case dataMismatch(String)
    /// Every labelled pixel of the training masks is of one class: a model trained on it
    /// predicts that class everywhere and looks perfect. `allowSingleClass` permits it.
    case singleClass(className: String, pixels: Int, masks: Int, directory: String)
    /// The loss of a training step is NaN or infinite (nothing was updated by that step).
    case nonFiniteLoss(epoch: Int, step: Int, value: Float)
    /// The gradients of a step hold NaN or infinity although the loss was finite.
    case nonFiniteGradient(epoch: Int, step: Int, parameter: String)
    /// The validation loss after an epoch is NaN or infinite.
    case nonFiniteValidationLoss(epoch: Int)
    /// A weight became NaN or infinite during an epoch.
    case nonFiniteWeights(epoch: Int, parameter: String)
    /// A checkpoint file that cannot be read or holds a value no run writes.
    case damagedCheckpoint(file: String, field: String, reason: String)
    /// The run in the checkpoint was made with other settings (each difference listed).
    case settingsDiffer(file: String, differences: [String])
    /// `resume` without a checkpoint.
    case noCheckpoint(directory: String)
    /// A checkpoint exists but `resume` was not asked for: the run would be overwritten.
    case wouldOverwrite(directory: String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, value, requirement):
            return "\(name) \(value) \(requirement)"
        case let .dataMismatch(message):
            return message
        case let .singleClass(className, pixels, masks, directory):
            return "\(directory): every labelled pixel of the \(masks) training masks (\(pixels) pixels) is of class "
                + "\(className); a model trained on one class predicts it everywhere and scores perfectly. "
                + "Label at least two classes (255 = ignore), or allow single-class training explicitly"
        case let .nonFiniteLoss(epoch, step, value):
            return "the training loss became \(value) at epoch \(epoch), step \(step): training stopped before that "
                + "update (lower the learning rate?); the last checkpoint is intact"
        case let .nonFiniteGradient(epoch, step, parameter):
            return "the gradient of \(parameter) holds NaN or infinity at epoch \(epoch), step \(step): training stopped "
                + "before that update; the last checkpoint is intact"
        case let .nonFiniteValidationLoss(epoch):
            return "the validation loss after epoch \(epoch) is not finite: training stopped; the last checkpoint is intact"
        case let .nonFiniteWeights(epoch, parameter):
            return "\(parameter) holds NaN or infinity after epoch \(epoch): training stopped; the last checkpoint is intact"
        case let .damagedCheckpoint(file, field, reason):
            return "\(file) is damaged: \(field): \(reason)"
        case let .settingsDiffer(file, differences):
            return "\(file): cannot resume with different settings: " + differences.joined(separator: "; ")
        case let .noCheckpoint(directory):
            return "\(directory): no checkpoint to resume from"
        case let .wouldOverwrite(directory):
            return "\(directory) already holds a run (checkpoint/); resume it or choose another output folder"
        }
    }
}

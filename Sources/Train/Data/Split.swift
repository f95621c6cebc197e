import Foundation
import Tensor

/// A training / validation division of one set of examples.
public struct TrainValidationSplit: Sendable {
    public let training: Subset
    public let validation: Subset
}

extension LabelledExamples {
    /// Splits off a validation set the way Keras' `image_dataset_from_directory(validation_split=,
    /// seed=)` does: shuffle the full list of examples with `seed`, then the last
    /// `Int(fraction * count)` (rounded down, as Keras' `int()`) are validation and the rest
    /// training. The shuffle uses ``SeededGenerator`` (not NumPy's), so the same seed picks
    /// different files than Keras would — but always the same ones here.
    ///
    /// With `stratified: true` the same is done within each class (`Int(fraction * n_c)` rounded
    /// to nearest per class), so both parts keep the class proportions; off by default, as in Keras.
    /// Within each part, examples keep the base order (sorted files), so reports read in folder
    /// order; the trainer shuffles each epoch with ``epochOrder(count:epoch:seed:)``.
    ///
    /// - Throws: ``DatasetError/invalidArgument(_:)`` if `fraction` is not in (0, 1) or either
    ///   part would be empty.
    public func split(validationFraction fraction: Double, seed: UInt64,
                      stratified: Bool = false) throws -> TrainValidationSplit {
        guard fraction > 0 && fraction < 1 else {
            throw DatasetError.invalidArgument("validation split \(fraction) must be between 0 and 1 (exclusive)")
        }
        var rng = SeededGenerator(seed: SeededGenerator.mixing(seed, 0x5B_1177))
        var validation: [Int] = []
        var training: [Int] = []
        if stratified {
            let all = labels
            for label in 0..<classNames.count {
                var members = all.indices.filter { all[$0] == label }
                rng.shuffle(&members)
                let take = Int((fraction * Double(members.count)).rounded())
                validation += members.suffix(take)
                training += members.prefix(members.count - take)
            }
        } else {
            var order = Array(0..<count)
            rng.shuffle(&order)
            let take = Int(fraction * Double(count))
            validation = Array(order.suffix(take))
            training = Array(order.prefix(count - take))
        }
        guard !validation.isEmpty, !training.isEmpty else {
            throw DatasetError.invalidArgument(
                "validation split \(fraction) of \(count) examples leaves \(training.count) for training and \(validation.count) for validation")
        }
        return TrainValidationSplit(training: try Subset(self, indices: training.sorted()),
                                    validation: try Subset(self, indices: validation.sorted()))
    }
}

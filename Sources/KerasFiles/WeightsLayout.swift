/// The Keras weights layouts this library reads (ARCHITECTURE.md §5 "Weights files").
public enum WeightsLayout: Sendable, Equatable, CustomStringConvertible {
    /// Keras 1 names, as in the published ImageNet files
    /// (`vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`): `block1_conv1/block1_conv1_W_1:0`,
    /// usually no version attributes. Weights are taken by position within `weight_names`.
    case keras1
    /// Keras 2 (tf.keras) HDF5: `save_weights` (`fullModel == false`) or `model.save`
    /// (`fullModel == true`: the same tree under `model_weights`). Datasets `<layer>/<layer>/kernel:0`;
    /// a nested model is one group (`vgg19/block1_conv1/kernel:0`).
    case keras2(fullModel: Bool)
    /// Keras 3's legacy `.h5`: as Keras 2 without the `:0` suffixes.
    case keras3Legacy(fullModel: Bool)
    /// Keras 3 `.weights.h5`: `layers/<snake_case_class>[_N]/vars/<i>`, group attribute `name`.
    case keras3

    public var description: String {
        switch self {
        case .keras1: return "Keras 1 HDF5 weights (published ImageNet naming, block1_conv1_W_1:0)"
        case .keras2(false): return "Keras 2 save_weights HDF5 (tf.keras)"
        case .keras2(true): return "Keras 2 model.save HDF5 (model_weights group)"
        case .keras3Legacy(false): return "Keras 3 legacy save_weights HDF5 (no :0 suffixes)"
        case .keras3Legacy(true): return "Keras 3 legacy model.save HDF5 (model_weights group)"
        case .keras3: return "Keras 3 .weights.h5 (layers/<class>/vars)"
        }
    }

    /// Whether the file is a full `model.save` (configuration, weights, optimizer state).
    public var isFullModel: Bool {
        switch self {
        case .keras2(let full), .keras3Legacy(let full): return full
        case .keras1, .keras3: return false
        }
    }
}

/// Which layout `save` writes.
public enum WeightsFormat: String, Sendable, CaseIterable {
    /// Keras 2 `save_weights` HDF5 (`model.load_weights` in tf.keras / tf_keras reads it, and
    /// Keras 3 reads it as a legacy `.h5`).
    case keras2
    /// Keras 3 `.weights.h5` (Keras 3 wants that file name suffix).
    case keras3
}

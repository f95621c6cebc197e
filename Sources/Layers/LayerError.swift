import Tensor

/// What a layer reports instead of computing a wrong answer.
public enum LayerError: Error, CustomStringConvertible, Equatable {
    /// The input does not fit the layer: `expected` describes what it takes.
    case shapeMismatch(layer: String, expected: String, got: Shape)
    /// A loss or output that is NaN or infinite.
    case nonFinite(what: String)
    /// No layer of that name in the model.
    case unknownLayer(String)
    /// A layer's configuration value is out of range: `setting` names it, `requirement`
    /// says what it must be (`"rate 1.0 must be in [0, 1)"`).
    case invalidConfiguration(layer: String, setting: String, requirement: String)
    /// Two layers of one model share a name (weights are matched by name, so this is refused).
    case duplicateLayerName(String, model: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(layer, expected, got):
            return "layer '\(layer)': expected input \(expected), got \(got)"
        case let .nonFinite(what):
            return "\(what) is not finite (NaN or infinity)"
        case let .unknownLayer(name):
            return "no layer named '\(name)'"
        case let .invalidConfiguration(layer, setting, requirement):
            return "layer '\(layer)': \(setting) \(requirement)"
        case let .duplicateLayerName(name, model):
            return "model '\(model)' has more than one layer named '\(name)'; layer names must be unique"
        }
    }
}

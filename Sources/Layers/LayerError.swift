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
    /// A layer was given the wrong number of inputs (`expected` is "1" or ">= 2").
    case wrongInputCount(layer: String, expected: String, got: Int)
    /// A container the executor cannot run in a known order (only `Sequential` and `Graph` are).
    case unsupportedContainer(layer: String, type: String)
    /// A graph node names an input that is not an earlier node.
    case unknownInput(node: String, input: String)
    /// A plan run was asked for value `index`, which its state (after step `position`) does
    /// not hold or cannot reach.
    case valueNotKept(index: Int, position: Int)

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
        case let .wrongInputCount(layer, expected, got):
            return "layer '\(layer)': takes \(expected) input\(expected == "1" ? "" : "s"), got \(got)"
        case let .unsupportedContainer(layer, type):
            return "layer '\(layer)' is a container of type \(type), which the executor cannot run (use Sequential or Graph)"
        case let .valueNotKept(index, position):
            return "execution plan: value #\(index) is not available from a state after step #\(position)"
        case let .unknownInput(node, input):
            return "graph node '\(node)' takes input '\(input)', which is not the graph's input or an earlier node"
        }
    }
}

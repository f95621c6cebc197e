/// Why a model gave no answer for an input.
public enum InferenceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The model's output for `file` holds NaN or infinity: its weights or the input are
    /// broken, and any label read from it would be a guess.
    case nonFiniteOutput(file: String)

    public var description: String {
        switch self {
        case let .nonFiniteOutput(file):
            return "\(file): the model's output is not finite (NaN or infinity); its weights or this input are "
                + "broken, so no label is given"
        }
    }
}

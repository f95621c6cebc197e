/// What can go wrong loading or running a depth model: each case names the value and, where
/// there is one, the file.
public enum DepthError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Tensors in the weights file that no layer of the model reads.
    case unexpectedTensors(names: [String], file: String)
    /// The configuration describes more parameters than the weights file holds values: it
    /// cannot be this file's model (checked before anything is allocated).
    case configurationTooLarge(parameters: Int, fileValues: Int, file: String)
    /// A weight or an output that is NaN or infinite.
    case notFinite(what: String)
    /// The preprocessed size of a photo: a side that rounds to 0, or more pixels than the
    /// model is run on.
    case inputSize(photoWidth: Int, photoHeight: Int, width: Int, height: Int, reason: String)

    public var description: String {
        switch self {
        case let .unexpectedTensors(names, file):
            return "\(file): \(names.count) tensor(s) that this Depth Anything does not use, e.g. "
                + names.prefix(3).joined(separator: ", ")
        case let .configurationTooLarge(parameters, values, file):
            return "\(file): the configuration describes \(parameters) parameters but the file holds \(values) values"
        case let .notFinite(what):
            return "\(what) is not finite (NaN or infinity)"
        case let .inputSize(pw, ph, w, h, reason):
            return "a \(pw)x\(ph) photo preprocesses to \(w)x\(h) (width x height): \(reason)"
        }
    }
}

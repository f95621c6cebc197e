/// A named value of a layer that checkpoints and weights files carry: a trainable weight
/// (a kernel, a bias, a BatchNorm gamma) that collects its gradient across `backward()` calls,
/// or state the layer updates itself (a BatchNorm's moving mean and variance).
public final class Parameter: @unchecked Sendable {
    /// What a parameter is for.
    public enum Role: String, Sendable {
        /// Learned by an optimizer from gradients; can be frozen and unfrozen.
        case weight
        /// Kept by the layer (moving statistics): never trainable, never given a gradient,
        /// but saved and restored with the weights.
        case state
    }

    /// Keras' weight name within its layer, e.g. `kernel`, `bias`, `moving_mean`.
    public let name: String
    public let role: Role
    public var value: Tensor
    /// Sum of gradients since the last `zeroGradient()`; `nil` when none arrived.
    public private(set) var gradient: Tensor?
    private var trainable: Bool

    public init(name: String, value: Tensor, isTrainable: Bool = true, role: Role = .weight) {
        self.name = name
        self.role = role
        self.value = value.detached
        trainable = role == .weight && isTrainable
    }

    /// A frozen parameter gets no gradient and costs no weight-gradient work. State is never
    /// trainable: setting this on it does nothing.
    public var isTrainable: Bool {
        get { trainable }
        set { trainable = role == .weight && newValue }
    }

    public var shape: Shape { value.shape }

    /// The value for use in a forward pass: connected to autograd when trainable and recording.
    public var tracked: Tensor {
        guard isTrainable, Autograd.isRecording else { return value }
        return value.trackingGradient { grad in
            if self.gradient == nil { self.gradient = grad.detached } else { self.gradient!.addInPlace(grad) }
        }
    }

    public func zeroGradient() { gradient = nil }
}

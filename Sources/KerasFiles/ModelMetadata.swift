/// What a weights file written by Rubble says about its model, as root attributes that Keras
/// ignores: enough to rebuild the model and feed it the way it was trained, so that
/// `rubble predict --weights run/best.h5 photo.jpg` needs no other flag.
///
/// | attribute | value |
/// |---|---|
/// | `rubble_class_names` | class names in output order |
/// | `rubble_input_size` | `[height, width, channels]` |
/// | `rubble_architecture` | `vgg19`, `vgg16`, `baseline`, `resnet50`, `mobilenetv2`, `efficientnetb0` |
/// | `rubble_head` | the head: units of the hidden Dense layer (`256`), or `gap` for the pooled head |
/// | `rubble_alpha` | MobileNetV2's width multiplier (`0.35`), only for that architecture |
/// | `rubble_preprocessing` | `unit` (x/255), `caffe`, `tf` (x/127.5-1) or `raw` (0-255) |
/// | `rubble_resize` | `bilinear` or `nearest` |
/// | `rubble_positive_class` | the class whose probability flags a photo (`damage`) |
public struct ModelMetadata: Sendable, Equatable {
    public var classNames: [String]?
    /// `[height, width, channels]`.
    public var inputShape: [Int]?
    public var architecture: String?
    public var head: String?
    public var preprocessing: String?
    public var resize: String?
    public var positiveClass: String?
    /// MobileNetV2's width multiplier, as text (`"0.35"`).
    public var alpha: String?

    public init(classNames: [String]? = nil, inputShape: [Int]? = nil, architecture: String? = nil,
                head: String? = nil, preprocessing: String? = nil, resize: String? = nil,
                positiveClass: String? = nil, alpha: String? = nil) {
        self.classNames = classNames
        self.inputShape = inputShape
        self.architecture = architecture
        self.head = head
        self.preprocessing = preprocessing
        self.resize = resize
        self.positiveClass = positiveClass
        self.alpha = alpha
    }

    public var isEmpty: Bool { self == ModelMetadata() }

    /// The largest input side a file may declare (and the tool builds).
    public static let maximumInputSize = 4096
    /// The most classes a file may name.
    public static let maximumClassCount = 100_000

    /// The attribute names.
    public enum Attribute {
        public static let classNames = "rubble_class_names"
        public static let inputSize = "rubble_input_size"
        public static let architecture = "rubble_architecture"
        public static let head = "rubble_head"
        public static let preprocessing = "rubble_preprocessing"
        public static let resize = "rubble_resize"
        public static let positiveClass = "rubble_positive_class"
        public static let alpha = "rubble_alpha"
    }

    /// The first value that cannot be right, with the attribute it came from.
    func problem() -> (attribute: String, reason: String)? {
        if let shape = inputShape {
            let sides = 1...Self.maximumInputSize
            guard shape.count == 3, sides.contains(shape[0]), sides.contains(shape[1]), (1...4).contains(shape[2]) else {
                return (Attribute.inputSize, "is \(shape); expected [height, width, channels] with sides in "
                            + "1...\(Self.maximumInputSize) and 1...4 channels")
            }
        }
        if let alpha, !(Double(alpha).map { $0 > 0 && $0.isFinite } ?? false) {
            return (Attribute.alpha, "is '\(alpha.prefix(40))'; expected a positive number")
        }
        if let names = classNames {
            guard (1...Self.maximumClassCount).contains(names.count) else {
                return (Attribute.classNames, "names \(names.count) classes; expected 1...\(Self.maximumClassCount)")
            }
            guard Set(names).count == names.count else {
                return (Attribute.classNames, "names a class twice: \(names.prefix(20))")
            }
            if let positive = positiveClass, !names.contains(positive) {
                return (Attribute.positiveClass, "is '\(positive)', which is not one of the classes \(names.prefix(20))")
            }
        }
        return nil
    }
}

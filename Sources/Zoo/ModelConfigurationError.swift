/// A model builder's setting is out of range (an input too small for the architecture,
/// widths of the wrong count): `setting` names the value, `requirement` the rule.
public struct ModelConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let model: String
    public let setting: String
    public let requirement: String

    public init(model: String, setting: String, requirement: String) {
        self.model = model
        self.setting = setting
        self.requirement = requirement
    }

    public var description: String { "\(model): \(setting) \(requirement)" }
}

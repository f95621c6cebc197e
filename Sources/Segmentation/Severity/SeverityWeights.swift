/// The damage value `v(c)` in `[0, 1]` of each class that counts as **structure** in a
/// ``SeverityScore``; classes without a value (background, sky, vegetation in other label sets)
/// are not structure and are left out of the score.
public struct SeverityWeights: Sendable, Equatable {
    /// Class index -> value in `[0, 1]`.
    public let values: [Int: Double]

    /// Weights for the classes given; each value finite and in `[0, 1]`, each index >= 0.
    public init(_ values: [Int: Double]) throws {
        for (index, value) in values.sorted(by: { $0.key < $1.key })
            where index < 0 || !value.isFinite || value < 0 || value > 1 {
            throw SeverityError.weight(classIndex: index, value: value, classes: nil)
        }
        self.values = values
    }

    private init(checked values: [Int: Double]) { self.values = values }

    /// The damage label set: undamaged_structure 0 -> 0, damaged_structure 1 -> 0.5, debris 2 -> 1.
    public static let damage = SeverityWeights(checked: [0: 0, 1: 0.5, 2: 1])

    /// The class names of ``damage``, in index order.
    public static let damageClassNames = ["undamaged_structure", "damaged_structure", "debris"]

    /// `v(c)`, or `nil` when class `c` is not structure.
    public func value(ofClass c: Int) -> Double? { values[c] }

    /// The structure classes, ascending.
    public var structureClasses: [Int] { values.keys.sorted() }
}

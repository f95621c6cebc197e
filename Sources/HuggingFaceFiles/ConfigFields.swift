import Foundation

/// Typed, range-checked reads of a configuration object's keys, each failure an
/// ``HuggingFaceError/invalidConfig(file:key:reason:)`` naming the file and the key. A missing
/// key (or, where `nil` is allowed, a JSON `null`) gives the default, as the Python classes do.
struct ConfigFields {
    let object: [String: JSONValue]
    let file: String

    func error(_ key: String, _ reason: String) -> HuggingFaceError {
        .invalidConfig(file: file, key: key, reason: reason)
    }

    static func show(_ value: JSONValue) -> String { value.excerpt(80) }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let value = object[key] else { return fallback }
        return try int(value, key: key, in: range)
    }

    func optionalInt(_ key: String, default fallback: Int?, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = object[key] else { return fallback }
        if value == .null { return nil }
        return try int(value, key: key, in: range)
    }

    func int(_ value: JSONValue, key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let number = value.intValue else {
            throw error(key, "\(Self.show(value)) is not an integer")
        }
        guard range.contains(number) else {
            throw error(key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    func double(_ key: String, default fallback: Double, in range: ClosedRange<Double>,
                excludingLowerBound: Bool = false) throws -> Double {
        guard let value = object[key] else { return fallback }
        return try double(value, key: key, in: range, excludingLowerBound: excludingLowerBound)
    }

    func double(_ value: JSONValue, key: String, in range: ClosedRange<Double>, excludingLowerBound: Bool = false) throws -> Double {
        guard let number = value.doubleValue else { throw error(key, "\(Self.show(value)) is not a number") }
        guard range.contains(number), !(excludingLowerBound && number == range.lowerBound) else {
            let lower = excludingLowerBound ? "above \(range.lowerBound)" : "at least \(range.lowerBound)"
            throw error(key, "\(number) is not \(lower) and at most \(range.upperBound)")
        }
        return number
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = object[key] else { return fallback }
        guard case let .bool(flag) = value else { throw error(key, "\(Self.show(value)) is not true or false") }
        return flag
    }

    func optionalBool(_ key: String, default fallback: Bool?) throws -> Bool? {
        guard let value = object[key] else { return fallback }
        if value == .null { return nil }
        guard case let .bool(flag) = value else { throw error(key, "\(Self.show(value)) is not true or false") }
        return flag
    }

    func string(_ key: String, default fallback: String) throws -> String {
        guard let value = object[key] else { return fallback }
        guard case let .string(text) = value else { throw error(key, "\(Self.show(value)) is not a string") }
        return text
    }

    /// A list of `count` integers in `range` (any count when `count` is `nil`).
    func ints(_ key: String, default fallback: [Int], count: Int?, in range: ClosedRange<Int>) throws -> [Int] {
        guard let value = object[key] else { return fallback }
        guard case let .array(elements) = value else { throw error(key, "\(Self.show(value)) is not a list") }
        if let count, elements.count != count {
            throw error(key, "has \(elements.count) entries, expected \(count) (num_encoder_blocks)")
        }
        return try elements.enumerated().map { try int($0.element, key: "\(key)[\($0.offset)]", in: range) }
    }

    /// A list of numbers in `range`; a single number counts as a list of one (the Python
    /// processors accept `image_mean=0.5`).
    func doubles(_ key: String, default fallback: [Double], counts: ClosedRange<Int>, in range: ClosedRange<Double>,
                 excludingLowerBound: Bool = false) throws -> [Double] {
        guard let value = object[key] else { return fallback }
        if value.doubleValue != nil {
            return [try double(value, key: key, in: range, excludingLowerBound: excludingLowerBound)]
        }
        guard case let .array(elements) = value else { throw error(key, "\(Self.show(value)) is not a list of numbers") }
        guard counts.contains(elements.count) else {
            throw error(key, "has \(elements.count) entries, expected \(counts.lowerBound)...\(counts.upperBound)")
        }
        return try elements.enumerated().map {
            try double($0.element, key: "\(key)[\($0.offset)]", in: range, excludingLowerBound: excludingLowerBound)
        }
    }
}

import Foundation

/// JSON text in and out through Foundation; no JSON is tokenized or printed here.
///
/// Reading uses `JSONSerialization` rather than `JSONDecoder` + ``JSONValue``'s `Decodable`
/// conformance because, with swift-corelibs-foundation on Linux (checked on Swift 6.3):
/// - its numbers keep Python's distinction: `1` is an integer, `1.0` and `1e2` are floats
///   (`JSONDecoder` decodes all three as `Int64`), and `-0.0` keeps its sign;
/// - a key given twice keeps its last value, as Python's `json` and `serde_json` (the
///   `safetensors` library) do; `JSONDecoder` keeps the first, so a hostile file would read
///   differently here than in PyTorch;
/// - its errors say what and where ("Unexpected end of file during JSON parse.", "Invalid value
///   around character 3.", "Unescaped control character around character 6."); `JSONDecoder`
///   only says "The given data was not valid JSON." off Darwin;
/// - it refuses nesting deeper than 512 before building anything, and what it accepts is read
///   with little stack: 512 levels parse and convert on a 256 KB thread (512 KB in a debug
///   build), where the `Decodable` route needs about 1 MB (it would overflow a 512 KB thread).
/// The price is reading `NSNumber`s: JSON's `true`/`false` are the boolean `NSNumber`s (type
/// encoding `c`), integers are signed (`q`, `i`) or `UInt64` (`Q`) above `Int64.max`, floats `d`.
/// Numbers of 17 or more significant digits, integers beyond `UInt64` and negative ones of 19
/// digits come as `NSDecimalNumber`s, which no longer say how they were written: they are read
/// from their decimal text (their `doubleValue` is not correctly rounded), as an integer when
/// that fits `Int64`, so a float of 17 digits with an integral value (`2.3955760175515948e16`,
/// only possible from 1e16 up) reads as ``integer(_:)`` of the same value. JSONTests pins each
/// of these.
///
/// Foundation is more lenient than RFC 8259 in two ways that are kept: a trailing comma
/// (`[1,]`, `{"a": 1,}`) is accepted, and UTF-16 / UTF-32 text (detected from its zero bytes) is
/// read as well as UTF-8. Invalid UTF-8, lone surrogates, control characters in strings, `NaN`,
/// numbers out of `Double`'s range, leading zeros and text after the value are refused.
extension JSONValue {
    /// Why text is not JSON, in Foundation's words.
    public struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// The value JSON text holds (any value at the top level, whitespace around it allowed).
    public init(parsing data: Data) throws(SyntaxError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw SyntaxError(reason: reason ?? error.localizedDescription)
        }
        self = try Self.converting(object)
    }

    /// `JSONSerialization`'s tree as a value. The recursion goes as deep as its nesting limit
    /// (512), so the recursive frame is kept small: containers are walked in functions of their
    /// own, and the casts of a leaf are made only once it is known not to be a container.
    private static func converting(_ object: Any) throws(SyntaxError) -> JSONValue {
        if let elements = object as? [Any] { return try converting(elements: elements) }
        if let members = object as? [String: Any] { return try converting(members: members) }
        return try converting(leaf: object)
    }

    @inline(never)
    private static func converting(elements: [Any]) throws(SyntaxError) -> JSONValue {
        var result: [JSONValue] = []
        result.reserveCapacity(elements.count)
        for element in elements { result.append(try converting(element)) }
        return .array(result)
    }

    @inline(never)
    private static func converting(members: [String: Any]) throws(SyntaxError) -> JSONValue {
        var result: [String: JSONValue] = [:]
        result.reserveCapacity(members.count)
        for (key, element) in members { result[key] = try converting(element) }
        return .object(result)
    }

    @inline(never)
    private static func converting(leaf: Any) throws(SyntaxError) -> JSONValue {
        switch leaf {
        case is NSNull: return .null
        case let text as String: return .string(text)
        case let number as NSNumber: return try converting(number)
        default: throw SyntaxError(reason: "JSONSerialization returned an unexpected \(type(of: leaf))")
        }
    }

    private static func converting(_ number: NSNumber) throws(SyntaxError) -> JSONValue {
        if number is NSDecimalNumber {  // see above: the value is exact in its text, not in doubleValue
            if let integer = Int64(number.stringValue) { return .integer(integer) }
            guard let value = Double(number.stringValue), value.isFinite else {
                throw SyntaxError(reason: "the number \(number.stringValue.prefix(40)) is out of range")
            }
            return .number(value)
        }
        switch UInt8(truncatingIfNeeded: number.objCType.pointee) {
        case UInt8(ascii: "c"), UInt8(ascii: "B"):
            return .bool(number.boolValue)
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            guard number.doubleValue.isFinite else { throw SyntaxError(reason: "the number \(number) is out of range") }
            return .number(number.doubleValue)
        case UInt8(ascii: "Q"), UInt8(ascii: "L"), UInt8(ascii: "I"), UInt8(ascii: "S"), UInt8(ascii: "C"):
            let value = number.uint64Value
            return Int64(exactly: value).map(JSONValue.integer) ?? .number(Double(value))
        default:
            return .integer(number.int64Value)
        }
    }

    /// JSON text from Foundation's `JSONEncoder`: keys sorted (by code point), `/` unescaped,
    /// other characters as UTF-8 with `"`, `\` and control characters escaped; numbers in their
    /// shortest round-trip form, a float without a fraction written as an integer (`1.0` as
    /// `1`, read back as ``integer(_:)``). Compact, or `prettyPrinted` (two-space indents,
    /// `"key" : value`). Throws `EncodingError` for NaN and infinities.
    public func jsonData(prettyPrinted: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// The compact text, cut after `limit` characters (with "..."), for error messages. Only
    /// what can show is encoded: every array element after the first `limit`, object member
    /// after the first `limit` keys, string character after the first `limit`, and container
    /// nested deeper than `limit` starts after character `limit` (each level opens with a
    /// character of its own), so dropping them changes none of the characters shown, and a
    /// hostile value costs no more than a short one.
    public func excerpt(_ limit: Int = .max) -> String {
        let text = (try? truncated(limit).jsonData()).map { String(decoding: $0, as: UTF8.self) } ?? "\(self)"
        return text.count > limit ? String(text.prefix(limit)) + "..." : text
    }

    private func truncated(_ limit: Int) -> JSONValue {
        switch self {
        case let .string(text):
            return .string(String(text.prefix(limit)))
        case let .array(elements):
            return .array(limit > 0 ? elements.prefix(limit).map { $0.truncated(limit - 1) } : [])
        case let .object(members):
            guard limit > 0 else { return .object([:]) }
            let keys = members.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
            var result: [String: JSONValue] = [:]
            for key in keys.prefix(limit) { result[key] = members[key]?.truncated(limit - 1) }
            return .object(result)
        default:
            return self
        }
    }
}

extension HuggingFaceError {
    /// Why `JSONEncoder` refused a value ("Unable to encode Double.nan directly in JSON. (at
    /// image_mean[1])").
    static func encodingReason(_ error: any Error) -> String {
        guard case let .invalidValue(_, context) = error as? EncodingError else { return "\(error)" }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return context.debugDescription + (path.isEmpty ? "" : " (at \(path.hasPrefix(".") ? String(path.dropFirst()) : path))")
    }
}

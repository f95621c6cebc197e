import Foundation

/// Prints ``JSONValue``s the way the Python side writes them, so that files Rubble writes are
/// byte for byte what `transformers` and `safetensors` would write for the same content.
public enum JSONWriter {
    /// Python's `json.dumps(value, indent=2, sort_keys=True)`, the format of `config.json` and
    /// `preprocessor_config.json` (`save_pretrained` adds a final newline): keys sorted by code
    /// point, separators `,` and `: ` (no trailing spaces), non-ASCII escaped as `\uXXXX`, floats as
    /// Python's `repr` (`1e-06`, `0.02`, `255.0`).
    public static func python(_ value: JSONValue, indent: Int = 2) -> String {
        var output = ""
        writePython(value, indent: indent, level: 0, into: &output)
        return output
    }

    /// `serde_json::to_string` (what the `safetensors` library writes its header with): no
    /// whitespace, UTF-8 kept as is, only `"`, `\` and control characters escaped. Object keys
    /// are sorted by code point.
    public static func compact(_ value: JSONValue) -> String {
        var output = ""
        writeCompact(value, into: &output)
        return output
    }

    /// `text` as a JSON string in `serde_json`'s escaping.
    public static func compactString(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{00}"..."\u{1F}": output += String(format: "\\u%04x", scalar.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }

    /// `text` as a JSON string in Python's `ensure_ascii` escaping.
    public static func pythonString(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case " "..."~": output.unicodeScalars.append(scalar)
            default:
                for unit in String(scalar).utf16 { output += String(format: "\\u%04x", unit) }
            }
        }
        return output + "\""
    }

    /// Python's `repr(float)`: the shortest text that reads back as `value`, in positional
    /// notation when the decimal point falls within 16 digits (`0.0001`, `1000000000000000.0`),
    /// otherwise as `1e-05` / `1.5e+16`.
    public static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let sign = value < 0 ? "-" : ""
        // Swift's description is also the shortest round-trip text; only the layout differs.
        var text = "\(value.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = parts.first.map(String.init) ?? ""
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = Array(integerPart + fraction)
        // value = 0.d1d2d3... x 10^point
        var point = integerPart.count + exponent
        while digits.first == "0" { digits.removeFirst(); point -= 1 }
        while digits.last == "0" { digits.removeLast() }
        guard !digits.isEmpty else { return sign + "0.0" }
        if point < -3 || point > 16 {
            let e = point - 1
            let mantissa = digits.count > 1 ? "\(digits[0])." + String(digits[1...]) : String(digits[0])
            let magnitude = abs(e) < 10 ? "0\(abs(e))" : "\(abs(e))"
            return sign + mantissa + "e" + (e < 0 ? "-" : "+") + magnitude
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0" }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }

    /// Keys in code-point order (Python's `sorted` on `str`, Rust's `Ord` on `String`).
    public static func sortedKeys<V>(_ object: [String: V]) -> [String] {
        object.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    private static func writePython(_ value: JSONValue, indent: Int, level: Int, into output: inout String) {
        let inner = "\n" + String(repeating: " ", count: indent * (level + 1))
        let outer = "\n" + String(repeating: " ", count: indent * level)
        switch value {
        case .null: output += "null"
        case let .bool(flag): output += flag ? "true" : "false"
        case let .integer(number): output += String(number)
        case let .number(number): output += pythonFloat(number)
        case let .string(text): output += pythonString(text)
        case let .array(elements):
            guard !elements.isEmpty else { output += "[]"; return }
            output += "["
            for (index, element) in elements.enumerated() {
                output += (index == 0 ? "" : ",") + inner
                writePython(element, indent: indent, level: level + 1, into: &output)
            }
            output += outer + "]"
        case let .object(members):
            guard !members.isEmpty else { output += "{}"; return }
            output += "{"
            for (index, key) in sortedKeys(members).enumerated() {
                output += (index == 0 ? "" : ",") + inner + pythonString(key) + ": "
                writePython(members[key] ?? .null, indent: indent, level: level + 1, into: &output)
            }
            output += outer + "}"
        }
    }

    private static func writeCompact(_ value: JSONValue, into output: inout String) {
        switch value {
        case .null: output += "null"
        case let .bool(flag): output += flag ? "true" : "false"
        case let .integer(number): output += String(number)
        case let .number(number): output += number.isFinite ? "\(number)" : "null"
        case let .string(text): output += compactString(text)
        case let .array(elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                writeCompact(element, into: &output)
            }
            output += "]"
        case let .object(members):
            output += "{"
            for (index, key) in sortedKeys(members).enumerated() {
                output += (index == 0 ? "" : ",") + compactString(key) + ":"
                writeCompact(members[key] ?? .null, into: &output)
            }
            output += "}"
        }
    }
}

/// The header dictionary of a `.npy` file, parsed as the small subset of Python literals NumPy
/// writes: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then spaces and a
/// newline. Exactly the three keys, each once; `descr` a string (a list, i.e. a structured
/// dtype, is refused), `fortran_order` `True` or `False`, `shape` a tuple of non-negative
/// decimal integers (`(2,)` for one dimension, `()` for a scalar). Strings have no escapes.
/// Anything else, including trailing text after the closing brace, is a malformed header.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    /// As written, before ``TensorLimits`` checks it (a negative entry survives parsing).
    var shape: [Int64]

    /// Parses `bytes` (the header after the prelude). The failure names what is wrong and the
    /// byte offset within the header.
    static func parse(_ bytes: [UInt8]) -> Result<NPYHeader, Failure> {
        var parser = Parser(bytes: bytes)
        do throws(Failure) {
            return .success(try parser.dictionary())
        } catch {
            return .failure(error)
        }
    }

    /// What is wrong with a header, and where.
    struct Failure: Error {
        let message: String
    }

    private enum Value {
        case string(String)
        case bool(Bool)
        case tuple([Int64])

        var kind: String {
            switch self {
            case .string: return "a string"
            case .bool: return "a boolean"
            case .tuple: return "a tuple"
            }
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        /// The longest integer literal read (Int64.max has 19 digits; the overflow check is exact).
        static let maximumDigits = 20

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ what: String) -> Failure {
            Failure(message: "\(what) at byte \(position) of the header")
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipSpace() {
            while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
        }

        mutating func expect(_ c: UInt8, _ name: String) throws(Failure) {
            skipSpace()
            guard current == c else { throw fail("expected \(name)") }
            position += 1
        }

        /// Consumes `c` if it comes next (after spaces).
        mutating func accept(_ c: UInt8) -> Bool {
            skipSpace()
            guard current == c else { return false }
            position += 1
            return true
        }

        mutating func dictionary() throws(Failure) -> NPYHeader {
            try expect(UInt8(ascii: "{"), "'{'")
            var entries: [String: Value] = [:]
            while !accept(UInt8(ascii: "}")) {
                let key = try string()
                guard ["descr", "fortran_order", "shape"].contains(key) else { throw fail("unknown key '\(key)'") }
                guard entries[key] == nil else { throw fail("key '\(key)' given twice") }
                try expect(UInt8(ascii: ":"), "':' after '\(key)'")
                entries[key] = try value()
                if accept(UInt8(ascii: "}")) { break }
                try expect(UInt8(ascii: ","), "',' or '}'")
            }
            skipSpace()
            guard position == bytes.count else { throw fail("unexpected text after the dictionary") }
            guard case .string(let descr)? = entries["descr"] else {
                throw fail(entries["descr"].map { "'descr' is \($0.kind), not a string" } ?? "no 'descr'")
            }
            guard case .bool(let fortran)? = entries["fortran_order"] else {
                throw fail(entries["fortran_order"].map { "'fortran_order' is \($0.kind), not a boolean" }
                    ?? "no 'fortran_order'")
            }
            guard case .tuple(let shape)? = entries["shape"] else {
                throw fail(entries["shape"].map { "'shape' is \($0.kind), not a tuple" } ?? "no 'shape'")
            }
            return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
        }

        mutating func value() throws(Failure) -> Value {
            skipSpace()
            switch current {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "("): return .tuple(try tuple())
            case UInt8(ascii: "T"): try word("True"); return .bool(true)
            case UInt8(ascii: "F"): try word("False"); return .bool(false)
            case UInt8(ascii: "["): throw fail("a list (a structured dtype), which is not read")
            default: throw fail("expected a string, True, False or a tuple")
            }
        }

        mutating func word(_ text: String) throws(Failure) {
            let expected = Array(text.utf8)
            guard position + expected.count <= bytes.count,
                  Array(bytes[position..<(position + expected.count)]) == expected else { throw fail("expected \(text)") }
            position += expected.count
        }

        /// A quoted ASCII string without escapes.
        mutating func string() throws(Failure) -> String {
            skipSpace()
            guard let quote = current, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw fail("expected a quoted string")
            }
            position += 1
            let start = position
            while let c = current, c != quote {
                guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else {
                    throw fail("a string holds byte \(c) (escapes and non-ASCII are not read)")
                }
                position += 1
            }
            guard current == quote else { throw fail("unterminated string") }
            let text = String(decoding: bytes[start..<position], as: UTF8.self)
            position += 1
            return text
        }

        /// `()`, `(n,)` or `(n, m, ...)` with an optional trailing comma; `(n)` is not a tuple.
        mutating func tuple() throws(Failure) -> [Int64] {
            try expect(UInt8(ascii: "("), "'('")
            var items: [Int64] = []
            var trailingComma = false
            while !accept(UInt8(ascii: ")")) {
                guard items.count < TensorLimits.maximumRank * 4 else { throw fail("a shape of too many dimensions") }
                items.append(try integer())
                trailingComma = false
                if accept(UInt8(ascii: ")")) { break }
                try expect(UInt8(ascii: ","), "',' or ')' in the shape")
                trailingComma = true
            }
            if items.count == 1 && !trailingComma { throw fail("'shape' (n) is not a tuple; NumPy writes (n,)") }
            return items
        }

        /// A decimal integer, optionally negative, overflow-checked.
        mutating func integer() throws(Failure) -> Int64 {
            skipSpace()
            let negative = current == UInt8(ascii: "-")
            if negative { position += 1 }
            var value: Int64 = 0
            var digits = 0
            while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                digits += 1
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int64(c - UInt8(ascii: "0")))
                guard !o1, !o2, digits <= Self.maximumDigits else { throw fail("a dimension overflows 64 bits") }
                value = sum
                position += 1
            }
            guard digits > 0 else { throw fail("expected a dimension") }
            return negative ? -value : value
        }
    }
}

// FileName: how Rubble shows file names that are bytes (screening's results.csv and report,
// `rubble dedup`) and reads them back (`rubble train --labels`).

/// File names are bytes: how screening shows them (in results.csv, report.html, warnings and
/// `rubble dedup`'s output) and reads them.
///
/// Linux file names are byte strings; most are UTF-8, but a photo copied from an old camera
/// card or a zip archive can be named in Latin-1 (`caf\xE9.jpg`). Such a name cannot be a Swift
/// `String` without losing bytes, so the walk keeps the raw bytes to open the file and shows the
/// name with ``escape(_:)``:
/// - valid UTF-8 is shown as is, except
/// - a byte that is not part of valid UTF-8 is shown as `\xHH` (two uppercase hex digits),
/// - control characters (U+0000-U+001F, U+007F-U+009F) and the bidirectional-override
///   characters (U+202A-U+202E, U+2066-U+2069), which could hide or reorder what a reader sees,
///   are shown as the `\xHH` escapes of their UTF-8 bytes,
/// - a backslash is shown as `\\`, so that every shown name stands for exactly one byte string.
///
/// ``unescape(_:)`` turns a shown name back into its bytes; in a shell, `printf '%b'` does the
/// same: `ls "$(printf '%b' 'photos/caf\xE9.jpg')"`.
public enum FileName {
    /// The shown form of a file name or path (see ``FileName``).
    public static func escape<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let b = Array(bytes)
        var out = ""
        out.reserveCapacity(b.count)
        var i = 0
        func escapeBytes(_ range: Range<Int>) {
            for byte in b[range] {
                out += "\\x"
                out += String(byte >> 4, radix: 16, uppercase: true)
                out += String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        while i < b.count {
            let length = validSequenceLength(b, at: i)
            guard length > 0 else {
                escapeBytes(i..<i + 1)
                i += 1
                continue
            }
            let scalar = decodeScalar(b, at: i, length: length)
            if scalar == 0x5C {
                out += "\\\\"
            } else if mustEscape(scalar) {
                escapeBytes(i..<i + length)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(scalar)!)
            }
            i += length
        }
        return out
    }

    /// The bytes a shown name stands for; nil when `shown` holds a backslash that is not one of
    /// the two escapes (`\\`, `\xHH`), i.e. when it did not come from ``escape(_:)``.
    public static func unescape(_ shown: String) -> [UInt8]? {
        let u = Array(shown.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            guard u[i] == 0x5C else {
                out.append(u[i])
                i += 1
                continue
            }
            guard i + 1 < u.count else { return nil }
            if u[i + 1] == 0x5C {
                out.append(0x5C)
                i += 2
            } else if u[i + 1] == UInt8(ascii: "x"), i + 3 < u.count,
                      let hi = hexValue(u[i + 2]), let lo = hexValue(u[i + 3]) {
                out.append(hi << 4 | lo)
                i += 4
            } else {
                return nil
            }
        }
        return out
    }

    /// Whether `bytes` are shown exactly as they are (valid UTF-8, nothing escaped).
    public static func isPlain<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        escape(bytes).utf8.elementsEqual(bytes)
    }

    static func mustEscape(_ scalar: UInt32) -> Bool {
        scalar < 0x20 || (0x7F...0x9F).contains(scalar) || (0x202A...0x202E).contains(scalar)
            || (0x2066...0x2069).contains(scalar)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `i` (Unicode table 3-7), 0 if none.
    private static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let first = b[i]
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < b.count && range.contains(b[i + k])
        }
        switch first {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }

    private static func decodeScalar(_ b: [UInt8], at i: Int, length: Int) -> UInt32 {
        switch length {
        case 1: return UInt32(b[i])
        case 2: return UInt32(b[i] & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F)
        case 3: return UInt32(b[i] & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F)
        default:
            return UInt32(b[i] & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6
                | UInt32(b[i + 3] & 0x3F)
        }
    }
}

// CSVFormat: RFC 4180 fields out (Screening's results.csv) and records in (Train's
// `--labels` files), in Markup so that Train and Screening share it without depending on each
// other.

/// RFC 4180 quoting and parsing.
public enum CSVFormat {
    /// `text` as one field: quoted (inner quotes doubled) when it holds a comma, a quote, a
    /// line feed or a carriage return, as is otherwise.
    public static func field(_ text: String) -> String {
        let special: (UInt8) -> Bool = { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard text.utf8.contains(where: special) else { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { out += "\"\"" } else { out.unicodeScalars.append(scalar) }
        }
        return out + "\""
    }

    /// Splits CSV text into rows of fields (RFC 4180: quoted fields may hold commas, quotes
    /// doubled, and newlines). Lenient: a quote anywhere toggles quoting, and an unterminated
    /// quoted field runs to the end. ``records(_:)`` is the strict reader for files from people.
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" || c == "\r\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else if c != "\r" {
                field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }

    /// One record of a CSV file and the line it starts on (1-based; a quoted field holding a
    /// line break makes a record span several lines).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]

        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }
    }

    /// Text that is not well-formed RFC 4180, and where.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// The records of `text`, strictly: a field is either plain (no quote in it) or quoted as a
    /// whole (`"a ""b"", c"`), followed by a comma or the end of the line; a quoted field may
    /// hold line breaks. Lines end with LF, CRLF or a lone CR. A byte-order mark at the start
    /// and blank lines are skipped.
    ///
    /// - Throws: ``SyntaxError`` naming the line of a quote inside a plain field, of text after
    ///   a closing quote, or of a quoted field that is never closed.
    public static func records(_ text: String) throws -> [Record] {
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var quoteLine = 1
        var inQuotes = false, wasQuoted = false, closed = false

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false
            closed = false
        }
        func endRecord() {
            let blank = fields.isEmpty && field.isEmpty && !wasQuoted
            endField()
            if !blank { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll()
        }

        var i = bytes.startIndex
        while i < bytes.endIndex {
            let c = bytes[i]
            i += 1
            if inQuotes {
                if c == 0x22 {
                    if i < bytes.endIndex && bytes[i] == 0x22 {
                        field.append(0x22)
                        i += 1
                    } else {
                        inQuotes = false
                        closed = true
                    }
                } else {
                    if c == 0x0A || (c == 0x0D && (i == bytes.endIndex || bytes[i] != 0x0A)) { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case 0x2C:
                endField()
            case 0x0A, 0x0D:
                if c == 0x0D && i < bytes.endIndex && bytes[i] == 0x0A { i += 1 }
                endRecord()
                line += 1
                recordLine = line
            case 0x22:
                if closed {
                    throw SyntaxError(line: line, message: "text after the closing quote of a field (a quote inside a quoted field is written \"\")")
                }
                guard field.isEmpty else {
                    throw SyntaxError(line: line, message: "a quote inside a field that does not start with one (quote the whole field and double the quote: \"a \"\"b\"\"\")")
                }
                inQuotes = true
                wasQuoted = true
                quoteLine = line
            default:
                if closed {
                    throw SyntaxError(line: line, message: "text after the closing quote of a field (a quote inside a quoted field is written \"\")")
                }
                field.append(c)
            }
        }
        if inQuotes {
            throw SyntaxError(line: quoteLine, message: "a quoted field is never closed (it starts on line \(quoteLine))")
        }
        if !fields.isEmpty || !field.isEmpty || wasQuoted { endRecord() }
        return records
    }
}

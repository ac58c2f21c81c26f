/// A JSON value, written on one line with exact control over the text: every
/// message of the protocol is one line handed over in one piece.
public enum JSON: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSON])
    /// Keys keep their order.
    case object([(String, JSON)])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
    public init(nilLiteral: ()) { self = .null }

    /// A JSON object of strings, or null when empty.
    public static func details(_ values: [String: String]) -> JSON {
        values.isEmpty ? .null : .object(values.keys.sorted().map { ($0, .string(values[$0]!)) })
    }

    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// `value` as a JSON string, escaped as `JSONEncoder` escapes it: `"`, `\`,
    /// the short forms `\b \t \n \f \r`, other control characters as
    /// `\u00xx`, and `/` as `\/` when `escapingSlashes` (`JSONEncoder`'s default).
    public static func writeString(_ value: String, to out: inout String, escapingSlashes: Bool = false) {
        out += "\""
        // The bytes that need no escape are copied a run at a time: a schema's
        // JSON, thousands of bytes, is written at every schema change. Every
        // byte escaped is an ASCII scalar, so each run starts and ends on a
        // scalar boundary (a combining mark after a quote stays with the run).
        let utf8 = value.utf8
        var run = utf8.startIndex
        var index = run
        while index != utf8.endIndex {
            let escape: String
            switch utf8[index] {
            case UInt8(ascii: "\""): escape = "\\\""
            case UInt8(ascii: "\\"): escape = "\\\\"
            case UInt8(ascii: "/") where escapingSlashes: escape = "\\/"
            case 0x08: escape = "\\b"
            case UInt8(ascii: "\t"): escape = "\\t"
            case UInt8(ascii: "\n"): escape = "\\n"
            case 0x0C: escape = "\\f"
            case UInt8(ascii: "\r"): escape = "\\r"
            case let byte where byte < 0x20:
                let hex = String(byte, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                index = utf8.index(after: index)
                continue
            }
            out += value[run..<index]
            out += escape
            index = utf8.index(after: index)
            run = index
        }
        out += value[run..<utf8.endIndex]
        out += "\""
    }

    public static func == (a: JSON, b: JSON) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CSQLite

/// One SQLite value, with SQLite's five storage classes.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    /// The value as an SQL literal that SQLite (and the `sqlite3` shell) parses
    /// back into exactly this value.
    ///
    /// Reals use Swift's shortest representation that round-trips the double;
    /// infinities are written as out-of-range literals (`9e999`), which SQLite
    /// reads as ±Inf. NaN is not a value SQLite stores (it becomes NULL).
    public var sqlLiteral: String {
        var out = ""
        appendLiteral(to: &out)
        return out
    }

    /// Appends `sqlLiteral` to `out` without an intermediate string.
    public func appendLiteral(to out: inout String) {
        switch self {
        case .null:
            out += "NULL"
        case .integer(let value):
            // The literal 9223372036854775808 overflows before negation in
            // some parsers; spell the minimum so nothing can misread it.
            if value == .min {
                out += "(-9223372036854775807-1)"
            } else {
                out += String(value)
            }
        case .real(let value):
            if value.isNaN {
                out += "NULL"
            } else if value.isInfinite {
                out += value < 0 ? "-9e999" : "9e999"
            } else {
                // Swift's shortest round-trip form ("0.1", "1e-300", "-0.0"), which
                // always reads as a real; no Foundation formatting on this hot path.
                out += value.description
            }
        case .text(let value):
            out += "'"
            // Each quote doubled; the text between quotes appended whole (a recorded
            // schema's JSON, thousands of bytes, goes through here at every schema change).
            var rest = Substring(value)
            while let quote = rest.utf8.firstIndex(of: UInt8(ascii: "'")) {
                out.append(contentsOf: rest[..<quote])
                out += "''"
                rest = rest[rest.utf8.index(after: quote)...]
            }
            out.append(contentsOf: rest)
            out += "'"
        case .blob(let bytes):
            out += Self.hexLiteral(bytes)
        }
    }

    /// `X'…'` for `bytes`, built in one buffer.
    static func hexLiteral(_ bytes: [UInt8]) -> String {
        let digits: StaticString = "0123456789ABCDEF"
        return String(unsafeUninitializedCapacity: bytes.count * 2 + 3) { buffer in
            digits.withUTF8Buffer { digits in
                buffer[0] = UInt8(ascii: "X")
                buffer[1] = UInt8(ascii: "'")
                var index = 2
                for byte in bytes {
                    buffer[index] = digits[Int(byte >> 4)]
                    buffer[index + 1] = digits[Int(byte & 0x0F)]
                    index += 2
                }
                buffer[index] = UInt8(ascii: "'")
            }
            return bytes.count * 2 + 3
        }
    }

}

extension SQLValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .blob(let bytes) where bytes.count > 32:
            return "X'…' (\(bytes.count) bytes)"
        case .text(let text) where text.count > 64:
            return "'" + text.prefix(64) + "…' (\(text.utf8.count) bytes)"
        default:
            return sqlLiteral
        }
    }
}

extension SQLValue: Codable {
    private enum CodingKeys: String, CodingKey { case integer, real, text, blob, null }

    /// `{"integer": 1}`, `{"real": 0.5}` (infinities as "inf"/"-inf"), `{"text": "…"}`,
    /// `{"blob": "<hex>"}`, `{"null": true}`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .integer(let value): try container.encode(value, forKey: .integer)
        case .real(let value):
            if value.isInfinite {
                try container.encode(value < 0 ? "-inf" : "inf", forKey: .real)
            } else {
                try container.encode(value, forKey: .real)
            }
        case .text(let value): try container.encode(value, forKey: .text)
        case .blob(let bytes): try container.encode(Self.hex(bytes), forKey: .blob)
        case .null: try container.encode(true, forKey: .null)
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let value = try container.decodeIfPresent(Int64.self, forKey: .integer) {
            self = .integer(value)
        } else if container.contains(.real) {
            if let text = try? container.decode(String.self, forKey: .real) {
                self = .real(text.hasPrefix("-") ? -.infinity : .infinity)
            } else {
                self = .real(try container.decode(Double.self, forKey: .real))
            }
        } else if let value = try container.decodeIfPresent(String.self, forKey: .text) {
            self = .text(value)
        } else if let hex = try container.decodeIfPresent(String.self, forKey: .blob) {
            guard let bytes = Self.bytes(hex: hex) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .blob, in: container, debugDescription: "a blob must be an even number of hex digits")
            }
            self = .blob(bytes)
        } else {
            self = .null
        }
    }
}

extension SQLValue {
    /// `bytes` as lowercase hex digits, as JSON holds a blob (`bytes(hex:)` reads them back).
    public static func hex(_ bytes: [UInt8]) -> String { hexLiteral(bytes).dropFirst(2).dropLast().lowercased() }

    /// The bytes `hex` spells (two hex digits each), or nil when it is not an even number of hex digits.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// Writes `value` as SQL's `printf('%!.17g', value)` formats it (through
    /// SQLite's own printf: 17 significant digits, so neighbouring doubles print
    /// differently, and always a decimal point) into `buffer`, which must hold
    /// 64 bytes. Returns the length.
    public static func formatReal17(_ value: Double, into buffer: UnsafeMutableRawPointer) -> Int {
        Int(sqlite_stress_format_real17(buffer.assumingMemoryBound(to: CChar.self), 64, value))
    }
}

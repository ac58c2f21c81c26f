import StressSQLite

/// Draws values: ordinary ones most of the time, edge cases often enough to
/// matter (0, ±1, INT64 extremes, ±0.0, ±Inf, tiny and huge reals, empty and
/// unicode and quote-laden text, long text, blobs that spill to overflow
/// pages, NULL), and now and then a value of another storage class than the
/// column declares, since SQLite's typing is dynamic.
public enum ValueGenerator {
    static let edgeIntegers: [Int64] = [0, 1, -1, .max, .min, .max - 1, .min + 1, 127, -128, 32767, 1 << 31, -(1 << 31), 1 << 53]
    static let edgeReals: [Double] = [
        0.0, -0.0, 1.0, -1.0, 0.5, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
        .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-300, 1e300, 9007199254740993.0,
    ]
    static let edgeTexts: [String] = [
        "", " ", "'", "''", "\"", "a'b\"c", "\\", "\t", "NULL", "0", "1.5", "-0", "x'00'", "💾🔥", "é", "e\u{301}",
        "日本語のテキスト", "עברית", "\u{FEFF}bom", "forbidden", "%_", "🏳️‍🌈",
    ]

    /// A value for `column`: its declared class most of the time. A JSON
    /// column gets JSON (never a blob or malformed text: `json_extract` in an
    /// index would fail the statement); a foreign key mostly one of its parent's keys.
    public static func value(for column: Column, using rng: inout some RandomNumberGenerator) -> SQLValue {
        if !column.notNull, rng.chance(0.08) { return .null }
        if column.notNull, rng.chance(0.01) { return .null }  // A NOT NULL violation now and then.
        if column.json { return json(using: &rng) }
        if let reference = column.references, rng.chance(0.85) {
            return key(rng.below(reference.parentKeySpace), for: reference.parentType)
        }
        let roll = rng.below(100)
        if roll < 8 { return anyValue(using: &rng) }  // Cross-type: SQLite is dynamically typed.
        switch column.type {
        case .integer: return .integer(integer(using: &rng))
        case .real: return .real(real(using: &rng))
        case .text: return .text(text(using: &rng))
        case .blob: return .blob(blob(using: &rng))
        case .numeric: return rng.chance(0.5) ? .integer(integer(using: &rng)) : numericText(using: &rng)
        case .untyped, .any: return anyValue(using: &rng)
        }
    }

    /// JSON: an object with keys `a`, `b` and `c` most of the time (what the
    /// indexes and generated columns read), else an array, a number or a string.
    static func json(using rng: inout some RandomNumberGenerator) -> SQLValue {
        func scalar(_ rng: inout some RandomNumberGenerator) -> String {
            switch rng.below(6) {
            case 0: String(rng.int(in: -5...40))
            case 1: String(Double(rng.int(in: -400...400)) / 8)
            case 2: "\"" + String((0..<rng.int(in: 0...6)).map { _ in rng.pick(Array("abcxyzé")) }) + "\""
            case 3: rng.pick(["true", "false", "null"])
            case 4: String(rng.pick(edgeIntegers))
            default: "[" + (0..<rng.int(in: 0...3)).map { _ in String(rng.int(in: 0...9)) }.joined(separator: ",") + "]"
            }
        }
        switch rng.below(10) {
        case 0: return .text("[" + (0..<rng.int(in: 0...3)).map { _ in scalar(&rng) }.joined(separator: ",") + "]")
        case 1: return rng.chance(0.5) ? .integer(Int64(rng.int(in: -9...99))) : .text(scalar(&rng))
        default:
            let fields = ["a", "b", "c"].filter { _ in rng.chance(0.8) }.map { "\"\($0)\":" + scalar(&rng) }
            return .text("{" + fields.joined(separator: ",") + "}")
        }
    }

    /// A value of any storage class.
    public static func anyValue(using rng: inout some RandomNumberGenerator) -> SQLValue {
        switch rng.below(5) {
        case 0: .integer(integer(using: &rng))
        case 1: .real(real(using: &rng))
        case 2: .text(text(using: &rng))
        case 3: .blob(blob(using: &rng))
        default: .null
        }
    }

    /// The `n`th key value of the key domain for a column of this type, so a
    /// small domain keeps inserts, updates and deletes meeting the same rows,
    /// and `key(n) < key(m)` when `n < m` for BETWEEN ranges.
    public static func key(_ n: Int, for type: ColumnType) -> SQLValue {
        switch type {
        case .integer, .numeric: .integer(Int64(n) - 3)  // A few negatives and zero too.
        case .real: .real(Double(n) + 0.25)
        case .blob: .blob([UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n), 0x6B])
        case .text, .untyped, .any: .text("k" + String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n))
        }
    }

    /// The `n`th key for `column`, spelled now and then as its collation makes
    /// equal to the plain spelling (upper case under NOCASE, trailing spaces under
    /// RTRIM): two spellings of one key, which the ledger must follow.
    static func key(_ n: Int, for column: Column, using rng: inout some RandomNumberGenerator) -> SQLValue {
        let value = key(n, for: column.type)
        guard case .text(let text) = value, let collation = column.collation, rng.chance(0.3) else { return value }
        switch collation {
        case .nocase: return .text(text.uppercased())
        case .rtrim: return .text(text + String(repeating: " ", count: rng.int(in: 1...2)))
        }
    }

    /// A DEFAULT value for a column of this type (short, so it stays a literal).
    static func defaultValue(for type: ColumnType, using rng: inout some RandomNumberGenerator) -> SQLValue {
        switch type {
        case .integer, .numeric: .integer(rng.pick([0, 1, -1, 42, .max, .min]))
        case .real: .real(rng.pick([0.0, 1.5, -2.25, .infinity]))
        case .text, .untyped, .any: .text(rng.pick(["", "default", "dé'fault"]))
        case .blob: .blob(rng.chance(0.5) ? [] : [0xDE, 0xAD])
        }
    }

    /// A default for a column added by ALTER TABLE: a literal of the column's own
    /// storage class (an integer for NUMERIC, never an infinity, which would need
    /// parentheses that ADD COLUMN refuses), so SQLite stores it unconverted.
    static func addedColumnDefault(for type: ColumnType, using rng: inout some RandomNumberGenerator) -> SQLValue {
        switch type {
        case .integer, .numeric: .integer(rng.pick([0, 1, -1, 42, .max]))
        case .real: .real(rng.pick([0.0, 1.5, -2.25, 1e300]))
        case .text, .untyped, .any: .text(rng.pick(["", "added", "a'dded, too"]))
        case .blob: .blob(rng.chance(0.5) ? [] : [0x00, 0xBE, 0xEF])
        }
    }

    static func integer(using rng: inout some RandomNumberGenerator) -> Int64 {
        switch rng.below(10) {
        case 0, 1: return rng.pick(edgeIntegers)
        case 2: return Int64(bitPattern: rng.next())
        default: return Int64(rng.int(in: -1000...100_000))
        }
    }

    static func real(using rng: inout some RandomNumberGenerator) -> Double {
        switch rng.below(10) {
        case 0, 1: return rng.pick(edgeReals)
        case 2:
            // Any finite double, bit pattern and all.
            let value = Double(bitPattern: rng.next())
            return value.isFinite ? value : 3.5
        default: return Double(rng.int(in: -1_000_000...1_000_000)) / 64.0
        }
    }

    static func text(using rng: inout some RandomNumberGenerator) -> String {
        switch rng.below(20) {
        case 0, 1, 2: return rng.pick(edgeTexts)
        case 3:  // Long text; sometimes long enough to spill to overflow pages.
            let unit = rng.pick(["abc", "ü", "語", "x'y", "🙂"])
            return String(repeating: unit, count: rng.int(in: 100...(rng.chance(0.3) ? 6000 : 600)))
        default:
            var text = ""
            for _ in 0..<rng.int(in: 1...24) { text.append(rng.pick(textAlphabet)) }
            return text
        }
    }

    /// The characters of short random texts (split into characters once, not at every draw).
    private static let textAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 _-'é€")

    static func blob(using rng: inout some RandomNumberGenerator) -> [UInt8] {
        let size: Int
        switch rng.below(20) {
        case 0: size = 0
        case 1: size = rng.int(in: 4_000...40_000)  // Large: overflow pages at every page size.
        case 2: size = rng.int(in: 500...4_000)
        default: size = rng.int(in: 1...32)
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var index = 0
        while index < size {
            var word = rng.next()
            for _ in 0..<8 where index < size {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    static func numericText(using rng: inout some RandomNumberGenerator) -> SQLValue {
        // Text that NUMERIC affinity converts (or not): "12", " 3.0", "1e5", "0x10".
        .text(rng.pick(["12", "3.0", "1e5", "-0", "0x10", " 7", "1.5e-3", "nan", "9223372036854775808"]))
    }
}

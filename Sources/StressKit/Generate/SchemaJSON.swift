import StressAntithesis
import StressSQLite

/// Reads and writes the recorded schema (`stress_meta`'s JSON) without
/// `JSONDecoder` and `JSONEncoder`, and reads the recorded configuration.
///
/// Every driver invocation reads the schema, and `JSONDecoder`'s first use in a
/// process is mostly Swift runtime work (looking up each generic `Codable`
/// type by its mangled name, scanning every protocol conformance of the
/// binary), which cost a driver about a tenth of its time. This reader decodes
/// the same JSON the way the synthesized `Decodable` conformances do: required
/// keys must be there and not null, optional ones may be missing or null, keys
/// it does not know are ignored, enums with associated values are an object of
/// exactly one known case, integers may be written as any JSON number that is
/// exactly an integer; and it rejects what `JSONDecoder` rejects (JSON that is
/// not well formed, a missing key, a value of the wrong type, an unknown raw
/// value). `SchemaJSONTests` holds it to `JSONDecoder` on generated schemas and
/// on thousands of damaged ones.
public enum SchemaJSON {
    /// Why the JSON could not be read.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public static func schema(_ text: String) throws(Error) -> Schema {
        try Schema(try object(of: parse(text), "the schema"))
    }

    /// The JSON of `schema`, byte for byte as `JSONEncoder` with `.sortedKeys`
    /// writes it (`encodeJSON(schema, pretty: false)`): each member's key in
    /// byte order, `/` escaped as `\/`, control characters as `\b`, `\t`, `\n`,
    /// `\f`, `\r` or `\u00xx`, a double as its shortest digits without a
    /// trailing `.0`. Every committed schema change records its schema, and in a
    /// schema driver's process `JSONEncoder`'s first use cost about 0.6 ms
    /// (Swift runtime work, as `JSONDecoder`'s did); `SchemaJSONTests` holds the
    /// two to the same bytes.
    public static func text(of schema: Schema) -> String { schema.jsonText }

    public static func config(_ text: String) throws(Error) -> DatabaseConfig {
        let object = try object(of: parse(text), "the configuration")
        return DatabaseConfig(
            pageSize: try object.int("pageSize"), journalMode: try object.raw("journalMode"), synchronous: try object.string("synchronous"),
            cacheSize: try object.int("cacheSize"), autoVacuum: try object.string("autoVacuum"))
    }

    // MARK: - JSON

    enum Value {
        case null
        case bool(Bool)
        /// A number as written (validated against JSON's grammar).
        case number(String)
        case string(String)
        case array([Value])
        case object(Object)

        var kind: String {
            switch self {
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    /// An object's members, the first of a repeated key winning, as with `JSONDecoder`.
    struct Object {
        var members: [String: Value]
        let path: String

        /// A required member: present and not null.
        func value(_ key: String) throws(Error) -> Value {
            switch members[key] {
            case nil: throw Error("\(path) has no \"\(key)\"")
            case .null?: throw Error("\(path): \"\(key)\" is null")
            case let value?: return value
            }
        }

        /// An optional member: nil when missing or null.
        func optional(_ key: String) -> Value? {
            if case .null? = members[key] { return nil }
            return members[key]
        }

        func at(_ key: String) -> String { "\(path).\(key)" }

        func string(_ key: String) throws(Error) -> String { try SchemaJSON.string(value(key), at(key)) }
        func int(_ key: String) throws(Error) -> Int { try SchemaJSON.integer(value(key), at(key)) }
        func bool(_ key: String) throws(Error) -> Bool { try SchemaJSON.bool(value(key), at(key)) }
        func object(_ key: String) throws(Error) -> Object { try SchemaJSON.object(of: value(key), at(key)) }
        func array(_ key: String) throws(Error) -> [Value] { try SchemaJSON.array(value(key), at(key)) }
        func raw<T: RawRepresentable>(_ key: String) throws(Error) -> T where T.RawValue == String {
            try SchemaJSON.raw(value(key), at(key))
        }

        /// An enum with associated values as Swift synthesizes it: `{"case": {labels…}}`,
        /// exactly one member naming a case (others ignored); the case and its object.
        func oneCase(_ cases: [String]) throws(Error) -> (String, Object) {
            let named = cases.filter { members[$0] != nil }
            guard named.count == 1, let name = named.first else {
                throw Error("\(path) names \(named.count) of the cases \(cases.sorted()), not one")
            }
            return (name, try object(name))
        }
    }

    static func object(of value: Value, _ path: String) throws(Error) -> Object {
        guard case .object(var object) = value else { throw mismatch(value, "an object", path) }
        object = Object(members: object.members, path: path)
        return object
    }

    static func array(_ value: Value, _ path: String) throws(Error) -> [Value] {
        guard case .array(let array) = value else { throw mismatch(value, "an array", path) }
        return array
    }

    static func string(_ value: Value, _ path: String) throws(Error) -> String {
        guard case .string(let string) = value else { throw mismatch(value, "a string", path) }
        return string
    }

    static func bool(_ value: Value, _ path: String) throws(Error) -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(value, "a boolean", path) }
        return bool
    }

    /// An integer: digits that fit, or any other number that is exactly one (`2.0`, `1e3`).
    static func integer<T: FixedWidthInteger>(_ value: Value, _ path: String, as type: T.Type = Int.self) throws(Error) -> T {
        guard case .number(let text) = value else { throw mismatch(value, "a number", path) }
        if let integer = T(text) { return integer }
        guard let double = Double(text), let integer = T(exactly: double) else {
            throw Error("\(path): \(text) is not an integer that fits \(T.self)")
        }
        return integer
    }

    static func double(_ value: Value, _ path: String) throws(Error) -> Double {
        guard case .number(let text) = value else { throw mismatch(value, "a number", path) }
        guard let double = Double(text), double.isFinite else { throw Error("\(path): \(text) does not fit a Double") }
        return double
    }

    static func raw<T: RawRepresentable>(_ value: Value, _ path: String) throws(Error) -> T where T.RawValue == String {
        let text = try string(value, path)
        guard let raw = T(rawValue: text) else { throw Error("\(path): \"\(text)\" is not a \(T.self)") }
        return raw
    }

    static func list<T>(_ value: Value, _ path: String, _ element: (Value, String) throws(Error) -> T) throws(Error) -> [T] {
        var result: [T] = []
        for (index, item) in try array(value, path).enumerated() { result.append(try element(item, "\(path)[\(index)]")) }
        return result
    }

    static func mismatch(_ value: Value, _ expected: String, _ path: String) -> Error {
        Error("\(path) is \(value.kind), not \(expected)")
    }

    // MARK: - Parsing

    /// The JSON document `text`, as RFC 8259 has it but for one thing `JSONDecoder`
    /// accepts too: a comma after the last member of an object or array.
    static func parse(_ text: String) throws(Error) -> Value {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw parser.error("unexpected text after the document") }
        return value
    }

    struct Parser {
        let bytes: [UInt8]
        var at = 0

        /// `JSONDecoder` refuses documents nested deeper than this.
        static let maximumDepth = 512

        func error(_ why: String) -> Error { Error("malformed JSON at byte \(at): \(why)") }

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
        }

        mutating func value(depth: Int) throws(Error) -> Value {
            guard depth < Self.maximumDepth else { throw error("nested too deeply") }
            guard at < bytes.count else { throw error("unexpected end") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [String: Value] = [:]
                skipSpace()
                if peek(UInt8(ascii: "}")) { return .object(Object(members: members, path: "")) }
                while true {
                    skipSpace()
                    // One trailing comma is allowed, as `JSONDecoder` allows it.
                    if !members.isEmpty, peek(UInt8(ascii: "}")) { return .object(Object(members: members, path: "")) }
                    guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard peek(UInt8(ascii: ":")) else { throw error("expected ':'") }
                    skipSpace()
                    let member = try value(depth: depth + 1)
                    if members[key] == nil { members[key] = member }
                    skipSpace()
                    if peek(UInt8(ascii: ",")) { continue }
                    guard peek(UInt8(ascii: "}")) else { throw error("expected ',' or '}'") }
                    return .object(Object(members: members, path: ""))
                }
            case UInt8(ascii: "["):
                at += 1
                var items: [Value] = []
                skipSpace()
                if peek(UInt8(ascii: "]")) { return .array(items) }
                while true {
                    skipSpace()
                    if !items.isEmpty, peek(UInt8(ascii: "]")) { return .array(items) }
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if peek(UInt8(ascii: ",")) { continue }
                    guard peek(UInt8(ascii: "]")) else { throw error("expected ',' or ']'") }
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try word("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try word("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try word("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try number())
            default:
                throw error("unexpected character")
            }
        }

        /// Consumes `byte` if it is next.
        mutating func peek(_ byte: UInt8) -> Bool {
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        mutating func word(_ word: StaticString) throws(Error) {
            let count = word.utf8CodeUnitCount
            guard at + count <= bytes.count else { throw error("unexpected end") }
            for offset in 0..<count where bytes[at + offset] != word.utf8Start[offset] { throw error("unexpected character") }
            at += count
        }

        func isDigit(_ index: Int) -> Bool {
            index < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index])
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Error) -> String {
            let start = at
            _ = peek(UInt8(ascii: "-"))
            guard isDigit(at) else { throw error("a number needs a digit") }
            if bytes[at] == UInt8(ascii: "0") {
                at += 1
                if isDigit(at) { throw error("a number has a leading zero") }
            } else {
                while isDigit(at) { at += 1 }
            }
            if peek(UInt8(ascii: ".")) {
                guard isDigit(at) else { throw error("a fraction needs a digit") }
                while isDigit(at) { at += 1 }
            }
            if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
                if !peek(UInt8(ascii: "+")) { _ = peek(UInt8(ascii: "-")) }
                guard isDigit(at) else { throw error("an exponent needs a digit") }
                while isDigit(at) { at += 1 }
            }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        mutating func string() throws(Error) -> String {
            at += 1  // the opening quote
            var utf8: [UInt8] = []
            while true {
                guard at < bytes.count else { throw error("unterminated string") }
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { throw error("unterminated string") }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = UInt32(try hex4())
                        if (0xD800..<0xDC00).contains(scalar) {
                            // A high surrogate: a low one must follow.
                            guard peek(UInt8(ascii: "\\")), peek(UInt8(ascii: "u")) else { throw error("a lone surrogate") }
                            let low = UInt32(try hex4())
                            guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw error("a lone surrogate")
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw error("not a character") }
                        utf8.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default:
                        throw error("an unknown escape")
                    }
                case 0..<0x20:
                    throw error("an unescaped control character")
                default:
                    utf8.append(byte)
                }
            }
        }

        mutating func hex4() throws(Error) -> UInt16 {
            guard at + 4 <= bytes.count else { throw error("unexpected end") }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[at]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("not a hex digit")
                }
                value = value << 4 | UInt16(digit)
                at += 1
            }
            return value
        }
    }
}

// MARK: - The schema's types, as their synthesized `Decodable` conformances read them

extension Schema {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(
            tables: try SchemaJSON.list(object.value("tables"), object.at("tables")) { value, path throws(SchemaJSON.Error) in
                try Table(SchemaJSON.object(of: value, path))
            },
            views: try SchemaJSON.list(object.value("views"), object.at("views")) { value, path throws(SchemaJSON.Error) in
                try View(SchemaJSON.object(of: value, path))
            },
            triggers: try SchemaJSON.list(object.value("triggers"), object.at("triggers")) { value, path throws(SchemaJSON.Error) in
                try UserTrigger(SchemaJSON.object(of: value, path))
            },
            nextName: try object.int("nextName"))
        version = try object.int("version")
    }
}

extension Table {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(
            id: try object.string("id"), name: try object.string("name"),
            columns: try SchemaJSON.list(object.value("columns"), object.at("columns")) { value, path throws(SchemaJSON.Error) in
                try Column(SchemaJSON.object(of: value, path))
            },
            key: try TableKey(object.object("key")), withoutRowid: try object.bool("withoutRowid"),
            strict: try object.bool("strict"), autoincrement: try object.bool("autoincrement"),
            indexes: try SchemaJSON.list(object.value("indexes"), object.at("indexes")) { value, path throws(SchemaJSON.Error) in
                try Index(SchemaJSON.object(of: value, path))
            },
            keySpace: try object.int("keySpace"), nextColumn: try object.int("nextColumn"))
    }
}

extension Column {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(id: try object.int("id"), name: try object.string("name"), type: try object.raw("type"))
        notNull = try object.bool("notNull")
        unique = try object.bool("unique")
        check = try object.optional("check").map { value throws(SchemaJSON.Error) in
            try SQLTemplate(SchemaJSON.object(of: value, object.at("check")))
        }
        defaultValue = try object.optional("defaultValue").map { value throws(SchemaJSON.Error) in
            try SQLValue(SchemaJSON.object(of: value, object.at("defaultValue")))
        }
        collation = try object.optional("collation").map { value throws(SchemaJSON.Error) in
            try SchemaJSON.raw(value, object.at("collation"))
        }
        generated = try object.optional("generated").map { value throws(SchemaJSON.Error) in
            try Generated(SchemaJSON.object(of: value, object.at("generated")))
        }
        references = try object.optional("references").map { value throws(SchemaJSON.Error) in
            try ForeignKey(SchemaJSON.object(of: value, object.at("references")))
        }
        json = try object.bool("json")
        isTag = try object.bool("isTag")
    }
}

extension ForeignKey {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(
            table: try object.string("table"), column: try object.int("column"), onDelete: try object.raw("onDelete"),
            onUpdate: try object.raw("onUpdate"), parentType: try object.raw("parentType"), parentKeySpace: try object.int("parentKeySpace"))
    }
}

extension Generated {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(expression: try SQLTemplate(object.object("expression")), stored: try object.bool("stored"))
    }
}

extension SQLTemplate {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(pieces: try SchemaJSON.list(object.value("pieces"), object.at("pieces")) { value, path throws(SchemaJSON.Error) in
            let (name, piece) = try SchemaJSON.object(of: value, path).oneCase(["text", "column", "table"])
            switch name {
            case "text": return .text(try piece.string("_0"))
            case "column": return .column(table: try piece.string("table"), id: try piece.int("id"))
            default: return .table(try piece.string("_0"))
            }
        })
    }
}

extension TableKey {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        let (name, key) = try object.oneCase(["rowid", "integerPrimaryKey", "primaryKey"])
        switch name {
        case "rowid": self = .rowid
        case "integerPrimaryKey": self = .integerPrimaryKey(column: try key.int("column"))
        default:
            self = .primaryKey(columns: try SchemaJSON.list(key.value("columns"), key.at("columns")) { value, path throws(SchemaJSON.Error) in
                try SchemaJSON.integer(value, path)
            })
        }
    }
}

extension Index {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(
            name: try object.string("name"),
            terms: try SchemaJSON.list(object.value("terms"), object.at("terms")) { value, path throws(SchemaJSON.Error) in
                let (name, term) = try SchemaJSON.object(of: value, path).oneCase(["column", "expression"])
                return name == "column" ? .column(try term.int("_0")) : .expression(try SQLTemplate(term.object("_0")))
            },
            unique: try object.bool("unique"),
            predicate: try object.optional("predicate").map { value throws(SchemaJSON.Error) in
                try SQLTemplate(SchemaJSON.object(of: value, object.at("predicate")))
            })
    }
}

extension View {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(
            name: try object.string("name"),
            columns: try SchemaJSON.list(object.value("columns"), object.at("columns")) { value, path throws(SchemaJSON.Error) in
                try SchemaJSON.string(value, path)
            },
            select: try SQLTemplate(object.object("select")))
    }
}

extension UserTrigger {
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        self.init(
            name: try object.string("name"), table: try object.string("table"), target: try object.string("target"),
            event: try object.raw("event"), body: try SQLTemplate(object.object("body")))
    }
}

extension SQLValue {
    /// As `SQLValue`'s own `init(from:)`: the first of `integer`, `real`, `text`,
    /// `blob` present (a null `integer`, `text` or `blob` counts as absent; a
    /// `real` that is a string is an infinity), else NULL.
    init(_ object: SchemaJSON.Object) throws(SchemaJSON.Error) {
        if let integer = object.optional("integer") {
            self = .integer(try SchemaJSON.integer(integer, object.at("integer"), as: Int64.self))
        } else if let real = object.members["real"] {
            if case .string(let text) = real {
                self = .real(text.hasPrefix("-") ? -.infinity : .infinity)
            } else if case .null = real {
                throw SchemaJSON.Error("\(object.at("real")) is null")
            } else {
                self = .real(try SchemaJSON.double(real, object.at("real")))
            }
        } else if let text = object.optional("text") {
            self = .text(try SchemaJSON.string(text, object.at("text")))
        } else if let hex = object.optional("blob") {
            guard let bytes = SQLValue.bytes(hex: try SchemaJSON.string(hex, object.at("blob"))) else {
                throw SchemaJSON.Error("\(object.at("blob")) is not an even number of hex digits")
            }
            self = .blob(bytes)
        } else {
            self = .null
        }
    }
}

// MARK: - Writing, as the synthesized `Encodable` conformances and `JSONEncoder` write

extension SchemaJSON {
    /// An object's members, written in the byte order of their keys (`.sortedKeys`).
    struct Members {
        private var members: [(key: String, value: String)] = []

        init(_ members: KeyValuePairs<String, String?>) {
            // A nil value is a member left out, as `encodeIfPresent` leaves it.
            for (key, value) in members { if let value { self.members.append((key, value)) } }
        }

        var json: String {
            // Written into one string: a schema change writes the whole schema, thousands of bytes.
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            var out = "{"
            out.reserveCapacity(sorted.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 4 })
            for (index, member) in sorted.enumerated() {
                if index > 0 { out += "," }
                JSON.writeString(member.key, to: &out, escapingSlashes: true)
                out += ":"
                out += member.value
            }
            out += "}"
            return out
        }
    }

    /// An enum case with associated values: `{"case":{labels…}}`, unlabeled ones as `_0`.
    static func oneCase(_ name: String, _ members: KeyValuePairs<String, String?>) -> String {
        Members([name: Members(members).json]).json
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }

    static func number(_ value: some BinaryInteger) -> String { String(value) }

    /// A finite double as `JSONEncoder` writes it: Swift's shortest digits, `42.0` as `42`.
    static func number(_ value: Double) -> String {
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// A string with `JSONEncoder`'s escapes, `/` included.
    static func quoted(_ text: String) -> String {
        var result = ""
        JSON.writeString(text, to: &result, escapingSlashes: true)
        return result
    }
}

extension Schema {
    var jsonText: String {
        SchemaJSON.Members([
            "tables": SchemaJSON.array(tables.map(\.jsonText)), "views": SchemaJSON.array(views.map(\.jsonText)),
            "triggers": SchemaJSON.array(triggers.map(\.jsonText)), "version": SchemaJSON.number(version),
            "nextName": SchemaJSON.number(nextName),
        ]).json
    }
}

extension Table {
    var jsonText: String {
        SchemaJSON.Members([
            "id": SchemaJSON.quoted(id), "name": SchemaJSON.quoted(name), "columns": SchemaJSON.array(columns.map(\.jsonText)),
            "key": key.jsonText, "withoutRowid": SchemaJSON.bool(withoutRowid), "strict": SchemaJSON.bool(strict),
            "autoincrement": SchemaJSON.bool(autoincrement), "indexes": SchemaJSON.array(indexes.map(\.jsonText)),
            "keySpace": SchemaJSON.number(keySpace), "nextColumn": SchemaJSON.number(nextColumn),
        ]).json
    }
}

extension Column {
    var jsonText: String {
        SchemaJSON.Members([
            "id": SchemaJSON.number(id), "name": SchemaJSON.quoted(name), "type": SchemaJSON.quoted(type.rawValue),
            "notNull": SchemaJSON.bool(notNull), "unique": SchemaJSON.bool(unique), "check": check?.jsonText,
            "defaultValue": defaultValue?.jsonText, "collation": collation.map { SchemaJSON.quoted($0.rawValue) },
            "generated": generated?.jsonText, "references": references?.jsonText, "json": SchemaJSON.bool(json),
            "isTag": SchemaJSON.bool(isTag),
        ]).json
    }
}

extension ForeignKey {
    var jsonText: String {
        SchemaJSON.Members([
            "table": SchemaJSON.quoted(table), "column": SchemaJSON.number(column), "onDelete": SchemaJSON.quoted(onDelete.rawValue),
            "onUpdate": SchemaJSON.quoted(onUpdate.rawValue), "parentType": SchemaJSON.quoted(parentType.rawValue),
            "parentKeySpace": SchemaJSON.number(parentKeySpace),
        ]).json
    }
}

extension Generated {
    var jsonText: String {
        SchemaJSON.Members(["expression": expression.jsonText, "stored": SchemaJSON.bool(stored)]).json
    }
}

extension SQLTemplate {
    var jsonText: String {
        SchemaJSON.Members([
            "pieces": SchemaJSON.array(pieces.map { piece in
                switch piece {
                case .text(let text): SchemaJSON.oneCase("text", ["_0": SchemaJSON.quoted(text)])
                case .column(let table, let id): SchemaJSON.oneCase("column", ["table": SchemaJSON.quoted(table), "id": SchemaJSON.number(id)])
                case .table(let table): SchemaJSON.oneCase("table", ["_0": SchemaJSON.quoted(table)])
                }
            }),
        ]).json
    }
}

extension TableKey {
    var jsonText: String {
        switch self {
        case .rowid: SchemaJSON.oneCase("rowid", [:])
        case .integerPrimaryKey(let column): SchemaJSON.oneCase("integerPrimaryKey", ["column": SchemaJSON.number(column)])
        case .primaryKey(let columns): SchemaJSON.oneCase("primaryKey", ["columns": SchemaJSON.array(columns.map(SchemaJSON.number))])
        }
    }
}

extension Index {
    var jsonText: String {
        SchemaJSON.Members([
            "name": SchemaJSON.quoted(name),
            "terms": SchemaJSON.array(terms.map { term in
                switch term {
                case .column(let id): SchemaJSON.oneCase("column", ["_0": SchemaJSON.number(id)])
                case .expression(let template): SchemaJSON.oneCase("expression", ["_0": template.jsonText])
                }
            }),
            "unique": SchemaJSON.bool(unique), "predicate": predicate?.jsonText,
        ]).json
    }
}

extension View {
    var jsonText: String {
        SchemaJSON.Members([
            "name": SchemaJSON.quoted(name), "columns": SchemaJSON.array(columns.map(SchemaJSON.quoted)), "select": select.jsonText,
        ]).json
    }
}

extension UserTrigger {
    var jsonText: String {
        SchemaJSON.Members([
            "name": SchemaJSON.quoted(name), "table": SchemaJSON.quoted(table), "target": SchemaJSON.quoted(target),
            "event": SchemaJSON.quoted(event.rawValue), "body": body.jsonText,
        ]).json
    }
}

extension SQLValue {
    /// As `SQLValue`'s own `encode(to:)`: `{"integer":1}`, `{"real":0.5}` (an
    /// infinity as "inf" or "-inf", NaN as "nan", as `encodeJSON` has
    /// `JSONEncoder` write them), `{"text":"…"}`, `{"blob":"<hex>"}`, `{"null":true}`.
    var jsonText: String {
        switch self {
        case .integer(let value): SchemaJSON.Members(["integer": SchemaJSON.number(value)]).json
        case .real(let value) where value.isNaN: SchemaJSON.Members(["real": SchemaJSON.quoted("nan")]).json
        case .real(let value) where value.isInfinite: SchemaJSON.Members(["real": SchemaJSON.quoted(value < 0 ? "-inf" : "inf")]).json
        case .real(let value): SchemaJSON.Members(["real": SchemaJSON.number(value)]).json
        case .text(let value): SchemaJSON.Members(["text": SchemaJSON.quoted(value)]).json
        case .blob(let bytes): SchemaJSON.Members(["blob": SchemaJSON.quoted(SQLValue.hex(bytes))]).json
        case .null: SchemaJSON.Members(["null": "true"]).json
        }
    }
}

import Foundation
import StressSQLite
import Testing

@testable import StressKit

@Suite struct SchemaJSONTests {
    /// `JSONDecoder`'s reading of `text`, or nil when it throws.
    static func reference<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch { return nil }
    }

    /// `SchemaJSON`'s reading, or nil when it throws.
    static func ours<T>(_ read: (String) throws(SchemaJSON.Error) -> T, _ text: String) -> T? {
        do { return try read(text) } catch { return nil }
    }

    /// Schemas as runs leave them: generated, then changed by random schema changes of every kind.
    static func schemas(seeds: Range<UInt64>, changes: Int) -> [Schema] {
        var result: [Schema] = []
        for seed in seeds {
            var rng = Xoshiro(seed: seed)
            var schema = SchemaGenerator.generate(using: &rng)
            result.append(schema)
            for _ in 0..<changes {
                guard let change = SchemaChange.draw(rng.pick(SchemaChangeKind.changes), in: schema, using: &rng) else { continue }
                schema = change.schema
                result.append(schema)
            }
        }
        return result
    }

    // Every recorded schema and configuration (as `stress_meta` holds them) reads
    // back exactly as `JSONDecoder` reads it, and as it was written, over
    // hundreds of generated and changed schemas.
    @Test func readsWhatJSONDecoderReads() throws {
        let schemas = Self.schemas(seeds: 0..<40, changes: 20)
        #expect(schemas.count > 800)
        for schema in schemas {
            let text = encodeJSON(schema, pretty: false)
            let read = try SchemaJSON.schema(text)
            let same = read == schema && read == Self.reference(Schema.self, text)
            #expect(same, "\(text)")
        }
        for seed in UInt64(0)..<200 {
            var rng = Xoshiro(seed: seed)
            let config = DatabaseConfig.generate(journalMode: nil, using: &rng)
            let text = encodeJSON(config, pretty: false)
            #expect(try SchemaJSON.config(text) == config)
        }
    }

    // The schema's JSON as `SchemaJSON` writes it is `JSONEncoder`'s, byte for
    // byte, over hundreds of generated and changed schemas that between them
    // carry every optional member and every case of every enum (a NULL default,
    // which the generator never draws, is in the next test).
    @Test func writesWhatJSONEncoderWrites() throws {
        let schemas = Self.schemas(seeds: 0..<40, changes: 20)
        var corpus = ""
        for schema in schemas {
            let text = SchemaJSON.text(of: schema)
            #expect(text == encodeJSON(schema, pretty: false))
            corpus += text
        }
        let members = [
            "\"check\"", "\"defaultValue\"", "\"collation\"", "\"generated\"", "\"references\"", "\"predicate\"",
            "{\"rowid\":{}}", "\"integerPrimaryKey\"", "\"primaryKey\"", "{\"expression\":{\"_0\"", "{\"column\":{\"_0\"",
            "{\"column\":{\"id\"", "{\"table\":{\"_0\"", "\"views\":[{", "\"triggers\":[{", "{\"integer\":", "{\"real\":",
            "{\"text\":",
        ]
        for member in members {
            let found = corpus.contains(member)
            #expect(found, "no generated schema has \(member)")
        }
    }

    // Every stored property of each type a schema is made of is a member of its
    // JSON, and no member is made up: a property added later and forgotten by
    // the writer fails here however rarely generated schemas would carry it.
    @Test func writesEveryStoredProperty() throws {
        let template: SQLTemplate = "x > 0"
        var column = Column(id: 1, name: "c1", type: .integer)
        column.check = template
        column.defaultValue = .integer(1)
        column.collation = .nocase
        column.generated = Generated(expression: template, stored: true)
        column.references = ForeignKey(
            table: "t0", column: 0, onDelete: .cascade, onUpdate: .setNull, parentType: .integer, parentKeySpace: 8)
        let index = Index(name: "i0", terms: [.column(1)], unique: true, predicate: template)
        let table = Table(
            id: "t0", name: "t0", columns: [column], key: .rowid, withoutRowid: false, strict: true, autoincrement: false,
            indexes: [index], keySpace: 8, nextColumn: 2)
        let view = View(name: "v0", columns: ["a"], select: template)
        let trigger = UserTrigger(name: "g0", table: "t0", target: "t0", event: .insert, body: template)
        let schema = Schema(tables: [table], views: [view], triggers: [trigger], nextName: 3)
        let written: [(value: Any, json: String)] = [
            (schema, schema.jsonText), (table, table.jsonText), (column, column.jsonText), (index, index.jsonText),
            (view, view.jsonText), (trigger, trigger.jsonText), (template, template.jsonText),
            (column.generated!, column.generated!.jsonText), (column.references!, column.references!.jsonText),
        ]
        for (value, json) in written {
            let properties = Set(Mirror(reflecting: value).children.compactMap(\.label))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            #expect(Set(object.keys) == properties, "\(type(of: value))")
        }
    }

    // Values the generator rarely or never draws are written as `JSONEncoder`
    // writes them too: doubles of every shape, infinities and NaN, every control
    // character, slashes, quotes, backslashes (a combining mark after each, so
    // the escaped scalar starts a character), CR LF, non-ASCII text, blobs.
    @Test func writesEdgeValuesAsJSONEncoderDoes() throws {
        var schema = Self.schemas(seeds: 3..<4, changes: 0)[0]
        let reals: [Double] = [42, -0.0, 0.1, 1.5, 1e-05, 2.5e-07, 1e16, 1e21, 1e22, 1e300, .leastNonzeroMagnitude, 123456789012345680, .infinity, -.infinity, .nan]
        let text = (0..<0x20).map { String(Character(Unicode.Scalar($0)!)) }.joined() + "/a\"b\\c\u{7F}é\u{2028}💾'\"\u{301}\\\u{301}/\u{301}\r\n"
        let values: [SQLValue] = reals.map(SQLValue.real) + [.integer(.min), .integer(.max), .text(text), .text(""), .blob([0, 0xAB, 0xFF]), .blob([]), .null]
        var columns: [Column] = []
        for (index, value) in values.enumerated() {
            var column = Column(id: 100 + index, name: "c/\(index) \"\\\u{1}", type: .any)
            column.defaultValue = value
            column.collation = .rtrim
            columns.append(column)
        }
        schema.tables[0].columns += columns
        schema.tables[0].name = text
        #expect(SchemaJSON.text(of: schema) == encodeJSON(schema, pretty: false))
        // Both write a blob with the one hex function: pinned here, and read back.
        #expect(SQLValue.hex([0, 0xAB, 0xFF]) == "00abff")
        #expect(SQLValue.hex([]) == "")
        #expect(SQLValue.bytes(hex: SQLValue.hex(Array(0...255))) == Array(0...255))
    }

    // Damaged JSON — bytes deleted, inserted or replaced; members removed, nulled,
    // given values of another type, other numbers, unknown keys, a second enum
    // case — is refused exactly when `JSONDecoder` refuses it, and read the same
    // when it accepts it. (Both must be exercised: the counts say they were.)
    @Test func refusesWhatJSONDecoderRefuses() throws {
        var rng = Xoshiro(seed: 16)
        var (accepted, refused) = (0, 0)
        let texts = Self.schemas(seeds: 1000..<1040, changes: 10).map { encodeJSON($0, pretty: false) }
        for round in 0..<1000 {
            let text = rng.pick(texts)
            let damaged = round.isMultiple(of: 2) ? Self.damageBytes(text, using: &rng) : try Self.damageMembers(text, using: &rng)
            let expected = Self.reference(Schema.self, damaged)
            let actual = Self.ours(SchemaJSON.schema, damaged)
            let same = actual == expected
            #expect(same, "\(damaged)")
            if expected == nil { refused += 1 } else { accepted += 1 }
        }
        #expect(accepted > 100 && refused > 100, "accepted \(accepted), refused \(refused)")
        // Configurations: every member damaged in turn.
        let config = encodeJSON(DatabaseConfig.generate(journalMode: .wal, using: &rng), pretty: false)
        for _ in 0..<200 {
            let damaged = try Self.damageMembers(config, using: &rng)
            let same = Self.ours(SchemaJSON.config, damaged) == Self.reference(DatabaseConfig.self, damaged)
            #expect(same, "\(damaged)")
        }
    }

    // Numbers, strings and values written otherwise than the encoder writes
    // them read as `JSONDecoder` reads them: integers as any exactly integral
    // number, escapes, surrogate pairs, whitespace, repeated keys; and each
    // malformed document is refused by both.
    @Test func edgeCasesAgreeWithJSONDecoder() throws {
        let base = encodeJSON(Self.schemas(seeds: 7..<8, changes: 0)[0], pretty: false)
        #expect(base.hasPrefix("{\"nextName\":"))
        let tail = base.drop { $0 != "," }  // everything after "nextName"'s value
        let variants = [
            "1", "1.0", "1e1", "1E+1", "10e-1", "-0", "0.5", "1e400", "01", "1.", ".5", "-", "+1", "1e", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "18446744073709551616", "\"1\"", "true", "null", "[1]", "{}",
        ]
        for number in variants {
            let text = "{\"nextName\":\(number)" + tail
            let same = Self.ours(SchemaJSON.schema, text) == Self.reference(Schema.self, text)
            #expect(same, "\(number): ours \(Self.ours(SchemaJSON.schema, text) == nil ? "refused" : "read"), JSONDecoder's \(Self.reference(Schema.self, text) == nil ? "refused" : "read")")
        }
        let whole: [String] = [" \n\t\r" + base + " \n", base + "x", base + "{}", String(base.dropLast()), "", " ", "[]", "null"]
        let repeated: String = "{\"nextName\":1,\"nextName\":2" + tail
        let damaged: [String] = [
            base.replacingOccurrences(of: "\"t0\"", with: "\"t\\u0030\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"\\ud83d\\ude00\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"\\ud83d\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"\\ude00x\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"a\\/b\\\\c\\\"d\\b\\f\\n\\r\\t\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"a\\xb\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"a\u{1}b\""),
            base.replacingOccurrences(of: "\"t0\"", with: "\"é😀\""),
            base.replacingOccurrences(of: ",", with: " , "),
            base.replacingOccurrences(of: ":", with: " : "),
            base.replacingOccurrences(of: "}", with: ",}"),
            base.replacingOccurrences(of: "\"}", with: "\",}"),
            base.replacingOccurrences(of: "\"}", with: "\" , }"),
            base.replacingOccurrences(of: "}]", with: "},]"),
            base.replacingOccurrences(of: "}]", with: "} , ]"),
            base.replacingOccurrences(of: "}]", with: "},,]"),
            base.replacingOccurrences(of: "\"}", with: "\",,}"),
            base.replacingOccurrences(of: "[]", with: "[,]"),
            base.replacingOccurrences(of: "{}", with: "{,}"),
            String(base.dropLast()) + ",}",
            base.replacingOccurrences(of: "false", with: "False"),
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for (index, text) in (whole + [repeated] + damaged).enumerated() {
            let same = Self.ours(SchemaJSON.schema, text) == Self.reference(Schema.self, text)
            #expect(same, "document \(index): ours \(Self.ours(SchemaJSON.schema, text) == nil ? "refused" : "read")")
        }
    }

    // A damaged schema is one clear error from `Bookkeeping.recorded`, the kind
    // every reader of the database reports; an intact one reads back, with its cookie.
    @Test func bookkeepingReportsAnUnreadableSchema() throws {
        let db = try Connection(path: ":memory:")
        try db.execute("CREATE TABLE \(Bookkeeping.meta) (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
        let schema = Self.schemas(seeds: 3..<4, changes: 0)[0]
        var rng = Xoshiro(seed: 3)
        let config = DatabaseConfig.generate(journalMode: nil, using: &rng)
        try db.execute(
            "INSERT INTO \(Bookkeeping.meta) VALUES ('schema', \(SQLValue.text(encodeJSON(schema, pretty: false)).sqlLiteral)), "
                + "('config', \(SQLValue.text(encodeJSON(config, pretty: false)).sqlLiteral))")
        let (readSchema, cookie, readConfig) = try Bookkeeping.recorded(in: db)
        #expect(readSchema == schema && readConfig == config)
        // The schema cookie it was read under: the ledger triggers built for it refuse any other.
        #expect(try db.scalar("PRAGMA schema_version") == .integer(cookie))
        try db.execute("UPDATE \(Bookkeeping.meta) SET value = '{\"tables\":[]}' WHERE key = 'schema'")
        #expect {
            _ = try Bookkeeping.recorded(in: db)
        } throws: { error in
            (error as? ToolError)?.message.hasPrefix("\(Bookkeeping.meta) holds an unreadable schema: ") == true
        }
    }

    /// `text` with one byte deleted, inserted or replaced (a character JSON cares about, mostly).
    static func damageBytes(_ text: String, using rng: inout Xoshiro) -> String {
        var bytes = Array(text.utf8)
        let at = rng.below(bytes.count)
        let pool = Array("{}[]\":,-.0123456789eEtrufalsn \\/x".utf8)
        switch rng.below(3) {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(rng.pick(pool), at: at)
        default: bytes[at] = rng.pick(pool)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` with one member of one object (at any depth) removed, nulled, replaced
    /// by another kind of value, or joined by an unknown or a second case's key.
    static func damageMembers(_ text: String, using rng: inout Xoshiro) throws -> String {
        var root = try JSONSerialization.jsonObject(with: Data(text.utf8))
        var objects = 0
        count(root, &objects)
        let target = rng.below(max(objects, 1))
        var seen = 0
        let replacements: [Any] = [
            NSNull(), "x", "INTEGER", "inf", 1, 2.0, 0.5, -3, 1e300, true, false, [Any](), [1], [String: Any](), ["_0": 1], ["rowid": [String: Any]()],
        ]
        let extraKeys = ["rowid", "text", "column", "table", "integer", "real", "blob", "null", "expression", "zzz", "_0", "id"]
        root = mutate(root, target: target, seen: &seen) { object in
            var object = object
            let keys = object.keys.sorted()
            switch (rng.below(4), keys.isEmpty) {
            case (0, false): object.removeValue(forKey: rng.pick(keys))
            case (1, false): object[rng.pick(keys)] = NSNull()
            case (2, false): object[rng.pick(keys)] = rng.pick(replacements)
            default: object[rng.pick(extraKeys)] = rng.pick(replacements)
            }
            return object
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    static func count(_ value: Any, _ objects: inout Int) {
        if let object = value as? [String: Any] {
            objects += 1
            for key in object.keys.sorted() { count(object[key]!, &objects) }
        } else if let array = value as? [Any] {
            for item in array { count(item, &objects) }
        }
    }

    /// `value` with `change` applied to its `target`-th object (the order `count` visits).
    static func mutate(_ value: Any, target: Int, seen: inout Int, _ change: ([String: Any]) -> [String: Any]) -> Any {
        if var object = value as? [String: Any] {
            if seen == target {
                seen += 1
                return change(object)
            }
            seen += 1
            for key in object.keys.sorted() { object[key] = mutate(object[key]!, target: target, seen: &seen, change) }
            return object
        }
        if let array = value as? [Any] { return array.map { mutate($0, target: target, seen: &seen, change) } }
        return value
    }
}

/// Just enough of SQL's lexical structure to simplify the statements sqlite-stress
/// generates: literals (to replace with simpler ones) and the row tuples of
/// `INSERT … VALUES` (to drop). Tokens keep their exact text, so a statement
/// with nothing replaced comes out byte for byte as it went in.
struct SQLTokens: Hashable {
    enum Kind: Hashable {
        case word, quotedIdentifier, string, blob, number, punctuation, space
    }

    struct Token: Hashable {
        var kind: Kind
        var text: Substring
    }

    var tokens: [Token]

    init(_ sql: String) {
        tokens = []
        var index = sql.startIndex
        func take(while predicate: (Character) -> Bool, from start: String.Index) -> String.Index {
            var end = start
            while end < sql.endIndex, predicate(sql[end]) { end = sql.index(after: end) }
            return end
        }
        /// The end of a quoted run starting at `start` (a doubled quote is part of it).
        func quoted(_ quote: Character, from start: String.Index) -> String.Index {
            var end = sql.index(after: start)
            while end < sql.endIndex {
                if sql[end] == quote {
                    let next = sql.index(after: end)
                    if next < sql.endIndex, sql[next] == quote {
                        end = sql.index(after: next)
                        continue
                    }
                    return next
                }
                end = sql.index(after: end)
            }
            return end
        }
        while index < sql.endIndex {
            let character = sql[index]
            let end: String.Index
            let kind: Kind
            if character.isWhitespace {
                end = take(while: \.isWhitespace, from: index)
                kind = .space
            } else if character == "'" {
                end = quoted("'", from: index)
                kind = .string
            } else if character == "\"" || character == "`" {
                end = quoted(character, from: index)
                kind = .quotedIdentifier
            } else if character == "[" {
                end = sql[index...].firstIndex(of: "]").map { sql.index(after: $0) } ?? sql.endIndex
                kind = .quotedIdentifier
            } else if (character == "x" || character == "X"), sql.index(after: index) < sql.endIndex,
                      sql[sql.index(after: index)] == "'" {
                end = quoted("'", from: sql.index(after: index))
                kind = .blob
            } else if character.isNumber || (character == "." && sql.index(after: index) < sql.endIndex
                                             && sql[sql.index(after: index)].isNumber) {
                var cursor = take(while: { $0.isLetter || $0.isNumber || $0 == "." }, from: index)
                // An exponent's sign: 1e-300, 2E+5.
                while cursor < sql.endIndex, "+-".contains(sql[cursor]),
                      let last = sql[index..<cursor].last, last == "e" || last == "E",
                      !sql[index..<cursor].hasPrefix("0x"), !sql[index..<cursor].hasPrefix("0X") {
                    cursor = take(while: { $0.isLetter || $0.isNumber || $0 == "." }, from: sql.index(after: cursor))
                }
                end = cursor
                kind = .number
            } else if character.isLetter || character == "_" {
                end = take(while: { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }, from: index)
                kind = .word
            } else {
                end = sql.index(after: index)
                kind = .punctuation
            }
            tokens.append(Token(kind: kind, text: sql[index..<end]))
            index = end
        }
    }

    var text: String { tokens.map(\.text).joined() }

    /// Indices of literal tokens (strings, blobs, numbers).
    var literals: [Int] {
        tokens.indices.filter { [.string, .blob, .number].contains(tokens[$0].kind) }
    }

    /// The token ranges of the row tuples of `INSERT … VALUES (…), (…)`, each with
    /// the comma before it (the first without); empty for any other statement.
    var valueTuples: [Range<Int>] {
        guard let first = tokens.first(where: { $0.kind != .space }), first.text.uppercased() == "INSERT" || first.text.uppercased() == "REPLACE",
              let values = tokens.firstIndex(where: { $0.kind == .word && $0.text.uppercased() == "VALUES" }) else { return [] }
        var tuples: [Range<Int>] = []
        var index = values + 1
        var start = index
        while index < tokens.count {
            let token = tokens[index]
            if token.kind == .space {
                index += 1
                continue
            }
            if token.text == "(" {
                let end = closing(index)
                tuples.append(start..<end)
                index = end
                start = end
            } else if token.text == "," {
                index += 1
            } else {
                break
            }
        }
        return tuples
    }

    /// The statement without the tuples not in `kept` (indices into `valueTuples`);
    /// the first kept tuple loses its leading comma.
    func keepingTuples(_ kept: [Int]) -> String {
        let tuples = valueTuples
        let keptSet = Set(kept)
        var result = ""
        var cursor = 0
        var firstKept = true
        for (number, range) in tuples.enumerated() {
            result += tokens[cursor..<range.lowerBound].map(\.text).joined()
            cursor = range.upperBound
            guard keptSet.contains(number) else { continue }
            var part = Array(tokens[range])
            // A tuple after the first starts with its comma: the first one kept loses it.
            if firstKept, number > 0, let comma = part.firstIndex(where: { $0.kind != .space }), part[comma].text == "," {
                part.removeSubrange(...comma)
                while part.first?.kind == .space { part.removeFirst() }
                result += " "
            }
            firstKept = false
            result += part.map(\.text).joined()
        }
        result += tokens[cursor...].map(\.text).joined()
        return result
    }

    /// A long string or blob literal written as its size only, so the reader need
    /// not read it: `printf('%.N c', 'x')` (N bytes of text) or `zeroblob(N)`;
    /// nil for anything shorter than `minimum` bytes.
    static func sized(_ token: Token, minimum: Int = 32) -> String? {
        switch token.kind {
        case .string:
            let bytes = token.text.dropFirst().dropLast().replacing("''", with: "'").utf8.count
            return bytes >= minimum ? "printf('%.\(bytes)c', 'x')" : nil
        case .blob:
            let bytes = (token.text.count - 3) / 2
            return bytes >= minimum ? "zeroblob(\(bytes))" : nil
        default:
            return nil
        }
    }

    /// The simplest literal of the same sort: `0`, `''` or `X''`; nil when already that.
    static func simpler(_ token: Token) -> String? {
        let replacement: String
        switch token.kind {
        case .number: replacement = "0"
        case .string: replacement = "''"
        case .blob: replacement = "X''"
        default: return nil
        }
        return token.text == replacement ? nil : replacement
    }
}

extension SQLTokens {
    /// The name a token stands for when it is an identifier (quotes removed), else nil.
    static func identifier(_ token: Token) -> String? {
        switch token.kind {
        case .word: return String(token.text)
        case .quotedIdentifier:
            guard let quote = token.text.first, token.text.count >= 2 else { return nil }
            let closing: Character = quote == "[" ? "]" : quote
            return String(token.text.dropFirst().dropLast()).replacing(String([closing, closing]), with: String(closing))
        default: return nil
        }
    }

    /// Whether an identifier token names `name` (SQLite compares identifiers without regard to ASCII case).
    func mentions(_ name: String) -> Bool {
        tokens.contains { Self.identifier($0)?.lowercased() == name.lowercased() }
    }

    func isIdentifier(_ index: Int, _ name: String) -> Bool {
        Self.identifier(tokens[index])?.lowercased() == name.lowercased()
    }

    /// The index of the first non-space token at or after `index`.
    func next(_ index: Int) -> Int? {
        (index..<tokens.count).first { tokens[$0].kind != .space }
    }

    /// The index just past the parenthesis that closes the one at `open`.
    func closing(_ open: Int) -> Int {
        var depth = 0
        var index = open
        while index < tokens.count {
            if tokens[index].text == "(" { depth += 1 }
            if tokens[index].text == ")" { depth -= 1 }
            index += 1
            if depth == 0 { break }
        }
        return index
    }

    /// The parts of `range` between commas at its own nesting depth.
    func commaSeparated(_ range: Range<Int>) -> [Range<Int>] {
        var parts: [Range<Int>] = []
        var depth = 0
        var start = range.lowerBound
        for index in range {
            switch tokens[index].text {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(start..<index)
                start = index + 1
            default: break
            }
        }
        parts.append(start..<range.upperBound)
        return parts
    }

    /// The first identifier of `range`.
    func firstIdentifier(_ range: Range<Int>) -> String? {
        range.lazy.compactMap { Self.identifier(self.tokens[$0]) }.first
    }

    /// The text of the list in `list` (the tokens inside its parentheses, or a bare
    /// list) without the parts at `removed`, their commas with them.
    func without(_ removed: Set<Int>, of parts: [Range<Int>]) -> String {
        parts.enumerated().filter { !removed.contains($0.offset) }
            .map { tokens[$0.element].map(\.text).joined().trimmingSpaces }
            .joined(separator: ", ")
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

/// Drops a column from every statement of a script that involves its table:
/// its definition, its values in INSERTs, its assignments in UPDATEs and
/// upserts, its part of the ledger triggers' row images; an index on it goes.
/// A statement that would still need the column (a WHERE on it, say) makes
/// the drop impossible.
enum ColumnDrop {
    /// A table as its CREATE TABLE statement defines it.
    struct Table: Hashable {
        var name: String
        var columns: [String]
        /// Columns of its PRIMARY KEY (a column constraint or a table constraint).
        var key: Set<String>
    }

    /// The table a CREATE TABLE statement defines; nil for any other statement.
    static func table(_ sql: String) -> Table? {
        let parsed = SQLTokens(sql)
        let words = parsed.tokens.indices.filter { parsed.tokens[$0].kind != .space }
        guard words.count > 3, parsed.tokens[words[0]].text.uppercased() == "CREATE" else { return nil }
        var position = 1
        if ["TEMP", "TEMPORARY"].contains(parsed.tokens[words[position]].text.uppercased()) { position += 1 }
        guard parsed.tokens[words[position]].text.uppercased() == "TABLE" else { return nil }
        position += 1
        if parsed.tokens[words[position]].text.uppercased() == "IF" { position += 3 }
        guard position < words.count, let name = SQLTokens.identifier(parsed.tokens[words[position]]),
              let open = parsed.tokens.indices.first(where: { $0 > words[position] && parsed.tokens[$0].text == "(" }) else { return nil }
        var columns: [String] = []
        var key: Set<String> = []
        for part in parsed.commaSeparated((open + 1)..<(parsed.closing(open) - 1)) {
            guard let first = parsed.next(part.lowerBound), first < part.upperBound else { continue }
            let words = part.filter { parsed.tokens[$0].kind == .word }.map { parsed.tokens[$0].text.uppercased() }
            let leading = parsed.tokens[first].text.uppercased()
            if ["PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"].contains(leading) && parsed.tokens[first].kind == .word {
                if leading == "PRIMARY" {
                    for index in part where SQLTokens.identifier(parsed.tokens[index]) != nil && parsed.tokens[index].kind == .quotedIdentifier {
                        key.insert(SQLTokens.identifier(parsed.tokens[index])!)
                    }
                }
                continue
            }
            guard let column = SQLTokens.identifier(parsed.tokens[first]) else { continue }
            columns.append(column)
            if words.contains("PRIMARY") { key.insert(column) }
        }
        return Table(name: name, columns: columns, key: key)
    }

    /// `sql` without `column` of `table`: unchanged when it does not involve
    /// both, "" when the statement goes with the column (an index on it, a
    /// SELECT reading it), nil when it cannot do without it.
    static func rewrite(_ sql: String, table: String, column: String) -> String? {
        let parsed = SQLTokens(sql)
        guard parsed.mentions(table), parsed.mentions(column) else { return sql }
        let words = parsed.tokens.indices.filter { parsed.tokens[$0].kind != .space }
        guard let first = words.first else { return sql }
        let verb = parsed.tokens[first].text.uppercased()
        let second = words.count > 1 ? parsed.tokens[words[1]].text.uppercased() : ""
        let third = words.count > 2 ? parsed.tokens[words[2]].text.uppercased() : ""
        var result: String?
        switch verb {
        case "CREATE" where second == "TABLE" || (["TEMP", "TEMPORARY"].contains(second) && third == "TABLE"):
            result = definition(parsed, column)
        case "CREATE" where second == "INDEX" || (second == "UNIQUE" && third == "INDEX"):
            return ""
        case "CREATE" where second == "TRIGGER" || (["TEMP", "TEMPORARY"].contains(second) && third == "TRIGGER"):
            result = trigger(sql, column)
        case "INSERT", "REPLACE":
            result = insert(parsed, column)
        case "UPDATE":
            result = assignments(parsed, column, after: words.first { parsed.tokens[$0].text.uppercased() == "SET" })
        case "SELECT", "WITH":
            return ""
        default:
            return nil
        }
        guard let result, !SQLTokens(result).mentions(column) else { return nil }
        return result
    }

    private static func definition(_ parsed: SQLTokens, _ column: String) -> String? {
        guard let open = parsed.tokens.firstIndex(where: { $0.text == "(" }) else { return nil }
        let close = parsed.closing(open)
        let parts = parsed.commaSeparated((open + 1)..<(close - 1))
        let removed = Set(parts.indices.filter { index in
            parsed.next(parts[index].lowerBound).map { parsed.isIdentifier($0, column) && $0 < parts[index].upperBound } ?? false
        })
        guard removed.count == 1, removed.count < parts.count else { return nil }
        return parsed.tokens[...open].map(\.text).joined() + parsed.without(removed, of: parts) + parsed.tokens[(close - 1)...].map(\.text).joined()
    }

    private static func insert(_ parsed: SQLTokens, _ column: String) -> String? {
        guard let values = parsed.tokens.firstIndex(where: { $0.kind == .word && $0.text.uppercased() == "VALUES" }),
              let open = parsed.tokens[..<values].firstIndex(where: { $0.text == "(" }) else { return nil }
        let close = parsed.closing(open)
        let names = parsed.commaSeparated((open + 1)..<(close - 1))
        guard let position = names.firstIndex(where: { parsed.firstIdentifier($0)?.lowercased() == column.lowercased() }),
              names.count > 1 else { return nil }
        var text = parsed.tokens[...open].map(\.text).joined() + parsed.without([position], of: names)
            + parsed.tokens[(close - 1)...values].map(\.text).joined()
        var cursor = values + 1
        for tuple in parsed.valueTuples {
            guard let tupleOpen = tuple.first(where: { parsed.tokens[$0].text == "(" }) else { return nil }
            let tupleClose = parsed.closing(tupleOpen)
            let items = parsed.commaSeparated((tupleOpen + 1)..<(tupleClose - 1))
            guard items.count == names.count else { return nil }
            text += parsed.tokens[cursor...tupleOpen].map(\.text).joined() + parsed.without([position], of: items) + ")"
            cursor = tupleClose
        }
        let rest = SQLTokens(parsed.tokens[cursor...].map(\.text).joined())
        guard let set = rest.tokens.indices.first(where: { rest.tokens[$0].kind == .word && rest.tokens[$0].text.uppercased() == "SET" }) else {
            return text + rest.text
        }
        guard let assigned = assignments(rest, column, after: set) else { return nil }
        return text + assigned
    }

    /// Removes `column = …` from the assignments after `SET` (at index `set`), up to WHERE, FROM or RETURNING.
    private static func assignments(_ parsed: SQLTokens, _ column: String, after set: Int?) -> String? {
        guard let set else { return nil }
        var end = set + 1
        var depth = 0
        while end < parsed.tokens.count {
            let token = parsed.tokens[end]
            if token.text == "(" { depth += 1 }
            if token.text == ")" { depth -= 1 }
            if depth == 0, token.kind == .word, ["WHERE", "FROM", "RETURNING"].contains(token.text.uppercased()) { break }
            end += 1
        }
        let parts = parsed.commaSeparated((set + 1)..<end)
        let removed = Set(parts.indices.filter { parsed.firstIdentifier(parts[$0])?.lowercased() == column.lowercased() })
        guard !removed.isEmpty, removed.count < parts.count else { return nil }
        let tail = parsed.tokens[end...].map(\.text).joined()
        return parsed.tokens[...set].map(\.text).joined() + " " + parsed.without(removed, of: parts) + (tail.isEmpty ? "" : " " + tail.trimmingSpaces)
    }

    /// Removes the column's part of the ledger triggers' row images (`TrackedTable.imageExpression`).
    private static func trigger(_ sql: String, _ column: String) -> String {
        var text = sql
        let probe = TrackedTable(ledgerName: "", name: "", columns: [column], keyColumns: [], withoutRowid: false)
        for row in ["NEW", "OLD"] {
            let piece = probe.imageExpression(row)
            for pattern in [piece + " || ',' || ", " || ',' || " + piece] { text = text.replacing(pattern, with: "") }
        }
        return text
    }
}

/// The ledger triggers' row images render each column as
/// `CASE typeof(NEW."c") WHEN 'real' THEN printf('%!.17g', NEW."c") WHEN 'blob' THEN … ELSE quote(NEW."c") END`
/// (`TrackedTable.fieldExpression`); in a script the same without the real's
/// branch is the same but for a real's last digits, and shorter to read.
enum ImageExpression {
    static let opening = "CASE typeof("

    /// The ranges of such expressions in `sql`, each with the shorter form it can become.
    static func occurrences(in sql: String) -> [(range: Range<String.Index>, quoted: String)] {
        sql.ranges(of: opening).compactMap { start in
            let rest = sql[start.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { return nil }
            let value = String(rest[..<close])
            let expression = TrackedTable.fieldExpression(value)
            guard sql[start.lowerBound...].hasPrefix(expression) else { return nil }
            let end = sql.index(start.lowerBound, offsetBy: expression.count)
            return (start.lowerBound..<end, TrackedTable.fieldExpression(value, exactReals: false))
        }
    }

    /// `sql` with the occurrences at `indices` (into `occurrences(in:)`) replaced by their shorter form.
    static func quoting(_ sql: String, _ indices: Set<Int>) -> String {
        var text = sql
        for (index, occurrence) in occurrences(in: sql).enumerated().reversed() where indices.contains(index) {
            text.replaceSubrange(occurrence.range, with: occurrence.quoted)
        }
        return text
    }
}

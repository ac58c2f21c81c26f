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
                var depth = 0
                var end = index
                while end < tokens.count {
                    if tokens[end].text == "(" { depth += 1 }
                    if tokens[end].text == ")" { depth -= 1 }
                    end += 1
                    if depth == 0 { break }
                }
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

import Foundation
import StressSQLite
import Testing

@testable import StressKit

/// `RowImage`, the check's in-place comparison of rows with ledger images, held to
/// SQL's own rendering (`TrackedTable.imageExpression`), which the ledger's triggers use.
@Suite struct RowImageTests {
    /// Rows of three untyped columns (values keep their storage class): generated
    /// values, every edge value, and the cases where SQL's rendering is lossy or unusual.
    static func database() throws -> Connection {
        let c = try Connection(path: ":memory:")
        try c.execute("CREATE TABLE v (a, b, c)")
        let insert = try c.prepare("INSERT INTO v VALUES (?, ?, ?)")
        var rng = Xoshiro(seed: 0x1A6E)
        var values: [SQLValue] = ValueGenerator.edgeIntegers.map { .integer($0) }
            + ValueGenerator.edgeReals.flatMap { [.real($0), .real($0.nextUp), .real($0.nextDown)] }
            + ValueGenerator.edgeTexts.map { .text($0) }
            + [.blob([]), .blob([0]), .blob([0x27, 0xFF, 0x00]), .null, .text("1"), .real(1), .integer(1)]
        for _ in 0..<1500 { values.append(ValueGenerator.anyValue(using: &rng)) }
        for (i, value) in values.enumerated() {
            insert.reset()
            insert.bind([value, values[(i * 7 + 3) % values.count], values[(i * 13 + 5) % values.count]])
            try insert.step()
        }
        // Text SQL cannot bind from a Swift string: embedded NULs (quote() cuts there) and invalid UTF-8.
        try c.execute("""
            INSERT INTO v VALUES (CAST(X'610062' AS TEXT), CAST(X'6100' AS TEXT), 'a');
            INSERT INTO v VALUES (CAST(X'27ff00' AS TEXT), CAST(X'27ff' AS TEXT), CAST(X'00' AS TEXT));
            INSERT INTO v VALUES (CAST(X'2700' AS TEXT), '''', CAST(X'ff27fe' AS TEXT));
            INSERT INTO v VALUES (1.0, 1, '1');
            """)
        return c
    }

    /// Every row against every image in a window around it and a sample beyond.
    // Intent: RowImage says "equal" exactly where SQL's rendered images are byte-for-byte equal.
    @Test func agreesWithSQLRendering() throws {
        let c = try Self.database()
        let table = TrackedTable(ledgerName: "v", name: "v", columns: ["a", "b", "c"], keyColumns: [], withoutRowid: false)
        let imageSQL = "SELECT CAST(\(table.imageExpression("t")) AS BLOB) FROM v AS t ORDER BY rowid"
        let images: [[UInt8]] = try c.query(imageSQL).map { if case .blob(let b) = $0[0] { b } else { [] } }
        let rows = try c.prepare("SELECT a, b, c FROM v ORDER BY rowid")
        var i = 0, equalPairs = 0
        while try rows.step() {
            let others = Set((max(0, i - 8)..<min(images.count, i + 8)).map { $0 } + stride(from: i % 37, to: images.count, by: 37))
            for j in others {
                let matched = images[j].withUnsafeBytes { RowImage.matches(rows, columns: 0..<3, image: $0) }
                #expect(matched == (images[i] == images[j]), "row \(i) against the image of row \(j): \(String(decoding: images[j], as: UTF8.self))")
                if images[i] == images[j] { equalPairs += 1 }
            }
            // Cut short or lengthened by one byte, an image no longer matches.
            #expect(!images[i].dropLast().withUnsafeBytes { RowImage.matches(rows, columns: 0..<3, image: UnsafeRawBufferPointer($0)) })
            #expect(!(images[i] + [0x27]).withUnsafeBytes { RowImage.matches(rows, columns: 0..<3, image: $0) })
            i += 1
        }
        #expect(i == images.count)
        #expect(equalPairs >= i)
    }

    /// Where SQL's rendering loses information, so does the comparison — and no more.
    // Intent: text cut at a NUL, and -0.0 against 0.0, compare as SQL renders them.
    @Test func followsSQLWhereItIsLossy() throws {
        let c = try Connection(path: ":memory:")
        let rows = try c.prepare("SELECT CAST(X'610062' AS TEXT), -0.0, CAST(X'61' AS TEXT)")
        #expect(try rows.step())
        for (image, expected) in [("'a',0.0,'a'", true), ("'a\u{0}b',0.0,'a'", false), ("'a',-0.0,'a'", false), ("'a',0.0,'a',", false)] {
            let bytes = Array(image.utf8)
            #expect(bytes.withUnsafeBytes { RowImage.matches(rows, columns: 0..<3, image: $0) } == expected, "\(image)")
        }
    }
}

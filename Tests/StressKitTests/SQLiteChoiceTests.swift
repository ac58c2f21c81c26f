import StressKit
import Testing

/// `--sqlite` is found in the command line before argument-parser runs, the way argument-parser reads it.
@Suite struct SQLiteFlagTests {
    // Both spellings, the last one winning, nothing after `--`, and no value taken from a following flag.
    @Test func flagIsReadAsArgumentParserReadsIt() {
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "stress", "--sqlite", "/a"]) == "/a")
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "--sqlite=/b", "stress"]) == "/b")
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "stress", "--sqlite", "/a", "--sqlite=/c"]) == "/c")
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "compose", "--", "--sqlite", "/a"]) == nil)
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "stress", "--sqlite", "--json"]) == nil)
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "stress", "--sqlite"]) == nil)
        #expect(SQLiteChoice.directoryArgument(in: ["sqlite-stress", "stress", "--db", "x.db"]) == nil)
    }
}

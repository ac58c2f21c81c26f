import StressSQLite
import Testing

@testable import StressSQLite

/// `Real17`, the replay of SQLite's `printf('%!.17g')` the check compares reals with.
@Suite struct Real17Tests {
    /// On x86-64 with SQLite 3.40–3.42 the replay is in use; elsewhere the library is called.
    // Intent: the fast path is on exactly where its proof holds, so a library it was not proven for falls back.
    @Test func usedWhereProven() {
        let version = SQLiteLibrary.loaded.version.split(separator: ".").compactMap { Int($0) }
        #if arch(x86_64)
        let proven = version.count >= 2 && version[0] == 3 && (40...42).contains(version[1])
        #else
        let proven = false
        #endif
        #expect(Real17.isExact == proven)
    }

    /// Four hundred thousand values, bit patterns of every exponent and decimal-looking ones, printed by both.
    // Intent: where the replay is used, it prints every value byte for byte as the library's printf.
    @Test func printsWhatTheLibraryPrints() throws {
        try #require(Real17.isExact, "the replay is not used with this library")
        #expect(Real17.selfTest(count: 400_000))
    }

    /// A replay that differs in one operation (the closer `Float80` literal for
    /// 1e100, where SQLite multiplies by the `double` 1e100) is caught by the self-test.
    // Intent: the self-test can fail: it is what keeps a library built another way on its own printf.
    @Test func selfTestCatchesADifferentAlgorithm() throws {
        try #require(Real17.isExact, "the replay is not used with this library")
        #if arch(x86_64)
        #expect(Real17.selfTest(count: 4096, e100: Float80(1e100 as Double)))
        #expect(!Real17.selfTest(count: 4096, e100: 1e100 as Float80))
        #endif
    }
}

import StressSQLite
import Testing

@testable import StressSQLite

/// `Real17`, the replay of SQLite's `printf('%!.17g')` the check compares reals with.
@Suite struct Real17Tests {
    /// On x86-64 with SQLite 3.40–3.42 the x87 replay is in use; with 3.43–3.52
    /// the Dekker replay, where its self-test passes; with 3.53 and later the library is called.
    // Intent: the fast path is on exactly where its proof holds, so a library it was not proven for falls back.
    @Test func usedWhereProven() {
        let version = SQLiteLibrary.loaded.version.split(separator: ".").compactMap { Int($0) }
        let minor = version.count >= 2 && version[0] == 3 ? version[1] : 0
        switch minor {
        case 40...42:
            #if arch(x86_64)
            #expect(Real17.algorithm == .x87)
            #else
            #expect(Real17.algorithm == nil)
            #endif
        case 43...52:
            let proven = Real17.selfTest(count: 4096, replay: { Real17.replayDekker($0, into: $1) })
            #expect(Real17.algorithm == (proven ? .dekker : nil))
        default:
            #expect(Real17.algorithm == nil)
        }
    }

    /// The releases whose printf writes reals alike, by version: before 3.43,
    /// 3.43 up to 3.52, and later; nothing for what is not a release number.
    @Test func familiesByRelease() {
        for (version, family) in [
            ("3.37.2", "long double"), ("3.40.1", "long double"), ("3.42.0", "long double"), ("3.43.0", "Dekker"),
            ("3.46.1", "Dekker"), ("3.50.4", "Dekker"), ("3.52.9", "Dekker"), ("3.53.0", "3.53"), ("3.53.4", "3.53"),
        ] {
            #expect(Real17.family(ofVersion: version)?.rawValue == family, "\(version)")
        }
        #expect(Real17.family(ofVersion: "") == nil && Real17.family(ofVersion: "three") == nil)
    }

    /// Four hundred thousand values, bit patterns of every exponent and decimal-looking ones, printed by both.
    // Intent: where the x87 replay is used, it prints every value byte for byte as the library's printf.
    // (The Dekker replay is held to SQLite 3.50.4 by Real17DekkerTests.)
    @Test(.enabled(if: Real17.algorithm == .x87, "the x87 replay is not used with this library"))
    func printsWhatTheLibraryPrints() {
        #expect(Real17.selfTest(count: 400_000))
    }

    /// A replay that differs in one operation (the closer `Float80` literal for
    /// 1e100, where SQLite multiplies by the `double` 1e100) is caught by the self-test.
    // Intent: the self-test can fail: it is what keeps a library built another way on its own printf.
    @Test(.enabled(if: Real17.algorithm == .x87, "the x87 replay is not used with this library"))
    func selfTestCatchesADifferentAlgorithm() {
        #if arch(x86_64)
        #expect(Real17.selfTest(count: 4096, e100: Float80(1e100 as Double)))
        #expect(!Real17.selfTest(count: 4096, e100: 1e100 as Float80))
        #endif
    }
}

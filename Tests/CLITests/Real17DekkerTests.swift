import Foundation
import Testing

@testable import StressSQLite

/// The Dekker replay of `printf('%!.17g')` (SQLite 3.43 up to 3.52), held to a
/// library that has the algorithm: SQLite 3.50.4, built by scripts/build-sqlite,
/// whose shell prints each value (handed over bit for bit with `ieee754_from_blob`).
@Suite struct Real17DekkerTests {
    /// What SQLite 3.50.4's printf prints for each of `values`.
    static func printed(by library: URL, _ values: [Double]) throws -> [String] {
        let scratch = try Scratch()
        let script = scratch.file("values.sql")
        let lines = values.map { value in
            let bits = String(value.bitPattern, radix: 16)
            return "SELECT printf('%!.17g', ieee754_from_blob(X'\(String(repeating: "0", count: 16 - bits.count) + bits)'));"
        }
        try lines.joined(separator: "\n").write(to: script, atomically: true, encoding: .utf8)
        let shell = library.appendingPathComponent("sqlite3")
        let result = try CLI.exec(shell, [":memory:"], input: script)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    static func replayed(_ value: Double) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = buffer.withUnsafeMutableBufferPointer { Real17.replayDekker(value, into: $0.baseAddress!) }
        return String(decoding: buffer[..<length], as: UTF8.self)
    }

    // Intent: where the Dekker replay is used, it prints every value byte for byte as the library's printf.
    @Test(.enabled(if: SQLiteBuilds.hasAmalgamation, "\(SQLiteBuilds.unavailable)"))
    func printsWhatSQLite3504Prints() throws {
        let library = try SQLiteBuilds.release3504.get()
        let values = Real17.selfTestValues(count: 200_000)
        let theirs = try Self.printed(by: library, values)
        try #require(theirs.count == values.count, "the shell printed \(theirs.count) lines for \(values.count) values")
        var differing: [String] = []
        for (value, printed) in zip(values, theirs) {
            let replayed = Self.replayed(value)
            if replayed != printed { differing.append("\(value.bitPattern): SQLite \(printed), replay \(replayed)") }
        }
        #expect(differing.count == 0, "first: \(differing.prefix(5))")
    }

    // Intent: the self-test can fail: a library of another algorithm (this
    // process's SQLite, when the x87 replay is proven for it: 3.40–3.42) is not
    // taken for one the Dekker replay matches.
    @Test(.enabled(if: Real17.algorithm == .x87, "this library is not one the x87 replay is proven for"))
    func selfTestRefusesAnotherAlgorithm() {
        #expect(!Real17.selfTest(count: 4096, replay: { Real17.replayDekker($0, into: $1) }))
    }
}

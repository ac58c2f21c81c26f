import ArgumentParser
import StressKit
import Testing

@testable import sqlite_stress

@Suite struct DriverArgumentsTests {
    /// What the argument parser makes of a driver command line: the driver and its options, or nil when it refuses it.
    static func parsed(_ arguments: [String]) -> (DriverKind, DriverOptions)? {
        guard let command = try? Tool.parseAsRoot(arguments),
              let scope = (command as? AssertingCommand)?.assertionScope,
              let options = (Mirror(reflecting: command).descendant("_options") as? OptionGroup<DriverOptions>)?.wrappedValue,
              case .driver(let kind) = scope else { return nil }
        return (kind, options)
    }

    // Every driver command line the quick reader accepts means exactly what the
    // argument parser makes of it (driver, database, seed, busy timeout, output,
    // and no faults, log limit or library), over two hundred random command
    // lines mixing its options with others, repeats, bad values and help; what it
    // declines is left to the parser. It accepts how Test Composer starts a driver.
    @Test func readsPlainCommandLinesAsTheParserDoes() throws {
        let pool = [
            "--db", "x.db", "-", "--seed", "7", "0x1F", "nope", "--busy-timeout", "0", "250", "-5", "+9", "--json", "-q", "--quiet",
            "--fault", "io-error", "--crash", "--sqlite", "/tmp", "--help", "-h", "--db=y.db", "--sql-log-max", "1M", "--", "-qq",
            "--version", "extra", "",
        ]
        var rng = Xoshiro(seed: 16)
        var (read, declined) = (0, 0)
        for _ in 0..<200 {
            let kind = rng.pick(DriverKind.allCases)
            let arguments = [kind.rawValue] + (0..<rng.int(in: 0...6)).map { _ in rng.pick(pool) }
            guard let quick = DriverArguments(arguments) else {
                declined += 1
                continue
            }
            read += 1
            let parsed = try #require(Self.parsed(arguments), "the parser refuses \(arguments)")
            let options = parsed.1
            #expect(quick.kind == kind && parsed.0 == kind, "\(arguments)")
            #expect(quick.db == options.common.db && quick.seed == options.common.seed, "\(arguments)")
            #expect(quick.json == options.common.json && quick.quiet == options.common.quiet, "\(arguments)")
            #expect(quick.busyTimeout == options.lock.busyTimeout, "\(arguments)")
            #expect(options.faultOptions.faults.isEmpty && !options.faultOptions.crash, "\(arguments)")
            #expect(options.logLimit.sqlLogMax == nil && options.common.run.sqlite == nil, "\(arguments)")
        }
        #expect(read > 20 && declined > 60, "read \(read), declined \(declined)")
        for kind in DriverKind.allCases {
            #expect(DriverArguments([kind.rawValue]) != nil)
            #expect(DriverArguments([kind.rawValue, "--db", "d", "--seed", "1", "-q"]) != nil)
        }
        #expect(DriverArguments(["schema"]) == nil && DriverArguments(["check"]) == nil && DriverArguments([]) == nil)
        // An empty path is the parser's to refuse ("--db must not be empty.").
        #expect(DriverArguments(["insert", "--db", ""]) == nil && Self.parsed(["insert", "--db", ""]) == nil)
    }

    // What the parser is given: a negative number joined to the long option
    // before it, nothing else changed (a short option, a value that is no
    // number, and everything after `--` stay as they are); `help` of a name
    // that is no command is refused, `help help` is not.
    @Test func theCommandLineTheParserReads() throws {
        for (given, read) in [
            (["stress", "--iterations", "-1", "--seed", "-0x5"], ["stress", "--iterations=-1", "--seed=-0x5"]),
            (["check", "--wait", "-0.5", "-q"], ["check", "--wait=-0.5", "-q"]),
            (["stress", "-q", "-1"], ["stress", "-q", "-1"]),
            (["stress", "--db", "-x", "--threads=-2"], ["stress", "--db", "-x", "--threads=-2"]),
            (["replay", "--", "-1"], ["replay", "--", "-1"]),
            (["replay", "--db", "r.db", "--", "--seed", "-1"], ["replay", "--db", "r.db", "--", "--seed", "-1"]),
        ] {
            #expect(try Tool.commandLine(given) == read, "\(given)")
        }
        #expect(try Tool.commandLine(["help", "help"]) == ["help", "help"])
        #expect(try Tool.commandLine(["help", "insert"]) == ["help", "insert"])
        #expect(try Tool.commandLine(["--sqlite", "lib", "help", "insert"]) == ["--sqlite", "lib", "help", "insert"])
        for given in [["help", "bogus"], ["--sqlite", "lib", "help", "bogus"], ["--sqlite=lib", "help", "bogus"]] {
            let error = #expect(throws: ToolError.self, "\(given)") { try Tool.commandLine(given) }
            #expect(error?.message == "there is no command named 'bogus'; `sqlite-stress --help` lists them.")
        }
    }
}

@Suite struct CommandSuggestionTests {
    // The distance a misspelt command's suggestion is measured by: one edit
    // per inserted, removed or changed letter (two letters swapped are two).
    @Test(arguments: [
        ("stres", "stress", 1), ("stress", "stres", 1), ("chek", "check", 1), ("replya", "replay", 2),
        ("", "help", 4), ("help", "", 4), ("", "", 0), ("compose", "compose", 0), ("abc", "xyz", 3),
    ])
    func editDistanceCountsEdits(_ a: String, _ b: String, _ distance: Int) {
        #expect(Tool.editDistance(a, b) == distance)
    }

    // The nearest command within two edits is offered; farther, none is.
    @Test func theNearestCommandIsOffered() {
        #expect(Tool.unknownCommand("compse", among: ["compose", "check"]).message
            == "there is no command named 'compse'; did you mean 'compose'? `sqlite-stress --help` lists them.")
        #expect(Tool.unknownCommand("zzzzzz", among: ["compose", "check"]).message
            == "there is no command named 'zzzzzz'; `sqlite-stress --help` lists them.")
    }
}

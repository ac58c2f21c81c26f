#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressKit

@main
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqlite-stress",
        abstract: "Stress-test SQLite under concurrency and prove no committed data was lost or corrupted.",
        discussion: """
            Every run is driven by one 64-bit seed (--seed, or $SQLITE_STRESS_SEED), printed first \
            with the command line that reproduces it. Inside Antithesis with no seed, Antithesis \
            supplies every random choice instead, and the output says so.

            The SQLite under test is the system's libsqlite3, or the one in the directory given to \
            --sqlite (or $SQLITE_STRESS_SQLITE), which every command takes and every process it starts \
            inherits; every report names the version, source id and path of the library loaded.

            Exit status: 0 no property violated; 1 a property was violated; 2 usage or environment error; 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
            """,
        version: "sqlite-stress \(StressKit.version)\nSQLite \(SQLiteChoice.library.summary)",
        subcommands: [
            Stress.self, Schema.self, Insert.self, Update.self, Delete.self, Rollback.self, Transfer.self, Savepoint.self,
            CreateTable.self, DropTable.self, CreateIndex.self, DropIndex.self, AlterTable.self, SchemaRollback.self,
            Vacuum.self, Checkpoint.self, Analyze.self, Compact.self, Integrity.self, Check.self, Compose.self, Replay.self, Shrink.self,
            SetupComplete.self,
        ]
    )

    @OptionGroup var library: SQLiteOption

    /// Parses and runs, mapping every usage or environment error to exit status 2
    /// with one sentence on stderr (argument-parser alone would use 64 and print usage).
    static func main() {
        do {
            // Before anything else: the library under test (this may re-execute the process).
            try SQLiteChoice.activate()
        } catch {
            fail(error.message)
        }
        do {
            if let driver = DriverArguments(Array(CommandLine.arguments.dropFirst())) {
                // A plain driver command line, read without the parser (see `DriverArguments`).
                StressAssertions.declare(.driver(driver.kind))
                try driver.run()
                return
            }
            var command = try parseAsRoot(try Self.commandLine(Array(CommandLine.arguments.dropFirst())))
            // A command that makes assertions sends its catalog first (when an SDK output is set).
            if let asserting = command as? AssertingCommand { StressAssertions.declare(asserting.assertionScope) }
            try command.run()
        } catch let error as ToolError {
            fail(error.message)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)  // --help, --version, or a status already reported.
            }
            fail(sentence(withDatabaseHint(message(for: error), arguments: Array(CommandLine.arguments.dropFirst()))))
        }
    }

    /// A database path given where only `--db` takes one (`check runs/s.db`):
    /// the parser's "unexpected argument" says where it goes.
    static func withDatabaseHint(_ message: String, arguments: [String]) -> String {
        let first = SQLiteChoice.afterLeadingFlags(in: arguments)
        guard first < arguments.count, !["compose", "replay", "shrink", "setup-complete"].contains(arguments[first]),
              !arguments.contains("--"), !arguments.contains(where: { $0 == "--db" || $0.hasPrefix("--db=") }),
              let path = message.wholeMatch(of: /Unexpected argument '(.+)'/)?.1,
              path.contains("/") || path.hasSuffix(".db") || FileManager.default.fileExists(atPath: String(path)) else { return message }
        return "\(message); give the database with --db \(path)"
    }

    /// The argument parser's message in the tool's own style: a sentence that
    /// starts in lower case and ends with a full stop (`Unknown option '--x'` →
    /// `unknown option '--x'.`), its choices given in the same sentence.
    static func sentence(_ message: String) -> String {
        var text = message.replacing(". Please provide one of ", with: "; give one of ")
        if let first = text.first, first.isUppercase, text.dropFirst().first?.isLowercase == true {
            text = first.lowercased() + text.dropFirst()
        }
        if let last = text.last, !".?!".contains(last) { text += "." }
        return text
    }

    /// The command line as the parser should read it. A negative number after
    /// an option (`--iterations -1`) is joined to it (`--iterations=-1`): the
    /// parser would read it as an option of its own and report a missing value,
    /// where the option's own check says what is wrong with the number.
    /// Nothing after `--` is touched. `help` with a name that is no command is
    /// an error, not the tool's help, also after the one option that may come
    /// before a command (`--sqlite DIR help bogus`).
    static func commandLine(_ arguments: [String]) throws(ToolError) -> [String] {
        let first = SQLiteChoice.afterLeadingFlags(in: arguments)
        // Every command's name, and those a suggestion may offer (not the hidden ones).
        var names: [String] = [], shown = ["help"]
        for command in configuration.subcommands {
            guard let name = command.configuration.commandName else { continue }
            names.append(name)
            if command.configuration.shouldDisplay { shown.append(name) }
        }
        // A word where the command goes that names none (`stres`): said so, never blamed on the options after it.
        if first < arguments.count, !arguments[first].hasPrefix("-"), arguments[first] != "help", !names.contains(arguments[first]) {
            throw unknownCommand(arguments[first], among: shown)
        }
        if first + 1 < arguments.count, arguments[first] == "help", arguments[first + 1] != "help", !names.contains(arguments[first + 1]) {
            throw unknownCommand(arguments[first + 1], among: shown.filter { $0 != "help" })
        }
        var result: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return result + arguments[index...] }  // The rest are arguments, as they are.
            if let last = result.last, last.count > 2, last.hasPrefix("--"), !last.contains("="),
               argument.wholeMatch(of: /-[0-9][0-9A-Za-z.+]*/) != nil {
                result[result.count - 1] = last + "=" + argument
            } else {
                result.append(argument)
            }
        }
        return result
    }

    /// "there is no command named 'stres'; did you mean 'stress'? …": the
    /// suggestion is the nearest name, when it is at most two edits away.
    static func unknownCommand(_ word: String, among names: [String]) -> ToolError {
        let nearest = names.map { (name: $0, distance: editDistance(word, $0)) }.min { $0.distance < $1.distance }
        let suggestion = nearest.flatMap { $0.distance <= 2 ? " did you mean '\($0.name)'?" : nil } ?? ""
        return ToolError("there is no command named '\(word)';\(suggestion) `sqlite-stress --help` lists them.")
    }

    /// The Levenshtein distance between two words.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in a.indices {
            var current = [i + 1]
            for j in b.indices {
                let substitution = previous[j] + (a[i] == b[j] ? 0 : 1)
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, substitution))
            }
            previous = current
        }
        return previous[b.count]
    }

    static func fail(_ message: String) -> Never {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        writeStandard("sqlite-stress: error: \(line)\n", toError: true)
        #if canImport(Glibc)
        Glibc.exit(2)
        #else
        Darwin.exit(2)
        #endif
    }
}

/// A subcommand that makes Antithesis assertions: its process declares exactly
/// the catalog of `assertionScope`, everything it can reach and nothing else.
protocol AssertingCommand {
    var assertionScope: StressAssertions.Scope { get }
}

import StressKit

/// A driver's command line read without the argument parser, for the plainest
/// ones only: `<driver>` followed by any of `--db PATH`, `--seed N`,
/// `--busy-timeout MS`, `--json`, `-q`/`--quiet`, each at most once, every
/// value valid. That is how Test Composer and the benchmarks start the drivers,
/// thousands of times a run, and the parser's start-up (it builds every option
/// group by reflection) was a fifth of an invocation's time.
///
/// Anything else — another option, a repeated one, `--db=PATH`, `--help`, a
/// value that looks like an option or does not parse — returns nil, and the
/// parser reads the command line as it always has: its errors, help and every
/// other option stay exactly its own. What is read here means what the parser
/// would make of it (`DriverArgumentsTests` compares the two).
struct DriverArguments: Equatable {
    var kind: DriverKind
    var db: String?
    var seed: String?
    var busyTimeout = BusyTimeoutOption.defaultBusyTimeout
    var json = false
    var quiet = false

    /// The plain driver command line `arguments` (without the program's name), or nil.
    init?(_ arguments: [String]) {
        guard let name = arguments.first, let kind = DriverKind(rawValue: name) else { return nil }
        self.kind = kind
        var seen: [String] = []
        var rest = arguments.dropFirst()[...]
        while let argument = rest.popFirst() {
            // Each option once: what a repeat means is the parser's to say.
            let option = argument == "-q" ? "--quiet" : argument
            guard !seen.contains(option) else { return nil }
            seen.append(option)
            switch argument {
            case "--json": json = true
            case "-q", "--quiet": quiet = true
            case "--db", "--seed", "--busy-timeout":
                guard let value = rest.popFirst(), !value.isEmpty, !value.hasPrefix("-") else { return nil }
                switch argument {
                case "--db": db = value
                case "--seed": seed = value
                default:
                    guard let milliseconds = Int(value), milliseconds >= 0 else { return nil }
                    busyTimeout = milliseconds
                }
            default: return nil
            }
        }
        // A bad seed or database path, given or in the environment, is the parser's error to report.
        guard RunOptions.seedProblem(seed) == nil, CommonOptions.controlCharacterProblem(db) == nil else { return nil }
    }

    /// What the driver command does with these options.
    func run() throws {
        try DriverOptions.run(
            kind, databasePath: CommonOptions.databasePath(db), randomness: RunOptions.randomness(seed),
            busyTimeout: busyTimeout, faults: FaultPlan(), logLimit: SQLLog.defaultLimit, json: json, quiet: quiet)
    }
}

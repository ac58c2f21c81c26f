import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StressKit

struct Compose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Run a Test Composer template directory locally, with faults, and report every property.",
        discussion: """
            Validates the template, runs one first_ command alone, then a driver phase (parallel \
            drivers side by side with varying parallelism, serial and singleton drivers alone, anytime \
            commands alongside) for --duration seconds or --runs invocations, then finally_ (if every \
            driver finished on its own) or eventually_ (after killing the drivers). Every command gets \
            a sub-seed in $SQLITE_STRESS_SEED and a file of its own for its SDK output in \
            $ANTITHESIS_SDK_LOCAL_OUTPUT; commands that use $SQLITE_STRESS_DB share <run-dir>/stress.db \
            unless it is set. The run directory keeps report.json and the commands' output (stdout, \
            stderr, SDK output): of the first_ and ending commands, of the first commands that failed, and \
            of the last --keep-commands others, so that a run of hours stays the size of a short one; \
            every command and assertion is counted in the report. Exit status 1 when an \
            always/unreachable assertion failed or a command failed on its own; 2 when nothing failed \
            but a command stopped on a usage or environment error (its own exit status 2: a full disk, say), \
            or an always or reachable assertion a command declared it must hit was never hit (never \
            checked); 130 when interrupted with nothing failed.
            """
    )

    @Argument(help: ArgumentHelp("The template directory.", valueName: "dir"))
    var directory: String

    @Option(help: ArgumentHelp("The 64-bit seed, decimal or 0x hex. (default: $SQLITE_STRESS_SEED, else fresh)", valueName: "n"))
    var seed: String?

    @Option(help: ArgumentHelp("Length of the driver phase in seconds.", valueName: "seconds"))
    var duration: Double?

    @Option(help: ArgumentHelp("Length of the driver phase in driver invocations.", valueName: "n"))
    var runs: Int?

    @Option(help: ArgumentHelp("Most parallel drivers at once.", valueName: "n"))
    var maxParallel = 4

    @Option(help: ArgumentHelp("Faults to inject into running drivers: kill, pause, or kill,pause.", valueName: "kinds"))
    var faults: String?

    @Option(help: ArgumentHelp("How the run ends: finally or eventually. (default: drawn from the seed)", valueName: "kind"))
    var end: EndKind?

    @Option(help: ArgumentHelp("Where to keep the run's files. (default: ./compose-<seed>)", valueName: "path"))
    var runDir: String?

    @Option(help: ArgumentHelp(
        "Keep the record and output files of the last n commands (besides the first_ and ending commands and the first "
            + "n that failed), and the last n starts and faults in report.json; 0 keeps all.",
        valueName: "n"))
    var keepCommands = ComposeSettings.defaultKeptCommands

    @Flag(help: "Replace an existing run directory sqlite-stress made, when it holds nothing a run does not make.")
    var overwrite = false

    @Flag(help: "Print report.json instead of the table.")
    var json = false

    @Flag(name: [.short, .long], help: "Print nothing unless the run fails.")
    var quiet = false

    @OptionGroup var library: SQLiteOption

    func validate() throws {
        try requireNonEmpty(directory, "the template directory's path")
        try requireNonEmpty(runDir, "--run-dir")
        if let seed, Seed.parse(seed) == nil {
            throw ValidationError("--seed must be a 64-bit number in decimal or 0x hex (got '\(seed)').")
        }
        if let faults {
            for kind in faults.split(separator: ",", omittingEmptySubsequences: false) where FaultKind(rawValue: String(kind)) == nil {
                throw ValidationError("--faults takes kill, pause or kill,pause (got '\(faults)').")
            }
        }
        if keepCommands < 0 { throw ValidationError("--keep-commands must be 0 (keep all) or more (got \(keepCommands)).") }
    }

    func run() throws {
        // Here, not in validate(): the parser checks values before it reports an unknown option,
        // and a misspelt `--duraton 10` must be named as such, not read as no length at all.
        if duration == nil, runs == nil { throw ToolError("give --duration or --runs.") }
        let seed = seed.flatMap(Seed.parse)
            ?? ProcessInfo.processInfo.environment["SQLITE_STRESS_SEED"].flatMap(Seed.parse) ?? Seed.fresh()
        let kinds = (faults ?? "").split(separator: ",").compactMap { FaultKind(rawValue: String($0)) }
        let settings = ComposeSettings(
            template: directory, seed: seed, duration: duration, runs: runs, maxParallel: maxParallel,
            faults: Array(Set(kinds)).sorted { $0.rawValue < $1.rawValue }, end: end, runDirectory: runDir, overwrite: overwrite,
            keptCommands: keepCommands == 0 ? nil : keepCommands)
        let runner = try ComposeRunner(settings)
        if !quiet, !json {
            Console.out("sqlite-stress compose: seed \(Seed.format(seed))\n"
                + "reproduce (the same schedule; how commands interleave is timing): \(settings.reproduce)")
        }
        let console = Console(quiet: quiet, json: json)
        runner.onProgress = console.progressHandler()
        let report = try runner.run()
        console.endProgress()
        // Interrupted (Ctrl-C): the conventional 128 + SIGINT.
        try Console.finish(report, json: json, quiet: quiet)
    }
}

extension EndKind: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
